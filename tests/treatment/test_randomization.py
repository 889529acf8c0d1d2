"""Random drug-test selection (treatment.randomization): reproducible for audit, unpredictable
without the secret, the weekly minimum always met, and weekends and holidays exactly as likely as
any other day, checked statistically over a simulated year.

Everything here is pure (no queries); the module is marked ``django_db`` only because the
suite's autouse fixtures in tests/conftest.py need the database.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

import pytest

from treatment.randomization import (
    eligible_days_of_week,
    selected_on,
    selection_seed,
    specimen_deadline,
    week_days,
    week_start,
    weekly_test_days,
)

pytestmark = pytest.mark.django_db

SECRET = "test-selection-secret"
PROGRAM = UUID("6f1c1d3e-8a51-4c1e-9a43-2b0f3c8d9e01")
NAMESPACE = UUID("0b6c7a53-4a8e-4f0e-8d7c-1d2e3f405162")

#: ISO week Monday 2026-12-28 .. Sunday 2028-01-02: 53 whole weeks covering every day of 2027.
FIRST_MONDAY = date(2026, 12, 28)
WEEKS = 53
PARTICIPANTS = 200

#: US federal and Mexican (LFT art. 74) holidays of 2027, de-duplicated: a realistic mix of
#: Mondays, mid-week days and weekends.
HOLIDAYS_2027 = frozenset(
    {
        date(2027, 1, 1),  # New Year's Day / Año Nuevo (Fri)
        date(2027, 1, 18),  # Martin Luther King Jr. Day (Mon)
        date(2027, 2, 1),  # Día de la Constitución (first Monday of February)
        date(2027, 2, 15),  # Washington's Birthday (Mon)
        date(2027, 3, 15),  # Natalicio de Benito Juárez (third Monday of March)
        date(2027, 5, 1),  # Día del Trabajo (Sat)
        date(2027, 5, 31),  # Memorial Day (Mon)
        date(2027, 6, 19),  # Juneteenth (Sat)
        date(2027, 7, 4),  # Independence Day (Sun)
        date(2027, 9, 6),  # Labor Day (Mon)
        date(2027, 9, 16),  # Día de la Independencia (Thu)
        date(2027, 10, 11),  # Columbus Day (Mon)
        date(2027, 11, 11),  # Veterans Day (Thu)
        date(2027, 11, 15),  # Día de la Revolución (third Monday of November)
        date(2027, 11, 25),  # Thanksgiving (Thu)
        date(2027, 12, 25),  # Christmas / Navidad (Sat)
    }
)

#: Chi-square critical value, 6 degrees of freedom (7 weekdays - 1), p = 0.001. The simulation
#: is deterministic (fixed secret and ids), so this is not flaky; the strict p just means a
#: change of secret or ids would still pass with overwhelming probability.
CHI2_CRITICAL_6DF_P001 = 22.458

Selector = Callable[[str, date, int, list[date]], list[date]]


@functools.cache
def participant(index: int) -> UUID:
    """A stable participant id, so the simulation is the same on every run."""
    return uuid5(NAMESPACE, f"participant-{index}")


def monday(week_index: int) -> date:
    return FIRST_MONDAY + timedelta(weeks=week_index)


def weekly_tests_for(index: int) -> int:
    """Half the simulated participants are in a 2-per-week phase, half in a 3-per-week one."""
    return 2 + index % 2


def library_selector(seed: str, week: date, k: int, eligible: list[date]) -> list[date]:
    return weekly_test_days(seed=seed, week=week, tests_per_week=k, eligible_days=eligible)


@dataclass
class Simulation:
    """Selections of a simulated year, all participants eligible on every day."""

    per_day: Counter[date] = field(default_factory=Counter)
    participant_weeks: int = 0
    schedules: dict[tuple[int, int], list[date]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.per_day.values())

    def per_weekday(self) -> list[int]:
        counts = [0] * 7
        for day, n in self.per_day.items():
            counts[day.weekday()] += n
        return counts


def simulate(selector: Selector = library_selector) -> Simulation:
    sim = Simulation()
    for w in range(WEEKS):
        week = monday(w)
        days = week_days(week)
        for i in range(PARTICIPANTS):
            seed = selection_seed(
                secret=SECRET, program_uuid=PROGRAM, participant_uuid=participant(i), week=week
            )
            chosen = selector(seed, week, weekly_tests_for(i), days)
            sim.schedules[(i, w)] = chosen
            sim.per_day.update(chosen)
            sim.participant_weeks += 1
    return sim


@pytest.fixture(scope="module")
def year() -> Simulation:
    """One simulated year (53 weeks x 200 participants), shared by the statistical tests."""
    return simulate()


def chi_square_uniform(observed: Sequence[int]) -> float:
    """Pearson's goodness-of-fit statistic against equal expected counts."""
    expected = sum(observed) / len(observed)
    return sum((o - expected) ** 2 / expected for o in observed)


