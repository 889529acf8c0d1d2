"""A person, their episodes in programs, and everything recorded along the participant's path."""

import uuid
from datetime import date, timedelta

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q, TextField
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from tjp.access import organisation_label
from tjp.clock import program_today
from tjp.models import Phase, Program
from tjp.roles import Role


def _uuid_field():
    return models.UUIDField(default=uuid.uuid4, unique=True, editable=False)


class PersonName(Func):
    """The person's whole name as the index holds it (`prefix`: the path to the person).
    The SQL functions are created by migration participants 0004; see participants.search."""

    function = "tjp_person_name"
    output_field = TextField()

    def __init__(self, prefix: str = "") -> None:
        super().__init__(
            F(f"{prefix}first_name"), F(f"{prefix}last_name"), F(f"{prefix}second_last_name")
        )


class Normalised(Func):
    """A text lower-cased and without accents, as names are."""

    function = "tjp_normalise"
    output_field = TextField()


class Person(models.Model):
    """Identity and demographics, shared by every episode of the same human being."""

    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        INTERSEX = "intersex", _("Intersex")
        UNKNOWN = "unknown", _("Not recorded")

    class Gender(models.TextChoices):
        WOMAN = "woman", _("Woman")
        MAN = "man", _("Man")
        NON_BINARY = "non_binary", _("Non-binary")
        OTHER = "other", _("Another identity")
        UNKNOWN = "unknown", _("Not recorded")

    class RaceEthnicity(models.TextChoices):
        HISPANIC = "hispanic", _("Hispanic or Latino/a")
        WHITE = "white", _("White")
        BLACK = "black", _("Black or African American")
        INDIGENOUS = "indigenous", _("Indigenous / American Indian or Alaska Native")
        ASIAN = "asian", _("Asian")
        PACIFIC = "pacific", _("Native Hawaiian or Pacific Islander")
        MULTIPLE = "multiple", _("More than one")
        OTHER = "other", _("Other")
        UNKNOWN = "unknown", _("Not recorded")

    uuid = _uuid_field()
    first_name = models.CharField(_("first name(s)"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    second_last_name = models.CharField(_("second last name"), max_length=100, blank=True)
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    gender = models.CharField(
        _("gender"), max_length=12, choices=Gender.choices, default=Gender.UNKNOWN
    )
    race_ethnicity = models.CharField(
        _("race / ethnicity"),
        max_length=12,
        choices=RaceEthnicity.choices,
        default=RaceEthnicity.UNKNOWN,
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.TextField(_("address"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["date_of_birth"]),
            # participants.search: names found by trigram similarity, accents ignored.
            GinIndex(OpClass(PersonName(), name="gin_trgm_ops"), name="person_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name, self.second_last_name) if p)

    def age_on(self, day: date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


# What is recorded of a person (the intake form and the referral service take these fields).
PERSON_FIELDS = [
    "first_name",
    "last_name",
    "second_last_name",
    "date_of_birth",
    "sex",
    "gender",
    "race_ethnicity",
    "preferred_language",
    "phone",
    "email",
    "address",
]


class Status(models.TextChoices):
    REFERRED = "referred", _("Referred (in screening)")
    DECLINED = "declined", _("Referral declined")
    ACTIVE = "active", _("Active")
    WARRANT = "warrant", _("Warrant / absconded")
    IN_CUSTODY = "in_custody", _("In custody")
    MEDICAL_LEAVE = "medical_leave", _("Medical leave")
    PENDING_TERMINATION = "pending_termination", _("Pending termination")
    GRADUATED = "graduated", _("Graduated")
    TERMINATED = "terminated", _("Terminated")
    VOLUNTARY_WITHDRAWAL = "voluntary_withdrawal", _("Voluntary withdrawal")
    ADMINISTRATIVE_DISCHARGE = "administrative_discharge", _("Administrative discharge (medical)")
    DECEASED = "deceased", _("Deceased")
    TRANSFERRED = "transferred", _("Transferred")


# Statuses of an episode that is still open: at most one per person and program.
OPEN_STATUSES = [
    Status.REFERRED,
    Status.ACTIVE,
    Status.WARRANT,
    Status.IN_CUSTODY,
    Status.MEDICAL_LEAVE,
    Status.PENDING_TERMINATION,
]
IN_PROGRAM_STATUSES = [s for s in OPEN_STATUSES if s != Status.REFERRED]
EXIT_STATUSES = [
    Status.GRADUATED,
    Status.TERMINATED,
    Status.VOLUNTARY_WITHDRAWAL,
    Status.ADMINISTRATIVE_DISCHARGE,
    Status.DECEASED,
    Status.TRANSFERRED,
]
# Exits that say nothing about the program's success (reported apart in graduation rates).
NEUTRAL_EXITS = [Status.ADMINISTRATIVE_DISCHARGE, Status.DECEASED, Status.TRANSFERRED]


class ReferralSource(models.TextChoices):
    POLICE = "police", _("Police")
    PROSECUTOR = "prosecutor", _("Prosecutor")
    DEFENSE = "defense", _("Defense attorney")
    JUDGE = "judge", _("Judge")
    PROBATION = "probation", _("Probation / supervision")
    TREATMENT = "treatment", _("Treatment provider")
    SELF = "self", _("Self or family")
    OTHER = "other", _("Other")


class Disposition(models.TextChoices):
    PENDING = "", _("Pending")
    DISMISSED = "dismissed", _("Charges dismissed / sobreseimiento")
    SENTENCED = "sentenced", _("Sentenced")
    RETURNED = "returned", _("Returned to ordinary proceedings")
    OTHER = "other", _("Other")


@pghistory.track()
class Participant(models.Model):
    """One episode of one person in one program, from referral to exit."""

    uuid = _uuid_field()
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="episodes")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="participants")
    status = models.CharField(
        _("status"), max_length=30, choices=Status.choices, default=Status.REFERRED
    )
    phase = models.ForeignKey(
        Phase, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    judge = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("judge"),
    )
    defender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("defense attorney"),
    )
    # Referral
    referred_on = models.DateField(_("referral date"))
    referral_source = models.CharField(
        _("referral source"), max_length=20, choices=ReferralSource.choices
    )
    arrest_date = models.DateField(_("arrest date"), null=True, blank=True)
    primary_substance = models.CharField(_("primary substance"), max_length=60, blank=True)
    # Key dates
    entry_date = models.DateField(_("program entry date"), null=True, blank=True)
    exit_date = models.DateField(_("exit date"), null=True, blank=True)
    exit_reason = models.TextField(_("exit reason"), blank=True)
    disposition = models.CharField(
        _("legal disposition"), max_length=20, choices=Disposition.choices, blank=True
    )
    disposition_date = models.DateField(_("disposition date"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["person__last_name", "person__first_name"]
        permissions = [
            ("record_legal_screening", _("Record legal eligibility")),
            ("record_clinical_screening", _("Record clinical eligibility and assessments")),
            ("decide_admission", _("Decide admission")),
            ("change_status", _("Change status and phase")),
            ("manage_case_plan", _("Manage case plan, services, arrests and documents")),
            ("manage_consent", _("Record and revoke consents")),
            ("manage_legal_clock", _("Manage the legal term, restitution and interruptions")),
            ("view_disclosures", _("See the accounting of a participant's disclosures")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "program"],
                condition=Q(status__in=OPEN_STATUSES),
                name="one_open_episode_per_person_and_program",
                violation_error_message=_(
                    "This person already has an open episode in this program."
                ),
            ),
            models.CheckConstraint(
                condition=Q(exit_date__isnull=True)
                | Q(entry_date__isnull=True)
                | Q(exit_date__gte=models.F("entry_date")),
                name="exit_not_before_entry",
            ),
        ]
        indexes = [models.Index(fields=["program", "status"])]

    def __str__(self) -> str:
        return f"{self.person} ({self.program.code})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def has_exited(self) -> bool:
        return self.status in EXIT_STATUSES


class ParticipantUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Participant, on_delete=models.CASCADE)


class ParticipantGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Participant, on_delete=models.CASCADE)


class Entry(models.Model):
    """Common columns of every fact recorded about a participant."""

    uuid = _uuid_field()
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class Case(Entry):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="cases")
    case_number = models.CharField(_("case number"), max_length=60)
    court = models.CharField(_("court"), max_length=120, blank=True)
    filed_on = models.DateField(_("filed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("criminal case")
        ordering = ["case_number"]

    def __str__(self) -> str:
        return self.case_number


class Charge(models.Model):
    class Level(models.TextChoices):
        FELONY = "felony", _("Felony / delito grave")
        MISDEMEANOR = "misdemeanor", _("Misdemeanor / delito no grave")
        INFRACTION = "infraction", _("Infraction")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="charges")
    description = models.CharField(_("charge"), max_length=200)
    statute = models.CharField(_("statute / article"), max_length=100, blank=True)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)

    class Meta:
        verbose_name = _("charge")

    def __str__(self) -> str:
        return self.description


class ScreeningDecision(Entry):
    class Kind(models.TextChoices):
        LEGAL = "legal", _("Legal eligibility")
        CLINICAL = "clinical", _("Clinical eligibility")
        ADMISSION = "admission", _("Admission decision")

    class Outcome(models.TextChoices):
        ELIGIBLE = "eligible", _("Eligible")
        INELIGIBLE = "ineligible", _("Not eligible")
        ADMITTED = "admitted", _("Admitted")
        DECLINED = "declined", _("Declined")

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="screening_decisions"
    )
    kind = models.CharField(_("decision"), max_length=10, choices=Kind.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reasons = models.TextField(_("reasons"))
    decided_on = models.DateField(_("decided on"))

    class Meta:
        verbose_name = _("screening decision")
        ordering = ["decided_on", "created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_outcome_display()}"


class Assessment(Entry):
    class Instrument(models.TextChoices):
        RANT = "rant", "RANT"
        LSI_R = "lsi_r", "LSI-R"
        ORAS = "oras", "ORAS"
        TCUDS = "tcuds", "TCU Drug Screen"
        ASSIST = "assist", "ASSIST (OMS/WHO)"
        AUDIT = "audit", "AUDIT"
        ASI = "asi", "ASI"
        OTHER = "other", _("Other")

    class Level(models.TextChoices):
        LOW = "low", _("Low")
        MODERATE = "moderate", _("Moderate")
        HIGH = "high", _("High")

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="assessments"
    )
    instrument = models.CharField(_("instrument"), max_length=10, choices=Instrument.choices)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=1)
    risk_level = models.CharField(_("risk level"), max_length=10, choices=Level.choices)
    need_level = models.CharField(_("need level"), max_length=10, choices=Level.choices)
    assessed_on = models.DateField(_("assessed on"))

    class Meta:
        verbose_name = _("assessment")
        ordering = ["assessed_on", "created_at"]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} {self.score}"


