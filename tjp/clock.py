"""Each program's clock: now, today and a day's bounds in the program's own time zone.

A program sits in its own time zone (a court in Chicago, another in Monterrey). "Today", "this
day's hearings", "a date in the future" and "the day a test was collected" are all asked of the
program's clock, never of the server's (UTC) one. This module is the one place that answers.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from tjp.models import Program

# A few minutes of clock skew between a lab's system and ours is not an error.
CLOCK_SKEW = timedelta(minutes=5)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone(program: Program) -> ZoneInfo:
    return _zone(program.time_zone)


def program_now(program: Program) -> datetime:
    return timezone.localtime(timezone.now(), zone(program))


def program_today(program: Program) -> date:
    return program_now(program).date()


def local(moment: datetime, program: Program) -> datetime:
    """`moment` on the program's clock."""
    return timezone.localtime(moment, zone(program))


def local_date(moment: datetime, program: Program) -> date:
    """The program's day `moment` falls on."""
    return local(moment, program).date()


def day_start(day: date, program: Program) -> datetime:
    """Midnight starting `day` on the program's clock."""
    return datetime.combine(day, time(), tzinfo=zone(program))


def day_bounds(day: date, program: Program) -> tuple[datetime, datetime]:
    """[start, end) of `day` on the program's clock (23 or 25 hours on a change of time)."""
    return day_start(day, program), day_start(day + timedelta(days=1), program)


@contextmanager
def program_zone(program: Program) -> Iterator[None]:
    """Show times on the program's clock (templates and formats read the active zone)."""
    with timezone.override(zone(program)):
        yield


def check_not_future(day: date | None, program: Program, field: str) -> None:
    """Refuse a date after the program's today: facts are recorded once they happened."""
    if day is not None and day > program_today(program):
        raise ValidationError({field: _("This date is in the future.")})


def check_not_future_moment(moment: datetime | None, field: str) -> None:
    if moment is not None and moment > timezone.now() + CLOCK_SKEW:
        raise ValidationError({field: _("This time is in the future.")})
