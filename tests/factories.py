import factory
from django.contrib.auth.models import Group

from tjp.access import grant_program_staff
from tjp.models import Phase, Program, User
from tjp.roles import Role

PASSWORD = "correct-horse-battery-staple"


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"prog{n}")
    name = factory.Sequence(lambda n: f"Program {n}")
    kind = Program.Kind.ADULT_DRUG
    legal_track = Program.LegalTrack.US_PRE_PLEA
    language = Program.Language.ENGLISH
    time_zone = "America/Chicago"


class PhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phase

    program = factory.SubFactory(ProgramFactory)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Phase {n + 1}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=Role(extracted).value))
            if extracted == Role.ADMINISTRATOR:
                self.is_staff = True
        self.save()

    @factory.post_generation
    def programs(self, create, extracted, **kwargs):
        for program in extracted or ():
            grant_program_staff(self, program)
