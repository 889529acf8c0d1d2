"""A participant's case summary: the whole episode on a few pages, as a PDF for the file.

Read for one participant the caller may see (participants.access.get_participant_for_user has
passed), one query per kind of fact. Treatment and provider information comes only through
treatment.queries.treatment_record: it applies the consent gate section by section and records
each disclosure (as an export); a withheld section says so, and whenever anything was disclosed
the 42 CFR 2.32 notice opens the document. Clinical notes never appear in it. Every summary
built is an AuditEvent "export".

The PDF is drawn with reportlab's platypus on the page all the project's PDFs share (tjp.pdf),
as the staffing packet is (hearings.pdf): in the language active for the request, with times in
the program's time zone, "Confidential" and the page number on every page.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Q, Sum
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import KeepTogether

from hearings.access import full_entries_visible_to
from hearings.models import APPEARED, Attendance, Response, ResponseKind, Unit
from hearings.packet import TreatmentAttendance
from hearings.pdf import response_rows, withheld
from participants.disclosures import REDISCLOSURE_NOTICE
from participants.models import (
    Case,
    CasePlanGoal,
    LegalTerm,
    Participant,
    PhaseChange,
    ServiceReferral,
    Status,
    StatusChange,
)
from tjp import audit, clock
from tjp.clock import program_today
from tjp.models import AuditEvent, Program
from tjp.pdf import (
    BODY,
    SMALL,
    TITLE,
    build_pdf,
    content_width,
    date_text,
    datetime_text,
    label_table,
    notice,
    page_size,
    paragraph,
    table,
)
from tjp.pdf import H2 as BASE_H2
from tjp.pdf import H3 as BASE_H3
from treatment.queries import TreatmentRecord, treatment_record

# Headings never end a page: each stays with the block it introduces.
H2 = ParagraphStyle("case-h2", parent=BASE_H2, keepWithNext=1)
H3 = ParagraphStyle("case-h3", parent=BASE_H3, keepWithNext=1)
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
    attendance: TreatmentAttendance  # the sessions the reader may see
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
        attendance=TreatmentAttendance(record.sessions),
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
        last_failed=clock.local(last, program).date() if last else None,
        provider_withheld="drug_tests" in record.withheld,
    )


# --- the PDF ---------------------------------------------------------------------------------
def case_summary_pdf(summary: CaseSummary) -> bytes:
    program, p = summary.program, summary.participant
    pagesize = page_size(program)
    width = content_width(pagesize)
    story = [
        paragraph(_("Confidential"), H3),
        paragraph(_("Case summary"), TITLE),
        paragraph(f"{p.person.full_name} · {program.name}", H2),
        paragraph(
            "{} · {}".format(
                _("Times in the program's time zone (%(tz)s).") % {"tz": program.time_zone},
                _("Prepared %(at)s") % {"at": datetime_text(summary.generated_at, program)},
            ),
            SMALL,
        ),
    ]
    if summary.needs_redisclosure_notice:
        story.append(notice(_("Confidentiality notice (42 CFR 2.32)"), REDISCLOSURE_NOTICE))
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
    return build_pdf(story, pagesize=pagesize, title=_("Case summary"), header=header)


def _rows(rows: list[list], width: float) -> list:
    """Label/value rows, kept on one page."""
    return [KeepTogether([label_table(rows, width)])]


def _participant(summary: CaseSummary, width: float) -> list:
    p, person = summary.participant, summary.participant.person
    exit_text = date_text(p.exit_date)
    if p.exit_date and p.exit_reason:
        exit_text += f" · {p.exit_reason}"
    disposition = (
        f"{p.get_disposition_display()} ({date_text(p.disposition_date)})"
        if p.disposition
        else _("Pending")
    )
    rows = [
        [_("Name"), person.full_name],
        [_("Date of birth"), date_text(person.date_of_birth)],
        [_("Program"), summary.program.name],
        [_("Status"), p.get_status_display()],
        [_("Phase"), str(p.phase) if p.phase else "—"],
        [_("Referral date"), date_text(p.referred_on)],
        [_("Arrest date"), date_text(p.arrest_date)],
        [_("Program entry"), date_text(p.entry_date)],
        [_("Exit"), exit_text],
        [_("Legal disposition"), disposition],
    ]
    return [paragraph(_("Participant"), H2), *_rows(rows, width)]


def _cases(summary: CaseSummary, width: float) -> list:
    out = [paragraph(_("Cases and charges"), H2)]
    if not summary.cases:
        return [*out, paragraph("—")]
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
        table(
            [_("Case number"), _("Court"), _("Charges")], rows, [width * w for w in (0.2, 0.3, 0.5)]
        )
    )
    return out


def _changes(rows: list[list], width: float) -> list:
    if not rows:
        return [paragraph(_("None."))]
    return [
        table(
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
        [
            date_text(c.effective_on),
            Status(c.from_status).label,
            Status(c.to_status).label,
            c.reason,
        ]
        for c in summary.status_changes
    ]
    phases = [
        [
            date_text(c.effective_on),
            str(c.from_phase) if c.from_phase else "—",
            str(c.to_phase),
            c.reason,
        ]
        for c in summary.phase_changes
    ]
    return [
        paragraph(_("Status history"), H2),
        *_changes(statuses, width),
        paragraph(_("Phase history"), H2),
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
        [_("Term"), f"{date_text(term.starts_on)} - {date_text(term.ends_on)}"],
        [_("Extension"), extension],
        [_("Effective end"), date_text(term.effective_end(today))],
        [_("Days remaining"), term.days_remaining(today)],
        [_("Victim"), victim],
    ]
    gaps = [
        f"{date_text(gap.starts_on)} - {date_text(gap.ends_on) if gap.ends_on else '…'}: "
        f"{gap.reason}"
        for gap in term.interruptions.all()
    ]
    if gaps:
        rows.append([_("Interruptions (detained on another case)"), "; ".join(gaps)])
    return [paragraph(_("Conditional suspension: legal term"), H2), *_rows(rows, width)]


def _case_plan(summary: CaseSummary, width: float) -> list:
    out = [paragraph(_("Case plan"), H2)]
    if summary.goals:
        out.append(
            table(
                [_("Goal"), _("Status"), _("Target date"), _("Closed on")],
                [
                    [
                        g.description,
                        g.get_status_display(),
                        date_text(g.target_date),
                        date_text(g.closed_on),
                    ]
                    for g in summary.goals
                ],
                [width * w for w in (0.5, 0.16, 0.17, 0.17)],
            )
        )
    else:
        out.append(paragraph("—"))
    out.append(paragraph(_("Service referrals"), H3))
    if not summary.service_referrals:
        return [*out, paragraph("—")]
    rows = [
        [
            r.get_service_display(),
            r.agency or "—",
            date_text(r.referred_on),
            f"{r.get_outcome_display()} ({date_text(r.outcome_on)})"
            if r.outcome_on
            else r.get_outcome_display(),
        ]
        for r in summary.service_referrals
    ]
    out.append(
        table(
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
        [_("Next hearing"), datetime_text(h.next_hearing, program) if h.next_hearing else "—"],
    ]
    responses = [
        [_("Incentives"), counts[ResponseKind.INCENTIVE]],
        [_("Sanctions"), counts[ResponseKind.SANCTION]],
        [_("Service adjustments"), counts[ResponseKind.SERVICE]],
        [_("Jail-sanction days"), formats.localize(summary.jail_days)],
    ]
    out = [
        paragraph(_("Hearings"), H2),
        *_rows(hearings, width),
        paragraph(_("Court responses"), H2),
        *_rows(responses, width),
    ]
    if summary.responses:
        out.append(
            paragraph(
                _("Latest responses, newest first (at most %(n)s)") % {"n": RESPONSES_LISTED}, H3
            )
        )
        out.append(
            table(
                [_("Date"), _("Kind"), _("Response"), _("Magnitude"), _("Behaviour of")],
                response_rows(summary.responses),
                [width * w for w in (0.14, 0.16, 0.4, 0.15, 0.15)],
            )
        )
    return out


def _treatment(summary: CaseSummary, width: float) -> list:
    record = summary.treatment
    out = [paragraph(_("Treatment"), H2), paragraph(_("Treatment providers"), H3)]
    if record.assignments:
        out.append(
            table(
                [_("Provider"), _("Assigned on"), _("Ended on")],
                [
                    [a.provider.name, date_text(a.assigned_on), date_text(a.ended_on)]
                    for a in record.assignments
                ],
                [width * w for w in (0.6, 0.2, 0.2)],
            )
        )
    else:
        out.append(paragraph(_("Not assigned to a treatment provider.")))
    out += _episodes(record, width)
    out += _attendance(summary)
    out += _medications(record, width)
    out += _progress(record)
    out += _drug_tests(summary, width)
    return out


def _episodes(record: TreatmentRecord, width: float) -> list:
    out = [paragraph(_("Treatment episodes"), H3)]
    if "episodes" in record.withheld:
        out.append(withheld())
        if not record.episodes:
            return out
    if not record.episodes:
        return [*out, paragraph(_("No treatment episode recorded."))]
    rows = [
        [
            e.get_level_of_care_display(),
            e.get_modality_display(),
            date_text(e.admitted_on),
            date_text(e.discharged_on),
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
    return [*out, table(header, rows, [width * w for w in (0.3, 0.2, 0.13, 0.13, 0.24)])]


def _attendance(summary: CaseSummary) -> list:
    out = [paragraph(_("Session attendance"), H3)]
    a = summary.attendance
    if "sessions" in summary.treatment.withheld:
        out.append(withheld())
        if not a.sessions:
            return out
    text = _("%(attended)s attended, %(missed)s missed, %(excused)s excused (%(hours)s hours).")
    values = {
        "attended": a.attended,
        "missed": a.missed,
        "excused": a.excused,
        "hours": formats.localize(a.hours),
    }
    return [*out, paragraph(text % values)]


def _medications(record: TreatmentRecord, width: float) -> list:
    out = [paragraph(_("Medications for opioid or alcohol use disorder"), H3)]
    if "medications" in record.withheld:
        out.append(withheld())
        if not record.medications:
            return out
    if not record.medications:
        return [*out, paragraph(_("No medication recorded."))]
    rows = [
        [m.get_drug_display(), m.dose or "—", date_text(m.started_on), date_text(m.ended_on)]
        for m in record.medications
    ]
    header = [_("Medication"), _("Dose"), _("Started on"), _("Ended on")]
    return [*out, table(header, rows, [width * w for w in (0.35, 0.35, 0.15, 0.15)])]


def _progress(record: TreatmentRecord) -> list:
    out = [paragraph(_("Progress updates"), H3)]
    if "progress_updates" in record.withheld:
        out.append(withheld())
        if not record.progress_updates:
            return out
    if not record.progress_updates:
        return [*out, paragraph(_("No progress update yet."))]
    for u in record.progress_updates:
        text = (
            f"{date_text(u.period_start)} - {date_text(u.period_end)} · "
            f"{u.get_engagement_display()}: {u.summary}"
        )
        if u.recommendations:
            text += f" {_('Recommendations')}: {u.recommendations}"
        out.append(paragraph(text, BODY))
    return out


def _drug_tests(summary: CaseSummary, width: float) -> list:
    t = summary.tests
    out = [paragraph(_("Drug and alcohol tests"), H3)]
    if t.provider_withheld:
        out.append(withheld())
    rows = [
        [_("Tests"), t.total],
        [_("Failed (missed, refused and adulterated tests count as failed)"), t.failed],
        [_("Last failed test"), date_text(t.last_failed)],
    ]
    return [*out, *_rows(rows, width)]
