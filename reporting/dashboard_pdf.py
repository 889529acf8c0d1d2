"""The performance dashboard as a PDF report: the programs and the period, then every measure
table of `reporting.measures` with its title, definition and notes, and under each table the
dashboard charts (reporting.tables.CHARTS: the same choice of tables and columns) its
chart, drawn as vector graphics with reportlab.graphics.

Built in the active language (a caller wanting another wraps it in translation.override):
numbers and months as the dashboard page shows them, chart axes and legends translated. Aggregate
figures only: nobody is named and no provider information about anyone is in it, so it carries
no redisclosure notice, but every page says "Confidential" like the project's other PDFs.
"""

from datetime import date
from decimal import Decimal

from django.template.defaultfilters import floatformat
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.graphics.charts.barcharts import BarChart, HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, Group, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepTogether, Spacer

from reporting.measures import all_tables
from reporting.params import ReportParams
from reporting.tables import CHARTS, Table
from tjp.pdf import (
    BODY,
    FONT,
    FONT_BOLD,
    H2,
    SMALL,
    TITLE,
    build_pdf,
    content_width,
    datetime_text,
    page_size,
    paragraph,
    table,
)

NUMBER = ParagraphStyle("dashboard-number", parent=SMALL, alignment=TA_RIGHT)
HEADING = ParagraphStyle("dashboard-h2", parent=H2, keepWithNext=1)
# The dashboard's colours (Bootstrap's primary and orange), one per series.
SERIES_COLOURS = [colors.HexColor("#0d6efd"), colors.HexColor("#fd7e14")]
LABEL_SIZE = 7
TITLE_SIZE = 8


def render_dashboard_pdf(params: ReportParams, tables: list[Table] | None = None) -> bytes:
    """The dashboard for `params` as a PDF, in the active language. `tables` defaults to every
    measure table (`reporting.measures.all_tables(params)`)."""
    if tables is None:
        tables = all_tables(params) if params.programs else []
    pagesize = page_size(params.programs[0] if params.programs else None)
    width = content_width(pagesize)
    title = _("Program performance")
    story = [paragraph(title, TITLE), *_scope(params)]
    for measure in tables:
        story += _section(measure, width)
    period = f"{_date(params.start)} - {_date(params.end)}"
    return build_pdf(story, pagesize=pagesize, title=title, header=f"{title} · {period}")


def _date(value: date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _scope(params: ReportParams) -> list[Flowable]:
    if not params.programs:
        return [paragraph(_("You do not work in any program yet."))]
    prepared = datetime_text(timezone.now(), params.programs[0])
    return [
        paragraph("{} {}".format(_("Programs:"), ", ".join(p.name for p in params.programs)), BODY),
        paragraph(
            _("From %(start)s to %(end)s, in each program's own days.")
            % {"start": _date(params.start), "end": _date(params.end)}
        ),
        paragraph(
            "{} · {}".format(
                _("Prepared %(at)s") % {"at": prepared},
                _("Aggregate figures: no participant is named."),
            ),
            SMALL,
        ),
    ]


# --- a measure table -------------------------------------------------------------------------
def cell_text(value) -> str:
    """A table value as the dashboard page shows it: numbers grouped with the active language's
    separators (at most two decimals, as the measure rounded them), months by name, "—" for no
    value."""
    if value is None:
        return "—"
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int):
        return str(floatformat(value, "g"))
    if isinstance(value, float | Decimal):
        places = min(2, len(f"{value}".partition(".")[2]) or 1)
        return str(floatformat(value, f"{places}g"))
    if isinstance(value, date):
        return formats.date_format(value, "YEAR_MONTH_FORMAT")
    return str(value)