def weekend_share(per_weekday: Sequence[int]) -> float:
    return (per_weekday[5] + per_weekday[6]) / sum(per_weekday)


def holiday_z(sim: Simulation, holidays: Iterable[date]) -> tuple[float, float, float]:
    """Two-proportion z statistic of "selected on a holiday" vs "selected on an ordinary day",
    per participant-day, with the rates. Every simulated participant is eligible on every day,
    so each day contributes PARTICIPANTS trials.

    The binomial model treats participant-days as independent; within a participant-week the
    draws are without replacement (negatively correlated), which only lowers the true variance,
    so |z| < 4 is a conservative bound: a real bias (say, holidays skipped) gives |z| far above.
    """
    holidays = set(holidays)
    all_days = [monday(0) + timedelta(days=d) for d in range(WEEKS * 7)]
    holiday_days = [d for d in all_days if d in holidays]
    ordinary_days = [d for d in all_days if d not in holidays]
    x1, n1 = sum(sim.per_day[d] for d in holiday_days), len(holiday_days) * PARTICIPANTS
    x2, n2 = sum(sim.per_day[d] for d in ordinary_days), len(ordinary_days) * PARTICIPANTS
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return (x1 / n1 - x2 / n2) / se, x1 / n1, x2 / n2


# --- week_start and the seed ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2027, 3, 8), date(2027, 3, 8)),  # Monday: itself
        (date(2027, 3, 11), date(2027, 3, 8)),  # Thursday
        (date(2027, 3, 14), date(2027, 3, 8)),  # Sunday: the Monday before, not after
        (date(2027, 1, 1), date(2026, 12, 28)),  # ISO week across a year boundary
        (date(2028, 2, 29), date(2028, 2, 28)),  # leap day
    ],
)
def test_week_start_is_the_iso_monday(day: date, expected: date) -> None:
    assert week_start(day) == expected
    assert week_start(day).isocalendar()[:2] == day.isocalendar()[:2]


def test_datetimes_are_refused_because_their_day_depends_on_a_time_zone() -> None:
    with pytest.raises(TypeError):
        week_start(datetime(2027, 3, 8, 23, 30, tzinfo=UTC))
    with pytest.raises(TypeError):
        selected_on(
            secret=SECRET,
            program_uuid=PROGRAM,
            participant_uuid=participant(0),
            day=date(2027, 3, 8),
            tests_per_week=2,
            eligible_from=datetime(2027, 3, 1, 12),
        )


def test_seed_is_the_documented_hmac_so_an_auditor_can_recompute_it() -> None:
    who = participant(7)
    expected = hmac.new(
        SECRET.encode(), f"{PROGRAM}|{who}|2027-03-08".encode(), hashlib.sha256
    ).hexdigest()

    for day in week_days(date(2027, 3, 8)):  # any day of the week names the same draw
        seed = selection_seed(secret=SECRET, program_uuid=PROGRAM, participant_uuid=who, week=day)
        assert seed == expected
    assert len(expected) == 64
    assert int(expected, 16) >= 0  # hex


