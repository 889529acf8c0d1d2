"""Time the report measures and measure the exports' memory on a (synthetic) program.

    DEBUG=1 .venv/bin/python manage.py seed_demo --participants 100000     # once, ~7 minutes
    DEBUG=1 .venv/bin/python bench/reports.py [--program synth] [--runs 5] [--from 2022-01-01]

Prints, per measure table of `reporting.measures` (the dashboard's), the median and slowest of
`--runs` calls and its SQL queries, over the 12 months ending today (or --from/--to); then, for
each export written by `reporting.exports`' streaming writers (the roster CSV and XLSX, the
measure tables CSV), the rows, the time, the peak of Python allocations (tracemalloc) and the
process's peak resident memory (getrusage maxrss, a high-water mark since the process started:
the exports run first, before the measures). Timings are measured here, never asserted in tests.
"""

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tjp.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import translation  # noqa: E402

from reporting import exports  # noqa: E402
from reporting.dashboard_pdf import render_dashboard_pdf  # noqa: E402
from reporting.equity import DIMENSIONS, equity_table  # noqa: E402
from reporting.measures import MEASURES  # noqa: E402
from reporting.params import ReportParams, year_ending  # noqa: E402
from reporting.standards import all_standards  # noqa: E402
from tjp.clock import program_today  # noqa: E402
from tjp.models import Program, User  # noqa: E402
from treatment.models import DrugTest  # noqa: E402


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def export(name: str, build, write, folder: Path) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    content = build()
    path = folder / name
    rows = write(path, content.sections)
    elapsed = time.perf_counter() - start
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = path.stat().st_size / 2**20
    print(
        f"{name:24} {rows:>9} {elapsed:9.1f} {size:9.1f} {peak / 2**20:12.1f} {maxrss_mb():10.0f}"
    )
    path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--program", default="synth", help="program code (default: synth)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--from", dest="start", help="YYYY-MM-DD (default: a year before --to)")
    parser.add_argument("--to", dest="end", help="YYYY-MM-DD (default: the program's today)")
    parser.add_argument("--email", help="who exports (default: manager@<program>.example)")
    parser.add_argument("--skip-exports", action="store_true")
    parser.add_argument(
        "--equity-dimensions", type=int, default=1, help="equity dimensions to time (default 1)"
    )
    args = parser.parse_args()
    program = Program.objects.get(code=args.program)
    user = User.objects.get(email=args.email or f"manager@{program.code}.example")
    end = date.fromisoformat(args.end) if args.end else program_today(program)
    start = date.fromisoformat(args.start) if args.start else year_ending(end)
    params = ReportParams(programs=(program,), start=start, end=end)
    tests = DrugTest.objects.filter(participant__program=program).count()
    print(
        f"{program.name}: {program.participants.count()} participants, {tests} drug tests; "
        f"period {start} to {end}; {args.runs} runs. Baseline maxrss {maxrss_mb():.0f} MB."
    )
    translation.activate(program.language)

    if not args.skip_exports:
        query = {"program": [str(program.uuid)], "from": str(start), "to": str(end)}
        print(
            f"\n{'export':24} {'rows':>9} {'seconds':>9} {'MB file':>9} "
            f"{'MB py peak':>12} {'maxrss MB':>10}"
        )
        with tempfile.TemporaryDirectory() as folder:
            for name, build, write in (
                ("roster.csv", lambda: exports.roster_content(user, query), exports.write_csv),
                ("roster.xlsx", lambda: exports.roster_content(user, query), exports.write_xlsx),
                (
                    "measure tables.csv",
                    lambda: exports.measure_tables_content(user, query),
                    exports.write_csv,
                ),
            ):
                export(name, build, write, Path(folder))

    print(f"\n{'measure table':24} {'median s':>9} {'max s':>8} {'queries':>8}")
    total = []
    for fn in MEASURES:
        timings = []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                fn(params)
                timings.append(time.perf_counter() - started)
        total.append(statistics.median(timings))
        print(
            f"{fn.__name__:24} {statistics.median(timings):9.2f} {max(timings):8.2f} "
            f"{len(queries):8d}"
        )
    print(f"{'all (the dashboard)':24} {sum(total):9.2f}")

    print(f"\n{'other reports (1 run)':24} {'seconds':>9} {'queries':>8}")
    others = [
        ("dashboard PDF", lambda: render_dashboard_pdf(params)),
        ("standards compliance", lambda: all_standards(params)),
    ]
    others += [
        (f"equity by {d.key}", lambda d=d: equity_table(params, d.key))
        for d in DIMENSIONS[: args.equity_dimensions]
    ]
    for name, run in others:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            run()
            elapsed = time.perf_counter() - started
        print(f"{name:24} {elapsed:9.2f} {len(queries):8d}")


if __name__ == "__main__":
    main()
