"""How a measure is declared: its key, title and definition written once, as its docstring and the
table's definition."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from participants.models import (
    Status,
)
from reporting.tables import Table


# --- the measure declaration -----------------------------------------------------------------
@dataclass(frozen=True)
class Definition:
    key: str
    title: str  # English: translated when the table is built
    text: str


def measure(key: str, *, title: str, definition: str) -> Callable:
    """Declare a measure: its key, title and definition (which becomes its docstring)."""

    def declare(fn):
        fn.definition = Definition(key, title, definition)
        fn.__doc__ = f"{title}. {definition}"
        return fn

    return declare


def table_of(fn, columns: list[str], rows: list[list], notes: list[str] = ()) -> Table:
    d = fn.definition
    return Table(d.key, _(d.title), _(d.text), columns, rows, list(notes))


def status_label(status: str) -> str:
    return str(Status(status).label)
