"""The one shape every report table takes: shown on a page, charted, exported as CSV/XLSX."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass
class Table:
    key: str  # stable machine name, e.g. "retention"; export file names use it
    title: str  # translated title
    definition: str  # translated one-paragraph definition (written once, next to the query)
    columns: list[str]  # translated column headers
    rows: list[list[Any]] = field(default_factory=list)  # values: str, int, float, Decimal, date
    notes: list[str] = field(default_factory=list)  # e.g. "3 groups suppressed (< 5 people)"


# Which tables are charted (on the dashboard and in its PDF): the label column, the value
# columns, and whether the values are percents.
CHARTS = {
    "census_status": (0, [1], False),
    "census_phase": (0, [1], False),
    "admissions_exits": (0, [1, 2], False),
    "testing_rates": (0, [3], True),
}


def cell(value: Any) -> dict:
    """A table value and how a page shows it (localised by the template's filters): kind
    "none", "text", "number" (with a floatformat argument), "datetime" or "date". A measure
    table's only dates are months: its pages show a date as a month."""
    if value is None:
        return {"kind": "none", "value": None}
    if isinstance(value, bool | str):
        return {"kind": "text", "value": value}
    if isinstance(value, int):
        return {"kind": "number", "value": value, "format": "g"}
    if isinstance(value, float | Decimal):
        places = min(2, len(f"{value}".partition(".")[2]) or 1)
        return {"kind": "number", "value": value, "format": f"{places}g"}
    if isinstance(value, datetime):
        return {"kind": "datetime", "value": value}
    if isinstance(value, date):
        return {"kind": "date", "value": value}
    return {"kind": "text", "value": str(value)}
