"""Hearing fixtures: sessions of `program` in the past, today and ahead (in the program's own
time zone), the program's response catalog, and `participant` on today's docket."""

from datetime import time, timedelta

import pytest

from hearings import services
from tests.treatment.conftest import assigned, consent, other_provider, provider  # noqa: F401
from tjp.clock import program_today
from tjp.roles import Role


@pytest.fixture
def make_session(program, personas):
    """make_session(days_from_today, hour=9, courtroom="3B", **kw) → a session of `program`."""

    def make(days=0, hour=9, courtroom="3B", judge=None, minutes=120, kind="status_review"):
        return services.session_create(
            acting_user=personas[Role.COORDINATOR],
            program=program,
            kind=kind,
            judge=judge or personas[Role.JUDGE],
            courtroom=courtroom,
            day=program_today(program) + timedelta(days=days),
            start=time(hour, 0),
            duration_minutes=minutes,
        )

    return make


@pytest.fixture
def session_today(make_session):
    return make_session(0)


@pytest.fixture
def past_session(make_session):
    return make_session(-14)


@pytest.fixture
def future_session(make_session):
    return make_session(7)


@pytest.fixture
def catalog(program):
    services.catalog_ensure(program)
    return {t.name: t for t in program.response_types.all()}


@pytest.fixture
def entry(session_today, participant, personas):
    """`participant` on today's docket."""
    return services.docket_add(
        acting_user=personas[Role.COORDINATOR], session=session_today, participant=participant
    )
