"""A synthetic treatment court of any size, to measure reports: `seed_demo --participants N`.

What it writes, for one program (code "synth" by default, "Synthetic Treatment Court", the five
phases of the demo's adult court) and one account per role (`<role>@<code>.example`, the demo
password), plus a judge per ~110 participants in the program at a time (`judge2@...`):

* N referrals over the past four years: people with plausible demographics (sex, gender,
  race/ethnicity, age 18-65 at referral, Spanish names and language for part of the Hispanic
  group; ~3% referred again after an earlier episode ended), a case and its charges, the arrest
  5-90 days before the referral, and the screening decisions with their reasons: ~25% declined
  (not legally eligible, outside the target population, or the person refused), ~1.5% still in
  screening.
* for the admitted: an assessment, legal/clinical/admission decisions, a consent, entry on a
  hearing day in phase 1, phase promotions (PhaseChange; ~6% relapse a phase back), status
  history (StatusChange: warrants, custody, medical leave, termination motions, always a chain
  the transition table allows) and the exit: graduated ~50%, terminated ~25%, voluntary
  withdrawal ~8%, neutral ~5% (medical discharge, death, transfer), ~12% still in the program;
  the legal disposition of most exits; provider assignments (ended at the exit); defender and
  provider grants; new arrests for ~15%.
* drug tests at the phase's tests per week (3, 2, 2, 2, 1: ~92 tests per referral, ~9 million
  for 100,000) on days drawn uniformly from the whole week, each answering a TestSelection
  (random), except a few for-cause tests; ~87% observed, ~8% positive, ~3% missed (a missed test
  made by the system at the deadline and linked to its selection, as `missed_tests_convert`
  does), ~1% dilute; collected, resulted (on-site cups in minutes, laboratory results in 18-60
  hours, ~8% beyond 48) and entered (`created_at`; ~6% days late) timestamps. **Results per
  substance**: every test that is not missed or refused has at least one row (the services
  refuse a test without results): the positive substances, plus the primary substance's
  negative; a negative test has only its primary substance's row, except ~1.5% with the full
  panel. Reports count tests and positive substances, and the volume they scan is the tests: a
  full panel on every negative would multiply the result rows by eight and change no measure.
* treatment sessions (1.5 a week in phase 1, weekly, every other week in the last phase) and
  the court: a weekly status-review series per judge (each on its own weekday and courtroom, so
  no judge or courtroom is double-booked), appearances at the phase's hearing interval (weekly
  while a termination motion is pending; absent on the day of a bench warrant), minutes with the
  judge for those who appeared, notes, and responses from the program's catalog (sanctions or
  service adjustments after a positive or missed test, incentives otherwise, short jail
  sanctions after a warrant).

Every date is at most yesterday in the program's time zone: nothing is in the future, and no
selection is left open for `missed_tests_convert` to turn into a missed test.

Fast: the setup (program, accounts, provider, catalog, holidays) goes through the ORM and the
services; every other row is written with PostgreSQL COPY (psycopg 3 `cursor.copy`, text
format), its id taken from the table's identity sequence while the table is locked. Following
PostgreSQL's advice for bulk loads ("Populating a Database"), the loaded tables' secondary
indexes, unique and foreign-key constraints are dropped for the load and re-created after it (one
sort per index, one join per foreign key, instead of millions of per-row updates and checks):
in the same transaction, so a row that breaks a constraint fails the re-creation and rolls the
whole load back, and nobody sees the tables without them. Primary keys, partial indexes and the
hearing sessions' exclusion constraints stay in place. The UUIDs are time-ordered (UUIDv7), so
their unique indexes fill at the right edge. The COPYs run on a background thread while the main
thread draws the next rows. On the project's shared 2-core machine, 10,000 referrals took about
30 seconds and 100,000 (9.5 million drug tests) about 5 minutes.

History triggers: the django-pghistory insert triggers of the tracked models written here
(Participant, Consent, HearingSession, DocketEntry, Response) are skipped with
`pgtrigger.ignore`, the switch pghistory supports: an "insert" event per generated row would
copy ~300,000 rows per 10,000 referrals into the event tables (measured once: the load stage went
from 36 to 49 seconds) and tell nothing, the generated row being its own first version.
`history=True` keeps them, labelled with `pghistory.context(synthetic=<code>)`. No AuditEvent
per row either: one "create" event on the program records the generation.

Deterministic: the content comes from `random.Random(seed)`, its dates counted back from the
program's today, and the UUIDs from a second stream keyed by (seed, program code): on a given
day the same seed gives the same program whatever its code, and two programs may share a
seed. A program code that already has participants is refused (`SyntheticProgramExists`):
generate into another code.
"""

import pghistory
import pgtrigger
from django.db import transaction

from reporting.synthetic.generator import TRACKED, Generator, SyntheticProgramExists

__all__ = ["SyntheticProgramExists", "generate"]


def generate(
    n: int,
    *,
    program_code: str = "synth",
    seed: int = 2031,
    stdout=None,
    history: bool = False,
) -> dict[str, int]:
    """Generate a synthetic program of `n` referrals; returns the rows written per table.
    Progress and each stage's time go to `stdout` (a file-like object, or None)."""
    generator = Generator(n, program_code, seed, stdout)
    # The switches wrap the transaction: they reset their settings on the way out, which must
    # not happen inside a transaction that a failure has aborted.
    switch = (
        pghistory.context(synthetic=program_code, seed=seed)
        if history
        else pgtrigger.ignore(*(f"{m._meta.label}:insert_insert" for m in TRACKED))
    )
    with switch, transaction.atomic():
        return generator.run()
