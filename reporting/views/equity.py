"""The equity page: /reports/equity/?program=<uuid>...&from=&to=&by=&threshold=&min_group=.

The tables of `reporting.equity`, one per dimension chosen, with the flagged figures marked
and the hidden groups said to be hidden.
"""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from reporting.equity import (
    DIMENSIONS,
    FIGURES,
    EquityReport,
    default_threshold,
    equity_reports,
    smallest_group,
)
from reporting.params import params_from_request
from reporting.tables import cell
from reporting.views.dashboard import PERM
from tjp import audit
from tjp.access import can
from tjp.db_routers import reading_from_replica
from tjp.forms import StyledForm
from tjp.models import AuditEvent, Program


def _limits(field: str) -> dict:
    """The bounds of a program setting, from its validators."""
    validators = Program._meta.get_field(field).validators
    bounds = {type(v).__name__: v.limit_value for v in validators}
    return {"min_value": bounds["MinValueValidator"], "max_value": bounds["MaxValueValidator"]}


class EquityForm(StyledForm):
    by = forms.MultipleChoiceField(
        label=gettext_lazy("Split by"), required=False, widget=forms.CheckboxSelectMultiple
    )
    threshold = forms.IntegerField(
        label=gettext_lazy("Flag a difference from the whole program above (%)"),
        required=False,
        **_limits("equity_disparity_percent"),
    )
    min_group = forms.IntegerField(
        label=gettext_lazy("Smallest group shown (people)"),
        required=False,
        **_limits("equity_min_group"),
    )

    def __init__(self, data, *, programs):
        super().__init__(data)
        self.floor = smallest_group(programs)
        self.fields["by"].choices = [(d.key, _(d.title)) for d in DIMENSIONS]
        self.fields["threshold"].help_text = _("Default: the programs' setting, %(n)s%%.") % {
            "n": default_threshold(programs)
        }
        self.fields["min_group"].help_text = _(
            "Default and lowest: the programs' setting, %(n)s."
        ) % {"n": self.floor}

    def clean_by(self) -> list[str]:
        return self.cleaned_data["by"] or [DIMENSIONS[0].key]

    def clean_min_group(self) -> int | None:
        value = self.cleaned_data["min_group"]
        if value is not None and value < self.floor:
            raise ValidationError(
                _("The smallest group shown cannot be below the programs' setting (%(n)s).")
                % {"n": self.floor}
            )
        return value


def _section(report: EquityReport) -> dict:
    rows = [
        {
            "row": row,
            "sizes": [cell(row.decided), cell(row.enrolled)],
            "cells": [{**cell(c.value), "flag": c.flag} for c in row.cells],
        }
        for row in report.rows
    ]
    return {"table": report.table(), "rows": rows}


@require_GET
def equity(request):
    if not can(request.user, PERM):
        raise PermissionDenied
    form, params = params_from_request(request)
    options = EquityForm(request.GET, programs=params.programs if params else form.programs)
    valid = params is not None and options.is_valid()
    sections = []
    if valid and params.programs:
        chosen = options.cleaned_data
        with reading_from_replica():
            reports = equity_reports(
                params, chosen["by"], threshold=chosen["threshold"], min_group=chosen["min_group"]
            )
        sections = [_section(report) for report in reports]
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.VIEW,
            program=params.programs[0] if len(params.programs) == 1 else None,
            request=request,
            detail={
                "equity": params.as_query(),
                "by": chosen["by"],
                "threshold": reports[0].threshold,
                "min_group": reports[0].min_group,
            },
        )
    context = {
        "form": form,
        "options": options,
        "params": params,
        "sections": sections,
        "figures": [(_(f.label), f.definition()) for f in FIGURES],
    }
    return render(request, "reporting/equity.html", context, status=200 if valid else 400)


urlpatterns = [path("equity/", equity, name="reporting_equity")]
