"""The one shape every report table takes: shown on a page, charted, exported as CSV/XLSX."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    key: str  # stable machine name, e.g. "retention"; export file names use it
    title: str  # translated title
    definition: str  # translated one-paragraph definition (written once, next to the query)
    columns: list[str]  # translated column headers
    rows: list[list[Any]] = field(default_factory=list)  # values: str, int, float, Decimal, date
    notes: list[str] = field(default_factory=list)  # e.g. "3 groups suppressed (< 5 people)"
