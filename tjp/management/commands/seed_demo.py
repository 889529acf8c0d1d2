"""Demo data: two programs and one account per role per program, then each app's demo.

Idempotent: running it again changes nothing but resetting the demo passwords. Each domain app
adds its part in `<app>/demo.py` (a `seed(stdout)` function), discovered here in dependency
order, so `tjp` never imports an app that depends on it.

`--participants N` loads, after the core, a synthetic program of N referrals instead of the
apps' demos (`reporting.synthetic`, to measure reports at scale).
"""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from tjp import services
from tjp.access import grant_program_staff
from tjp.models import Phase, Program, User
from tjp.roles import Role, sync_roles

DEMO_PASSWORD = "tjp-demo-2026"  # noqa: S105  (documented demo credential, refused in production)
# Every demo account's authenticator secret (the README prints it in base32 for authenticator
# apps: ORVH ALLE MVWW 6LJS GAZD MLLU N52H AIJB). Demo data only, like the password.
DEMO_TOTP_KEY = b"tjp-demo-2026-totp!!".hex()

PROGRAMS = [
    {
        "code": "atc",
        "name": "Adult Treatment Court",
        "jurisdiction": "Demo County, US",
        "kind": Program.Kind.ADULT_DRUG,
        "legal_track": Program.LegalTrack.US_PRE_PLEA,
        "language": Program.Language.ENGLISH,
        "time_zone": "America/Chicago",
        "phases": [
            ("Acute stabilization", 60, 3, 14),
            ("Clinical stabilization", 90, 2, 14),
            ("Pro-social habilitation", 90, 2, 28),
            ("Adaptive habilitation", 90, 2, 28),
            ("Continuing care", 90, 1, 28),
        ],
        "people": {
            Role.JUDGE: ("Helen", "Carter"),
            Role.PROSECUTOR: ("Marcus", "Reed"),
            Role.DEFENDER: ("Alicia", "Gomez"),
            Role.CLINICIAN: ("Priya", "Nair"),
            Role.COORDINATOR: ("Daniel", "Brooks"),
            Role.MANAGER: ("Grace", "Lee"),
        },
        # Further accounts (name before the @, role, names): a clinician of the second provider.
        "more_people": [("clinician2", Role.CLINICIAN, ("Samuel", "Okafor"))],
    },
    {
        "code": "pjt",
        "name": "Programa de Justicia Terapéutica",
        "jurisdiction": "Guadalupe, Nuevo León, México",
        "kind": Program.Kind.ADULT_DRUG,
        "legal_track": Program.LegalTrack.MX_SUSPENSION,
        "language": Program.Language.SPANISH,
        "time_zone": "America/Monterrey",
        "phases": [
            ("Estabilización", 60, 2, 14),
            ("Tratamiento intensivo", 90, 2, 14),
            ("Reinserción social", 90, 2, 28),
            ("Mantenimiento", 60, 1, 28),
        ],
        "people": {
            Role.JUDGE: ("María Elena", "Garza"),
            Role.PROSECUTOR: ("Jorge", "Treviño"),
            Role.DEFENDER: ("Lucía", "Villarreal"),
            Role.CLINICIAN: ("Ricardo", "Salinas"),
            Role.COORDINATOR: ("Ana Sofía", "Martínez"),
            Role.MANAGER: ("Fernando", "Cantú"),
        },
        "more_people": [("clinician2", Role.CLINICIAN, ("Paola", "Elizondo"))],
    },
]


class Command(BaseCommand):
    help = "Load the demo programs and accounts (idempotent). Refused when DEBUG is off."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (never in production)."
        )
        parser.add_argument(
            "--apps",
            help="Comma-separated apps whose demo to load after the core (default: all; "
            "'none' for the core alone).",
        )
        parser.add_argument(
            "--participants",
            type=int,
            help="Instead of the apps' demos, generate a synthetic program of this many "
            "referrals (bulk loaded; for measuring reports).",
        )
        parser.add_argument(
            "--program-code",
            default="synth",
            help="Code of the synthetic program (default: synth); refused if it has participants.",
        )
        parser.add_argument("--seed", type=int, default=2031, help="Seed of the synthetic data.")

    @transaction.atomic
    def handle(
        self, *args, force=False, apps=None, participants=None, program_code="synth", **options
    ):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with a published password; it refuses to run with "
                "DEBUG off. Use --force only on a throw-away demo server."
            )
        sync_roles()
        for spec in PROGRAMS:
            program = demo_program(spec)
            for role, (first, last) in spec["people"].items():
                self._account(f"{role.value}@{spec['code']}.example", role, first, last, program)
            for name, role, (first, last) in spec["more_people"]:
                self._account(f"{name}@{spec['code']}.example", role, first, last, program)
        self._account("admin@tjp.example", Role.ADMINISTRATOR, "Avery", "Admin", None)
        if participants is not None:
            synthetic = import_module("reporting.synthetic")  # an app above tjp: never imported
            try:
                synthetic.generate(
                    participants,
                    program_code=program_code,
                    seed=options["seed"],
                    stdout=self.stdout,
                )
            except synthetic.SyntheticProgramExists as exc:
                raise CommandError(str(exc)) from exc
            return
        wanted = None if apps is None else set(apps.split(","))
        for app_config in django_apps.get_app_configs():
            module = f"{app_config.name}.demo"
            if wanted is not None and app_config.name not in wanted:
                continue
            if app_config.name != "tjp" and find_spec(app_config.name) and find_spec(module):
                import_module(module).seed(stdout=self.stdout)
        # Fresh tables have no planner statistics until autovacuum comes round: without them
        # PostgreSQL guessed one row per table and the equity page took seconds on the demo.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {Program.objects.count()} programs, {User.objects.count()} accounts "
                f"(password {DEMO_PASSWORD}; authenticator key ORVH ALLE MVWW 6LJS GAZD MLLU "
                "N52H AIJB)."
            )
        )

    def _account(self, email, role, first, last, program) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = services.user_create(
                acting_user=None,
                email=email,
                password=DEMO_PASSWORD,
                role=role,
                first_name=first,
                last_name=last,
                programs=[program] if program else [],
            )
        else:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=role.value))
            if program is not None:
                grant_program_staff(user, program)
        TOTPDevice.objects.update_or_create(
            user=user,
            name="Demo authenticator",
            defaults={"key": DEMO_TOTP_KEY, "confirmed": True},
        )
        return user


def demo_program(spec) -> Program:
    fields = {k: v for k, v in spec.items() if k not in ("code", "phases", "people", "more_people")}
    program, _ = Program.objects.update_or_create(code=spec["code"], defaults=fields)
    for number, (name, min_days, tests, interval) in enumerate(spec["phases"], start=1):
        Phase.objects.update_or_create(
            program=program,
            number=number,
            defaults={
                "name": name,
                "min_days": min_days,
                "tests_per_week": tests,
                "hearing_interval_days": interval,
            },
        )
    return program
