"""Bulk lab ingestion timing against real PostgreSQL (not part of `make test`):

    N=1000,5000 .venv/bin/pytest bench/test_bulk_api.py -s -p no:cacheprovider

Prints the time to create N results and to re-send them (all duplicates).
"""

import os
import time

from tests.treatment.test_api import (  # noqa: F401
    BULK,
    _fresh_throttle_counts,
    api,
    assigned_many,
    batch,
    clinician,
)
from treatment.models import DrugTest


def test_timing(api, assigned_many, clinician, settings):
    settings.DEBUG = False
    caller = api(clinician)
    for n in [int(x) for x in os.environ.get("N", "1000").split(",")]:
        items = batch(assigned_many, n, prefix=f"B{n}-")
        t = time.perf_counter()
        r = caller.post(BULK, {"items": items})
        first = time.perf_counter() - t
        assert r.status_code == 200, r.content[:300]
        t = time.perf_counter()
        r = caller.post(BULK, {"items": items})
        again = time.perf_counter() - t
        assert r.json()["summary"]["duplicate"] == n
        print(
            f"\nBULK n={n}: created in {first:.2f}s ({first / n * 1000:.1f} ms/item), "
            f"re-sent (all duplicate) in {again:.2f}s; rows={DrugTest.objects.count()}"
        )
        cache_clear()


def cache_clear():
    from django.core.cache import cache

    cache.clear()