class InformationCategory(models.TextChoices):
    ATTENDANCE = "attendance", _("Treatment attendance")
    PROGRESS = "progress", _("Progress updates and recommendations")
    DRUG_TESTS = "drug_tests", _("Drug and alcohol test results")
    ASSESSMENT = "assessment", _("Assessment and diagnosis")
    TREATMENT_PLAN = "treatment_plan", _("Treatment plan")
    DISCHARGE = "discharge", _("Discharge summary")


class Document(Entry):
    class Kind(models.TextChoices):
        AGREEMENT = "agreement", _("Signed participation agreement")
        ORDER = "order", _("Court order")
        CONSENT = "consent", _("Signed consent")
        RESTITUTION = "restitution", _("Restitution plan")
        OTHER = "other", _("Other")

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(upload_to="documents/%Y/%m/", max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("document")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


@pghistory.track()
class Consent(Entry):
    """A 42 CFR Part 2 consent to disclose treatment information to the court team."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="consents")
    discloser = models.CharField(_("who may disclose"), max_length=200)
    categories = ArrayField(
        models.CharField(max_length=20, choices=InformationCategory.choices),
        verbose_name=_("information that may be disclosed"),
    )
    recipient_roles = ArrayField(
        models.CharField(max_length=20),
        blank=True,
        default=list,
        verbose_name=_("to which roles of the program"),
    )
    # Provider organisations named as recipients (a provider is represented by its group: see
    # tjp.access.program_organisations). Part 2 applies between providers too: one provider
    # sees another's records only under a consent naming it (or the clinician role).
    recipient_organisations = models.ManyToManyField(
        "auth.Group",
        blank=True,
        related_name="+",
        verbose_name=_("to which treatment provider organisations"),
    )
    purpose = models.TextField(_("purpose"))
    criminal_justice = models.BooleanField(
        _("condition of a criminal-justice program (42 CFR 2.35)"),
        default=True,
        help_text=_("Such a consent cannot be revoked before the final disposition of the case."),
    )
    signed_on = models.DateField(_("signature date"))
    expires_on = models.DateField(_("expiry date"), null=True, blank=True)
    expiry_event = models.CharField(_("or expiry event"), max_length=200, blank=True)
    document = models.ForeignKey(
        Document,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("signed document"),
    )
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent")
        ordering = ["-signed_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=False) | ~Q(expiry_event=""),
                name="consent_has_expiry",
                violation_error_message=_("A consent needs an expiry date or an expiry event."),
            ),
        ]

    def __str__(self) -> str:
        return str(_("Consent signed %(date)s") % {"date": self.signed_on})

    def recipient_role_labels(self) -> list[str]:
        return [str(Role(r).label) if r in Role.values else r for r in self.recipient_roles]

    def recipient_labels(self) -> list[str]:
        """The roles and the provider organisations named as recipients (organisations
        prefetched by the caller)."""
        organisations = [organisation_label(g) for g in self.recipient_organisations.all()]
        return [*self.recipient_role_labels(), *organisations]

    def is_live(self, on: date | None = None) -> bool:
        on = on or program_today(self.participant.program)
        if self.signed_on > on:
            return False
        if self.revoked_on is not None and self.revoked_on <= on:
            return False
        return self.expires_on is None or self.expires_on >= on

    def covers(
        self,
        category: str,
        role: str,
        on: date | None = None,
        organisations: frozenset[int] = frozenset(),
    ) -> bool:
        """Whether this consent lets a reader of `role`, working for the provider organisations
        whose group ids are `organisations`, see `category` on day `on`. The one statement of
        the rule; callers prefetch `recipient_organisations`."""
        if not self.is_live(on) or category not in self.categories:
            return False
        if role in self.recipient_roles:
            return True
        return bool(organisations) and any(
            g.pk in organisations for g in self.recipient_organisations.all()
        )


class StatusChange(Entry):
    """Every status change, with when it took effect, who entered it and why."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=30, choices=Status.choices)
    to_status = models.CharField(max_length=30, choices=Status.choices)
    effective_on = models.DateField(_("effective date"))
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("status change")
        ordering = ["effective_on", "created_at"]

    def __str__(self) -> str:
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"


class PhaseChange(Entry):
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="phase_changes"
    )
    from_phase = models.ForeignKey(Phase, null=True, on_delete=models.PROTECT, related_name="+")
    to_phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="+")
    effective_on = models.DateField(_("effective date"))
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("phase change")
        ordering = ["effective_on", "created_at"]

    def __str__(self) -> str:
        return f"{self.from_phase or '-'} → {self.to_phase}"


