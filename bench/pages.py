"""Time the busiest pages against the current database (run after `seed_demo`).

    DEBUG=1 .venv/bin/python bench/pages.py [--runs 30] [--email coordinator@atc.example]

Prints, per page, the median and 95th-percentile server time and the number of SQL queries.
Timings are measured here, never asserted in tests (tests assert query counts instead).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tjp.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from participants.access import participants_visible_to  # noqa: E402
from tjp.models import User  # noqa: E402


def measure(client: Client, url: str, runs: int) -> tuple[float, float, int]:
    timings = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url, HTTP_HOST="127.0.0.1")
            timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--email", default="coordinator@atc.example")
    args = parser.parse_args()
    user = User.objects.get(email=args.email)
    client = Client()
    client.force_login(user)
    participant = participants_visible_to(user).filter(entry_date__isnull=False).first()
    pages = {
        "home": "/",
        "roster (25 per page)": "/participants/",
        "roster search": "/participants/?q=garcia",
        "participant record": f"/participants/{participant.uuid}/",
        "API participants list": "/api/v1/participants/",
        "API participant detail": f"/api/v1/participants/{participant.uuid}/",
    }
    treatment = Path(__file__).resolve().parent.parent / "treatment" / "views.py"
    if treatment.exists():
        pages["treatment record"] = f"/treatment/participants/{participant.uuid}/"
    from django.db.models import Count

    from hearings.access import sessions_visible_to

    session = (
        sessions_visible_to(user)
        .filter(cancelled=False)
        .annotate(n=Count("entries"))
        .order_by("-n", "-starts_at")
        .first()
    )
    if session is not None:
        pages |= {
            "hearing calendar (week)": "/hearings/",
            "hearing calendar (month)": "/hearings/?view=month",
            f"session page ({session.n} on docket)": f"/hearings/sessions/{session.uuid}/",
            "staffing packet": f"/hearings/sessions/{session.uuid}/packet/",
            "staffing packet PDF": f"/hearings/sessions/{session.uuid}/packet.pdf",
            "in-court docket": f"/hearings/sessions/{session.uuid}/court/",
            "hearing compliance": "/hearings/compliance/",
            "API hearing sessions": "/api/v1/hearing-sessions/",
        }
    print(f"{'page':34} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for name, url in pages.items():
        median, p95, queries = measure(client, url, args.runs)
        print(f"{name:34} {median:10.1f} {p95:8.1f} {queries:8d}")


if __name__ == "__main__":
    main()
