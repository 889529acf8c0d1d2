"""The staffing packet as a printable PDF, built with reportlab's platypus from the same
StaffingPacket the page shows (never from its HTML), in the language active for the request and
with times in the program's time zone. Every page says "Confidential" and carries its number;
the 42 CFR 2.32 notice opens the document whenever provider information is in it."""

from io import BytesIO
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Table,
    TableStyle,
)

from hearings.models import Recommendation, ResponseKind
from hearings.packet import PacketItem, StaffingPacket
from tjp.models import Program

_STYLES = getSampleStyleSheet()
BODY = ParagraphStyle("packet-body", parent=_STYLES["BodyText"], fontSize=9, leading=11)
SMALL = ParagraphStyle("packet-small", parent=BODY, fontSize=8, leading=10)
TITLE = ParagraphStyle("packet-title", parent=_STYLES["Title"], fontSize=16, leading=20)
H2 = ParagraphStyle(
    "packet-h2", parent=_STYLES["Heading2"], fontSize=12, leading=15, spaceBefore=10
)
H3 = ParagraphStyle("packet-h3", parent=_STYLES["Heading3"], fontSize=10, leading=12)
FLAG = ParagraphStyle("packet-flag", parent=BODY, textColor=colors.HexColor("#b02a37"))
NOTICE = ParagraphStyle(
    "packet-notice",
    parent=SMALL,
    borderColor=colors.HexColor("#997404"),
    borderWidth=0.8,
    borderPadding=4,
    backColor=colors.HexColor("#fff3cd"),
    spaceBefore=4,
    spaceAfter=8,
)
WITHHELD = ParagraphStyle(
    "packet-withheld", parent=BODY, backColor=colors.HexColor("#e2e3e5"), borderPadding=3
)
TABLE_STYLE = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
)


def _p(text, style=BODY) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _date(value) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else "—"


def _when(value, program: Program) -> str:
    local = timezone.localtime(value, ZoneInfo(program.time_zone))
    return formats.date_format(local, "SHORT_DATETIME_FORMAT")


