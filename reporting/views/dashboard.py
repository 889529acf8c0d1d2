"""The performance dashboard: /reports/?program=<uuid>...&from=&to=.

Every measure table of `reporting.measures`, as an accessible table, with a chart (drawn by
static/reporting/dashboard.js from the same numbers) where a chart helps.
"""

from datetime import date

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils import formats
from django.views.decorators.http import require_GET

from reporting.measures import all_tables
from reporting.params import params_from_request
from reporting.tables import CHARTS, Table, cell
from tjp import audit
from tjp.access import can
from tjp.db_routers import reading_from_replica
from tjp.models import AuditEvent

PERM = "reporting.view_dashboard"


def _chart_label(value) -> str:
    if isinstance(value, date):
        return formats.date_format(value, "YEAR_MONTH_FORMAT")
    return str(value)


def _chart(table: Table) -> dict | None:
    if table.key not in CHARTS:
        return None
    label_column, value_columns, percent = CHARTS[table.key]
    return {
        "percent": percent,
        "labels": [_chart_label(row[label_column]) for row in table.rows],
        "datasets": [
            {
                "label": table.columns[column],
                "data": [None if row[column] is None else float(row[column]) for row in table.rows],
            }
            for column in value_columns
        ],
    }


@require_GET
def dashboard(request):
    if not can(request.user, PERM):
        raise PermissionDenied
    form, params = params_from_request(request)
    sections, charts = [], {}
    if params is not None and params.programs:
        with reading_from_replica():
            tables = all_tables(params)
        for table in tables:
            rows = [[cell(value) for value in row] for row in table.rows]
            sections.append({"table": table, "rows": rows, "chart": table.key in CHARTS})
            if (chart := _chart(table)) is not None:
                charts[table.key] = chart
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.VIEW,
            program=params.programs[0] if len(params.programs) == 1 else None,
            request=request,
            detail={"dashboard": params.as_query()},
        )
    context = {
        "form": form,
        "params": params,
        "sections": sections,
        "charts": charts,
    }
    return render(
        request, "reporting/dashboard.html", context, status=200 if params is not None else 400
    )


urlpatterns = [path("", dashboard, name="reporting_dashboard")]
