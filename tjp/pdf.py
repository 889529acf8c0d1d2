"""What every PDF of the project shares: the page (Letter or A4, margins, "Confidential" and the
page header on every page, "Page N of M" at the foot), the styles, the fonts, the escaping of
text into reportlab paragraphs, and tables.

The documents themselves (hearings.pdf, reporting.case_summary, reporting.dashboard_pdf) are
built with reportlab's platypus from the data, never from a page's HTML, in the language active
when they are built.

Fonts: reportlab's standard Helvetica family, whose WinAnsi encoding covers Spanish (á é í ó ú ü
ñ ¿ ¡ « » and the typographic dashes and quotes): nothing to ship or register, and the text stays
searchable and copyable in every PDF reader.
"""

from collections.abc import Iterable
from io import BytesIO
from xml.sax.saxutils import escape

from django.utils import formats, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

from tjp import clock
from tjp.models import Program

FONT = "Helvetica"
FONT_BOLD = "Helvetica-Bold"
RED = colors.HexColor("#b02a37")

# --- styles ----------------------------------------------------------------------------------
_STYLES = getSampleStyleSheet()
BODY = ParagraphStyle("pdf-body", parent=_STYLES["BodyText"], fontSize=9, leading=11)
SMALL = ParagraphStyle("pdf-small", parent=BODY, fontSize=8, leading=10)
TITLE = ParagraphStyle("pdf-title", parent=_STYLES["Title"], fontSize=16, leading=20)
H2 = ParagraphStyle("pdf-h2", parent=_STYLES["Heading2"], fontSize=12, leading=15, spaceBefore=10)
H3 = ParagraphStyle("pdf-h3", parent=_STYLES["Heading3"], fontSize=10, leading=12)
FLAG = ParagraphStyle("pdf-flag", parent=BODY, textColor=RED)
# A boxed notice (the 42 CFR 2.32 redisclosure notice).
NOTICE = ParagraphStyle(
    "pdf-notice",
    parent=SMALL,
    borderColor=colors.HexColor("#997404"),
    borderWidth=0.8,
    borderPadding=4,
    backColor=colors.HexColor("#fff3cd"),
    spaceBefore=4,
    spaceAfter=8,
)
# Grey box for what is withheld.
WITHHELD = ParagraphStyle(
    "pdf-withheld", parent=BODY, backColor=colors.HexColor("#e2e3e5"), borderPadding=3
)
# A table whose first row is its header.
TABLE_STYLE = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
)
# A table whose first column holds the labels of its rows.
LABELS_STYLE = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#e9ecef")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
)


# --- text ------------------------------------------------------------------------------------
def escape_text(value) -> str:
    """`value` as text safe inside a reportlab paragraph (whose markup is XML-like): `<`, `>`
    and `&` in names, notes or charges are printed, never read as markup."""
    return escape(str(value))


def paragraph(text, style: ParagraphStyle = BODY) -> Paragraph:
    """Plain text (escaped) as a paragraph."""
    return Paragraph(escape_text(text), style)


def notice(heading: str, text: str, style: ParagraphStyle = NOTICE) -> Paragraph:
    """A boxed notice: its heading in bold, then its text."""
    return Paragraph(f"<b>{escape_text(heading)}</b><br/>{escape_text(text)}", style)


def date_text(value) -> str:
    """A date in the active language's short format; "—" when there is none."""
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else "—"


def datetime_text(value, program: Program) -> str:
    """A moment in the program's time zone, in the active language's short format."""
    local = clock.local(value, program)
    return formats.date_format(local, "SHORT_DATETIME_FORMAT")


# --- tables ----------------------------------------------------------------------------------
def table(header: list[str], rows: Iterable[list], widths: list[float]) -> Table:
    """A table with a header row repeated on every page; cells are text (escaped) or
    paragraphs."""
    data = [[paragraph(h, SMALL) for h in header]]
    data += [[c if isinstance(c, Paragraph) else paragraph(c, SMALL) for c in row] for row in rows]
    result = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    result.setStyle(TABLE_STYLE)
    return result


def label_table(rows: Iterable[list], width: float) -> Table:
    """Label/value rows: a two-column table whose labels are its first column."""
    result = Table(
        [[paragraph(label, SMALL), paragraph(value, SMALL)] for label, value in rows],
        colWidths=[width * 0.3, width * 0.7],
        hAlign="LEFT",
    )
    result.setStyle(LABELS_STYLE)
    return result


# --- the page --------------------------------------------------------------------------------
MARGIN = 15 * mm


def page_size(program: Program | None = None) -> tuple[float, float]:
    """US Letter for a program on a US legal track, A4 elsewhere. Without a program, by the
    active language: Letter in English, A4 otherwise."""
    if program is not None:
        return LETTER if program.legal_track.startswith("us_") else A4
    return LETTER if translation.get_language() in ("en", "en-us") else A4


def content_width(pagesize: tuple[float, float]) -> float:
    """The width between the margins."""
    return pagesize[0] - 2 * MARGIN


def page_canvas(header: str, confidential: str, page_label: str) -> type[canvas.Canvas]:
    """A canvas class that draws `confidential` and `header` at the top of every page and
    `page_label` ("Page %(page)s of %(pages)s") at its foot: it keeps the pages until it
    saves, when it knows their count."""

    class PageCanvas(canvas.Canvas):
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
            self.setFont(FONT_BOLD, 10)
            self.setFillColor(RED)
            self.drawString(MARGIN, height - 12 * mm, confidential)
            self.setFillColor(colors.black)
            self.setFont(FONT, 8)
            self.drawRightString(width - MARGIN, height - 12 * mm, header)
            self.drawCentredString(
                width / 2, 10 * mm, page_label % {"page": number, "pages": total}
            )
            self.restoreState()

    return PageCanvas


def build_pdf(
    story: list[Flowable], *, pagesize: tuple[float, float], title: str, header: str
) -> bytes:
    """The PDF of `story`: margins, document properties (subject "Confidential"), and on
    every page "CONFIDENTIAL", `header` and the page number, in the active language."""
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=20 * mm,
        bottomMargin=18 * mm,
        title=title,
        author="",
        subject=_("Confidential"),
        creator="TJP",
    )
    canvasmaker = page_canvas(header, _("CONFIDENTIAL"), _("Page %(page)s of %(pages)s"))
    doc.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()