def test_pinned_schedule_guards_audit_reproducibility() -> None:
    """A logged seed must keep yielding the same days after upgrades: if this changes, past
    selections can no longer be re-derived (a change of algorithm or of the message format)."""
    seed = selection_seed(
        secret="audit-secret",
        program_uuid=UUID(int=1),
        participant_uuid=UUID(int=2),
        week=date(2027, 3, 10),
    )
    assert seed == "e7f7217260fdfd1acf540c5e514ad16d9d57f309d417eb74071a64c0b7087eca"
    assert weekly_test_days(
        seed=seed,
        week=date(2027, 3, 10),
        tests_per_week=3,
        eligible_days=week_days(date(2027, 3, 8)),
    ) == [date(2027, 3, 8), date(2027, 3, 10), date(2027, 3, 11)]


def test_same_inputs_give_the_same_seed_and_days() -> None:
    kwargs = {
        "secret": SECRET,
        "program_uuid": PROGRAM,
        "participant_uuid": participant(3),
        "week": date(2027, 6, 16),
    }
    first, second = selection_seed(**kwargs), selection_seed(**kwargs)
    assert first == second
    days = week_days(date(2027, 6, 16))
    assert weekly_test_days(
        seed=first, week=date(2027, 6, 16), tests_per_week=3, eligible_days=days
    ) == weekly_test_days(seed=second, week=date(2027, 6, 16), tests_per_week=3, eligible_days=days)


def test_order_of_the_eligible_days_does_not_matter() -> None:
    """Eligible days may come from a query in any order; the draw is over the sorted days, so
    re-deriving a schedule in an audit doesn't depend on it. Duplicates don't weigh a day more."""
    seed = selection_seed(
        secret=SECRET, program_uuid=PROGRAM, participant_uuid=participant(1), week=monday(10)
    )
    days = week_days(monday(10))
    expected = weekly_test_days(seed=seed, week=monday(10), tests_per_week=3, eligible_days=days)
    shuffled = list(reversed(days)) + days[:3]
    assert (
        weekly_test_days(seed=seed, week=monday(10), tests_per_week=3, eligible_days=shuffled)
        == expected
    )


@pytest.mark.parametrize(
    "change",
    [
        {"secret": "another-secret"},
        {"program_uuid": UUID("6f1c1d3e-8a51-4c1e-9a43-2b0f3c8d9e02")},
        {"participant_uuid": participant(2)},
        {"week": date(2027, 3, 15)},
    ],
    ids=["secret", "program", "participant", "week"],
)
def test_any_other_input_gives_another_seed(change: dict[str, object]) -> None:
    base = {
        "secret": SECRET,
        "program_uuid": PROGRAM,
        "participant_uuid": participant(1),
        "week": date(2027, 3, 8),
    }
    assert selection_seed(**{**base, **change}) != selection_seed(**base)


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        selection_seed(
            secret="", program_uuid=PROGRAM, participant_uuid=participant(0), week=monday(0)
        )


def test_changing_the_secret_changes_the_schedule() -> None:
    """With another secret, schedules agree only about as often as two independent draws do
    (1 / C(7, 2) = 4.8% for 2 tests a week): knowing one deployment's schedule says nothing
    about another's, and rotating a leaked secret really reshuffles."""
    same = total = 0
    for w in range(WEEKS):
        for i in range(40):
            schedules = []
            for secret in (SECRET, "a-rotated-secret"):
                seed = selection_seed(
                    secret=secret,
                    program_uuid=PROGRAM,
                    participant_uuid=participant(i),
                    week=monday(w),
                )
                schedules.append(
                    weekly_test_days(
                        seed=seed,
                        week=monday(w),
                        tests_per_week=2,
                        eligible_days=week_days(monday(w)),
                    )
                )
            same += schedules[0] == schedules[1]
            total += 1
    assert same / total < 0.10


# --- the weekly minimum ----------------------------------------------------------------------


def eligibility_windows(week: date) -> list[tuple[date | None, date | None]]:
    """Whole weeks, every entry day, every exit day, and a few entry+exit combinations; plus a
    window ending before the week and one starting after it (no eligible day)."""
    days = week_days(week)
    windows: list[tuple[date | None, date | None]] = [(None, None)]
    windows += [(d, None) for d in days]
    windows += [(None, d) for d in days]
    windows += [(days[a], days[b]) for a in range(7) for b in range(a, 7)]
    windows += [(None, week - timedelta(days=1)), (week + timedelta(days=7), None)]
    return windows


