"""Treatment providers and what they report: episodes, sessions, medications, progress updates,
clinical notes (provider-only), drug and alcohol tests, and random test selection."""

import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from participants.models import Participant
from tjp.models import Program


def _uuid_field():
    return models.UUIDField(default=uuid.uuid4, unique=True, editable=False)


class Provider(models.Model):
    """A treatment organisation. Its clinicians are the members of its group; the group holds
    the grants on the participants assigned to the provider."""

    uuid = _uuid_field()
    name = models.CharField(_("name"), max_length=200, unique=True)
    programs = models.ManyToManyField(Program, related_name="providers", verbose_name=_("programs"))
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="provider")
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("treatment provider")
        verbose_name_plural = _("treatment providers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Source(models.TextChoices):
    COURT = "court", _("Entered by the court team")
    PROVIDER = "provider", _("Reported by a treatment provider")
    LAB = "lab", _("Received from a laboratory")
    SYSTEM = "system", _("Recorded by the system")


class Reported(models.Model):
    """Common columns of every fact reported about a participant: who entered it, when it
    was entered (apart from when it happened), and the submitter's own id for idempotency."""

    uuid = _uuid_field()
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PROVIDER)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


def _external_id_unique(name: str) -> models.UniqueConstraint:
    # One submitter (user) may not reuse an external id: a re-sent item is recognised.
    return models.UniqueConstraint(
        fields=["created_by", "external_id"], condition=~Q(external_id=""), name=name
    )


class ProviderAssignment(models.Model):
    uuid = _uuid_field()
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="provider_assignments"
    )
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="assignments")
    assigned_on = models.DateField(_("assigned on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("provider assignment")
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "provider"],
                condition=Q(ended_on__isnull=True),
                name="one_open_assignment_per_provider",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} ({self.assigned_on})"


class TreatmentEpisode(Reported):
    class LevelOfCare(models.TextChoices):
        L0_5 = "0.5", _("0.5 Early intervention")
        L1 = "1", _("1 Outpatient")
        L2_1 = "2.1", _("2.1 Intensive outpatient")
        L2_5 = "2.5", _("2.5 Partial hospitalization")
        L3_1 = "3.1", _("3.1 Clinically managed low-intensity residential")
        L3_3 = "3.3", _("3.3 Clinically managed population-specific residential")
        L3_5 = "3.5", _("3.5 Clinically managed high-intensity residential")
        L3_7 = "3.7", _("3.7 Medically monitored intensive inpatient")
        L4 = "4", _("4 Medically managed intensive inpatient")

    class Modality(models.TextChoices):
        OUTPATIENT = "outpatient", _("Outpatient counselling")
        INTENSIVE = "intensive", _("Intensive outpatient")
        RESIDENTIAL = "residential", _("Residential")
        DETOX = "detox", _("Withdrawal management")
        MOUD = "moud", _("Medication for opioid/alcohol use disorder")
        RECOVERY = "recovery", _("Recovery support")

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="treatment_episodes"
    )
    level_of_care = models.CharField(
        _("level of care (ASAM)"), max_length=4, choices=LevelOfCare.choices
    )
    modality = models.CharField(_("modality"), max_length=12, choices=Modality.choices)
    admitted_on = models.DateField(_("admitted on"))
    discharged_on = models.DateField(_("discharged on"), null=True, blank=True)
    discharge_reason = models.CharField(_("discharge reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("treatment episode")
        ordering = ["-admitted_on"]
        constraints = [_external_id_unique("episode_external_id_unique")]

    def __str__(self) -> str:
        return f"{self.get_level_of_care_display()} ({self.admitted_on})"


class TreatmentSession(Reported):
    """Attendance at one treatment session: the units of service."""

    class Attendance(models.TextChoices):
        ATTENDED = "attended", _("Attended")
        LATE = "late", _("Late")
        EXCUSED = "excused", _("Excused")
        ABSENT = "absent", _("Absent")

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual")
        GROUP = "group", _("Group")
        FAMILY = "family", _("Family")
        MEDICATION = "medication", _("Medication visit")

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="treatment_sessions"
    )
    session_date = models.DateField(_("session date"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    attendance = models.CharField(_("attendance"), max_length=10, choices=Attendance.choices)
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(24)],
    )

    class Meta:
        verbose_name = _("treatment session")
        ordering = ["-session_date", "-created_at"]
        constraints = [_external_id_unique("session_external_id_unique")]

    def __str__(self) -> str:
        return f"{self.session_date} {self.get_attendance_display()}"


class Medication(Reported):
    class Drug(models.TextChoices):
        BUPRENORPHINE = "buprenorphine", _("Buprenorphine")
        METHADONE = "methadone", _("Methadone")
        NALTREXONE_XR = "naltrexone_xr", _("Extended-release naltrexone")
        NALTREXONE = "naltrexone", _("Oral naltrexone")
        ACAMPROSATE = "acamprosate", _("Acamprosate")
        DISULFIRAM = "disulfiram", _("Disulfiram")
        OTHER = "other", _("Other")

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="medications"
    )
    drug = models.CharField(_("medication"), max_length=16, choices=Drug.choices)
    dose = models.CharField(_("dose"), max_length=100, blank=True)
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    class Meta:
        verbose_name = _("medication")
        ordering = ["-started_on"]

    def __str__(self) -> str:
        return self.get_drug_display()


