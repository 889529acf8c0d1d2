"""The staffing packet as a printable PDF, built with reportlab's platypus from the same
StaffingPacket the page shows (never from its HTML), in the language active for the request and
with times in the program's time zone. Every page says "Confidential" and carries its number;
the 42 CFR 2.32 notice opens the document whenever provider information is in it."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.platypus import KeepTogether, Paragraph

from hearings.models import Recommendation, ResponseKind
from hearings.packet import PacketItem, StaffingPacket
from tjp.models import Program
from tjp.pdf import (
    FLAG,
    H2,
    H3,
    SMALL,
    TITLE,
    WITHHELD,
    build_pdf,
    content_width,
    date_text,
    datetime_text,
    escape_text,
    notice,
    page_size,
    paragraph,
    table,
)


def withheld() -> Paragraph:
    """Said in place of provider information no consent covers (the packet, the case
    summary)."""
    return Paragraph(
        "<b>{}</b> {}".format(
            escape_text(_("Withheld — no consent covers this information.")),
            escape_text(
                _(
                    "It reaches the court team only while the participant's consent covers it "
                    "for your role."
                )
            ),
        ),
        WITHHELD,
    )


def packet_pdf(packet: StaffingPacket) -> bytes:
    program, session = packet.program, packet.session
    pagesize = page_size(program)
    width = content_width(pagesize)
    when = datetime_text(session.starts_at, program)
    story = [
        paragraph(_("Staffing packet"), TITLE),
        paragraph(
            _("%(program)s · %(kind)s · %(when)s · courtroom %(room)s · judge %(judge)s")
            % {
                "program": program.name,
                "kind": session.get_kind_display(),
                "when": when,
                "room": session.courtroom,
                "judge": session.judge,
            }
        ),
        paragraph(
            "{} · {}".format(
                _("Times in the program's time zone (%(tz)s).") % {"tz": program.time_zone},
                _("Prepared %(at)s") % {"at": datetime_text(packet.generated_at, program)},
            ),
            SMALL,
        ),
    ]
    if packet.needs_redisclosure_notice:
        story.append(notice(_("Confidentiality notice (42 CFR 2.32)"), packet.redisclosure_notice))
    if not packet.items:
        story.append(paragraph(_("No participant on this docket that you may see.")))
    for number, item in enumerate(packet.items, start=1):
        story += _item(number, item, packet, width)
    header = f"{program.name} · {when}"
    return build_pdf(story, pagesize=pagesize, title=_("Staffing packet"), header=header)


def _item(number: int, item: PacketItem, packet: StaffingPacket, width: float) -> list:
    p, program = item.participant, packet.program
    heading = paragraph(f"{number}. {p.person.full_name}", H2)
    if not item.full:
        return [
            KeepTogether(
                [heading, paragraph(_("Name only: this participant is not your client."), SMALL)]
            )
        ]
    phase = p.phase
    out = [
        heading,
        paragraph(
            _("Status: %(status)s · Phase: %(phase)s · Since %(since)s (%(basis)s)")
            % {
                "status": p.get_status_display(),
                "phase": phase or "—",
                "since": date_text(item.since),
                "basis": _("last hearing") if item.last_hearing else _("program entry"),
            }
        ),
    ]
    out += _flags(item)
    out += _phase(item, width)
    out += _attendance(item, width)
    out += _tests(item, program, width)
    out += _progress(item)
    out += _responses(item, width)
    out += _staffing(item, program, width)
    if packet.clinician:
        out.append(paragraph(_("Clinical notes (your organisation only)"), H3))
        out += [paragraph(f"{date_text(n.written_on)}: {n.text}") for n in item.clinical_notes] or [
            paragraph(_("No clinical note."))
        ]
    return out


def _flags(item: PacketItem) -> list:
    flags = []
    if item.warrant:
        flags.append(_("Warrant / absconded"))
    if item.missed_tests:
        flags.append(
            ngettext("%(n)d missed test", "%(n)d missed tests", item.missed_tests)
            % {"n": item.missed_tests}
        )
    if item.refused_tests:
        flags.append(
            ngettext("%(n)d refused test", "%(n)d refused tests", item.refused_tests)
            % {"n": item.refused_tests}
        )
    if item.positive_tests:
        flags.append(
            ngettext(
                "%(n)d test counting as positive",
                "%(n)d tests counting as positive",
                item.positive_tests,
            )
            % {"n": item.positive_tests}
        )
    for arrest in item.new_arrests:
        flags.append(
            _("New arrest %(date)s: %(charge)s")
            % {"date": date_text(arrest.arrested_on), "charge": arrest.charge}
        )
    if item.term_warning:
        flags.append(_("Legal term ends in %(days)s days") % {"days": item.term_days_remaining})
    if not flags:
        return [paragraph(_("No flags."), SMALL)]
    return [paragraph(_("Flags: %(flags)s") % {"flags": "; ".join(flags)}, FLAG)]


def _phase(item: PacketItem, width: float) -> list:
    progress = item.phase
    if progress is None or progress.phase is None:
        return []
    phase = progress.phase
    rows = [
        [
            _("Days in phase (since %(date)s)") % {"date": date_text(progress.started_on)},
            progress.days_in_phase,
            _("at least %(n)s") % {"n": phase.min_days},
        ],
        [
            _("Drug tests per week"),
            f"{progress.tests_per_week} ({progress.tests})",
            _("at least %(n)s") % {"n": phase.tests_per_week},
        ],
        [
            _("Hearing appearances in this phase"),
            progress.appearances,
            _("one every %(n)s days") % {"n": phase.hearing_interval_days},
        ],
    ]
    return [
        paragraph(_("Phase progress"), H3),
        table(
            [_("Requirement"), _("So far"), _("Phase requires")],
            rows,
            [width * 0.5, width * 0.2, width * 0.3],
        ),
    ]


def _attendance(item: PacketItem, width: float) -> list:
    out = [paragraph(_("Treatment attendance"), H3)]
    a = item.attendance
    if "sessions" in item.withheld:
        out.append(withheld())
        if not a.sessions:
            return out
    out.append(
        paragraph(
            _("%(attended)s attended, %(missed)s missed, %(excused)s excused (%(hours)s hours).")
            % {"attended": a.attended, "missed": a.missed, "excused": a.excused, "hours": a.hours}
        )
    )
    if a.sessions:
        out.append(
            table(
                [_("Date"), _("Kind of session"), _("Attendance"), _("Hours"), _("Provider")],
                [
                    [
                        date_text(s.session_date),
                        s.get_kind_display(),
                        s.get_attendance_display(),
                        s.hours,
                        s.provider.name if s.provider else "—",
                    ]
                    for s in a.sessions
                ],
                [width * w for w in (0.15, 0.2, 0.2, 0.1, 0.35)],
            )
        )
    return out


def _test_flags(test) -> str:
    flags = []
    if test.missed:
        flags.append(_("missed"))
    if test.refused:
        flags.append(_("refused"))
    if test.adulterated:
        flags.append(_("adulterated"))
    if test.dilute:
        flags.append(_("dilute"))
    if test.counts_as_positive:
        flags.append(_("counts as positive"))
    return ", ".join(flags) or "—"


def _tests(item: PacketItem, program: Program, width: float) -> list:
    out = [paragraph(_("Drug and alcohol tests"), H3)]
    if "drug_tests" in item.withheld:
        out.append(withheld())
    if not item.drug_tests:
        return [*out, paragraph(_("No test shown."))]
    rows = [
        [
            datetime_text(t.collected_at, program),
            t.get_method_display(),
            _test_flags(t),
            "; ".join(
                f"{r.get_substance_display()}: {r.get_result_display()}" for r in t.results.all()
            )
            or "—",
            t.get_source_display(),
        ]
        for t in item.drug_tests
    ]
    out.append(
        table(
            [_("Collected at"), _("Method"), _("Flags"), _("Results"), _("Source")],
            rows,
            [width * w for w in (0.17, 0.13, 0.2, 0.3, 0.2)],
        )
    )
    return out


def _progress(item: PacketItem) -> list:
    out = [paragraph(_("Progress updates"), H3)]
    if "progress_updates" in item.withheld:
        out.append(withheld())
        if not item.progress_updates:
            return out
    for u in item.progress_updates:
        text = (
            f"{date_text(u.period_start)} - {date_text(u.period_end)} · "
            f"{u.get_engagement_display()}: {u.summary}"
        )
        if u.recommendations:
            text += f" {_('Recommendations')}: {u.recommendations}"
        out.append(paragraph(text))
    if not item.progress_updates:
        out.append(paragraph(_("No progress update since the last hearing.")))
    return out


def response_rows(responses) -> list[list]:
    """Rows of a table of court responses: date, kind, response, magnitude, behaviour of."""
    return [
        [
            date_text(r.responded_on),
            ResponseKind(r.kind).label,
            r.response_type.name,
            f"{r.magnitude} {r.get_unit_display()}" if r.magnitude is not None else "—",
            date_text(r.behavior_on),
        ]
        for r in responses
    ]


def _responses(item: PacketItem, width: float) -> list:
    header = [_("Date"), _("Kind"), _("Response"), _("Magnitude"), _("Behaviour of")]
    widths = [width * w for w in (0.14, 0.16, 0.4, 0.15, 0.15)]
    out = [paragraph(_("Responses since the last hearing"), H3)]
    if item.responses_since:
        out.append(table(header, response_rows(item.responses_since), widths))
    else:
        out.append(paragraph(_("None.")))
    if item.responses_here:
        out.append(paragraph(_("Responses at this hearing"), H3))
        out.append(table(header, response_rows(item.responses_here), widths))
    return out


def _staffing(item: PacketItem, program: Program, width: float) -> list:
    out = [paragraph(_("Staffing notes"), H3)]
    if not item.staffing_notes:
        return [*out, paragraph(_("No staffing note yet."))]
    rows = [
        [
            f"{n.author} ({n.role_label})" if n.role_label else str(n.author),
            Recommendation(n.recommendation).label,
            n.text,
            datetime_text(n.created_at, program),
        ]
        for n in item.staffing_notes
    ]
    out.append(
        table(
            [_("Author"), _("Recommendation"), _("Note"), _("Written")],
            rows,
            [width * w for w in (0.22, 0.18, 0.42, 0.18)],
        )
    )
    return out
