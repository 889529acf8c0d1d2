"""The schemathesis run's summary: cases and failures per caller, at the end of the run."""

from collections import defaultdict

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    totals: dict[str, dict] = defaultdict(
        lambda: {"operations": 0, "cases": 0, "statuses": defaultdict(int), "failures": []}
    )
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "teardown":
                continue
            for name, value in getattr(report, "user_properties", ()):
                if name != "schemathesis":
                    continue
                total = totals[value["caller"]]
                total["operations"] += 1
                total["cases"] += value["cases"]
                total["failures"] += value["failures"]
                for status, count in value["statuses"].items():
                    total["statuses"][status] += count
    if not totals:
        return
    terminalreporter.section("schemathesis: cases and failures per caller")
    for caller, total in sorted(totals.items()):
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(total["statuses"].items()))
        terminalreporter.write_line(
            f"{caller:12} {total['operations']:3} operations {total['cases']:6} cases "
            f"{len(total['failures']):3} failures  ({statuses})"
        )
        for failure in total["failures"]:
            terminalreporter.write_line(f"    {failure}")