class ProgressUpdate(Reported):
    """A summary the provider writes for the court team (shared only under consent)."""

    class Engagement(models.TextChoices):
        GOOD = "good", _("Engaged")
        FAIR = "fair", _("Partly engaged")
        POOR = "poor", _("Not engaged")

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="progress_updates"
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    engagement = models.CharField(_("engagement"), max_length=6, choices=Engagement.choices)
    summary = models.TextField(_("summary"))
    recommendations = models.TextField(_("recommendations"), blank=True)

    class Meta:
        verbose_name = _("progress update")
        ordering = ["-period_end", "-created_at"]
        constraints = [_external_id_unique("progress_external_id_unique")]

    def __str__(self) -> str:
        return f"{self.period_start} - {self.period_end}"


class ClinicalNote(Reported):
    """Counselling notes: for the provider's own clinicians only. Never disclosed, exported or
    sent to any court role, whatever the consent."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="clinical_notes"
    )
    written_on = models.DateField(_("date"))
    text = models.TextField(_("note"))

    class Meta:
        verbose_name = _("clinical note")
        ordering = ["-written_on", "-created_at"]

    def __str__(self) -> str:
        return str(self.written_on)


class Substance(models.TextChoices):
    ALCOHOL = "alcohol", _("Alcohol (EtG/EtS or BAC)")
    AMPHETAMINES = "amphetamines", _("Amphetamines")
    METHAMPHETAMINE = "methamphetamine", _("Methamphetamine")
    COCAINE = "cocaine", _("Cocaine")
    OPIATES = "opiates", _("Opiates")
    FENTANYL = "fentanyl", _("Fentanyl")
    OXYCODONE = "oxycodone", _("Oxycodone")
    BUPRENORPHINE = "buprenorphine", _("Buprenorphine")
    METHADONE = "methadone", _("Methadone")
    BENZODIAZEPINES = "benzodiazepines", _("Benzodiazepines")
    CANNABIS = "cannabis", _("Cannabis (THC)")
    SYNTHETIC_CANNABINOIDS = "synthetic_cannabinoids", _("Synthetic cannabinoids")
    PCP = "pcp", _("Phencyclidine (PCP)")
    MDMA = "mdma", _("MDMA")


class DrugTest(Reported):
    class Method(models.TextChoices):
        URINE = "urine", _("Urine")
        ORAL_FLUID = "oral_fluid", _("Oral fluid")
        BREATH = "breath", _("Breath")
        SWEAT_PATCH = "sweat_patch", _("Sweat patch")
        BLOOD = "blood", _("Blood")
        CONTINUOUS = "continuous", _("Continuous monitor")

    class Confirmation(models.TextChoices):
        NONE = "", _("Not requested")
        PENDING = "pending", _("Requested, pending")
        CONFIRMED = "confirmed", _("Confirmed positive")
        NOT_CONFIRMED = "not_confirmed", _("Not confirmed (negative)")

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="drug_tests"
    )
    collected_at = models.DateTimeField(_("collected at"))
    method = models.CharField(_("method"), max_length=12, choices=Method.choices)
    observed = models.BooleanField(_("observed collection"), default=False)
    dilute = models.BooleanField(_("dilute"), default=False)
    adulterated = models.BooleanField(_("adulterated / tampered"), default=False)
    missed = models.BooleanField(_("missed"), default=False)
    refused = models.BooleanField(_("refused"), default=False)
    random = models.BooleanField(_("random selection"), default=False)
    resulted_at = models.DateTimeField(_("resulted at"), null=True, blank=True)
    confirmation = models.CharField(
        _("confirmation"), max_length=14, choices=Confirmation.choices, blank=True
    )
    lab = models.CharField(_("laboratory"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("drug test")
        ordering = ["-collected_at"]
        constraints = [_external_id_unique("drugtest_external_id_unique")]
        indexes = [models.Index(fields=["participant", "collected_at"])]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.collected_at:%Y-%m-%d}"

    @property
    def counts_as_positive(self) -> bool:
        """The rule of FAILED_FLAGS and NOT_POSITIVE, for a test in hand (results prefetched)."""
        return any(getattr(self, flag) for flag in FAILED_FLAGS) or any(
            r.result != NOT_POSITIVE for r in self.results.all()
        )

    @property
    def turnaround_hours(self) -> float | None:
        if self.resulted_at is None:
            return None
        return (self.resulted_at - self.collected_at).total_seconds() / 3600


class DrugTestResult(models.Model):
    class Result(models.TextChoices):
        NEGATIVE = "negative", _("Negative")
        POSITIVE = "positive", _("Positive")
        CONFIRMED_POSITIVE = "confirmed_positive", _("Confirmed positive")

    test = models.ForeignKey(DrugTest, on_delete=models.CASCADE, related_name="results")
    substance = models.CharField(_("substance"), max_length=24, choices=Substance.choices)
    result = models.CharField(_("result"), max_length=20, choices=Result.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["test", "substance"], name="one_result_per_substance")
        ]

    def __str__(self) -> str:
        return f"{self.get_substance_display()}: {self.get_result_display()}"


class TestingHoliday(models.Model):
    """A program's holidays: selection treats them like any day; reports count them."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("holiday")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["program", "date"], name="one_holiday_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class TestSelection(models.Model):
    """One participant selected for a random test on one day: seeded and logged for audit."""

    __test__ = False  # not a pytest test class

    uuid = _uuid_field()
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="test_selections"
    )
    day = models.DateField(_("day"))
    method = models.CharField(_("method"), max_length=12, choices=DrugTest.Method.choices)
    seed = models.CharField(max_length=64)
    tests_per_week = models.PositiveSmallIntegerField()
    notified_at = models.DateTimeField(_("notified at"))
    deadline = models.DateTimeField(_("specimen due by"))
    called_in_at = models.DateTimeField(_("called in at"), null=True, blank=True)
    # Why no specimen is owed after all (the participant went into custody, on medical leave,
    # or left the program before the deadline): such a selection never becomes a missed test.
    excused = models.CharField(_("excused"), max_length=200, blank=True)
    notice_sent_at = models.DateTimeField(_("notice sent at"), null=True, blank=True)
    test = models.OneToOneField(
        DrugTest, null=True, blank=True, on_delete=models.SET_NULL, related_name="selection"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("random test selection")
        ordering = ["-day", "participant"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "day"], name="one_selection_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.participant} {self.day}"


class TestingProfile(models.Model):
    """How a participant is tested: the colour/group code they call in under, and the
    default specimen method for random selections."""

    __test__ = False

    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, related_name="testing_profile"
    )
    # Identifies one participant on the call-in line: unique across programs.
    call_in_code = models.CharField(_("call-in code"), max_length=20, unique=True)
    method = models.CharField(
        _("specimen method"),
        max_length=12,
        choices=DrugTest.Method.choices,
        default=DrugTest.Method.URINE,
    )

    class Meta:
        verbose_name = _("testing profile")

    def __str__(self) -> str:
        return self.call_in_code


