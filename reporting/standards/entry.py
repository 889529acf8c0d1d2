"""Data-entry timeliness: records entered within the program's hours after the event."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, DateTimeField, F, Func, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from hearings.models import Response
from participants.models import StatusChange
from reporting.measures import HoursBetween, moment_in_period, percent, rounded
from reporting.params import ReportParams
from reporting.standards.declare import (
    OUTSIDE_LIMIT,
    OutsideRow,
    Standard,
    _declared,
    _in_programs,
    _limited,
    _person,
    _settings,
    standard,
)
from tjp import clock
from tjp.models import Program
from treatment.models import DrugTest, TreatmentSession


# --- SQL building blocks ---------------------------------------------------------------------
class DayEnd(Func):
    """The moment a day ends (midnight after it) in the time zone named by another column."""

    output_field = DateTimeField()

    def as_sql(self, compiler, connection, **extra_context):
        day, zone = self.source_expressions
        day_sql, day_params = compiler.compile(day)
        zone_sql, zone_params = compiler.compile(zone)
        sql = f"((({day_sql}) + 1)::timestamp AT TIME ZONE {zone_sql})"
        return sql, [*day_params, *zone_params]


def _local(moment: datetime, program: Program) -> datetime:
    """The wall-clock time in the program's zone (naive: templates show it as it is)."""
    return clock.local(moment, program).replace(tzinfo=None)


@dataclass(frozen=True)
class _Entered:
    """One kind of record whose entry is held to the data-entry hours."""

    label: str  # English; translated when shown
    queryset: Callable[[ReportParams], QuerySet]
    event: Callable[[], Any]  # the event's moment, as an expression
    shown: str  # the field shown as the event: a day, or a moment
    category: str | None  # the gate's section (treatment.access.SECTIONS) when a provider
    # reported it; None: never a provider's


def _dated(field_name: str) -> Callable[[], Any]:
    return lambda: DayEnd(field_name, "participant__program__time_zone")


ENTERED = [
    _Entered(
        gettext_noop("Drug tests"),
        lambda params: _in_programs(DrugTest, params).filter(
            moment_in_period(params, "collected_at", "participant__program")
        ),
        lambda: F("collected_at"),
        "collected_at",
        "drug_tests",
    ),
    _Entered(
        gettext_noop("Treatment sessions"),
        lambda params: _in_programs(TreatmentSession, params).filter(
            session_date__range=(params.start, params.end)
        ),
        _dated("session_date"),
        "session_date",
        "sessions",
    ),
    _Entered(
        gettext_noop("Court responses"),
        lambda params: _in_programs(Response, params).filter(
            responded_on__range=(params.start, params.end)
        ),
        _dated("responded_on"),
        "responded_on",
        None,
    ),
    _Entered(
        gettext_noop("Status changes"),
        lambda params: _in_programs(StatusChange, params).filter(
            effective_on__range=(params.start, params.end)
        ),
        _dated("effective_on"),
        "effective_on",
        None,
    ),
]


@standard(
    "data_entry",
    title=gettext_noop("Data-entry timeliness"),
    definition=gettext_noop(
        "Records of events in the period entered within the program's hours after the event: "
        "drug tests (from collection, or the due time of a missed test), treatment sessions, "
        "court responses and status changes (from the end of the session, response or "
        "effective day, in the program's time zone). Entered means saved in this system. "
        "Docket attendance is not counted: the system does not record when attendance was "
        "entered. Outside: each record entered late."
    ),
)
def data_entry(params: ReportParams, *, limit: int | None = OUTSIDE_LIMIT) -> Standard:
    programs = {p.pk: p for p in params.programs}
    hours = F("participant__program__data_entry_hours")
    rows, late_rows = [], []
    all_records = all_late = 0
    for kind in ENTERED:
        records = kind.queryset(params).annotate(
            entry_delay=HoursBetween("created_at", kind.event())
        )
        is_late = Q(entry_delay__gt=hours)
        counts = records.aggregate(n=Count("pk"), late=Count("pk", filter=is_late))
        all_records, all_late = all_records + counts["n"], all_late + counts["late"]
        rows.append(
            [
                _(kind.label),
                counts["n"],
                counts["n"] - counts["late"],
                counts["late"],
                percent(counts["n"] - counts["late"], counts["n"]),
            ]
        )
        provider = ["provider_id"] if kind.category else []
        # Outside, most recent events first (then by participant): up to `limit` of each kind
        # here, merged across the kinds by the event's moment below and cut to `limit`.
        late = _limited(
            records.filter(is_late)
            .annotate(event_at=kind.event())
            .values(
                "pk",
                "participant_id",
                "participant__program",
                kind.shown,
                "event_at",
                "created_at",
                "entry_delay",
                "created_by__first_name",
                "created_by__last_name",
                "created_by__email",
                *provider,
            )
            .order_by("-event_at", "participant_id", "pk"),
            limit,
        )
        late_rows += [(kind, r) for r in late]
    late_rows.sort(key=lambda kr: (-kr[1]["event_at"].timestamp(), kr[1]["participant_id"]))
    outside = []
    for kind, r in late_rows[:limit]:
        program = programs[r["participant__program"]]
        event = r[kind.shown]
        outside.append(
            OutsideRow(
                program_id=program.pk,
                participant_id=r["participant_id"],
                values=[
                    _(kind.label),
                    _local(event, program) if isinstance(event, datetime) else event,
                    _local(r["created_at"], program),
                    _person(
                        r["created_by__first_name"],
                        r["created_by__last_name"],
                        r["created_by__email"],
                    ),
                    rounded(r["entry_delay"]),
                ],
                category=kind.category if r.get("provider_id") else None,
            )
        )
    rows.append([_("All records"), all_records, all_records - all_late, all_late, None])
    rows[-1][-1] = percent(all_records - all_late, all_records)
    columns = [
        _("Records"),
        _("Entered"),
        _("On time"),
        pgettext("after the standard's hours", "Late"),
        _("On time (%)"),
    ]
    return _declared(
        data_entry,
        settings=_settings(params, "data_entry_hours", _("hours")),
        figure_label=_("Records entered late"),
        figure=all_late,
        within=all_records - all_late,
        counted=all_records,
        table=(columns, rows),
        outside_columns=[
            _("Record"),
            _("Event"),
            _("Entered at"),
            _("Entered by"),
            _("Hours after the event"),
        ],
        outside=outside,
        outside_total=all_late,
    )