class CasePlanGoal(Entry):
    class GoalStatus(models.TextChoices):
        OPEN = "open", _("In progress")
        MET = "met", _("Met")
        NOT_MET = "not_met", _("Not met")
        DROPPED = "dropped", _("Dropped")

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="goals")
    description = models.CharField(_("goal"), max_length=300)
    status = models.CharField(
        _("status"), max_length=10, choices=GoalStatus.choices, default=GoalStatus.OPEN
    )
    target_date = models.DateField(_("target date"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("case plan goal")
        ordering = ["target_date", "created_at"]

    def __str__(self) -> str:
        return self.description


class ServiceReferral(Entry):
    class Service(models.TextChoices):
        HOUSING = "housing", _("Housing")
        EMPLOYMENT = "employment", _("Employment")
        EDUCATION = "education", _("Education")
        MENTAL_HEALTH = "mental_health", _("Mental health")
        MEDICAL = "medical", _("Medical")
        FAMILY = "family", _("Family")
        TRANSPORTATION = "transportation", _("Transportation")
        OTHER = "other", _("Other")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        ENROLLED = "enrolled", _("Enrolled")
        COMPLETED = "completed", _("Completed")
        DECLINED = "declined", _("Declined")
        NO_SHOW = "no_show", _("Did not attend")

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="service_referrals"
    )
    service = models.CharField(_("service"), max_length=16, choices=Service.choices)
    agency = models.CharField(_("agency"), max_length=200, blank=True)
    referred_on = models.DateField(_("referred on"))
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )
    outcome_on = models.DateField(_("outcome date"), null=True, blank=True)

    class Meta:
        verbose_name = _("service referral")
        ordering = ["referred_on", "created_at"]

    def __str__(self) -> str:
        return f"{self.get_service_display()} {self.agency}".strip()


