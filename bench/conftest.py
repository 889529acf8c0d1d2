"""Benchmarks reuse the test fixtures (real PostgreSQL), but are not part of `make test`."""

from tests.conftest import *  # noqa: F403
from tests.treatment.conftest import *  # noqa: F403
