"""The read-only hearing sessions API: scope per role, names-only docket rows, filters, token
auth, audit, constant queries and the schema."""

from datetime import time, timedelta

import pytest
import yaml
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from hearings import services
from participants.access import grant_participant
from tests.factories import ParticipantFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

LIST = "/api/v1/hearing-sessions/"
COURT_WIDE = {Role.JUDGE, Role.PROSECUTOR, Role.COORDINATOR, Role.MANAGER}
FULL_ENTRY = {"participant", "attendance", "judicial_minutes", "next_appearance"}


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()  # throttling counts in the default cache, shared across tests
    yield
    cache.clear()


def detail(session) -> str:
    return f"{LIST}{session.uuid}/"


@pytest.fixture
def stranger(program, personas):
    """A participant of `program` who is neither the personas' defender's client nor the
    personas' clinician's."""
    p = ParticipantFactory(program=program, person__first_name="Bea", person__last_name="Ortiz")
    return admit(p, by=personas[Role.COORDINATOR])


@pytest.fixture
def calendar(make_session, participant, stranger, personas):
    """Last week's session (Ana heard, Bea on it too) and next week's (Bea only)."""
    coordinator = personas[Role.COORDINATOR]
    held, ahead = make_session(-7), make_session(7)
    ana = services.docket_add(acting_user=coordinator, session=held, participant=participant)
    services.docket_add(acting_user=coordinator, session=held, participant=stranger)
    services.docket_add(acting_user=coordinator, session=ahead, participant=stranger)
    day = program_today(held.program)
    for field, value in [
        ("attendance", "present"),
        ("judicial_minutes", "4"),
        ("judge_notes", "Doing well at work."),
        ("next_appearance", str(day + timedelta(days=3))),
    ]:
        services.entry_update(
            acting_user=coordinator, entry=ana, field=field, value=value, expected=""
        )
    return held, ahead


@pytest.fixture
def elsewhere(other_program, other_participant):
    """A session of another program, with its participant on the docket."""
    judge = UserFactory(email="judge@pjt.test", role=Role.JUDGE, programs=[other_program])
    coordinator = UserFactory(role=Role.COORDINATOR, programs=[other_program])
    session = services.session_create(
        acting_user=coordinator,
        program=other_program,
        kind="status_review",
        judge=judge,
        courtroom="Sala 2",
        day=program_today(other_program) + timedelta(days=1),
        start=time(10),
        duration_minutes=120,
    )
    services.docket_add(acting_user=coordinator, session=session, participant=other_participant)
    return session


@pytest.fixture
def user_for(request, personas):
    def get(who):
        return personas[who] if isinstance(who, Role) else request.getfixturevalue(who)

    return get


def listed(client, query: str = "") -> list[dict]:
    response = client.get(LIST + query)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def dockets(rows: list[dict]) -> list[dict[str, dict]]:
    """Per session, {participant name: the entry as sent}."""
    return [{e["participant"]["name"]: e for e in row["docket"]} for row in rows]


# --- scope, as a table -----------------------------------------------------------------------
# who → (sessions seen, of [held, ahead]; per session seen, {name: full entry or name only})
ANA, BEA, FULL, NAME = "Ana Núñez", "Bea Ortiz", "full", "name"
SCOPE = [
    *[(r, ["held", "ahead"], [{ANA: FULL, BEA: FULL}, {BEA: FULL}]) for r in sorted(COURT_WIDE)],
    (Role.DEFENDER, ["held", "ahead"], [{ANA: FULL, BEA: NAME}, {BEA: NAME}]),
    ("other_defender", ["held", "ahead"], [{ANA: NAME, BEA: NAME}, {BEA: NAME}]),
    (Role.CLINICIAN, ["held"], [{ANA: FULL}]),
    ("other_clinician", [], []),
    (Role.ADMINISTRATOR, [], []),
    ("outsider", [], []),
]


@pytest.mark.parametrize(("who", "sessions", "entries"), SCOPE, ids=[str(row[0]) for row in SCOPE])
def test_scope_table(client, user_for, calendar, elsewhere, who, sessions, entries):
    held, ahead = calendar
    named = {"held": str(held.uuid), "ahead": str(ahead.uuid)}
    client.force_login(user_for(who))

    rows = [r for r in listed(client) if r["uuid"] != str(elsewhere.uuid)]

    assert [r["uuid"] for r in rows] == [named[s] for s in sessions]
    for docket, expected in zip(dockets(rows), entries, strict=True):
        seen = {name: FULL if set(e) == FULL_ENTRY else NAME for name, e in docket.items()}
        assert seen == expected
        for entry in docket.values():
            assert set(entry) in (FULL_ENTRY, {"participant"})
    for name in sessions:
        assert client.get(f"{LIST}{named[name]}/").status_code == 200
    for name in {"held", "ahead"} - set(sessions):
        assert client.get(f"{LIST}{named[name]}/").status_code == 404