@pytest.mark.parametrize("k", range(8))
def test_weekly_minimum_is_met_whenever_enough_days_are_eligible(k: int) -> None:
    for w in range(0, WEEKS, 4):
        week = monday(w)
        for i, (start, end) in enumerate(eligibility_windows(week)):
            eligible = eligible_days_of_week(week, eligible_from=start, eligible_until=end)
            who = participant(i)
            seed = selection_seed(
                secret=SECRET, program_uuid=PROGRAM, participant_uuid=who, week=week
            )
            chosen = weekly_test_days(
                seed=seed, week=week, tests_per_week=k, eligible_days=eligible
            )

            assert len(chosen) == min(k, len(eligible))
            assert len(set(chosen)) == len(chosen)  # distinct days
            assert all(week_start(d) == week for d in chosen)
            assert all((start is None or d >= start) and (end is None or d <= end) for d in chosen)

            # The daily job's view agrees day by day, with one logged seed for the week.
            answers = [
                selected_on(
                    secret=SECRET,
                    program_uuid=PROGRAM,
                    participant_uuid=who,
                    day=d,
                    tests_per_week=k,
                    eligible_from=start,
                    eligible_until=end,
                )
                for d in week_days(week)
            ]
            assert [
                d for d, (hit, _) in zip(week_days(week), answers, strict=True) if hit
            ] == chosen
            assert {s for _, s in answers} == {seed}


def test_days_outside_the_week_are_never_chosen() -> None:
    week = monday(20)
    seed = selection_seed(
        secret=SECRET, program_uuid=PROGRAM, participant_uuid=participant(0), week=week
    )
    around = [week + timedelta(days=d) for d in range(-7, 14)]
    chosen = weekly_test_days(seed=seed, week=week, tests_per_week=7, eligible_days=around)
    assert chosen == week_days(week)


def test_negative_tests_per_week_is_an_error() -> None:
    with pytest.raises(ValueError, match="tests_per_week"):
        weekly_test_days(
            seed="x", week=monday(0), tests_per_week=-1, eligible_days=week_days(monday(0))
        )


# --- partial weeks ---------------------------------------------------------------------------


def test_admitted_on_a_thursday_gets_both_tests_between_thursday_and_sunday() -> None:
    thursday = date(2027, 3, 11)
    seen: Counter[date] = Counter()
    for i in range(PARTICIPANTS):
        chosen = [
            d
            for d in week_days(thursday)
            if selected_on(
                secret=SECRET,
                program_uuid=PROGRAM,
                participant_uuid=participant(i),
                day=d,
                tests_per_week=2,
                eligible_from=thursday,
            )[0]
        ]
        assert len(chosen) == 2
        assert all(thursday <= d <= date(2027, 3, 14) for d in chosen)
        seen.update(chosen)
    # Each of Thu..Sun is drawn with probability 2/4: 100 of 200 expected, none left out.
    assert set(seen) == {thursday + timedelta(days=n) for n in range(4)}
    assert all(70 <= n <= 130 for n in seen.values())


def test_admitted_on_a_sunday_tests_that_sunday_then_full_weeks_follow() -> None:
    sunday = date(2027, 3, 14)
    for i in range(50):
        kwargs = {
            "secret": SECRET,
            "program_uuid": PROGRAM,
            "participant_uuid": participant(i),
            "tests_per_week": 2,
            "eligible_from": sunday,
        }
        this_week = [d for d in week_days(sunday) if selected_on(day=d, **kwargs)[0]]
        assert this_week == [sunday]
        next_week = [
            d for d in week_days(sunday + timedelta(days=1)) if selected_on(day=d, **kwargs)[0]
        ]
        assert len(next_week) == 2