def _is_number(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _section(measure: Table, width: float) -> list[Flowable]:
    out = [
        paragraph(measure.title, HEADING),
        KeepTogether([paragraph(measure.definition, SMALL), Spacer(0, 4)]),
    ]
    if measure.rows:
        rows = [
            [paragraph(cell_text(v), NUMBER) if _is_number(v) else cell_text(v) for v in row]
            for row in measure.rows
        ]
        out.append(table(measure.columns, rows, _widths(measure, width)))
    out += [paragraph(note, SMALL) for note in measure.notes]
    if (drawing := chart(measure, width)) is not None:
        caption = _("Chart: %(title)s. The same numbers are in the table.") % {
            "title": measure.title
        }
        out.append(KeepTogether([Spacer(0, 6), paragraph(caption, SMALL), drawing]))
    return out


def _widths(measure: Table, width: float) -> list[float]:
    """Equal columns, but a column of row labels (statuses, rates, months) gets more room."""
    count = len(measure.columns)
    if count == 1 or _is_number(measure.rows[0][0]):
        return [width / count] * count
    first = width * (0.4 if count <= 4 else 0.28)
    return [first] + [(width - first) / (count - 1)] * (count - 1)


# --- charts ----------------------------------------------------------------------------------
def chart(measure: Table, width: float) -> Drawing | None:
    """The dashboard's chart of `measure`, if it has one, as a vector drawing `width` wide:
    months as grouped columns, other categories (statuses, phases, rates) as horizontal bars.
    Axis titles and the legend are the table's (translated) column headers."""
    if measure.key not in CHARTS or not measure.rows:
        return None
    label_column, value_columns, percent = CHARTS[measure.key]
    labels = [cell_text(row[label_column]) for row in measure.rows]
    series = [
        [None if row[c] is None else float(row[c]) for row in measure.rows] for c in value_columns
    ]
    names = [measure.columns[c] for c in value_columns]
    category_title = measure.columns[label_column]
    value_title = names[0] if len(names) == 1 else pgettext("chart axis", "Number")
    if isinstance(measure.rows[0][label_column], date):
        drawing = _columns(labels, series, width, category_title, value_title)
    else:
        drawing = _bars(labels, series, width, category_title, value_title)
    plot = drawing.contents[0]
    _scale(plot, series, percent)
    if len(names) > 1:
        _legend(drawing, names)
    return drawing


def _scale(plot: BarChart, series: list[list], percent: bool) -> None:
    """Counts from zero in whole numbers; percents from 0 to 100; values printed on the bars."""
    axis = plot.valueAxis
    axis.valueMin = 0
    axis.labels.fontName, axis.labels.fontSize = FONT, LABEL_SIZE
    highest = max((v for values in series for v in values if v is not None), default=0)
    if percent:
        axis.valueMax, axis.valueStep = 100, 20
    elif highest <= 5:
        axis.valueMax, axis.valueStep = max(highest, 1), 1
    axis.labelTextFormat = lambda v: str(floatformat(v, "g"))
    plot.barLabelFormat = lambda v: (
        "" if v is None else str(floatformat(v, "1g" if percent else "g"))
    )
    plot.barLabels.fontName, plot.barLabels.fontSize = FONT, LABEL_SIZE
    plot.categoryAxis.labels.fontName = FONT
    plot.categoryAxis.labels.fontSize = LABEL_SIZE
    for index in range(len(series)):
        plot.bars[index].fillColor = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        plot.bars[index].strokeColor = None


def _text_width(text: str, size: float = LABEL_SIZE) -> float:
    return stringWidth(text, FONT, size)


def _title(x: float, y: float, text: str, *, anchor: str = "middle", angle: int = 0) -> Group:
    """An axis title at (x, y), turned by `angle` degrees."""
    group = Group(String(0, 0, text, fontName=FONT_BOLD, fontSize=TITLE_SIZE, textAnchor=anchor))
    group.translate(x, y)
    group.rotate(angle)
    return group


def _bars(labels, series, width, category_title, value_title) -> Drawing:
    """Horizontal bars, one row per category, labels on the left."""
    label_width = min(max(_text_width(label) for label in labels) + 6, width * 0.45)
    bar_height = 9 * len(series) + 4
    plot_height = bar_height * len(labels)
    height = plot_height + 48
    drawing = Drawing(width, height)
    plot = HorizontalBarChart()
    plot.x, plot.y = label_width, 28
    plot.width, plot.height = width - label_width - 30, plot_height
    plot.data = series
    plot.categoryAxis.categoryNames = labels
    # reportlab draws the first category at the bottom: reversed, the chart reads like the table.
    plot.categoryAxis.reverseDirection = 1
    plot.categoryAxis.labels.boxAnchor = "e"
    plot.categoryAxis.labels.dx = -3
    plot.barLabels.boxAnchor = "w"
    plot.barLabels.dx = 2
    drawing.add(plot)
    drawing.add(_title(0, height - 10, category_title, anchor="start"))
    drawing.add(_title(plot.x + plot.width / 2, 4, value_title))
    return drawing


def _columns(labels, series, width, category_title, value_title) -> Drawing:
    """Vertical columns grouped by category (months), labels slanted under the axis."""
    label_depth = max(_text_width(label) for label in labels) * 0.71 + 8
    plot_height = 130
    bottom = label_depth + 18
    height = bottom + plot_height + 26
    drawing = Drawing(width, height)
    plot = VerticalBarChart()
    plot.x, plot.y = 40, bottom
    plot.width, plot.height = width - 50, plot_height
    plot.data = series
    plot.categoryAxis.categoryNames = labels
    plot.categoryAxis.labels.angle = 45
    plot.categoryAxis.labels.boxAnchor = "ne"
    plot.categoryAxis.labels.dy = -2
    plot.barLabels.boxAnchor = "s"
    plot.barLabels.dy = 1
    plot.groupSpacing = 6
    drawing.add(plot)
    drawing.add(_title(plot.x + plot.width / 2, 4, category_title))
    drawing.add(_title(10, plot.y + plot.height / 2, value_title, angle=90))
    return drawing


def _legend(drawing: Drawing, names: list[str]) -> None:
    """The series' colours and names, side by side at the top right."""
    legend = Legend()
    legend.alignment = "right"  # names right of their swatches
    legend.fontName, legend.fontSize = FONT, TITLE_SIZE
    legend.columnMaximum = 1  # one name per column: a single row
    legend.boxAnchor = "ne"
    legend.x, legend.y = drawing.width, drawing.height
    legend.dx = legend.dy = 7
    legend.deltax = 16
    legend.colorNamePairs = [
        (SERIES_COLOURS[i % len(SERIES_COLOURS)], name) for i, name in enumerate(names)
    ]
    drawing.add(legend)