@pytest.mark.parametrize("who", [*Role, "other_defender", "other_clinician"], ids=str)
def test_another_programs_session_is_404(client, user_for, calendar, elsewhere, who):
    client.force_login(user_for(who))
    assert str(elsewhere.uuid) not in [r["uuid"] for r in listed(client)]
    assert client.get(detail(elsewhere)).status_code == 404


def test_the_outsider_sees_only_their_own_program(client, outsider, calendar, elsewhere):
    client.force_login(outsider)
    assert [r["uuid"] for r in listed(client)] == [str(elsewhere.uuid)]
    assert [r["uuid"] for r in listed(client, f"?program={calendar[0].program.uuid}")] == []


def test_a_full_entry_carries_the_outcome_and_nothing_else(client, personas, calendar):
    held, _ahead = calendar
    client.force_login(personas[Role.JUDGE])

    body = client.get(detail(held)).json()

    assert body["program"] == str(held.program.uuid)
    assert (body["kind"], body["courtroom"], body["cancelled"]) == ("status_review", "3B", False)
    assert body["judge"] == personas[Role.JUDGE].get_full_name()
    assert body["time_zone"] == "America/Chicago"
    assert body["starts_at"].endswith("Z") or body["starts_at"].endswith("+00:00")
    ana = dockets([body])[0]["Ana Núñez"]
    day = program_today(held.program)
    assert ana == {
        "participant": {"uuid": ana["participant"]["uuid"], "name": "Ana Núñez"},
        "attendance": "present",
        "judicial_minutes": 4,
        "next_appearance": str(day + timedelta(days=3)),
    }
    assert b"Doing well at work." not in client.get(detail(held)).content


def test_names_only_rows_send_no_outcome(client, personas, calendar):
    held, _ahead = calendar
    client.force_login(personas[Role.DEFENDER])
    response = client.get(detail(held))
    bea = dockets([response.json()])[0]["Bea Ortiz"]
    assert set(bea) == {"participant"}
    assert set(bea["participant"]) == {"uuid", "name"}


def test_administrator_list_is_empty(client, personas, calendar):
    client.force_login(personas[Role.ADMINISTRATOR])
    assert client.get(LIST).json()["count"] == 0


# --- authentication and methods --------------------------------------------------------------
@pytest.mark.parametrize("path", ["list", "detail"])
def test_anonymous_is_refused(client, calendar, path):
    url = LIST if path == "list" else detail(calendar[0])
    assert client.get(url).status_code in (401, 403)


def test_a_knox_token_works(calendar, personas):
    held, ahead = calendar
    _, token = AuthToken.objects.create(personas[Role.COORDINATOR])
    api = Client()  # no session: only the token authenticates

    response = api.get(LIST, headers={"Authorization": f"Token {token}"})

    assert response.status_code == 200, response.content
    assert [r["uuid"] for r in response.json()["results"]] == [str(held.uuid), str(ahead.uuid)]
    assert api.get(LIST, headers={"Authorization": "Token wrong"}).status_code == 401


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_api_is_read_only(client, personas, calendar, method):
    held, _ahead = calendar
    client.force_login(personas[Role.COORDINATOR])
    url = LIST if method == "post" else detail(held)
    response = getattr(client, method)(url, {"courtroom": "9Z"}, content_type="application/json")
    assert response.status_code == 405
    held.refresh_from_db()
    assert (held.courtroom, held.cancelled) == ("3B", False)


