"""Court sessions, who is on their docket, what the team recommended and what the judge did."""

import uuid

import pghistory
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _

from participants.models import Participant
from tjp.models import Phase, Program


def _uuid_field():
    return models.UUIDField(default=uuid.uuid4, unique=True, editable=False)


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Kind(models.TextChoices):
    STATUS_REVIEW = "status_review", _("Status review hearing")
    INTAKE = "intake", _("Intake / admission hearing")
    GRADUATION = "graduation", _("Graduation ceremony")
    REVOCATION = "revocation", _("Revocation / termination hearing")
    OTHER = "other", _("Other hearing")


class HearingSeries(models.Model):
    """A recurring session (e.g. every Tuesday 9:00 in courtroom 3B); its sessions are rows of
    their own, so one of them can be moved or cancelled without touching the others."""

    uuid = _uuid_field()
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="hearing_series")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    judge = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("judge"),
    )
    courtroom = models.CharField(_("courtroom"), max_length=60)
    weekday = models.PositiveSmallIntegerField(
        _("day of the week"), validators=[MaxValueValidator(6)]
    )
    start_time = models.TimeField(_("start time"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"))
    interval_weeks = models.PositiveSmallIntegerField(
        _("every how many weeks"), default=1, validators=[MinValueValidator(1)]
    )
    starts_on = models.DateField(_("first date"))
    ends_on = models.DateField(_("last date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("hearing series")
        verbose_name_plural = _("hearing series")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.courtroom}"


@pghistory.track()
class HearingSession(models.Model):
    """One sitting of the court: a judge, a courtroom, a time, and a docket of participants.

    Two sessions of the same judge, or in the same courtroom of the same courthouse, never
    overlap: the service refuses with a message, and an exclusion constraint holds the line
    when two coordinators book at the same moment.
    """

    uuid = _uuid_field()
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="hearing_sessions")
    series = models.ForeignKey(
        HearingSeries, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    judge = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("judge"),
    )
    courtroom = models.CharField(_("courtroom"), max_length=60)
    # The courtroom as a place: courthouse (the program's jurisdiction) and room, normalised.
    venue = models.CharField(max_length=300, editable=False)
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"))
    notes = models.TextField(_("notes"), blank=True)
    cancelled = models.BooleanField(_("cancelled"), default=False)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("hearing session")
        verbose_name_plural = _("hearing sessions")
        ordering = ["starts_at"]
        permissions = [
            ("schedule_docket", _("Put participants on dockets")),
            ("record_outcome", _("Record what happened in court")),
            ("view_compliance", _("See hearing-frequency compliance")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"
            ),
            ExclusionConstraint(
                name="session_judge_not_double_booked",
                expressions=[
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("judge", RangeOperators.EQUAL),
                ],
                condition=Q(cancelled=False),
            ),
            ExclusionConstraint(
                name="session_courtroom_not_double_booked",
                expressions=[
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("venue", RangeOperators.EQUAL),
                ],
                condition=Q(cancelled=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d %H:%M} {self.courtroom}"


class Attendance(models.TextChoices):
    NOT_RECORDED = "", _("Not recorded")
    PRESENT = "present", _("Present")
    REMOTE = "remote", _("Present remotely")
    ABSENT = "absent", _("Absent")
    EXCUSED = "excused", _("Excused")


APPEARED = [Attendance.PRESENT, Attendance.REMOTE]


@pghistory.track()
class DocketEntry(models.Model):
    """A participant on a session's docket, and what happened when their case was called."""

    uuid = _uuid_field()
    session = models.ForeignKey(HearingSession, on_delete=models.CASCADE, related_name="entries")
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="docket_entries"
    )
    position = models.PositiveSmallIntegerField(default=0)
    # The phase the participant was in when heard (hearing-frequency standards are per phase).
    phase = models.ForeignKey(
        Phase, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attendance = models.CharField(
        _("attendance"), max_length=10, choices=Attendance.choices, blank=True
    )
    judicial_minutes = models.PositiveSmallIntegerField(
        _("minutes with the judge"), null=True, blank=True, validators=[MaxValueValidator(240)]
    )
    judge_notes = models.TextField(_("judge's notes"), blank=True)
    next_appearance = models.DateField(_("next appearance"), null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("docket entry")
        verbose_name_plural = _("docket entries")
        ordering = ["session", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "participant"], name="docket_participant_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant} @ {self.session}"

    @property
    def appeared(self) -> bool:
        return self.attendance in APPEARED


class Recommendation(models.TextChoices):
    NONE = "", _("No recommendation")
    INCENTIVE = "incentive", _("Incentive")
    SANCTION = "sanction", _("Sanction")
    SERVICE = "service", _("Service or treatment adjustment")
    PHASE_UP = "phase_up", _("Phase promotion")
    PHASE_DOWN = "phase_down", _("Phase demotion")
    NO_CHANGE = "no_change", _("Continue as is")
    OTHER = "other", _("Other")


class StaffingNote(models.Model):
    """A team member's recommendation before the hearing. Shared with the team: never a
    clinical note."""

    uuid = _uuid_field()
    entry = models.ForeignKey(DocketEntry, on_delete=models.CASCADE, related_name="staffing_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_role = models.CharField(max_length=20)
    recommendation = models.CharField(
        _("recommendation"), max_length=12, choices=Recommendation.choices, blank=True
    )
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staffing note")
        verbose_name_plural = _("staffing notes")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.author_role}: {self.text[:40]}"


class ResponseKind(models.TextChoices):
    INCENTIVE = "incentive", _("Incentive")
    SANCTION = "sanction", _("Sanction")
    SERVICE = "service", _("Service adjustment")


class Unit(models.TextChoices):
    NONE = "", _("No magnitude")
    JAIL_DAYS = "jail_days", _("days in jail")
    COMMUNITY_SERVICE_HOURS = "cs_hours", _("hours of community service")
    CURFEW_DAYS = "curfew_days", _("days of curfew")
    DAYS = "days", _("days")
    HOURS = "hours", _("hours")
    AMOUNT = "amount", _("amount")


class ResponseType(models.Model):
    """One entry of a program's own catalog of incentives, sanctions and service adjustments."""

    uuid = _uuid_field()
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="response_types")
    kind = models.CharField(_("kind"), max_length=10, choices=ResponseKind.choices)
    name = models.CharField(_("name"), max_length=120)
    unit = models.CharField(_("magnitude in"), max_length=12, choices=Unit.choices, blank=True)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("response type")
        verbose_name_plural = _("response types")
        ordering = ["program", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="response_type_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track()
class Response(models.Model):
    """What the court did about a behaviour: an incentive, a sanction or a service adjustment."""

    uuid = _uuid_field()
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="court_responses"
    )
    entry = models.ForeignKey(
        DocketEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="responses"
    )
    response_type = models.ForeignKey(
        ResponseType, on_delete=models.PROTECT, related_name="+", verbose_name=_("response")
    )
    # Copied from the type: the catalog may change, what was given does not.
    kind = models.CharField(_("kind"), max_length=10, choices=ResponseKind.choices)
    unit = models.CharField(max_length=12, choices=Unit.choices, blank=True)
    magnitude = models.DecimalField(
        _("magnitude"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    behavior_on = models.DateField(_("date of the behaviour"))
    responded_on = models.DateField(_("date of the response"))
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("court response")
        verbose_name_plural = _("court responses")
        ordering = ["-responded_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(behavior_on__lte=F("responded_on")), name="response_after_behavior"
            )
        ]

    def __str__(self) -> str:
        return f"{self.response_type} ({self.responded_on})"


class Reminder(models.Model):
    """A reminder sent for one appearance on one channel: at most one, ever (idempotency)."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("Text message")

    entry = models.ForeignKey(DocketEntry, on_delete=models.CASCADE, related_name="reminders")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "channel"], name="reminder_once_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.sent_at:%Y-%m-%d %H:%M}"


class DigestSent(models.Model):
    """The team's digest of one day's dockets, sent to one person once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "program", "day"], name="digest_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}"


class CalendarFeed(models.Model):
    """A user's secret iCalendar address. Only a hash of the secret is kept; rotating it
    makes the old address stop working."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.user_id}"
