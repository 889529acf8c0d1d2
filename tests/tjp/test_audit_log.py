"""The audit page: scoped (a manager sees their programs' events, an administrator all),
filtered through an allow-list, and paged by keyset, newest first."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import UserFactory
from tjp.models import AuditEvent
from tjp.roles import Role

URL = reverse("audit_log")
T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
ANA = UUID("00000000-0000-0000-0000-0000000000a1")
OTHERS = UUID("00000000-0000-0000-0000-0000000000b2")


def _event(at: datetime, name: str, **fields) -> AuditEvent:
    fields.setdefault("action", AuditEvent.Action.VIEW)
    with time_machine.travel(at, tick=False):
        return AuditEvent.objects.create(object_repr=name, **fields)


def _shown(response) -> list[str]:
    assert response.status_code == 200
    return [event.object_repr for event in response.context["page"].events]


@pytest.fixture
def trail(program, other_program, personas):
    judge = personas[Role.JUDGE]
    return [
        _event(T0, "atc view", program=program, actor=judge, participant_uuid=ANA),
        _event(
            T0 + timedelta(minutes=1), "pjt view", program=other_program, participant_uuid=OTHERS
        ),
        _event(T0 + timedelta(minutes=2), "sign-in", action=AuditEvent.Action.LOGIN, actor=judge),
        _event(
            T0 + timedelta(days=1),
            "atc export",
            program=program,
            action=AuditEvent.Action.EXPORT,
            participant_uuid=ANA,
        ),
        _event(
            T0 + timedelta(days=2), "atc update", program=program, action=AuditEvent.Action.UPDATE
        ),
    ]


# --- who sees what ------------------------------------------------------------------------


def test_a_manager_sees_their_programs_events_only(as_user, personas, trail):
    response = as_user(personas[Role.MANAGER]).get(URL)
    assert _shown(response) == ["atc update", "atc export", "atc view"]


def test_another_programs_manager_sees_theirs_only(as_user, other_program, trail):
    manager = UserFactory(email="manager@pjt.test", role=Role.MANAGER, programs=[other_program])
    assert _shown(as_user(manager).get(URL)) == ["pjt view"]


def test_an_administrator_sees_every_event(as_user, personas, trail):
    admin = personas[Role.ADMINISTRATOR]
    response = as_user(admin).get(URL)
    assert _shown(response) == [
        str(admin),  # their own sign-in, just now
        "atc update",
        "atc export",
        "sign-in",
        "pjt view",
        "atc view",
    ]


@pytest.mark.parametrize(
    "role", [Role.JUDGE, Role.PROSECUTOR, Role.DEFENDER, Role.CLINICIAN, Role.COORDINATOR]
)
def test_other_roles_are_refused(as_user, personas, trail, role):
    assert as_user(personas[role]).get(URL).status_code == 403


def test_reading_the_log_is_itself_recorded(as_user, personas, trail):
    manager = personas[Role.MANAGER]
    as_user(manager).get(URL, {"action": "export"})
    event = AuditEvent.objects.get(actor=manager, action=AuditEvent.Action.VIEW)
    assert event.detail == {"audit_log": [str(trail[3].uuid)]}
    assert event.path == f"{URL}?action=export"


# --- filters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"participant": str(ANA)}, ["atc export", "atc view"]),
        ({"participant": str(OTHERS)}, []),  # another program's participant: nothing shown
        ({"user": "JUDGE@atc.test"}, ["atc view"]),  # the sign-in has no program
        ({"user": "nobody@atc.test"}, []),
        ({"action": "export"}, ["atc export"]),
        ({"since": "2026-05-05"}, ["atc update", "atc export"]),
        ({"until": "2026-05-05"}, ["atc export", "atc view"]),
        ({"since": "2026-05-05", "until": "2026-05-05"}, ["atc export"]),
        ({"participant": str(ANA), "action": "view"}, ["atc view"]),
    ],
)
def test_manager_filters(as_user, personas, trail, params, expected):
    assert _shown(as_user(personas[Role.MANAGER]).get(URL, params)) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"user": "judge@atc.test"}, ["sign-in", "atc view"]),
        ({"action": "login", "until": "2026-05-30"}, ["sign-in"]),  # not the test's own
        ({"participant": str(OTHERS)}, ["pjt view"]),
    ],
)
def test_administrator_filters(as_user, personas, trail, params, expected):
    assert _shown(as_user(personas[Role.ADMINISTRATOR]).get(URL, params)) == expected


def test_a_period_takes_whole_utc_days(as_user, personas, program):
    for at, name in [
        (datetime(2026, 5, 3, 23, 59, 59, 999_999, tzinfo=UTC), "day before"),
        (datetime(2026, 5, 4, 0, 0, tzinfo=UTC), "first instant"),
        (datetime(2026, 5, 5, 23, 59, 59, 999_999, tzinfo=UTC), "last instant"),
        (datetime(2026, 5, 6, 0, 0, tzinfo=UTC), "day after"),
    ]:
        _event(at, name, program=program)
    response = as_user(personas[Role.MANAGER]).get(
        URL, {"since": "2026-05-04", "until": "2026-05-05"}
    )
    assert _shown(response) == ["last instant", "first instant"]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"participant": "not-a-uuid"}, "participant", "Enter a valid UUID."),
        ({"user": "not an email"}, "user", "Enter a valid email address."),
        ({"action": "drop"}, "action", "Select a valid choice."),
        ({"since": "2026-13-01"}, "since", "Enter a valid date."),
        (
            {"since": "2026-05-06", "until": "2026-05-05"},
            "__all__",
            "The period must not end before it starts.",
        ),
    ],
)
def test_bad_filters_are_refused_not_ignored(as_user, personas, trail, params, field, message):
    response = as_user(personas[Role.MANAGER]).get(URL, params)
    assert _shown(response) == []
    assert message in response.context["filters"].form.errors[field][0]


# --- keyset pagination --------------------------------------------------------------------


@pytest.fixture
def many(program):
    """120 events of `program`, seven to a timestamp, so page ends fall inside ties."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO tjp_auditevent (uuid, occurred_at, actor_label, action, object_type,
                object_id, object_repr, program_id, user_agent, path, detail)
            SELECT gen_random_uuid(), %s::timestamptz + (g / 7) * interval '1 second', '',
                'view', '', '', 'e' || g, %s, '', '', '{}'
            FROM generate_series(1, 120) AS g ORDER BY g
            """,
            [T0, program.pk],
        )
    # Newest first: the later timestamp, then the later id (inserted in g order).
    return [f"e{g}" for g in range(120, 0, -1)]


def _page(client, **params):
    response = client.get(URL, params)
    return _shown(response), response.context["page"]


def test_older_pages_walk_the_whole_trail_once(as_user, personas, many):
    client = as_user(personas[Role.MANAGER])
    first, page = _page(client)
    assert first == many[:50] and page.is_newest
    second, page = _page(client, before=page.older_than.uuid)
    assert second == many[50:100] and not page.is_newest
    third, page = _page(client, before=page.older_than.uuid)
    assert third == many[100:]
    assert page.older_than is None  # no Older link on the last page


def test_newer_pages_walk_back_to_the_newest(as_user, personas, many):
    client = as_user(personas[Role.MANAGER])
    _, page = _page(client)
    _, page = _page(client, before=page.older_than.uuid)
    _, page = _page(client, before=page.older_than.uuid)
    back, page = _page(client, after=page.newer_than.uuid)
    assert back == many[50:100] and not page.is_newest
    newest, page = _page(client, after=page.newer_than.uuid)
    assert newest == many[:50] and page.is_newest  # no Newer link on the newest page


def test_pages_keep_the_filters(as_user, personas, program, many):
    _event(T0 - timedelta(days=1), "old export", program=program, action=AuditEvent.Action.EXPORT)
    response = as_user(personas[Role.MANAGER]).get(URL, {"action": "view"})
    older = response.context["page"].older_than.uuid
    assert f"?action=view&amp;before={older}" in response.content.decode()


def test_an_invisible_position_shows_the_newest_page(as_user, personas, other_program, many):
    """A manager naming another program's event as the position learns nothing from it."""
    elsewhere = _event(T0 + timedelta(seconds=5), "pjt", program=other_program)
    client = as_user(personas[Role.MANAGER])
    shown, page = _page(client, before=elsewhere.uuid)
    assert shown == many[:50] and page.is_newest
    shown, page = _page(client, before="garbage")
    assert shown == many[:50]


def test_every_page_costs_the_same_queries(as_user, personas, program, many):
    client = as_user(personas[Role.MANAGER])
    client.get(URL)  # warm the session and permission caches alike for every request below

    def queries(**params) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, params).status_code == 200
        return len(captured)

    newest = queries()
    _, page = _page(client)
    older = queries(before=page.older_than.uuid)
    filtered = queries(before=page.older_than.uuid, action="view", user="judge@atc.test")
    _, last = _page(client, before=page.older_than.uuid)
    newer = queries(after=last.older_than.uuid)
    assert newest <= older == filtered == newer <= newest + 1  # the position is one lookup