class NewArrest(Entry):
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="new_arrests"
    )
    arrested_on = models.DateField(_("arrest date"))
    charge = models.CharField(_("charge"), max_length=200)
    convicted = models.BooleanField(_("convicted"), null=True, blank=True)

    class Meta:
        verbose_name = _("new arrest")
        ordering = ["arrested_on", "created_at"]

    # --- Mexico: suspensión condicional del proceso (CNPP arts. 191-200) ------------------------

    def __str__(self) -> str:
        return f"{self.arrested_on}: {self.charge}"


class LegalTerm(Entry):
    """The term of a conditional suspension: 6 months to 3 years, extendable once by ≤ 2 years."""

    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, related_name="legal_term"
    )
    starts_on = models.DateField(_("term start"))
    ends_on = models.DateField(_("term end"))
    extension_days = models.PositiveIntegerField(
        _("extension (days)"), default=0, validators=[MaxValueValidator(731)]
    )
    extension_reason = models.TextField(_("extension reason"), blank=True)
    victim_objected = models.BooleanField(_("the victim objected"), default=False)
    victim_objection_notes = models.TextField(_("victim's objection"), blank=True)

    class Meta:
        verbose_name = _("legal term")

    def __str__(self) -> str:
        return f"{self.starts_on} - {self.ends_on}"

    def interrupted_days(self, until: date | None = None) -> int:
        until = until or program_today(self.participant.program)
        days = 0
        for gap in self.interruptions.all():
            end = gap.ends_on or until
            days += max(0, (min(end, until) - gap.starts_on).days)
        return days

    def effective_end(self, on: date | None = None) -> date:
        return self.ends_on + timedelta(days=self.extension_days + self.interrupted_days(on))

    def days_remaining(self, on: date | None = None) -> int:
        on = on or program_today(self.participant.program)
        return (self.effective_end(on) - on).days


