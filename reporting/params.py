"""What a report is about: which programs (only those the user works in) and which period.

Read from a query string — `?program=<uuid>&program=<uuid>&from=YYYY-MM-DD&to=YYYY-MM-DD` —
by the dashboard and the exports alike. A program outside the user's scope is a 404, the
same answer as a program that does not exist.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from dateutil.relativedelta import relativedelta
from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tjp.access import programs_visible_to
from tjp.clock import program_today
from tjp.forms import StyledForm
from tjp.models import Program


@dataclass(frozen=True)
class ReportParams:
    """The programs reported on and the period, in the programs' own days (end inclusive)."""

    programs: tuple[Program, ...]
    start: date
    end: date

    @property
    def query_string(self) -> str:
        """`as_query` encoded, for links that keep the programs and period."""
        return urlencode(self.as_query(), doseq=True)

    def as_query(self) -> dict[str, Any]:
        """The query-string form (also what an export job stores to rebuild the params)."""
        return {
            "program": [str(p.uuid) for p in self.programs],
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
        }


def year_ending(end: date) -> date:
    """The first day of the 12 months ending on `end`."""
    return end - relativedelta(years=1) + timedelta(days=1)


def default_period(programs: tuple[Program, ...]) -> tuple[date, date]:
    """The 12 months ending today, in the first program's time zone."""
    end = program_today(programs[0]) if programs else timezone.localdate()
    return year_ending(end), end


def period_field(which: str, *, label=None, help_text: str = "") -> forms.DateField:
    """The start or the end of a report's period: an optional date, in every report form."""
    if label is None:
        label = (
            pgettext_lazy("start of a period", "From")
            if which == "start"
            else pgettext_lazy("end of a period", "To")
        )
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=help_text,
    )


def check_period(start: date | None, end: date | None) -> None:
    if start and end and start > end:
        raise ValidationError(_("The start of the period cannot follow its end."))


class ReportParamsForm(StyledForm):
    program = forms.MultipleChoiceField(
        label=_("Programs"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Default: every program you work in."),
    )
    start = period_field("start")
    end = period_field("end", help_text=_("Default: the 12 months ending today."))
    # The query string says ?from=&to= (Python keywords, so not attribute names).
    PARAMETERS = {"start": "from", "end": "to"}

    def __init__(self, data, *, programs: list[Program]):
        super().__init__(data)
        self.programs = programs
        self.fields["program"].choices = [(str(p.uuid), p.name) for p in programs]

    def add_prefix(self, field_name: str) -> str:
        return self.PARAMETERS.get(field_name, field_name)

    def clean(self):
        data = super().clean()
        chosen = set(data.get("program") or ())
        selected = tuple(p for p in self.programs if str(p.uuid) in chosen) or tuple(self.programs)
        data["end"] = data.get("end") or default_period(selected)[1]
        data["start"] = data.get("start") or year_ending(data["end"])
        check_period(data["start"], data["end"])
        data["programs"] = selected
        return data

    def params(self) -> ReportParams:
        data = self.cleaned_data
        return ReportParams(programs=data["programs"], start=data["start"], end=data["end"])


def params_from_data(user, data) -> tuple[ReportParamsForm, ReportParams | None]:
    """The form (to show) and the params (None when the form has errors) for `data`, a
    QueryDict or a dict like `ReportParams.as_query()`. Raises Http404 if a program is not
    one the user works in."""
    visible = list(programs_visible_to(user))
    by_uuid = {str(p.uuid): p for p in visible}
    raw = data.getlist("program") if hasattr(data, "getlist") else data.get("program") or []
    chosen = []
    for value in [raw] if isinstance(raw, str) else raw:
        try:
            key = str(UUID(str(value)))
        except ValueError as exc:
            raise Http404 from exc
        if key not in by_uuid:
            raise Http404
        chosen.append(key)
    # No choice means every program the user works in (shown ticked on the form).
    chosen = chosen or list(by_uuid)
    if hasattr(data, "setlist"):
        data = data.copy()
        data.setlist("program", chosen)
    else:
        data = {**data, "program": chosen}
    form = ReportParamsForm(data, programs=visible)
    return form, form.params() if form.is_valid() else None


def params_from_request(request: HttpRequest) -> tuple[ReportParamsForm, ReportParams | None]:
    """`params_from_data` for the request's query string and user."""
    return params_from_data(request.user, request.GET)