# --- when a drug test fails: the one statement of the rule --------------------------------------
# A test fails (counts as positive) when it was missed, refused or adulterated, or any substance
# result is other than negative (DOMAIN.md: missed or refused tests count as positive). Written
# once, here; DrugTest.counts_as_positive, the filters and the SQL below are generated from it.
FAILED_FLAGS = ("missed", "refused", "adulterated")
NOT_POSITIVE = DrugTestResult.Result.NEGATIVE


def failed_flag_q() -> models.Q:
    """Missed, refused or adulterated: failed whatever the results."""
    q = models.Q()
    for flag in FAILED_FLAGS:
        q |= models.Q(**{flag: True})
    return q


def positive_result_exists(test: str = "pk") -> models.Exists:
    """Some substance result of the test (`test`: the outer reference to its id) other than
    negative."""
    return models.Exists(
        DrugTestResult.objects.filter(test=models.OuterRef(test)).exclude(result=NOT_POSITIVE)
    )


def failed_test_q() -> models.Q:
    """DrugTest.counts_as_positive as a filter."""
    return failed_flag_q() | models.Q(positive_result_exists())


def failed_test_sql(alias: str) -> tuple[str, list[str]]:
    """The same rule as raw SQL over the drug test table aliased `alias`: (sql, params)."""
    flags = " OR ".join(f"{alias}.{flag}" for flag in FAILED_FLAGS)
    results = DrugTestResult._meta.db_table
    # Table and column names come from the model and the rule above; the value is a parameter.
    sql = (
        f"({flags} OR EXISTS (SELECT 1 FROM {results} r "  # noqa: S608
        f"WHERE r.test_id = {alias}.id AND r.result <> %s))"
    )
    return sql, [str(NOT_POSITIVE)]