class TermInterruption(models.Model):
    """The clock stops while the person is detained on another case."""

    uuid = _uuid_field()
    term = models.ForeignKey(LegalTerm, on_delete=models.CASCADE, related_name="interruptions")
    starts_on = models.DateField(_("detained from"))
    ends_on = models.DateField(_("released on"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["starts_on"]

    def __str__(self) -> str:
        return f"{self.starts_on} - {self.ends_on or '...'}"


class RestitutionPlan(Entry):
    """Plan de reparación del daño."""

    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, related_name="restitution_plan"
    )
    total_amount = models.DecimalField(
        _("total amount"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, default="MXN")
    description = models.TextField(_("plan"))

    class Meta:
        verbose_name = _("restitution plan")

    def __str__(self) -> str:
        return f"{self.total_amount} {self.currency}"

    def paid(self):
        return sum((p.amount for p in self.payments.all()), start=0)


class RestitutionPayment(models.Model):
    uuid = _uuid_field()
    plan = models.ForeignKey(RestitutionPlan, on_delete=models.CASCADE, related_name="payments")
    paid_on = models.DateField(_("paid on"))
    amount = models.DecimalField(
        _("amount"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0.01)]
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["paid_on"]

    def __str__(self) -> str:
        return f"{self.paid_on}: {self.amount}"
