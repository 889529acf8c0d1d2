"""A participant's case summary: the whole episode on a few pages, as a PDF for the file.

Read for one participant the caller may see (participants.access.get_participant_for_user has
passed), one query per kind of fact. Treatment and provider information comes only through
treatment.queries.treatment_record: it applies the consent gate section by section and records
each disclosure (as an export); a withheld section says so, and whenever anything was disclosed
the 42 CFR 2.32 notice opens the document. Clinical notes never appear in it. Every summary
built is an AuditEvent "export".

The PDF is drawn with reportlab's platypus, as the staffing packet is (hearings.pdf): in the
language active for the request, with times in the program's time zone, "Confidential" and the
page number on every page.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Q, Sum
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Table, TableStyle

from hearings.access import full_entries_visible_to
from hearings.models import APPEARED, Attendance, Response, ResponseKind, Unit
from hearings.packet import TreatmentAttendance
from hearings.pdf import (
    BODY,
    NOTICE,
    SMALL,
    TITLE,
    _date,
    _p,
    _page_canvas,
    _response_rows,
    _table,
    _when,
    _withheld,
)
from hearings.pdf import H2 as PACKET_H2
from hearings.pdf import H3 as PACKET_H3
from participants.models import (
    Case,
    CasePlanGoal,
    LegalTerm,
    Participant,
    PhaseChange,
    ServiceReferral,
    Status,
    StatusChange,
    program_today,
)
from tjp import audit
from tjp.models import AuditEvent, Program
from treatment.access import REDISCLOSURE_NOTICE
from treatment.queries import TreatmentRecord, treatment_record

# Headings never end a page: each stays with the block it introduces.
H2 = ParagraphStyle("case-h2", parent=PACKET_H2, keepWithNext=1)
H3 = ParagraphStyle("case-h3", parent=PACKET_H3, keepWithNext=1)
LABELS_STYLE = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#e9ecef")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
)
# The last responses listed one by one (all of them are counted).
RESPONSES_LISTED = 20
# Every section of the treatment record (treatment.queries.SECTIONS); clinical notes are none.
TREATMENT_SECTIONS = {"episodes", "sessions", "medications", "progress_updates", "drug_tests"}


@dataclass
class HearingCounts:
    """Hearings held so far (cancelled sessions aside) and what the participant did at them."""

    held: int
    appeared: int
    absent: int
    excused: int
    not_recorded: int
    next_hearing: datetime | None


@dataclass
class TestSummary:
    """The drug tests the reader may see: court-entered always, provider-reported under a
    consent. Missed, refused and adulterated tests count as failed."""

    total: int
    failed: int
    last_failed: date | None
    provider_withheld: bool


@dataclass
class CaseSummary:
    participant: Participant
    program: Program
    cases: list[Case]
    status_changes: list[StatusChange]
    phase_changes: list[PhaseChange]
    legal_term: LegalTerm | None
    goals: list[CasePlanGoal]
    service_referrals: list[ServiceReferral]
    hearings: HearingCounts
    response_counts: dict[str, int]  # by ResponseKind
    jail_days: Decimal
    responses: list[Response]  # the last RESPONSES_LISTED, newest first (all are counted)
    tests: TestSummary
    treatment: TreatmentRecord
    attendance: TreatmentAttendance | None  # None: withheld
    generated_at: datetime

    @property
    def needs_redisclosure_notice(self) -> bool:
        return self.treatment.needs_redisclosure_notice


def case_summary(
    user, participant: Participant, *, request: HttpRequest | None = None
) -> CaseSummary:
    """The summary of `participant` as `user` may see it, recorded as an export."""
    p = participant
    program = p.program
    record = treatment_record(user, p, request=request, export=True, sections=TREATMENT_SECTIONS)
    summary = CaseSummary(
        participant=p,
        program=program,
        cases=list(p.cases.prefetch_related("charges")),
        status_changes=list(p.status_changes.all()),
        phase_changes=list(p.phase_changes.select_related("from_phase", "to_phase")),
        legal_term=_legal_term(p),
        goals=list(p.goals.all()),
        service_referrals=list(p.service_referrals.all()),
        hearings=_hearings(user, p),
        **_responses(p),
        tests=_tests(record, program),
        treatment=record,
        attendance=None if record.sessions is None else TreatmentAttendance(record.sessions),
        generated_at=timezone.now(),
    )
    audit.record(
        actor=user,
        action=AuditEvent.Action.EXPORT,
        obj=p,
        program=program,
        participant_uuid=p.uuid,
        request=request,
        detail={"report": "case_summary", "format": "pdf", "disclosed": record.disclosed},
    )
    return summary


def _legal_term(p: Participant) -> LegalTerm | None:
    try:
        term = LegalTerm.objects.prefetch_related("interruptions").get(participant=p)
    except ObjectDoesNotExist:
        return None
    term.participant = p
    return term


def _hearings(user, p: Participant) -> HearingCounts:
    now = timezone.now()
    entries = full_entries_visible_to(user).filter(participant=p, session__cancelled=False)
    held = entries.filter(session__starts_at__lte=now)
    counts = held.aggregate(
        held=Count("pk"),
        appeared=Count("pk", filter=Q(attendance__in=APPEARED)),
        absent=Count("pk", filter=Q(attendance=Attendance.ABSENT)),
        excused=Count("pk", filter=Q(attendance=Attendance.EXCUSED)),
        not_recorded=Count("pk", filter=Q(attendance=Attendance.NOT_RECORDED)),
    )
    upcoming = (
        entries.filter(session__starts_at__gt=now)
        .order_by("session__starts_at")
        .values_list("session__starts_at", flat=True)
        .first()
    )
    return HearingCounts(**counts, next_hearing=upcoming)


def _responses(p: Participant) -> dict:
    responses = Response.objects.filter(participant=p)
    by_kind = dict(responses.order_by().values_list("kind").annotate(n=Count("pk")))
    jail = responses.filter(unit=Unit.JAIL_DAYS).aggregate(days=Sum("magnitude"))["days"]
    return {
        "response_counts": {kind: by_kind.get(kind, 0) for kind in ResponseKind.values},
        "jail_days": jail or Decimal(0),
        "responses": list(
            responses.select_related("response_type").order_by("-responded_on", "-pk")[
                :RESPONSES_LISTED
            ]
        ),
    }


def _tests(record: TreatmentRecord, program: Program) -> TestSummary:
    failed = [t.collected_at for t in record.drug_tests if t.counts_as_positive]
    last = max(failed, default=None)
    return TestSummary(
        total=len(record.drug_tests),
        failed=len(failed),
        last_failed=_local(last, program).date() if last else None,
        provider_withheld=record.provider_tests_withheld,
    )


def _local(moment: datetime, program: Program) -> datetime:
    return timezone.localtime(moment, ZoneInfo(program.time_zone))


# --- the PDF ---------------------------------------------------------------------------------
def case_summary_pdf(summary: CaseSummary) -> bytes:
    program, p = summary.program, summary.participant
    pagesize = LETTER if program.legal_track.startswith("us_") else A4
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=20 * mm,
        bottomMargin=18 * mm,
        title=_("Case summary"),
        author="",
        subject=_("Confidential"),
        creator="TJP",
    )
    width = pagesize[0] - 30 * mm
    story = [
        _p(_("Confidential"), H3),
        _p(_("Case summary"), TITLE),
        _p(f"{p.person.full_name} · {program.name}", H2),
        _p(
            "{} · {}".format(
                _("Times in the program's time zone (%(tz)s).") % {"tz": program.time_zone},
                _("Prepared %(at)s") % {"at": _when(summary.generated_at, program)},
            ),
            SMALL,
        ),
    ]
    if summary.needs_redisclosure_notice:
        story.append(
            Paragraph(
                "<b>{}</b><br/>{}".format(
                    escape(_("Confidentiality notice (42 CFR 2.32)")),
                    escape(str(REDISCLOSURE_NOTICE)),
                ),
                NOTICE,
            )
        )
    for section in (
        _participant,
        _cases,
        _history,
        _legal_term_section,
        _case_plan,
        _court,
        _treatment,
    ):
        story += section(summary, width)
    header = f"{program.name} · {p.person.full_name}"
    canvasmaker = _page_canvas(header, _("CONFIDENTIAL"), _("Page %(page)s of %(pages)s"))
    doc.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()


def _rows(rows: list[list], width: float) -> list:
    """Label/value rows: a two-column table whose labels are its first column."""
    table = Table(
        [[_p(label, SMALL), _p(value, SMALL)] for label, value in rows],
        colWidths=[width * 0.3, width * 0.7],
        hAlign="LEFT",
    )
    table.setStyle(LABELS_STYLE)
    return [KeepTogether([table])]


def _participant(summary: CaseSummary, width: float) -> list:
    p, person = summary.participant, summary.participant.person
    exit_text = _date(p.exit_date)
    if p.exit_date and p.exit_reason:
        exit_text += f" · {p.exit_reason}"
    disposition = (
        f"{p.get_disposition_display()} ({_date(p.disposition_date)})"
        if p.disposition
        else _("Pending")
    )
    rows = [
        [_("Name"), person.full_name],
        [_("Date of birth"), _date(person.date_of_birth)],
        [_("Program"), summary.program.name],
        [_("Status"), p.get_status_display()],
        [_("Phase"), str(p.phase) if p.phase else "—"],
        [_("Referral date"), _date(p.referred_on)],
        [_("Arrest date"), _date(p.arrest_date)],
        [_("Program entry"), _date(p.entry_date)],
        [_("Exit"), exit_text],
        [_("Legal disposition"), disposition],
    ]
    return [_p(_("Participant"), H2), *_rows(rows, width)]


def _cases(summary: CaseSummary, width: float) -> list:
    out = [_p(_("Cases and charges"), H2)]
    if not summary.cases:
        return [*out, _p("—")]
    rows = [
        [
            case.case_number,
            case.court or "—",
            "; ".join(
                f"{charge.description} ({charge.get_level_display()})"
                for charge in case.charges.all()
            )
            or "—",
        ]
        for case in summary.cases
    ]
    out.append(
        _table(
            [_("Case number"), _("Court"), _("Charges")], rows, [width * w for w in (0.2, 0.3, 0.5)]
        )
    )
    return out


def _changes(rows: list[list], width: float) -> list:
    if not rows:
        return [_p(_("None."))]
    return [
        _table(
            [
                _("Effective date"),
                pgettext("change", "From"),
                pgettext("change", "To"),
                _("Reason"),
            ],
            rows,
            [width * w for w in (0.15, 0.2, 0.2, 0.45)],
        )
    ]


def _history(summary: CaseSummary, width: float) -> list:
    statuses = [
        [_date(c.effective_on), Status(c.from_status).label, Status(c.to_status).label, c.reason]
        for c in summary.status_changes
    ]
    phases = [
        [
            _date(c.effective_on),
            str(c.from_phase) if c.from_phase else "—",
            str(c.to_phase),
            c.reason,
        ]
        for c in summary.phase_changes
    ]
    return [
        _p(_("Status history"), H2),
        *_changes(statuses, width),
        _p(_("Phase history"), H2),
        *_changes(phases, width),
    ]


def _legal_term_section(summary: CaseSummary, width: float) -> list:
    term = summary.legal_term
    if term is None:
        return []
    extension = _("None")
    if term.extension_days:
        extension = f"{term.extension_days} · {term.extension_reason}"
    victim = _("No objection recorded")
    if term.victim_objected:
        victim = f"{_('Objected')}: {term.victim_objection_notes}"
    today = program_today(summary.program)
    rows = [
        [_("Term"), f"{_date(term.starts_on)} - {_date(term.ends_on)}"],
        [_("Extension"), extension],
        [_("Effective end"), _date(term.effective_end(today))],
        [_("Days remaining"), term.days_remaining(today)],
        [_("Victim"), victim],
    ]
    gaps = [
        f"{_date(gap.starts_on)} - {_date(gap.ends_on) if gap.ends_on else '…'}: {gap.reason}"
        for gap in term.interruptions.all()
    ]
    if gaps:
        rows.append([_("Interruptions (detained on another case)"), "; ".join(gaps)])
    return [_p(_("Conditional suspension: legal term"), H2), *_rows(rows, width)]


def _case_plan(summary: CaseSummary, width: float) -> list:
    out = [_p(_("Case plan"), H2)]
    if summary.goals:
        out.append(
            _table(
                [_("Goal"), _("Status"), _("Target date"), _("Closed on")],
                [
                    [
                        g.description,
                        g.get_status_display(),
                        _date(g.target_date),
                        _date(g.closed_on),
                    ]
                    for g in summary.goals
                ],
                [width * w for w in (0.5, 0.16, 0.17, 0.17)],
            )
        )
    else:
        out.append(_p("—"))
    out.append(_p(_("Service referrals"), H3))
    if not summary.service_referrals:
        return [*out, _p("—")]
    rows = [
        [
            r.get_service_display(),
            r.agency or "—",
            _date(r.referred_on),
            f"{r.get_outcome_display()} ({_date(r.outcome_on)})"
            if r.outcome_on
            else r.get_outcome_display(),
        ]
        for r in summary.service_referrals
    ]
    out.append(
        _table(
            [_("Service"), _("Agency"), _("Referred on"), _("Outcome")],
            rows,
            [width * w for w in (0.2, 0.35, 0.17, 0.28)],
        )
    )
    return out


def _court(summary: CaseSummary, width: float) -> list:
    h, program = summary.hearings, summary.program
    counts = summary.response_counts
    hearings = [
        [_("Hearings held"), h.held],
        [_("Appeared"), h.appeared],
        [_("Absent"), h.absent],
        [_("Excused"), h.excused],
        [_("Attendance not recorded"), h.not_recorded],
        [_("Next hearing"), _when(h.next_hearing, program) if h.next_hearing else "—"],
    ]
    responses = [
        [_("Incentives"), counts[ResponseKind.INCENTIVE]],
        [_("Sanctions"), counts[ResponseKind.SANCTION]],
        [_("Service adjustments"), counts[ResponseKind.SERVICE]],
        [_("Jail-sanction days"), formats.localize(summary.jail_days)],
    ]
    out = [
        _p(_("Hearings"), H2),
        *_rows(hearings, width),
        _p(_("Court responses"), H2),
        *_rows(responses, width),
    ]
    if summary.responses:
        out.append(
            _p(_("Latest responses, newest first (at most %(n)s)") % {"n": RESPONSES_LISTED}, H3)
        )
        out.append(
            _table(
                [_("Date"), _("Kind"), _("Response"), _("Magnitude"), _("Behaviour of")],
                _response_rows(summary.responses),
                [width * w for w in (0.14, 0.16, 0.4, 0.15, 0.15)],
            )
        )
    return out


def _treatment(summary: CaseSummary, width: float) -> list:
    record = summary.treatment
    out = [_p(_("Treatment"), H2), _p(_("Treatment providers"), H3)]
    if record.assignments:
        out.append(
            _table(
                [_("Provider"), _("Assigned on"), _("Ended on")],
                [
                    [a.provider.name, _date(a.assigned_on), _date(a.ended_on)]
                    for a in record.assignments
                ],
                [width * w for w in (0.6, 0.2, 0.2)],
            )
        )
    else:
        out.append(_p(_("Not assigned to a treatment provider.")))
    out += _episodes(record, width)
    out += _attendance(summary)
    out += _medications(record, width)
    out += _progress(record)
    out += _drug_tests(summary, width)
    return out


def _episodes(record: TreatmentRecord, width: float) -> list:
    out = [_p(_("Treatment episodes"), H3)]
    if record.episodes is None:
        return [*out, _withheld()]
    if not record.episodes:
        return [*out, _p(_("No treatment episode recorded."))]
    rows = [
        [
            e.get_level_of_care_display(),
            e.get_modality_display(),
            _date(e.admitted_on),
            _date(e.discharged_on),
            e.provider.name if e.provider else "—",
        ]
        for e in record.episodes
    ]
    header = [
        _("Level of care (ASAM)"),
        _("Modality"),
        _("Admitted on"),
        _("Discharged on"),
        _("Provider"),
    ]
    return [*out, _table(header, rows, [width * w for w in (0.3, 0.2, 0.13, 0.13, 0.24)])]


def _attendance(summary: CaseSummary) -> list:
    out = [_p(_("Session attendance"), H3)]
    a = summary.attendance
    if a is None:
        return [*out, _withheld()]
    text = _("%(attended)s attended, %(missed)s missed, %(excused)s excused (%(hours)s hours).")
    values = {
        "attended": a.attended,
        "missed": a.missed,
        "excused": a.excused,
        "hours": formats.localize(a.hours),
    }
    return [*out, _p(text % values)]


def _medications(record: TreatmentRecord, width: float) -> list:
    out = [_p(_("Medications for opioid or alcohol use disorder"), H3)]
    if record.medications is None:
        return [*out, _withheld()]
    if not record.medications:
        return [*out, _p(_("No medication recorded."))]
    rows = [
        [m.get_drug_display(), m.dose or "—", _date(m.started_on), _date(m.ended_on)]
        for m in record.medications
    ]
    header = [_("Medication"), _("Dose"), _("Started on"), _("Ended on")]
    return [*out, _table(header, rows, [width * w for w in (0.35, 0.35, 0.15, 0.15)])]


def _progress(record: TreatmentRecord) -> list:
    out = [_p(_("Progress updates"), H3)]
    if record.progress_updates is None:
        return [*out, _withheld()]
    if not record.progress_updates:
        return [*out, _p(_("No progress update yet."))]
    for u in record.progress_updates:
        text = (
            f"{_date(u.period_start)} - {_date(u.period_end)} · {u.get_engagement_display()}: "
            f"{u.summary}"
        )
        if u.recommendations:
            text += f" {_('Recommendations')}: {u.recommendations}"
        out.append(_p(text, BODY))
    return out


def _drug_tests(summary: CaseSummary, width: float) -> list:
    t = summary.tests
    out = [_p(_("Drug and alcohol tests"), H3)]
    if t.provider_withheld:
        out.append(_withheld())
    rows = [
        [_("Tests"), t.total],
        [_("Failed (missed, refused and adulterated tests count as failed)"), t.failed],
        [_("Last failed test"), _date(t.last_failed)],
    ]
    return [*out, *_rows(rows, width)]
