"""Random drug-test selection: the pure core, with no database, clock or settings.

Practice standards (DOMAIN.md) ask for at least N tests per participant-week on a random
schedule in which weekends and holidays are as likely as any other day. Issue 4 adds that the
selection must be unpredictable to participants yet reproducible for audit, and that each
participant's weekly minimum is met.

The design that gives all of that at once:

* each participant-week gets a **seed**, an HMAC of (program, participant, ISO week) keyed by a
  server-side secret. Without the secret nobody can compute it (unpredictable); with it, an
  auditor recomputes the same seed and therefore the same schedule (reproducible). The seed is
  logged with every selection so the log itself can be verified;
* the seed drives ``random.Random(seed).sample`` over the participant's **eligible days of that
  week**, drawing ``min(tests_per_week, eligible)`` distinct days. Every eligible day has the
  same probability ``k / n`` of being drawn, whatever its weekday, so weekends and holidays need
  no special case: they are simply days. Drawing the whole week at once (rather than flipping a
  coin each day) is what guarantees the weekly minimum, including partial weeks such as a
  participant admitted on a Thursday.

A daily job then only asks :func:`selected_on` for "today"; it recomputes the same week's draw
each day, so nothing about the schedule has to be stored in advance (nothing to leak), and a
re-run of the job on the same day gives the same answer.

Days here are *local calendar days of the program*: callers must convert with the program's time
zone first (e.g. ``timezone.localdate(now, tz)``). Passing a ``datetime`` is refused, because its
date would silently be the UTC one.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

__all__ = [
    "DAYS_PER_WEEK",
    "eligible_days_of_week",
    "selected_on",
    "selection_seed",
    "specimen_deadline",
    "week_days",
    "week_start",
    "weekly_test_days",
]

DAYS_PER_WEEK = 7

#: Collection methods whose specimen window is the oral-fluid one; every other method
#: (urine, breath, sweat_patch, blood, continuous, or anything new) uses the urine window.
_ORAL_METHODS = frozenset({"oral_fluid"})


def _require_date(value: date, name: str) -> None:
    """Refuse datetimes (a ``date`` subclass): their calendar day depends on a time zone the
    caller has to choose, and guessing UTC would move late-evening selections to the wrong day."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date (a local calendar day), not {type(value).__name__}")


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week: the key under which a week's draw is seeded, so every
    day of one week recomputes the same schedule."""
    _require_date(day, "day")
    return day - timedelta(days=day.weekday())


def week_days(day: date) -> list[date]:
    """The seven days (Monday to Sunday) of ``day``'s ISO week."""
    monday = week_start(day)
    return [monday + timedelta(days=offset) for offset in range(DAYS_PER_WEEK)]


def selection_seed(*, secret: str, program_uuid: UUID, participant_uuid: UUID, week: date) -> str:
    """The hex HMAC-SHA256 of ``"<program>|<participant>|<Monday ISO date>"`` keyed by ``secret``.

    Keyed, so participants (who know their own ids and the calendar) cannot compute it; a plain
    hash of the same message would be guessable. Deterministic, so an auditor holding the secret
    reproduces it and the schedule it yields. ``week`` may be any day of the week.
    """
    if not secret:
        # An empty key makes the HMAC computable by anyone: the schedule would be predictable.
        raise ValueError("a non-empty secret is required: without it the schedule is guessable")
    message = f"{program_uuid}|{participant_uuid}|{week_start(week).isoformat()}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def weekly_test_days(
    *, seed: str, week: date, tests_per_week: int, eligible_days: Iterable[date]
) -> list[date]:
    """The days of ``week``'s ISO week on which the participant must test, in date order.

    Draws ``min(tests_per_week, number of eligible days)`` distinct days uniformly at random
    (``random.Random(seed).sample`` over the sorted, de-duplicated eligible days of that week;
    eligible days outside the week are ignored). Each eligible day is drawn with probability
    ``k / n`` regardless of weekday or holiday, and the weekly minimum is met whenever the week
    has enough eligible days.
    """
    if tests_per_week < 0:
        raise ValueError("tests_per_week must be zero or more")
    days = set(week_days(week))
    candidates = sorted({day for day in eligible_days if day in days})
    count = min(tests_per_week, len(candidates))
    # Not cryptographic on purpose: the unpredictability lives in the HMAC seed; a seeded
    # Mersenne Twister is what makes the draw reproducible from the logged seed.
    rng = random.Random(seed)  # noqa: S311
    return sorted(rng.sample(candidates, count))


def eligible_days_of_week(
    week: date, *, eligible_from: date | None = None, eligible_until: date | None = None
) -> list[date]:
    """The days of ``week`` within ``[eligible_from, eligible_until]`` (either bound optional),
    e.g. from program entry to exit: a participant is tested only while in the program."""
    if eligible_from is not None:
        _require_date(eligible_from, "eligible_from")
    if eligible_until is not None:
        _require_date(eligible_until, "eligible_until")
    return [
        day
        for day in week_days(week)
        if (eligible_from is None or day >= eligible_from)
        and (eligible_until is None or day <= eligible_until)
    ]


def selected_on(
    *,
    secret: str,
    program_uuid: UUID,
    participant_uuid: UUID,
    day: date,
    tests_per_week: int,
    eligible_from: date | None = None,
    eligible_until: date | None = None,
) -> tuple[bool, str]:
    """Whether the participant must test on ``day``, and the seed of that week's draw (to log,
    so the selection can be re-derived in an audit).

    Recomputes the whole week's draw, so asking on each day of a week yields exactly that
    week's :func:`weekly_test_days`: the daily job needs no stored schedule.
    """
    seed = selection_seed(
        secret=secret, program_uuid=program_uuid, participant_uuid=participant_uuid, week=day
    )
    eligible = eligible_days_of_week(
        day, eligible_from=eligible_from, eligible_until=eligible_until
    )
    chosen = weekly_test_days(
        seed=seed, week=day, tests_per_week=tests_per_week, eligible_days=eligible
    )
    return day in chosen, seed


def specimen_deadline(
    *, notified_at: datetime, method: str, urine_hours: int, oral_hours: int
) -> datetime:
    """When a specimen is due: ``notified_at`` plus the method's window (``oral_fluid`` uses
    ``oral_hours``; urine and every other method use ``urine_hours``). After it, a selection
    without a result becomes a missed test.

    The window is elapsed time: for an aware ``notified_at`` the addition is done in UTC and
    the result returned in the caller's zone, so a notice given just before a DST change still
    gets exactly 8 (or 4) real hours. (Plain aware arithmetic in a zoneinfo zone is wall-clock
    arithmetic and would be off by an hour.) A naive datetime is extended as is.
    """
    if urine_hours < 0 or oral_hours < 0:
        raise ValueError("specimen windows must be zero hours or more")
    window = timedelta(hours=oral_hours if method in _ORAL_METHODS else urine_hours)
    if notified_at.tzinfo is None or notified_at.utcoffset() is None:
        return notified_at + window
    utc_deadline = notified_at.astimezone(UTC) + window
    return utc_deadline.astimezone(notified_at.tzinfo)