def _table(header: list[str], rows: list[list], widths: list[float]) -> Table:
    data = [[_p(h, SMALL) for h in header]]
    data += [[c if isinstance(c, Paragraph) else _p(c, SMALL) for c in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TABLE_STYLE)
    return table


def _withheld() -> Paragraph:
    return Paragraph(
        "<b>{}</b> {}".format(
            escape(_("Withheld — no consent covers this information.")),
            escape(
                _(
                    "It reaches the court team only while the participant's consent covers it "
                    "for your role."
                )
            ),
        ),
        WITHHELD,
    )


def _page_canvas(header: str, confidential: str, page_label: str):
    """A canvas that knows the page count when it saves, for "Page N of M"."""

    class PacketCanvas(canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._decorate(number, total)
                super().showPage()
            super().save()

        def _decorate(self, number: int, total: int) -> None:
            width, height = self._pagesize
            self.saveState()
            self.setFont("Helvetica-Bold", 10)
            self.setFillColor(colors.HexColor("#b02a37"))
            self.drawString(15 * mm, height - 12 * mm, confidential)
            self.setFillColor(colors.black)
            self.setFont("Helvetica", 8)
            self.drawRightString(width - 15 * mm, height - 12 * mm, header)
            self.drawCentredString(
                width / 2, 10 * mm, page_label % {"page": number, "pages": total}
            )
            self.restoreState()

    return PacketCanvas


def packet_pdf(packet: StaffingPacket) -> bytes:
    program, session = packet.program, packet.session
    pagesize = LETTER if program.legal_track.startswith("us_") else A4
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=20 * mm,
        bottomMargin=18 * mm,
        title=_("Staffing packet"),
        author="",
        subject=_("Confidential"),
        creator="TJP",
    )
    width = pagesize[0] - 30 * mm
    when = _when(session.starts_at, program)
    story = [
        _p(_("Staffing packet"), TITLE),
        _p(
            _("%(program)s · %(kind)s · %(when)s · courtroom %(room)s · judge %(judge)s")
            % {
                "program": program.name,
                "kind": session.get_kind_display(),
                "when": when,
                "room": session.courtroom,
                "judge": session.judge,
            }
        ),
        _p(
            "{} · {}".format(
                _("Times in the program's time zone (%(tz)s).") % {"tz": program.time_zone},
                _("Prepared %(at)s") % {"at": _when(packet.generated_at, program)},
            ),
            SMALL,
        ),
    ]
    if packet.needs_redisclosure_notice:
        story.append(
            Paragraph(
                "<b>{}</b><br/>{}".format(
                    escape(_("Confidentiality notice (42 CFR 2.32)")),
                    escape(packet.redisclosure_notice),
                ),
                NOTICE,
            )
        )
    if not packet.items:
        story.append(_p(_("No participant on this docket that you may see.")))
    for number, item in enumerate(packet.items, start=1):
        story += _item(number, item, packet, width)
    header = f"{program.name} · {when}"
    canvasmaker = _page_canvas(header, _("CONFIDENTIAL"), _("Page %(page)s of %(pages)s"))
    doc.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()


def _item(number: int, item: PacketItem, packet: StaffingPacket, width: float) -> list:
    p, program = item.participant, packet.program
    heading = _p(f"{number}. {p.person.full_name}", H2)
    if not item.full:
        return [
            KeepTogether([heading, _p(_("Name only: this participant is not your client."), SMALL)])
        ]
    phase = p.phase
    out = [
        heading,
        _p(
            _("Status: %(status)s · Phase: %(phase)s · Since %(since)s (%(basis)s)")
            % {
                "status": p.get_status_display(),
                "phase": phase or "—",
                "since": _date(item.since),
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
        out.append(_p(_("Clinical notes (your organisation only)"), H3))
        out += [_p(f"{_date(n.written_on)}: {n.text}") for n in item.clinical_notes] or [
            _p(_("No clinical note."))
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
            % {"date": _date(arrest.arrested_on), "charge": arrest.charge}
        )
    if item.term_warning:
        flags.append(_("Legal term ends in %(days)s days") % {"days": item.term_days_remaining})
    if not flags:
        return [_p(_("No flags."), SMALL)]
    return [_p(_("Flags: %(flags)s") % {"flags": "; ".join(flags)}, FLAG)]


def _phase(item: PacketItem, width: float) -> list:
    progress = item.phase
    if progress is None or progress.phase is None:
        return []
    phase = progress.phase
    rows = [
        [
            _("Days in phase (since %(date)s)") % {"date": _date(progress.started_on)},
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
        _p(_("Phase progress"), H3),
        _table(
            [_("Requirement"), _("So far"), _("Phase requires")],
            rows,
            [width * 0.5, width * 0.2, width * 0.3],
        ),
    ]


def _attendance(item: PacketItem, width: float) -> list:
    out = [_p(_("Treatment attendance"), H3)]
    if item.attendance is None:
        return [*out, _withheld()]
    a = item.attendance
    out.append(
        _p(
            _("%(attended)s attended, %(missed)s missed, %(excused)s excused (%(hours)s hours).")
            % {"attended": a.attended, "missed": a.missed, "excused": a.excused, "hours": a.hours}
        )
    )
    if a.sessions:
        out.append(
            _table(
                [_("Date"), _("Kind of session"), _("Attendance"), _("Hours"), _("Provider")],
                [
                    [
                        _date(s.session_date),
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
    out = [_p(_("Drug and alcohol tests"), H3)]
    if item.provider_tests_withheld:
        out.append(_withheld())
    if not item.drug_tests:
        return [*out, _p(_("No test shown."))]
    rows = [
        [
            _when(t.collected_at, program),
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
        _table(
            [_("Collected at"), _("Method"), _("Flags"), _("Results"), _("Source")],
            rows,
            [width * w for w in (0.17, 0.13, 0.2, 0.3, 0.2)],
        )
    )
    return out


def _progress(item: PacketItem) -> list:
    out = [_p(_("Progress updates"), H3)]
    if item.progress_updates is None:
        return [*out, _withheld()]
    for u in item.progress_updates:
        text = (
            f"{_date(u.period_start)} - {_date(u.period_end)} · {u.get_engagement_display()}: "
            f"{u.summary}"
        )
        if u.recommendations:
            text += f" {_('Recommendations')}: {u.recommendations}"
        out.append(_p(text))
    if not item.progress_updates:
        out.append(_p(_("No progress update since the last hearing.")))
    return out


def _response_rows(responses) -> list[list]:
    return [
        [
            _date(r.responded_on),
            ResponseKind(r.kind).label,
            r.response_type.name,
            f"{r.magnitude} {r.get_unit_display()}" if r.magnitude is not None else "—",
            _date(r.behavior_on),
        ]
        for r in responses
    ]


def _responses(item: PacketItem, width: float) -> list:
    header = [_("Date"), _("Kind"), _("Response"), _("Magnitude"), _("Behaviour of")]
    widths = [width * w for w in (0.14, 0.16, 0.4, 0.15, 0.15)]
    out = [_p(_("Responses since the last hearing"), H3)]
    if item.responses_since:
        out.append(_table(header, _response_rows(item.responses_since), widths))
    else:
        out.append(_p(_("None.")))
    if item.responses_here:
        out.append(_p(_("Responses at this hearing"), H3))
        out.append(_table(header, _response_rows(item.responses_here), widths))
    return out


def _staffing(item: PacketItem, program: Program, width: float) -> list:
    out = [_p(_("Staffing notes"), H3)]
    if not item.staffing_notes:
        return [*out, _p(_("No staffing note yet."))]
    rows = [
        [
            f"{n.author} ({n.role_label})" if n.role_label else str(n.author),
            Recommendation(n.recommendation).label,
            n.text,
            _when(n.created_at, program),
        ]
        for n in item.staffing_notes
    ]
    out.append(
        _table(
            [_("Author"), _("Recommendation"), _("Note"), _("Written")],
            rows,
            [width * w for w in (0.22, 0.18, 0.42, 0.18)],
        )
    )
    return out