def test_exit_mid_week_limits_the_draw_to_the_days_before_exit() -> None:
    tuesday = date(2027, 3, 9)
    for i in range(50):
        chosen = [
            d
            for d in week_days(tuesday)
            if selected_on(
                secret=SECRET,
                program_uuid=PROGRAM,
                participant_uuid=participant(i),
                day=d,
                tests_per_week=3,
                eligible_until=tuesday,
            )[0]
        ]
        assert chosen == [date(2027, 3, 8), tuesday]
    # and never after exit
    assert not selected_on(
        secret=SECRET,
        program_uuid=PROGRAM,
        participant_uuid=participant(0),
        day=date(2027, 3, 16),
        tests_per_week=7,
        eligible_until=tuesday,
    )[0]


# --- statistics over a simulated year --------------------------------------------------------


def test_simulation_meets_every_weekly_minimum(year: Simulation) -> None:
    assert year.participant_weeks == WEEKS * PARTICIPANTS
    for (i, _), chosen in year.schedules.items():
        assert len(set(chosen)) == weekly_tests_for(i)
    assert year.total == WEEKS * sum(weekly_tests_for(i) for i in range(PARTICIPANTS))


def test_selections_are_uniform_across_weekdays(year: Simulation) -> None:
    """Chi-square goodness of fit of selections per weekday (Mon..Sun) against uniform.

    Draws within a participant-week are without replacement, so weekday counts vary less than
    a multinomial's: the test is conservative (it can only under-report a bias)."""
    statistic = chi_square_uniform(year.per_weekday())
    assert statistic < CHI2_CRITICAL_6DF_P001, (statistic, year.per_weekday())


def test_weekends_get_two_sevenths_of_the_tests(year: Simulation) -> None:
    # ~26,500 selections: the share's standard error is ~0.28 points, so +-1.5 points is >5 SE.
    assert weekend_share(year.per_weekday()) == pytest.approx(2 / 7, abs=0.015)


def test_holidays_are_as_likely_as_ordinary_days(year: Simulation) -> None:
    """Per participant-day selection rate on the 16 holidays of 2027 vs on the other days.

    Expected rate is 2.5/7 = 0.357 on every day. With 16 x 200 = 3,200 holiday participant-days
    the rate's standard error is ~0.0085; |z| < 4 (two-sided p ~ 6e-5) is a robust bound."""
    z, holiday_rate, ordinary_rate = holiday_z(year, HOLIDAYS_2027)
    assert abs(z) < 4, (z, holiday_rate, ordinary_rate)
    assert holiday_rate == pytest.approx(2.5 / 7, abs=0.035)
    assert ordinary_rate == pytest.approx(2.5 / 7, abs=0.01)


def test_the_statistics_do_catch_a_biased_selector() -> None:
    """Negative control: the same checks fail on the schedules practice standards warn about
    (weekdays only, holidays skipped), so passing them above means something."""

    def weekdays_only(seed: str, week: date, k: int, eligible: list[date]) -> list[date]:
        weekdays = [d for d in eligible if d.weekday() < 5]
        return sorted(random.Random(seed).sample(weekdays, min(k, len(weekdays))))

    def skips_holidays(seed: str, week: date, k: int, eligible: list[date]) -> list[date]:
        workdays = [d for d in eligible if d not in HOLIDAYS_2027]
        return sorted(random.Random(seed).sample(workdays, min(k, len(workdays))))

    biased = simulate(weekdays_only)
    assert chi_square_uniform(biased.per_weekday()) > 100 * CHI2_CRITICAL_6DF_P001
    assert weekend_share(biased.per_weekday()) == 0

    z, holiday_rate, _ = holiday_z(simulate(skips_holidays), HOLIDAYS_2027)
    assert holiday_rate == 0
    assert z < -4


# --- unpredictability proxies ----------------------------------------------------------------


def weekday_pattern(days: Iterable[date]) -> tuple[int, ...]:
    return tuple(sorted(d.weekday() for d in days))


def test_seeds_never_repeat_across_participants_and_weeks() -> None:
    seeds = {
        selection_seed(
            secret=SECRET, program_uuid=PROGRAM, participant_uuid=participant(i), week=monday(w)
        )
        for i in range(PARTICIPANTS)
        for w in range(WEEKS)
    }
    assert len(seeds) == PARTICIPANTS * WEEKS


