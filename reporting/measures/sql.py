"""SQL building blocks the measures share: median, days and hours between, a moment's local date."""

from django.db.models import (
    Aggregate,
    DateField,
    FloatField,
    Func,
    IntegerField,
)


# --- SQL building blocks ---------------------------------------------------------------------
class Median(Aggregate):
    """PostgreSQL's continuous median (interpolated between the two middle values)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY (%(expressions)s)::double precision)"
    output_field = FloatField()


class DaysBetween(Func):
    """later - earlier, in days (PostgreSQL: date - date is an integer)."""

    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()


class HoursBetween(Func):
    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0)"
    arg_joiner = " - "
    output_field = FloatField()


class LocalDate(Func):
    """The day of a timestamp in the time zone named by another column."""

    template = "((%(expressions)s)::date)"
    arg_joiner = " AT TIME ZONE "
    output_field = DateField()
