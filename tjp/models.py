import uuid
import zoneinfo

import pghistory
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


def canonical_email(value: object) -> str:
    """The one spelling of a sign-in name: trimmed and lower-cased. Accounts are stored so, the
    sign-in form looks them up so, and the lockout counts failures per this form, so that
    `JUDGE@x` and ` judge@x` never get five tries of their own."""
    return str(value or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=canonical_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=canonical_email(username))


class User(AbstractUser):
    """A person who signs in. Identified by email; the role is a Group (see tjp.roles)."""

    username = None
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("email address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


RISK_LEVELS = [("low", _("Low")), ("moderate", _("Moderate")), ("high", _("High"))]


def _all_levels() -> list[str]:
    return ["low", "moderate", "high"]


@pghistory.track()
class Program(models.Model):
    """A court program, with the practice-standard settings its compliance is measured against.

    The defaults come from the US Adult Treatment Court Best Practice Standards (see DOMAIN.md);
    every one of them is a setting a program may change, never a constant in code.
    """

    class Kind(models.TextChoices):
        ADULT_DRUG = "adult_drug", _("Adult drug treatment court")
        DUI = "dui", _("DUI / DWI court")
        JUVENILE = "juvenile", _("Juvenile treatment court")
        FAMILY = "family", _("Family treatment court")
        VETERANS = "veterans", _("Veterans treatment court")
        MENTAL_HEALTH = "mental_health", _("Mental health court")

    class LegalTrack(models.TextChoices):
        US_PRE_PLEA = "us_pre_plea", _("US pre-plea diversion")
        US_POST_PLEA = "us_post_plea", _("US post-plea")
        MX_SUSPENSION = "mx_suspension", _("MX suspensión condicional del proceso")
        MX_POST_SENTENCE = "mx_post_sentence", _("MX post-sentence")

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        SPANISH = "es", _("Spanish")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    jurisdiction = models.CharField(_("jurisdiction"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    legal_track = models.CharField(_("legal track"), max_length=20, choices=LegalTrack.choices)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )

    # Practice standards (per program; defaults from the best-practice standards).
    specimen_window_urine_hours = models.PositiveSmallIntegerField(
        _("hours to give a urine specimen after notice"),
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(72)],
    )
    specimen_window_oral_hours = models.PositiveSmallIntegerField(
        _("hours to give an oral-fluid specimen after notice"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(72)],
    )
    result_turnaround_hours = models.PositiveSmallIntegerField(
        _("hours from collection to result"),
        default=48,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
    )
    judicial_minutes_target = models.PositiveSmallIntegerField(
        _("minutes of judicial interaction per participant"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    max_jail_sanction_days = models.PositiveSmallIntegerField(
        _("longest jail sanction (days)"),
        default=6,
        validators=[MinValueValidator(0), MaxValueValidator(365)],
    )
    incentive_sanction_ratio_target = models.DecimalField(
        _("incentives per sanction (reported, not enforced)"),
        max_digits=4,
        decimal_places=1,
        default=4,
        validators=[MinValueValidator(0)],
    )
    data_entry_hours = models.PositiveSmallIntegerField(
        _("hours to enter data after the event"),
        default=48,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
    )
    arrest_to_entry_days = models.PositiveSmallIntegerField(
        _("days from arrest to program entry"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    judge_caseload_max = models.PositiveSmallIntegerField(
        _("participants per judge"), default=125, validators=[MinValueValidator(1)]
    )
    clinician_caseload_max = models.PositiveSmallIntegerField(
        _("participants per clinician"), default=50, validators=[MinValueValidator(1)]
    )
    case_manager_caseload_max = models.PositiveSmallIntegerField(
        _("participants per case manager"), default=50, validators=[MinValueValidator(1)]
    )

    hearing_reminder_hours = models.PositiveSmallIntegerField(
        _("hours before a hearing to remind the participant"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
    )

    # Equity reporting: a group whose figure differs from the whole program's by more than
    # this share of the program's figure is flagged; groups smaller than the minimum are
    # suppressed so that nobody can be recognised.
    equity_disparity_percent = models.PositiveSmallIntegerField(
        _("equity: flag a group differing from the program by more than (%)"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    equity_min_group = models.PositiveSmallIntegerField(
        _("equity: smallest group shown (people)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
    )

    term_warning_days = models.PositiveSmallIntegerField(
        _("warn this many days before a legal term ends"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )

    # Eligibility policy: US programs target high risk/high need, Mexican ones first-time,
    # low-risk offenders. Screening shows whether an assessment fits; the team decides.
    eligible_risk_levels = ArrayField(
        models.CharField(max_length=10, choices=RISK_LEVELS),
        default=_all_levels,
        verbose_name=_("eligible risk levels"),
    )
    eligible_need_levels = ArrayField(
        models.CharField(max_length=10, choices=RISK_LEVELS),
        default=_all_levels,
        verbose_name=_("eligible need levels"),
    )
    first_offense_only = models.BooleanField(_("first-time offenders only"), default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        ordering = ["name"]
        permissions = [("administer_all_programs", _("Administer every program"))]

    def __str__(self) -> str:
        return self.name


@pghistory.track()
class Phase(models.Model):
    """One ordered phase of a program, with what it asks of participants."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="phases")
    number = models.PositiveSmallIntegerField(_("number"), validators=[MinValueValidator(1)])
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("requirements"), blank=True)
    min_days = models.PositiveSmallIntegerField(_("minimum days in phase"), default=60)
    tests_per_week = models.PositiveSmallIntegerField(
        _("random drug tests per week"), default=2, validators=[MaxValueValidator(14)]
    )
    hearing_interval_days = models.PositiveSmallIntegerField(
        _("days between status hearings"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(180)],
    )

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["program", "number"]
        constraints = [
            models.UniqueConstraint(fields=["program", "number"], name="phase_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"


# guardian's direct foreign-key tables: indexed joins, and rows go with the program.
class ProgramUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Program, on_delete=models.CASCADE)


class ProgramGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Program, on_delete=models.CASCADE)


class AuditEvent(models.Model):
    """What someone did or saw. Append-only, and each event is sealed into a hash chain.

    Data changes are also kept row by row by django-pghistory triggers; this table records what
    triggers cannot see — views, exports, disclosures, sign-ins, denials — and every change made
    through a service, with its reason.

    The database refuses UPDATE, DELETE and TRUNCATE (migration 0006), and seals each row when
    its transaction commits: `chain_seq`, `prev_hash` and `hash` are written by the sealing
    trigger only, and `manage.py audit_verify` recomputes the chain (see `tjp.audit_chain` and
    docs/audit.md).
    """

    class Action(models.TextChoices):
        VIEW = "view", _("viewed")
        CREATE = "create", _("created")
        UPDATE = "update", _("updated")
        DELETE = "delete", _("deleted")
        EXPORT = "export", _("exported")
        DISCLOSE = "disclose", _("disclosed")
        LOGIN = "login", _("signed in")
        LOGOUT = "logout", _("signed out")
        LOGIN_FAILED = "login_failed", _("failed sign-in")
        LOCKOUT = "lockout", _("account locked")
        DENIED = "denied", _("access denied")
        GRANT = "grant", _("access granted")
        REVOKE = "revoke", _("access removed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(auto_now_add=True)
    # PROTECT, not SET_NULL: the trail cannot be updated, so an account with events is
    # deactivated, never deleted (SET_NULL would try an UPDATE the database refuses).
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
        db_index=False,  # (actor, occurred_at, id) below serves lookups by actor
    )
    # Kept apart from the foreign key so the trail still names the actor if an account goes.
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    program = models.ForeignKey(
        Program,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # (program, occurred_at, id) below
    )
    # Public ids, not foreign keys: `tjp` sits below the apps that own participants and
    # consents, and the trail must outlive any record it mentions.
    participant_uuid = models.UUIDField(null=True, blank=True)
    consent_uuid = models.UUIDField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    path = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # The hash chain, filled at commit by the database's sealing trigger, never by Django.
    # NULL, not "", means "not sealed yet": the append-only guard lets only that row be sealed.
    chain_seq = models.BigIntegerField(null=True, editable=False)
    prev_hash = models.CharField(max_length=64, null=True, editable=False)  # noqa: DJ001
    hash = models.CharField(max_length=64, null=True, editable=False)  # noqa: DJ001

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-id"]
        # The audit page pages by (occurred_at, id) descending within each filter; each index
        # ends in (occurred_at, id) so a page is one backward index range scan, however many
        # millions of rows the table holds.
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["occurred_at", "id"], name="audit_time_idx"),
            models.Index(fields=["program", "occurred_at", "id"], name="audit_program_time_idx"),
            models.Index(
                fields=["participant_uuid", "occurred_at", "id"], name="audit_participant_time_idx"
            ),
            models.Index(fields=["actor", "occurred_at", "id"], name="audit_actor_time_idx"),
            models.Index(fields=["action", "occurred_at", "id"], name="audit_action_time_idx"),
            # Normally empty: a visible unsealed row means sealing was bypassed (audit_verify).
            models.Index(
                fields=["id"], condition=models.Q(chain_seq__isnull=True), name="audit_unsealed_idx"
            ),
        ]
        constraints = [
            # Partial, so the sealer's "last sealed event" is the index's last entry: a plain
            # unique index also holds a NULL entry for every row not yet sealed (a bulk
            # insert's thousands), which a backward scan would step over on every seal.
            models.UniqueConstraint(
                fields=["chain_seq"],
                condition=models.Q(chain_seq__isnull=False),
                name="audit_chain_seq_unique",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"
        )


class ApiTokenName(models.Model):
    """The name a user gave one of their API tokens (knox's token table has no such column).

    The token itself is knox's `AuthToken`, which keeps only a hash of it and the first
    characters as a lookup key. The `uuid` names the token in URLs, never the digest.
    """

    token = models.OneToOneField(
        "knox.AuthToken", on_delete=models.CASCADE, primary_key=True, related_name="label"
    )
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("API token name")
        verbose_name_plural = _("API token names")
        permissions = [("use_api_tokens", _("Create and use API tokens"))]

    def __str__(self) -> str:
        return self.name