def test_past_weeks_do_not_predict_the_next_one(year: Simulation) -> None:
    """Knowing weeks 1..10 of a participant's schedule, guess week 11 as the weekday pattern seen
    most often (or, second guess, the same as week 10). Either guess should be right about as
    often as a blind guess, 1 / C(7, k): 4.8% (k=2) and 2.9% (k=3), ~3.8% overall."""
    by_mode = by_last = 0
    for i in range(PARTICIPANTS):
        history = [weekday_pattern(year.schedules[(i, w)]) for w in range(1, 11)]
        week_11 = weekday_pattern(year.schedules[(i, 11)])
        by_mode += Counter(history).most_common(1)[0][0] == week_11
        by_last += history[-1] == week_11
    # Blind-guess hits ~ 7.6 of 200 (SD ~2.7); 20 is ~4.6 SD above, well short of "predictable".
    assert by_mode < 20
    assert by_last < 20


def test_participants_are_not_selected_in_lockstep(year: Simulation) -> None:
    """In one week, the 100 two-a-week participants spread over the 21 possible patterns; a
    shared schedule would let one participant's notice warn all the others."""
    patterns = {weekday_pattern(year.schedules[(i, 11)]) for i in range(0, PARTICIPANTS, 2)}
    assert len(patterns) >= 18
    # One participant's weeks vary too: ~19 of the 21 patterns expected over 53 weeks.
    assert len({weekday_pattern(year.schedules[(0, w)]) for w in range(WEEKS)}) >= 12


# --- specimen deadline -----------------------------------------------------------------------

NOTICE = datetime(2027, 3, 10, 7, 0, tzinfo=ZoneInfo("America/Monterrey"))


@pytest.mark.parametrize(
    ("method", "hours"),
    [
        ("urine", 8),
        ("oral_fluid", 4),
        ("breath", 8),
        ("sweat_patch", 8),
        ("blood", 8),
        ("continuous", 8),
    ],
)
def test_specimen_deadline_by_method(method: str, hours: int) -> None:
    deadline = specimen_deadline(notified_at=NOTICE, method=method, urine_hours=8, oral_hours=4)
    assert deadline == NOTICE + timedelta(hours=hours)
    assert deadline.tzinfo == NOTICE.tzinfo


def test_specimen_deadline_uses_the_programs_own_windows() -> None:
    kwargs = {"notified_at": NOTICE, "urine_hours": 6, "oral_hours": 2}
    assert specimen_deadline(method="urine", **kwargs) == NOTICE + timedelta(hours=6)
    assert specimen_deadline(method="oral_fluid", **kwargs) == NOTICE + timedelta(hours=2)
    assert specimen_deadline(method="breath", **kwargs) == NOTICE + timedelta(hours=6)


def test_specimen_deadline_counts_real_hours_across_a_dst_change() -> None:
    """New York springs forward at 02:00 on 2027-03-14: a notice at 22:00 the evening before is
    due 8 elapsed hours later, 07:00 EDT (wall-clock arithmetic would say 06:00)."""
    new_york = ZoneInfo("America/New_York")
    notice = datetime(2027, 3, 13, 22, 0, tzinfo=new_york)
    deadline = specimen_deadline(notified_at=notice, method="urine", urine_hours=8, oral_hours=4)
    assert deadline.astimezone(UTC) - notice.astimezone(UTC) == timedelta(hours=8)
    assert (deadline.date(), deadline.hour, deadline.tzinfo) == (date(2027, 3, 14), 7, new_york)


def test_specimen_deadline_edge_cases() -> None:
    naive = datetime(2027, 3, 10, 7, 0)
    assert specimen_deadline(
        notified_at=naive, method="oral_fluid", urine_hours=8, oral_hours=4
    ) == datetime(2027, 3, 10, 11, 0)
    assert (
        specimen_deadline(notified_at=NOTICE, method="urine", urine_hours=0, oral_hours=0) == NOTICE
    )
    with pytest.raises(ValueError, match="hours"):
        specimen_deadline(notified_at=NOTICE, method="urine", urine_hours=-1, oral_hours=4)