def test_unknown_or_malformed_uuid_is_404(client, personas, calendar):
    client.force_login(personas[Role.COORDINATOR])
    assert client.get(f"{LIST}00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get(f"{LIST}{'z' * 36}/").status_code == 404
    assert client.get(f"{LIST}{calendar[0].pk}/").status_code == 404


# --- filters ---------------------------------------------------------------------------------
def test_date_filters_use_the_programs_day(client, personas, calendar, program):
    held, ahead = calendar
    today = program_today(program)
    client.force_login(personas[Role.JUDGE])

    def uuids(query):
        return [r["uuid"] for r in listed(client, query)]

    assert uuids(f"?from={today}") == [str(ahead.uuid)]
    assert uuids(f"?to={today}") == [str(held.uuid)]
    assert uuids(f"?from={today - timedelta(days=7)}&to={today - timedelta(days=7)}") == [
        str(held.uuid)
    ]
    assert uuids(f"?from={today + timedelta(days=8)}") == []
    assert uuids(f"?program={program.uuid}&to={today + timedelta(days=7)}") == [
        str(held.uuid),
        str(ahead.uuid),
    ]


def test_a_late_evening_session_is_on_the_programs_day(client, personas, make_session, program):
    """23:00 in Chicago is already the next day in UTC: the filter goes by Chicago's day."""
    late = make_session(2, hour=23, minutes=30)
    day = program_today(program) + timedelta(days=2)
    client.force_login(personas[Role.JUDGE])
    assert [r["uuid"] for r in listed(client, f"?from={day}&to={day}")] == [str(late.uuid)]
    assert listed(client, f"?from={day + timedelta(days=1)}") == []


@pytest.mark.parametrize(
    "query",
    ["?from=yesterday", "?to=2025-13-01", "?program=not-a-uuid", "?from=2025-02-30", "?to=%00"],
)
def test_bogus_filter_values_are_refused(client, personas, calendar, query):
    client.force_login(personas[Role.COORDINATOR])
    response = client.get(LIST + query)
    assert response.status_code == 400, response.content
    assert not AuditEvent.objects.filter(detail__has_key="hearing_sessions").exists()


def test_unknown_parameters_are_ignored(client, personas, calendar):
    client.force_login(personas[Role.COORDINATOR])
    assert len(listed(client, "?courtroom=9Z&judge__email=x&starts_at__gt=2999-01-01")) == 2


def test_an_empty_filter_is_no_filter(client, personas, calendar):
    client.force_login(personas[Role.COORDINATOR])
    assert len(listed(client, "?from=&to=&program=&page=")) == 2


# --- audit -----------------------------------------------------------------------------------
def test_list_read_is_audited_with_the_participants(
    client, personas, calendar, participant, stranger
):
    held, ahead = calendar
    judge = personas[Role.JUDGE]
    client.force_login(judge)

    client.get(LIST)

    event = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, actor=judge).get()
    assert event.detail == {
        "hearing_sessions": [str(held.uuid), str(ahead.uuid)],
        "participants": sorted([str(participant.uuid), str(stranger.uuid)]),
    }


def test_a_clinicians_audit_names_only_what_they_saw(client, personas, calendar, participant):
    clinician = personas[Role.CLINICIAN]
    client.force_login(clinician)

    client.get(detail(calendar[0]))

    event = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, actor=clinician).get()
    assert event.object_id == str(calendar[0].uuid)
    assert event.program == calendar[0].program
    assert event.detail == {"participants": [str(participant.uuid)]}


def test_out_of_scope_detail_writes_no_view_event(client, personas, elsewhere):
    client.force_login(personas[Role.JUDGE])
    client.get(detail(elsewhere))
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, object_id=str(elsewhere.uuid)
    )


# --- performance -----------------------------------------------------------------------------
def _sessions_with_dockets(program, personas, count: int, first_day: int) -> None:
    coordinator = personas[Role.COORDINATOR]
    today = program_today(program)
    for i in range(count):
        session = services.session_create(
            acting_user=coordinator,
            program=program,
            kind="status_review",
            judge=personas[Role.JUDGE],
            courtroom="3B",
            day=today + timedelta(days=first_day + i),
            start=time(9),
            duration_minutes=60,
        )
        for i in range(2):
            p = admit(ParticipantFactory(program=program), by=coordinator)
            services.docket_add(acting_user=coordinator, session=session, participant=p)
            if i == 0:  # one of the two is the defender's client and the clinician's patient
                grant_participant(personas[Role.DEFENDER], p)
                grant_participant(personas[Role.CLINICIAN], p)


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.DEFENDER, Role.CLINICIAN])
def test_list_queries_do_not_grow_with_the_sessions(client, personas, program, role):
    client.force_login(personas[role])
    _sessions_with_dockets(program, personas, 2, first_day=1)
    client.get(LIST)  # warm the session up
    with CaptureQueriesContext(connection) as two:
        listed(client)

    _sessions_with_dockets(program, personas, 8, first_day=3)
    with CaptureQueriesContext(connection) as ten:
        rows = listed(client)

    entries = [e for r in rows for e in r["docket"]]
    full = [e for e in entries if set(e) == FULL_ENTRY]
    assert len(rows) == 10
    assert (len(entries), len(full)) == {
        Role.COORDINATOR: (20, 20),
        Role.DEFENDER: (20, 10),
        Role.CLINICIAN: (10, 10),
    }[role]
    assert len(ten) == len(two)


# --- schema ----------------------------------------------------------------------------------
def test_schema_documents_both_endpoints(client, personas):
    client.force_login(personas[Role.JUDGE])
    response = client.get("/api/schema/")
    assert response.status_code == 200
    paths = yaml.safe_load(response.content)["paths"]
    assert set(paths[LIST]) == {"get"}
    assert set(paths[LIST + "{uuid}/"]) == {"get"}
    parameters = {p["name"] for p in paths[LIST]["get"]["parameters"]}
    assert parameters == {"program", "from", "to", "page"}
    example = paths[LIST]["get"]["responses"]["200"]["content"]["application/json"]["examples"]
    assert example
