from datetime import timedelta

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


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "participants.Person"

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=19, maximum_age=60)
    sex = "female"
    race_ethnicity = "hispanic"


class ParticipantFactory(factory.django.DjangoModelFactory):
    """A referral (status referred). Use `admit()` below to move it into the program through
    the real services."""

    class Meta:
        model = "participants.Participant"

    person = factory.SubFactory(PersonFactory)
    program = factory.SubFactory(ProgramFactory)
    referred_on = factory.LazyFunction(lambda: _today() - timedelta(days=60))
    referral_source = "prosecutor"
    arrest_date = factory.LazyFunction(lambda: _today() - timedelta(days=70))


def _today():
    from django.utils import timezone

    return timezone.localdate()


def admit(participant, *, by, entry_days_ago: int = 50):
    """Screen (legal + clinical eligible) and admit a referral through the services."""
    from participants import services
    from participants.models import Assessment, ScreeningDecision

    decided = _today() - timedelta(days=entry_days_ago)
    services.assessment_record(
        acting_user=by,
        participant=participant,
        data={
            "instrument": Assessment.Instrument.RANT,
            "score": 12,
            "risk_level": "high",
            "need_level": "high",
            "assessed_on": decided,
        },
    )
    for kind in (ScreeningDecision.Kind.LEGAL, ScreeningDecision.Kind.CLINICAL):
        services.screening_record(
            acting_user=by,
            participant=participant,
            kind=kind,
            outcome=ScreeningDecision.Outcome.ELIGIBLE,
            reasons="Meets the criteria.",
            decided_on=decided,
        )
    return services.admission_decide(
        acting_user=by,
        participant=participant,
        admit=True,
        reasons="Team agrees.",
        decided_on=decided,
        entry_date=decided,
    )
