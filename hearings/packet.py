"""The staffing packet: for one session, what the team reviews about each participant on the
docket — everything since that participant's last hearing.

Read in a constant number of queries whatever the size of the docket (one per kind of fact,
for every participant at once). Provider information goes through the one consent gate
(treatment.access.provider_gate), as on the treatment page and in the API: a provider's records
reach anyone outside that provider only under a live consent covering them for the reader's role
or organisation, every such reading is logged as a disclosure under its consent, and clinical
notes reach only the clinicians of the organisation that wrote them. Information the gate does
not let through is never read from the database at all.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import reduce
from operator import or_

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.http import HttpRequest
from django.utils import timezone

from hearings.access import entries_visible_to, full_participant_ids
from hearings.models import APPEARED, DocketEntry, HearingSession, Response, StaffingNote
from participants.disclosures import REDISCLOSURE_NOTICE
from participants.models import NewArrest, Participant, PhaseChange, Status
from participants.services import term_needs_warning
from tjp import audit, clock
from tjp.clock import program_today
from tjp.models import AuditEvent, Phase, Program
from tjp.roles import Role
from treatment.access import is_clinician, provider_gate, providers_of
from treatment.models import (
    ClinicalNote,
    DrugTest,
    DrugTestResult,
    ProgressUpdate,
    TreatmentSession,
)

ATTENDED = {TreatmentSession.Attendance.ATTENDED, TreatmentSession.Attendance.LATE}
# The parts of the treatment record the packet shows (treatment.access.SECTIONS).
PACKET_SECTIONS = ("sessions", "progress_updates", "drug_tests")
ROLE_LABELS = dict(Role.choices)


@dataclass
class TreatmentAttendance:
    sessions: list[TreatmentSession]

    @property
    def attended(self) -> int:
        return sum(1 for s in self.sessions if s.attendance in ATTENDED)

    @property
    def missed(self) -> int:
        return sum(1 for s in self.sessions if s.attendance == TreatmentSession.Attendance.ABSENT)

    @property
    def excused(self) -> int:
        return sum(1 for s in self.sessions if s.attendance == TreatmentSession.Attendance.EXCUSED)

    @property
    def hours(self) -> Decimal:
        return sum((s.hours for s in self.sessions if s.attendance in ATTENDED), Decimal(0))


@dataclass
class PhaseProgress:
    """Where the participant stands against the requirements of their current phase."""

    phase: Phase | None
    started_on: date
    days_in_phase: int
    tests: int  # tests the reader may see, since the phase started
    appearances: int  # hearings appeared at since the phase started (this one not included)

    @property
    def weeks(self) -> Decimal:
        return Decimal(max(self.days_in_phase, 1)) / 7

    @property
    def tests_per_week(self) -> Decimal:
        return (Decimal(self.tests) / self.weeks).quantize(Decimal("0.1"))

    @property
    def min_days_met(self) -> bool:
        return self.phase is not None and self.days_in_phase >= self.phase.min_days

    @property
    def tests_per_week_met(self) -> bool:
        return self.phase is not None and self.tests_per_week >= self.phase.tests_per_week


@dataclass
class PacketItem:
    """One docket entry. `full` False: the reader sees the name only (a defender's view of
    another lawyer's client). `withheld` names the sections with records the reader may not
    see (another provider's, or any provider's without a consent)."""

    entry: DocketEntry
    participant: Participant
    full: bool
    since: date | None = None  # the day of the last hearing appeared at, else program entry
    last_hearing: datetime | None = None
    attendance: TreatmentAttendance = field(default_factory=lambda: TreatmentAttendance([]))
    drug_tests: list[DrugTest] = field(default_factory=list)
    progress_updates: list[ProgressUpdate] = field(default_factory=list)
    withheld: set[str] = field(default_factory=set)
    responses_since: list[Response] = field(default_factory=list)
    responses_here: list[Response] = field(default_factory=list)
    phase: PhaseProgress | None = None
    new_arrests: list[NewArrest] = field(default_factory=list)
    term_days_remaining: int | None = None
    term_warning: bool = False
    staffing_notes: list[StaffingNote] = field(default_factory=list)
    clinical_notes: list[ClinicalNote] = field(default_factory=list)
    disclosed: list[str] = field(default_factory=list)  # categories shown under a consent

    @property
    def missed_tests(self) -> int:
        return sum(1 for t in self.drug_tests if t.missed)

    @property
    def refused_tests(self) -> int:
        return sum(1 for t in self.drug_tests if t.refused)

    @property
    def positive_tests(self) -> int:
        """Tests that count as positive (missed, refused and adulterated included)."""
        return sum(1 for t in self.drug_tests if t.counts_as_positive)

    @property
    def warrant(self) -> bool:
        return self.participant.status == Status.WARRANT

    @property
    def flagged(self) -> bool:
        return bool(
            self.missed_tests
            or self.refused_tests
            or self.positive_tests
            or self.new_arrests
            or self.warrant
            or self.term_warning
        )


@dataclass
class StaffingPacket:
    session: HearingSession
    program: Program
    items: list[PacketItem]
    clinician: bool
    generated_at: datetime
    export: bool = False

    @property
    def needs_redisclosure_notice(self) -> bool:
        return any(item.disclosed for item in self.items)

    @property
    def redisclosure_notice(self) -> str:
        return str(REDISCLOSURE_NOTICE)

    @property
    def session_day(self) -> date:
        return clock.local(self.session.starts_at, self.program).date()


def _any_of(conditions: list[Q]) -> Q:
    return reduce(or_, conditions)


def _by_participant(rows) -> dict[int, list]:
    grouped = defaultdict(list)
    for row in rows:
        grouped[row.participant_id].append(row)
    return grouped


def staffing_packet(
    user,
    session: HearingSession,
    *,
    request: HttpRequest | None = None,
    export: bool = False,
) -> StaffingPacket:
    """The packet of `session` as `user` may see it. The caller has passed the session access
    check (hearings.access.get_session_for_user); the entries are scoped here."""
    program = session.program
    clinician = is_clinician(user)
    entries = list(
        entries_visible_to(user)
        .filter(session=session)
        .select_related(
            "participant__person",
            "participant__program",
            "participant__phase",
            "participant__legal_term",
        )
        .order_by("position", "pk")
    )
    full_ids = full_participant_ids(user, entries)
    items = [
        PacketItem(entry=e, participant=e.participant, full=e.participant_id in full_ids)
        for e in entries
    ]
    full = [item for item in items if item.full]
    if full:
        _fill(user, session, full, clinician=clinician, export=export, request=request)
    audit.record(
        actor=user,
        action=AuditEvent.Action.EXPORT if export else AuditEvent.Action.VIEW,
        obj=session,
        program=program,
        request=request,
        detail={
            "page": "staffing_packet",
            "participants": [str(item.participant.uuid) for item in items],
            "export": export,
        },
    )
    return StaffingPacket(
        session=session,
        program=program,
        items=items,
        clinician=clinician,
        generated_at=timezone.now(),
        export=export,
    )


def _fill(user, session, items: list[PacketItem], *, clinician, export, request) -> None:
    program = session.program
    today = program_today(program)
    session_day = clock.local(session.starts_at, program).date()
    as_of = min(today, session_day)
    by_pk = {item.participant.pk: item for item in items}
    participants = [item.participant for item in items]
    ids = list(by_pk)

    prefetch_related_objects(
        [item.entry for item in items],
        Prefetch("staffing_notes", queryset=StaffingNote.objects.select_related("author")),
    )
    prefetch_related_objects(participants, "legal_term__interruptions")

    # The last hearing each participant appeared at before this one, and their appearances.
    appeared = defaultdict(list)
    for pk, entry_pk, starts_at in DocketEntry.objects.filter(
        participant_id__in=ids,
        session__cancelled=False,
        session__starts_at__lt=session.starts_at,
        attendance__in=APPEARED,
    ).values_list("participant_id", "pk", "session__starts_at"):
        appeared[pk].append((starts_at, entry_pk))
    last_entry = {}
    for pk, item in by_pk.items():
        p = item.participant
        if appeared[pk]:
            starts_at, last_entry[pk] = max(appeared[pk])
            item.last_hearing = starts_at
            item.since = clock.local(starts_at, program).date()
        else:
            item.since = p.entry_date or p.referred_on

    # The day each participant's current phase started: their last move into it, else entry.
    phase_start = {pk: item.participant.entry_date or item.since for pk, item in by_pk.items()}
    for pk, to_phase, effective_on in (
        PhaseChange.objects.filter(participant_id__in=ids)
        .order_by("effective_on", "created_at")
        .values_list("participant_id", "to_phase_id", "effective_on")
    ):
        if to_phase == by_pk[pk].participant.phase_id:
            phase_start[pk] = effective_on

    # The one consent gate (treatment.access): what of each section the reader may see.
    gate = provider_gate(user, participants, PACKET_SECTIONS)
    withheld = {section: gate.withheld(section) for section in PACKET_SECTIONS}

    since_at = {
        pk: item.last_hearing or clock.day_start(item.since, program) for pk, item in by_pk.items()
    }

    # Drug tests since the last hearing or the phase start, whichever is earlier: the court's
    # always, a provider's only under a consent covering test results.
    test_window = _any_of(
        [
            Q(
                participant_id=pk,
                collected_at__gte=min(since_at[pk], clock.day_start(phase_start[pk], program)),
            )
            for pk in ids
        ]
    )
    tests = (
        DrugTest.objects.filter(test_window, gate.q("drug_tests"), collected_at__lt=session.ends_at)
        .select_related("provider")
        .prefetch_related(
            Prefetch("results", queryset=DrugTestResult.objects.order_by("substance"))
        )
        .order_by("collected_at", "pk")
    )
    tests_by = _by_participant(tests)

    def since_day(model_field: str, pks: list[int]) -> Q:
        return _any_of(
            [Q(participant_id=pk, **{f"{model_field}__gte": by_pk[pk].since}) for pk in pks]
        )

    sessions_by = _by_participant(
        TreatmentSession.objects.filter(
            since_day("session_date", ids), gate.q("sessions"), session_date__lte=session_day
        )
        .select_related("provider")
        .order_by("session_date", "created_at")
    )
    progress_by = _by_participant(
        ProgressUpdate.objects.filter(
            since_day("period_end", ids), gate.q("progress_updates"), period_start__lte=session_day
        )
        .select_related("provider")
        .order_by("period_end", "created_at")
    )
    responses_by = _by_participant(
        Response.objects.filter(since_day("responded_on", ids), responded_on__lte=session_day)
        .select_related("response_type")
        .order_by("responded_on", "pk")
    )
    arrests_by = _by_participant(
        NewArrest.objects.filter(since_day("arrested_on", ids), arrested_on__lte=as_of).order_by(
            "arrested_on", "created_at"
        )
    )
    notes_by = {}
    if clinician:
        # Only the reader's own organisation's notes (treatment.access.clinical_notes_for).
        notes_by = _by_participant(
            ClinicalNote.objects.filter(
                since_day("written_on", ids), provider__in=providers_of(user)
            ).order_by("written_on", "created_at")
        )

    for pk, item in by_pk.items():
        p = item.participant
        all_tests = tests_by.get(pk, [])
        item.drug_tests = [t for t in all_tests if t.collected_at >= since_at[pk]]
        item.attendance = TreatmentAttendance(sessions_by.get(pk, []))
        item.progress_updates = progress_by.get(pk, [])
        item.withheld = {section for section in PACKET_SECTIONS if pk in withheld[section]}
        for response in responses_by.get(pk, []):
            if response.entry_id == item.entry.pk:
                item.responses_here.append(response)
            elif response.entry_id is None or response.entry_id != last_entry.get(pk):
                item.responses_since.append(response)
        started = phase_start[pk]
        item.phase = PhaseProgress(
            phase=p.phase,
            started_on=started,
            days_in_phase=max((as_of - started).days, 0),
            tests=sum(
                1 for t in all_tests if clock.local(t.collected_at, program).date() >= started
            ),
            appearances=sum(
                1
                for starts_at, _ in appeared[pk]
                if clock.local(starts_at, program).date() >= started
            ),
        )
        item.new_arrests = arrests_by.get(pk, [])
        item.staffing_notes = list(item.entry.staffing_notes.all())
        for note in item.staffing_notes:
            note.role_label = str(ROLE_LABELS.get(note.author_role, note.author_role))
        item.clinical_notes = notes_by.get(pk, [])
        try:
            term = p.legal_term
        except ObjectDoesNotExist:
            term = None
        if term is not None:
            term.participant = p
            item.term_days_remaining = term.days_remaining(today)
            item.term_warning = term_needs_warning(term, today)

    disclosed = gate.disclose(
        {
            "sessions": [r for item in items for r in item.attendance.sessions],
            "progress_updates": [r for item in items for r in item.progress_updates],
            "drug_tests": [r for rows in tests_by.values() for r in rows],
        },
        participants={item.participant.pk: item.participant for item in items},
        request=request,
        export=export,
        detail={"staffing_packet": str(session.uuid)},
    )
    for pk, categories in disclosed.items():
        by_pk[pk].disclosed.extend(categories)
