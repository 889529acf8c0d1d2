"""The provider and lab API against real PostgreSQL: token auth, scope (404/403), idempotent
submissions, bad input, consent gating for court roles, the bulk endpoint, and clinical notes
that never leave the provider."""

import json
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.core.cache import cache
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.throttling import ScopedRateThrottle

from participants.disclosures import REDISCLOSURE_NOTICE_EN
from tests.factories import ParticipantFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role
from treatment import services
from treatment.models import DrugTest, DrugTestResult, ProgressUpdate, Source, TreatmentSession

PROGRESS = "/api/v1/progress-updates/"
SESSIONS = "/api/v1/treatment-sessions/"
TESTS = "/api/v1/drug-tests/"
BULK = "/api/v1/drug-tests/bulk/"
COURT_ROLES = [Role.JUDGE, Role.PROSECUTOR, Role.DEFENDER, Role.COORDINATOR, Role.MANAGER]
MODELS = {PROGRESS: ProgressUpdate, SESSIONS: TreatmentSession, TESTS: DrugTest}


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()  # throttling counts in the (LocMem) default cache, shared across tests
    yield
    cache.clear()


class Api:
    """The test client speaking JSON with a knox token, as an integration would."""

    def __init__(self, client, user):
        _, token = AuthToken.objects.create(user)
        self.client, self.user = client, user
        self.headers = {"Authorization": f"Token {token}"}

    def get(self, url, params=None):
        return self.client.get(url, params or {}, headers=self.headers)

    def post(self, url, body):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(url, data, content_type="application/json", headers=self.headers)


@pytest.fixture
def api(client):
    return lambda user: Api(client, user)


@pytest.fixture
def clinician(personas):
    return personas[Role.CLINICIAN]


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The one error shape; returns its `details`."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "code", "message", "details"}
    assert body["error"]["status"] == status and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]["details"]


# --- payloads --------------------------------------------------------------------------------
def _iso(moment) -> str:
    return timezone.localtime(moment, timezone.get_fixed_timezone(-360)).isoformat()


def progress_body(participant, external_id="pu-1", **changes):
    day = program_today(participant.program)
    return {
        "participant": str(participant.uuid),
        "external_id": external_id,
        "period_start": str(day - timedelta(days=14)),
        "period_end": str(day),
        "engagement": "good",
        "summary": "Attends every group.",
        "recommendations": "Continue.",
        **changes,
    }


def session_body(participant, external_id="s-1", **changes):
    return {
        "participant": str(participant.uuid),
        "external_id": external_id,
        "session_date": str(program_today(participant.program) - timedelta(days=2)),
        "kind": "group",
        "attendance": "attended",
        "hours": "1.50",
        **changes,
    }


def drug_test_body(participant, external_id="t-1", hours_ago=30, **changes):
    now = timezone.now()
    return {
        "participant": str(participant.uuid),
        "external_id": external_id,
        "collected_at": _iso(now - timedelta(hours=hours_ago)),
        "method": "urine",
        "observed": True,
        "results": [
            {"substance": "cocaine", "result": "negative"},
            {"substance": "fentanyl", "result": "positive"},
        ],
        "resulted_at": _iso(now - timedelta(hours=2)),
        "lab": "Central Toxicology",
        **changes,
    }


BODIES = {PROGRESS: progress_body, SESSIONS: session_body, TESTS: drug_test_body}
CHANGED = {PROGRESS: {"engagement": "poor"}, SESSIONS: {"hours": "2.00"}, TESTS: {"dilute": True}}


def record_all(participant, clinician, coordinator):
    """One of each record for `participant`: provider-reported, plus a court-entered test."""
    day = program_today(participant.program)
    services.progress_update_record(
        acting_user=clinician,
        participant=participant,
        period_start=day - timedelta(days=7),
        period_end=day,
        engagement="good",
        summary="Weekly summary.",
    )
    services.session_record(
        acting_user=clinician,
        participant=participant,
        session_date=day - timedelta(days=1),
        kind="individual",
        attendance="attended",
        hours=1,
    )
    services.drug_test_record(
        acting_user=clinician,
        participant=participant,
        collected_at=timezone.now() - timedelta(days=2),
        method="urine",
        results=[("cocaine", "positive")],
    )
    services.drug_test_record(
        acting_user=coordinator,
        participant=participant,
        collected_at=timezone.now() - timedelta(days=1),
        method="breath",
        results=[("alcohol", "negative")],
    )


# --- authentication --------------------------------------------------------------------------
@pytest.mark.parametrize("url", [PROGRESS, SESSIONS, TESTS])
def test_a_token_is_required(client, url):
    assert_error(client.get(url), 401, "not_authenticated")
    assert_error(client.get(url, headers={"Authorization": "Token nope"}), 401)
    assert_error(client.post(BULK, "{}", content_type="application/json"), 401, "not_authenticated")


def test_the_token_authenticates_as_its_owner(api, assigned, clinician):
    response = api(clinician).post(TESTS, drug_test_body(assigned))
    assert response.status_code == 201, response.content
    assert DrugTest.objects.get().created_by == clinician


def test_a_revoked_token_no_longer_works(api, assigned, clinician):
    caller = api(clinician)
    AuthToken.objects.filter(user=clinician).delete()
    assert_error(caller.get(TESTS), 401)


# --- scope -----------------------------------------------------------------------------------
def test_clinician_lists_only_their_participants_records(
    api, assigned, other_participant, clinician, personas
):
    record_all(assigned, clinician, personas[Role.COORDINATOR])
    services.drug_test_record(
        acting_user=UserFactory(role=Role.COORDINATOR, programs=[other_participant.program]),
        participant=other_participant,
        collected_at=timezone.now() - timedelta(days=1),
        method="urine",
        results=[("cocaine", "negative")],
    )
    caller = api(clinician)
    for url, expected in ((PROGRESS, 1), (SESSIONS, 1), (TESTS, 2)):
        body = caller.get(url).json()
        assert body["count"] == expected
        assert {row["participant"] for row in body["results"]} == {str(assigned.uuid)}
        assert body["redisclosure_notice"] is None


@pytest.mark.parametrize("url", [PROGRESS, SESSIONS, TESTS])
def test_another_providers_clinician_sees_nothing_and_gets_404(
    api, assigned, other_provider, clinician, personas, url
):
    record_all(assigned, clinician, personas[Role.COORDINATOR])
    caller = api(other_provider.clinician)
    assert caller.get(url).json()["count"] == 0
    assert_error(caller.get(url, {"participant": str(assigned.uuid)}), 404, "not_found")
    before = MODELS[url].objects.count()
    assert_error(caller.post(url, BODIES[url](assigned, "x-1")), 404, "not_found")
    assert MODELS[url].objects.count() == before


@pytest.mark.parametrize("url", [PROGRESS, SESSIONS, TESTS])
def test_posting_for_another_programs_participant_is_404(
    api, assigned, other_participant, clinician, outsider, url
):
    assert_error(api(clinician).post(url, BODIES[url](other_participant)), 404, "not_found")
    assert_error(api(outsider).post(url, BODIES[url](assigned)), 404, "not_found")
    assert not MODELS[url].objects.exists()


@pytest.mark.parametrize("url", [PROGRESS, SESSIONS, TESTS])
def test_unknown_participant_is_404(api, assigned, clinician, url):
    caller = api(clinician)
    unknown = "00000000-0000-0000-0000-000000000000"
    assert_error(caller.get(url, {"participant": unknown}), 404, "not_found")
    assert_error(caller.post(url, {**BODIES[url](assigned), "participant": unknown}), 404)
    # Not a uuid at all: a bad filter value, like the participants API's.
    assert_error(caller.get(url, {"participant": "nope"}), 400, "invalid")


@pytest.mark.parametrize("url", [PROGRESS, SESSIONS, TESTS])
def test_a_clinician_whose_organisation_does_not_treat_the_participant_gets_403(
    api, participant, clinician, provider, url
):
    """The clinician sees `participant` (asked to screen them), but it is not assigned to
    their organisation: they may not record treatment for them."""
    assert_error(api(clinician).post(url, BODIES[url](participant)), 403, "permission_denied")
    assert not MODELS[url].objects.exists()


@pytest.mark.parametrize("url", [PROGRESS, SESSIONS])
def test_the_court_team_does_not_post_provider_reports(client, assigned, personas, url):
    for role in COURT_ROLES:
        client.force_login(personas[role])  # session auth: only these roles' tokens are refused
        response = client.post(url, BODIES[url](assigned), content_type="application/json")
        assert_error(response, 403, "permission_denied")
    assert not MODELS[url].objects.exists()


def test_a_coordinator_enters_a_test_for_the_court(api, assigned, personas):
    response = api(personas[Role.COORDINATOR]).post(TESTS, drug_test_body(assigned))
    assert response.status_code == 201, response.content
    assert (response.json()["source"], response.json()["provider"]) == ("court", None)


@pytest.mark.parametrize("role", [Role.JUDGE, Role.PROSECUTOR, Role.DEFENDER, Role.MANAGER])
def test_other_court_roles_do_not_enter_tests(client, assigned, personas, role):
    client.force_login(personas[role])
    response = client.post(TESTS, drug_test_body(assigned), content_type="application/json")
    assert_error(response, 403, "permission_denied")
    response = client.post(
        BULK, {"items": [drug_test_body(assigned)]}, content_type="application/json"
    )
    assert_error(response, 403, "permission_denied")
    assert not DrugTest.objects.exists()


# --- submissions: created, duplicate, conflict -----------------------------------------------
@pytest.mark.parametrize("url", [PROGRESS, SESSIONS, TESTS])
def test_submission_is_idempotent_on_the_external_id(api, assigned, clinician, url):
    caller = api(clinician)
    body = BODIES[url](assigned)

    created = caller.post(url, body)
    again = caller.post(url, body)

    assert created.status_code == 201, created.content
    assert created.json()["status"] == "created"
    assert created.json()["external_id"] == body["external_id"]
    assert created.json()["participant"] == str(assigned.uuid)
    assert created.json()["source"] == "provider"
    assert created.json()["provider"] == "Recovery Clinic"
    assert again.status_code == 200, again.content
    assert again.json()["status"] == "duplicate"
    assert again.json()["uuid"] == created.json()["uuid"]
    assert MODELS[url].objects.count() == 1


@pytest.mark.parametrize("url", [PROGRESS, SESSIONS, TESTS])
def test_the_same_external_id_for_other_content_is_a_409(api, assigned, clinician, url):
    caller = api(clinician)
    body = BODIES[url](assigned)
    first = caller.post(url, body).json()

    response = caller.post(url, {**body, **CHANGED[url]})

    assert_error(response, 409, "conflict")
    assert body["external_id"] in response.json()["error"]["message"]
    stored = MODELS[url].objects.get()
    assert str(stored.uuid) == first["uuid"]


def test_drug_test_results_are_part_of_the_content(api, assigned, clinician):
    caller = api(clinician)
    body = drug_test_body(assigned)
    caller.post(TESTS, body)
    other = {**body, "results": [{"substance": "cocaine", "result": "positive"}]}
    assert_error(caller.post(TESTS, other), 409, "conflict")
    assert list(
        DrugTestResult.objects.values_list("substance", "result").order_by("substance")
    ) == [
        ("cocaine", "negative"),
        ("fentanyl", "positive"),
    ]


def test_external_ids_belong_to_their_sender(api, assigned, clinician, personas):
    """Another account using the same external id is another record, not a conflict."""
    assert api(clinician).post(TESTS, drug_test_body(assigned)).status_code == 201
    response = api(personas[Role.COORDINATOR]).post(TESTS, drug_test_body(assigned))
    assert response.status_code == 201, response.content
    assert DrugTest.objects.count() == 2


def test_a_created_test_reads_back_as_sent(api, assigned, clinician):
    body = drug_test_body(assigned, confirmation="pending")
    created = api(clinician).post(TESTS, body).json()
    listed = api(clinician).get(TESTS).json()["results"][0]
    assert listed == {k: v for k, v in created.items() if k != "status"}
    assert listed["results"] == [
        {"substance": "cocaine", "result": "negative"},
        {"substance": "fentanyl", "result": "positive"},
    ]
    assert listed["counts_as_positive"] is True
    assert listed["turnaround_hours"] == pytest.approx(28, abs=0.01)
    test = DrugTest.objects.get()
    assert (test.observed, test.confirmation, test.lab) == (True, "pending", "Central Toxicology")


def test_a_missed_test_has_no_results(api, assigned, clinician):
    body = drug_test_body(assigned, missed=True, results=[], resulted_at=None)
    response = api(clinician).post(TESTS, body)
    assert response.status_code == 201, response.content
    assert response.json()["counts_as_positive"] is True


# --- bad input -------------------------------------------------------------------------------
def _future(hours=2):
    return _iso(timezone.now() + timedelta(hours=hours))


BAD = [
    (TESTS, {"results": [{"substance": "kratom", "result": "positive"}]}, "results"),
    (TESTS, {"results": [{"substance": "cocaine", "result": "maybe"}]}, "results"),
    (TESTS, {"results": [{"substance": "cocaine", "result": "negative"}] * 2}, "results"),
    (TESTS, {"results": []}, "results"),
    (TESTS, {"results": "cocaine"}, "results"),
    (TESTS, {"missed": True}, "results"),
    (TESTS, {"method": "hair"}, "method"),
    (TESTS, {"confirmation": "maybe"}, "confirmation"),
    (TESTS, {"collected_at": "FUTURE"}, "collected_at"),
    (TESTS, {"resulted_at": "FUTURE"}, "resulted_at"),
    (TESTS, {"resulted_at": "BEFORE"}, "resulted_at"),
    (TESTS, {"collected_at": "2025-03-12T08:15:00"}, "collected_at"),
    (TESTS, {"collected_at": "yesterday"}, "collected_at"),
    (TESTS, {"collected_at": "2000-01-01T08:00:00Z"}, "collected_at"),
    (TESTS, {"observed": "perhaps"}, "observed"),
    (TESTS, {"lab": "x" * 121}, "lab"),
    (TESTS, {"external_id": ""}, "external_id"),
    (TESTS, {"external_id": "x" * 101}, "external_id"),
    (TESTS, {"external_id": None}, "external_id"),
    (TESTS, {"participant": "not-a-uuid"}, "participant"),
    (SESSIONS, {"session_date": "FUTURE_DAY"}, "session_date"),
    (SESSIONS, {"session_date": "2000-01-01"}, "session_date"),
    (SESSIONS, {"kind": "yoga"}, "kind"),
    (SESSIONS, {"attendance": "maybe"}, "attendance"),
    (SESSIONS, {"hours": "25"}, "hours"),
    (SESSIONS, {"hours": "-1"}, "hours"),
    (SESSIONS, {"hours": "abc"}, "hours"),
    (PROGRESS, {"period_start": "2999-01-01"}, "period_end"),
    (PROGRESS, {"period_end": "FUTURE_DAY"}, "period_end"),
    (PROGRESS, {"engagement": "great"}, "engagement"),
    (PROGRESS, {"summary": "   "}, "summary"),
    (PROGRESS, {"summary": "a\x00b"}, "summary"),
    # Exactly the JSON types and texts the schema names (tests/api holds the API to it).
    (PROGRESS, {"summary": "a\x1bb"}, "summary"),
    (PROGRESS, {"recommendations": "\x7f"}, "recommendations"),
    (TESTS, {"external_id": 12}, "external_id"),
    (TESTS, {"external_id": "LAB\x00-1"}, "external_id"),
    (TESTS, {"external_id": " " * 96 + "LAB-1"}, "external_id"),  # 101 as sent; 5 trimmed
    (TESTS, {"lab": 0}, "lab"),
    (TESTS, {"observed": "true"}, "observed"),
    (TESTS, {"dilute": 1}, "dilute"),
    (TESTS, {"participant": 12}, "participant"),
    (SESSIONS, {"hours": 1.5}, "hours"),
    (SESSIONS, {"hours": ""}, "hours"),
    (SESSIONS, {"hours": "1.555"}, "hours"),
    (SESSIONS, {"hours": "1e1"}, "hours"),
]


@pytest.mark.parametrize(("url", "changes", "field"), BAD, ids=lambda v: str(v)[:40])
def test_bad_input_is_a_400_with_the_field_and_nothing_saved(
    api, assigned, clinician, url, changes, field
):
    now, day = timezone.now(), program_today(assigned.program)
    special = {
        "FUTURE": _future(),
        "BEFORE": _iso(now - timedelta(days=3)),
        "FUTURE_DAY": str(day + timedelta(days=1)),
    }
    changes = {k: special.get(v, v) if isinstance(v, str) else v for k, v in changes.items()}
    body = {**BODIES[url](assigned), **changes}
    if changes.get("external_id") is None and "external_id" in changes:
        del body["external_id"]

    details = assert_error(api(clinician).post(url, body), 400, "invalid")

    assert field in details, details
    assert not MODELS[url].objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CREATE, actor=clinician)


@pytest.mark.parametrize("url", [PROGRESS, SESSIONS, TESTS])
def test_a_lone_surrogate_in_a_text_is_a_400(api, assigned, clinician, url):
    """Valid JSON ("\\ud800" is a well-formed escape), but no text: PostgreSQL cannot store it."""
    body = json.dumps(BODIES[url](assigned)).replace('"external_id": "', '"external_id": "\\ud800')
    details = assert_error(api(clinician).post(url, body), 400, "invalid")
    assert "external_id" in details
    assert not MODELS[url].objects.exists()


def test_hours_may_come_with_one_decimal_or_none(api, assigned, clinician):
    caller = api(clinician)
    for external_id, hours in (("a", "2"), ("b", "0.5"), ("c", "24.00")):
        response = caller.post(SESSIONS, session_body(assigned, external_id, hours=hours))
        assert response.status_code == 201, response.content
    assert sorted(r["hours"] for r in caller.get(SESSIONS).json()["results"]) == [
        "0.50",
        "2.00",
        "24.00",
    ]


@pytest.mark.parametrize(
    "raw", ['{"participant": ', "not json", '{"hours": NaN}', "[1, 2", "\ufeff{}"]
)
@pytest.mark.parametrize("url", [PROGRESS, SESSIONS, TESTS, BULK])
def test_malformed_json_is_a_400(api, assigned, clinician, url, raw):
    assert_error(api(clinician).post(url, raw), 400, "parse_error")
    assert not MODELS.get(url, DrugTest).objects.exists()


@pytest.mark.parametrize("url", [PROGRESS, SESSIONS, TESTS])
@pytest.mark.parametrize("body", [[], "text", 42, None])
def test_a_body_that_is_not_an_object_is_a_400(api, assigned, clinician, url, body):
    assert_error(api(clinician).post(url, json.dumps(body)), 400, "invalid")


def test_form_encoded_bodies_are_refused(client, assigned, clinician):
    _, token = AuthToken.objects.create(clinician)
    response = client.post(
        TESTS, {"participant": str(assigned.uuid)}, headers={"Authorization": f"Token {token}"}
    )
    assert_error(response, 415, "unsupported_media_type")


# --- lists: filters --------------------------------------------------------------------------
@pytest.mark.parametrize("url", [PROGRESS, SESSIONS, TESTS])
def test_date_range_filter(api, assigned, clinician, url):
    caller = api(clinician)
    day = program_today(assigned.program)
    old, recent = day - timedelta(days=20), day - timedelta(days=2)
    if url == PROGRESS:
        bodies = [
            progress_body(
                assigned, "a", period_start=str(old - timedelta(days=6)), period_end=str(old)
            ),
            progress_body(assigned, "b", period_start=str(recent), period_end=str(recent)),
        ]
    elif url == SESSIONS:
        bodies = [
            session_body(assigned, "a", session_date=str(old)),
            session_body(assigned, "b", session_date=str(recent)),
        ]
    else:
        bodies = [
            drug_test_body(assigned, "a", hours_ago=20 * 24, resulted_at=None),
            drug_test_body(assigned, "b", hours_ago=2 * 24, resulted_at=None),
        ]
    for body in bodies:
        assert caller.post(url, body).status_code == 201

    def ids(**params):
        return [row["external_id"] for row in caller.get(url, params).json()["results"]]

    assert ids() == ["b", "a"]  # newest first
    assert ids(date_from=str(day - timedelta(days=5))) == ["b"]
    assert ids(date_to=str(day - timedelta(days=5))) == ["a"]
    assert ids(date_from=str(old), date_to=str(old + timedelta(days=1))) == ["a"]
    assert ids(participant=str(assigned.uuid), date_from=str(day)) == []
    assert_error(caller.get(url, {"date_from": "last week"}), 400, "invalid")


def test_drug_tests_are_filtered_by_the_programs_local_day(api, assigned, clinician):
    """Collected at 23:30 in the program's time zone (Chicago) is that day there, although it
    is already the next day in UTC."""
    local = timezone.now().astimezone(ZoneInfo(assigned.program.time_zone)) - timedelta(days=3)
    late = local.replace(hour=23, minute=30, second=0, microsecond=0)
    body = drug_test_body(assigned, collected_at=late.isoformat(), resulted_at=None)
    caller = api(clinician)
    assert caller.post(TESTS, body).status_code == 201
    assert late.astimezone(UTC).date() == late.date() + timedelta(days=1)

    def count(day):
        return caller.get(TESTS, {"date_from": str(day), "date_to": str(day)}).json()["count"]

    assert count(late.date()) == 1
    assert count(late.date() + timedelta(days=1)) == 0


@pytest.mark.parametrize("url", [PROGRESS, SESSIONS, TESTS])
def test_an_empty_filter_is_no_filter(api, assigned, clinician, personas, client, url):
    record_all(assigned, clinician, personas[Role.COORDINATOR])
    caller = api(clinician)
    everything = caller.get(url).json()["count"]
    empty = {"participant": "", "date_from": "", "date_to": "", "page": ""}
    assert caller.get(url, empty).json()["count"] == everything > 0
    # For a court role, an empty participant is none: still one participant at a time.
    client.force_login(personas[Role.COORDINATOR])
    details = assert_error(client.get(url, {"participant": ""}), 400, "invalid")
    assert "participant" in details


@pytest.mark.parametrize("query", ["participant=%00", "date_to=%00", "date_from=2025-03-01%00"])
def test_a_nul_in_a_filter_is_a_400(api, assigned, clinician, query):
    assert_error(api(clinician).get(f"{TESTS}?{query}"), 400, "invalid")


def test_unknown_query_parameters_do_not_reach_the_orm(api, assigned, clinician):
    api(clinician).post(TESTS, drug_test_body(assigned))
    response = api(clinician).get(TESTS, {"participant__program__code": "zzz", "method": "breath"})
    assert response.json()["count"] == 1


@pytest.mark.parametrize("url", [PROGRESS, SESSIONS, TESTS])
def test_list_queries_do_not_grow_with_the_page(api, assigned, clinician, personas, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    caller = api(clinician)
    coordinator = personas[Role.COORDINATOR]
    record_all(assigned, clinician, coordinator)
    caller.get(url)  # a token's first use of the day marks its account used (one write)
    with CaptureQueriesContext(connection) as few:
        caller.get(url)
    for _ in range(3):
        record_all(assigned, clinician, coordinator)
    with CaptureQueriesContext(connection) as more:
        assert caller.get(url).json()["count"] >= 4
    assert len(more) == len(few)


def test_list_reads_are_audited(api, assigned, clinician):
    api(clinician).get(TESTS, {"participant": str(assigned.uuid)})
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, actor=clinician)
    assert event.participant_uuid == assigned.uuid
    assert event.detail == {"list": 0, "records": "drug_tests"}


# --- court roles: consent gating -------------------------------------------------------------
@pytest.mark.parametrize("url", [PROGRESS, SESSIONS, TESTS])
def test_court_roles_list_one_participant_at_a_time(client, assigned, personas, url):
    client.force_login(personas[Role.JUDGE])
    assert_error(client.get(url), 400, "invalid")


@pytest.mark.parametrize("role", COURT_ROLES)
def test_without_consent_court_roles_see_no_provider_information(
    client, assigned, clinician, personas, role
):
    record_all(assigned, clinician, personas[Role.COORDINATOR])
    client.force_login(personas[role])
    query = {"participant": str(assigned.uuid)}

    progress = client.get(PROGRESS, query).json()
    sessions = client.get(SESSIONS, query).json()
    tests = client.get(TESTS, query).json()

    assert progress["count"] == sessions["count"] == 0
    assert [t["source"] for t in tests["results"]] == ["court"]
    assert tests["redisclosure_notice"] is None
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DISCLOSE).exists()


@pytest.mark.parametrize("role", COURT_ROLES)
def test_under_consent_court_roles_see_it_with_the_notice_and_a_disclosure(
    client, consent, clinician, personas, role
):
    assigned = consent.participant
    record_all(assigned, clinician, personas[Role.COORDINATOR])
    user = personas[role]
    client.force_login(user)
    query = {"participant": str(assigned.uuid)}

    for url, expected in ((PROGRESS, 1), (SESSIONS, 1), (TESTS, 2)):
        body = client.get(url, query).json()
        assert body["count"] == expected
        assert body["redisclosure_notice"] == REDISCLOSURE_NOTICE_EN

    disclosures = AuditEvent.objects.filter(action=AuditEvent.Action.DISCLOSE, actor=user)
    assert disclosures.exists()
    assert set(disclosures.values_list("consent_uuid", flat=True)) == {consent.uuid}


def test_one_read_is_one_disclosure_even_in_the_browsable_api(client, consent, clinician, personas):
    record_all(consent.participant, clinician, personas[Role.COORDINATOR])
    judge = personas[Role.JUDGE]
    client.force_login(judge)
    response = client.get(
        PROGRESS, {"participant": str(consent.participant.uuid)}, headers={"Accept": "text/html"}
    )
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DISCLOSE, actor=judge).count() == 1


def test_court_entered_tests_carry_no_notice(client, consent, personas):
    coordinator = personas[Role.COORDINATOR]
    services.drug_test_record(
        acting_user=coordinator,
        participant=consent.participant,
        collected_at=timezone.now() - timedelta(days=1),
        method="breath",
        results=[("alcohol", "negative")],
    )
    client.force_login(personas[Role.JUDGE])
    body = client.get(TESTS, {"participant": str(consent.participant.uuid)}).json()
    assert body["count"] == 1 and body["redisclosure_notice"] is None


def test_a_court_role_outside_the_program_gets_404(client, assigned, outsider):
    client.force_login(outsider)
    assert_error(client.get(TESTS, {"participant": str(assigned.uuid)}), 404)


def test_bad_filters_are_refused_before_anything_is_disclosed(client, consent, personas):
    client.force_login(personas[Role.JUDGE])
    query = {"participant": str(consent.participant.uuid), "date_to": "soon"}
    assert_error(client.get(PROGRESS, query), 400, "invalid")
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DISCLOSE).exists()


# --- clinical notes never leave the provider -------------------------------------------------
NOTE = "Discussed the relapse of March in confidence."


def test_clinical_notes_are_in_no_api_response(client, api, consent, clinician, personas):
    assigned = consent.participant
    record_all(assigned, clinician, personas[Role.COORDINATOR])
    services.clinical_note_record(
        acting_user=clinician,
        participant=assigned,
        written_on=program_today(assigned.program),
        text=NOTE,
    )
    query = {"participant": str(assigned.uuid)}
    responses = []
    caller = api(clinician)
    for url in (PROGRESS, SESSIONS, TESTS):
        responses += [caller.get(url), caller.get(url, query)]
        responses.append(caller.post(url, BODIES[url](assigned, "note-check")))
    responses.append(caller.post(BULK, {"items": [drug_test_body(assigned, "bulk-note")]}))
    responses.append(caller.get(f"/api/v1/participants/{assigned.uuid}/"))
    for role in COURT_ROLES:
        client.force_login(personas[role])
        for url in (PROGRESS, SESSIONS, TESTS):
            responses.append(client.get(url, query))
        responses.append(client.get(f"/api/v1/participants/{assigned.uuid}/"))
    responses.append(client.get("/api/schema/"))

    assert all(r.status_code in (200, 201) for r in responses)
    for response in responses:
        assert NOTE.encode() not in response.content
        assert b"clinical_note" not in response.content


def test_there_is_no_clinical_note_endpoint(client, api, clinician, personas):
    for url in ("/api/v1/clinical-notes/", "/api/v1/notes/"):
        assert api(clinician).get(url).status_code == 404
    client.force_login(personas[Role.JUDGE])
    paths = yaml.safe_load(client.get("/api/schema/").content)["paths"]
    assert not [p for p in paths if "note" in p]


# --- bulk ------------------------------------------------------------------------------------
@pytest.fixture
def assigned_many(assigned, provider, personas):
    """`assigned` and three more participants, all assigned to `provider`."""
    coordinator = personas[Role.COORDINATOR]
    people = [assigned]
    for _ in range(3):
        p = admit(ParticipantFactory(program=assigned.program), by=coordinator)
        services.provider_assign(
            acting_user=coordinator, participant=p, provider=provider, assigned_on=p.entry_date
        )
        people.append(p)
    return people


def batch(participants, count: int, prefix: str = "LAB-") -> list[dict]:
    return [
        drug_test_body(
            participants[i % len(participants)],
            f"{prefix}{i:05d}",
            hours_ago=24 + i % 500,
            results=[{"substance": "cocaine", "result": "positive" if i % 7 == 0 else "negative"}],
        )
        for i in range(count)
    ]


def test_bulk_1000_items_created_then_resent_as_duplicates(api, assigned_many, clinician):
    caller = api(clinician)
    items = batch(assigned_many, 1000)

    response = caller.post(BULK, {"items": items})

    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body["summary"] == {
        "received": 1000,
        "created": 1000,
        "duplicate": 0,
        "error": 0,
        "conflict": 0,
        "not_saved": 0,
        "saved": True,
    }
    assert [r["index"] for r in body["results"]] == list(range(1000))
    assert {r["status"] for r in body["results"]} == {"created"}
    assert DrugTest.objects.count() == 1000
    assert DrugTestResult.objects.filter(result="positive").count() == 143
    assert set(DrugTest.objects.values_list("source", flat=True)) == {Source.PROVIDER}
    created = {r["external_id"]: r["uuid"] for r in body["results"]}

    again = caller.post(BULK, {"items": items})

    assert again.status_code == 200
    assert again.json()["summary"]["duplicate"] == 1000
    assert {r["external_id"]: r["uuid"] for r in again.json()["results"]} == created
    assert DrugTest.objects.count() == 1000


def test_bulk_resolves_the_participants_in_one_query(api, assigned_many, clinician):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        api(clinician).post(BULK, {"items": batch(assigned_many, 8)})
    participant_queries = [
        q["sql"] for q in queries if 'FROM "participants_participant"' in q["sql"]
    ]
    assert len(participant_queries) == 1, participant_queries


def _with_bad_item(participants, count=10, bad_index=6):
    items = batch(participants, count)
    items[bad_index]["results"] = [{"substance": "kratom", "result": "positive"}]
    return items


def test_bulk_with_a_bad_item_saves_nothing(api, assigned_many, clinician):
    response = api(clinician).post(BULK, {"items": _with_bad_item(assigned_many)})

    details = assert_error(response, 400, "invalid")
    assert details["summary"]["saved"] is False
    assert (details["summary"]["not_saved"], details["summary"]["error"]) == (9, 1)
    bad = details["results"][6]
    assert bad["status"] == "error" and "results" in bad["errors"]
    assert {r["status"] for i, r in enumerate(details["results"]) if i != 6} == {"not_saved"}
    assert not any("uuid" in r for r in details["results"])
    assert not DrugTest.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CREATE, actor=clinician)


def test_bulk_reports_every_problem_at_once(api, assigned_many, clinician, other_participant):
    items = batch(assigned_many, 5)
    items[0]["method"] = "hair"  # the shape
    items[2]["collected_at"] = _future()  # a rule of the service
    items[3]["participant"] = str(other_participant.uuid)  # outside the scope
    items[4] = "not an object"

    details = assert_error(api(clinician).post(BULK, {"items": items}), 400, "invalid")

    rows = details["results"]
    assert [r["status"] for r in rows] == ["error", "not_saved", "error", "error", "error"]
    assert "method" in rows[0]["errors"]
    assert "collected_at" in rows[2]["errors"]
    assert rows[3]["errors"] == {"participant": ["Not found."]}
    assert "non_field_errors" in rows[4]["errors"] and rows[4]["external_id"] is None
    assert not DrugTest.objects.exists()


def test_bulk_allow_partial_saves_the_valid_items(api, assigned_many, clinician):
    items = _with_bad_item(assigned_many)

    response = api(clinician).post(BULK, {"items": items, "allow_partial": True})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["summary"]["created"], body["summary"]["error"]) == (9, 1)
    assert body["summary"]["saved"] is True
    assert body["results"][6]["status"] == "error"
    assert DrugTest.objects.count() == 9
    assert not DrugTest.objects.filter(external_id="LAB-00006").exists()
    assert not DrugTestResult.objects.filter(substance="kratom").exists()


def test_bulk_repeats_an_items_external_id_only_when_it_is_valid(api, assigned, clinician):
    """The answer names each item by the external id it was sent with, but never repeats a text
    the field refused: one too long, with a NUL, or not text at all (a lone surrogate could not
    even be written out)."""
    items = [
        drug_test_body(assigned, "LAB-1"),
        drug_test_body(assigned, " LAB-2 ", method="hair"),
        drug_test_body(assigned, "x" * 101),
        drug_test_body(assigned, "LAB\x00-4"),
        drug_test_body(assigned, "PLACEHOLDER"),
        {**drug_test_body(assigned), "external_id": 12},
    ]
    raw = json.dumps({"items": items, "allow_partial": True})
    raw = raw.replace("PLACEHOLDER", "\\ud800")

    response = api(clinician).post(BULK, raw)

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["external_id"] for r in results] == ["LAB-1", "LAB-2", None, None, None, None]
    assert [r["status"] for r in results] == ["created", *["error"] * 5]
    assert DrugTest.objects.count() == 1


def test_bulk_conflicts_only_is_a_409_and_nothing_saved(api, assigned_many, clinician):
    caller = api(clinician)
    items = batch(assigned_many, 4)
    caller.post(BULK, {"items": items[:2]})
    changed = [{**items[0], "dilute": True}, items[1], items[2], items[3]]

    details = assert_error(caller.post(BULK, {"items": changed}), 409, "conflict")

    assert [r["status"] for r in details["results"]] == [
        "conflict",
        "duplicate",
        "not_saved",
        "not_saved",
    ]
    assert "external_id" in details["results"][0]["errors"]
    assert DrugTest.objects.count() == 2


def test_bulk_duplicate_ids_within_one_batch(api, assigned_many, clinician):
    items = batch(assigned_many, 3)
    same, other = dict(items[0]), {**items[0], "dilute": True}
    response = api(clinician).post(BULK, {"items": [*items, same, other], "allow_partial": True})
    statuses = [r["status"] for r in response.json()["results"]]
    assert statuses == ["created", "created", "created", "duplicate", "conflict"]
    assert DrugTest.objects.count() == 3


def test_bulk_oversize_is_refused_and_nothing_saved(api, assigned, clinician, settings):
    settings.API_BULK_MAX_ITEMS = 5
    response = api(clinician).post(BULK, {"items": batch([assigned], 6), "allow_partial": True})
    assert_error(response, 413, "too_many_items")
    assert "5" in response.json()["error"]["message"]
    assert not DrugTest.objects.exists()
    assert api(clinician).post(BULK, {"items": batch([assigned], 5)}).status_code == 200


def test_bulk_body_too_large_is_refused_unread(api, assigned, clinician, settings):
    settings.API_BULK_MAX_ITEMS = 1
    padding = "x" * 5000
    response = api(clinician).post(BULK, {"items": batch([assigned], 1), "padding": padding})
    assert_error(response, 413, "too_many_items")
    assert not DrugTest.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "items"),
        ({"items": []}, "items"),
        ({"items": {"a": 1}}, "items"),
        ({"items": "x"}, "items"),
        ([], "non_field_errors"),
        ({"items": [{}], "allow_partial": "yes"}, "allow_partial"),
    ],
)
def test_bulk_envelope_errors(api, assigned, clinician, body, field):
    details = assert_error(api(clinician).post(BULK, body), 400, "invalid")
    assert field in details


def test_bulk_from_the_court_team_is_lab_results(api, assigned, personas):
    response = api(personas[Role.COORDINATOR]).post(BULK, {"items": batch([assigned], 3)})
    assert response.status_code == 200, response.content
    assert set(DrugTest.objects.values_list("source", "provider")) == {(Source.LAB, None)}


def test_bulk_for_another_providers_participants_saves_nothing(
    api, assigned, other_provider, clinician
):
    response = api(other_provider.clinician).post(BULK, {"items": batch([assigned], 2)})
    details = assert_error(response, 400, "invalid")
    assert {r["status"] for r in details["results"]} == {"error"}
    assert not DrugTest.objects.exists()


def test_bulk_is_throttled_with_its_own_scope(api, assigned, clinician, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"bulk": "2/min"})
    caller = api(clinician)
    for i in range(2):
        assert caller.post(BULK, {"items": batch([assigned], 1, f"T{i}-")}).status_code == 200
    response = caller.post(BULK, {"items": batch([assigned], 1, "T9-")})
    details = assert_error(response, 429, "throttled")
    assert details["wait_seconds"] > 0 and "Retry-After" in response.headers
    assert caller.post(TESTS, drug_test_body(assigned, "single")).status_code == 201
    assert DrugTest.objects.count() == 3


# --- schema ----------------------------------------------------------------------------------
def test_schema_documents_every_endpoint_with_examples(client, personas):
    client.force_login(personas[Role.JUDGE])
    schema = yaml.safe_load(client.get("/api/schema/").content)
    paths = schema["paths"]
    operations = {
        (PROGRESS, "get"),
        (PROGRESS, "post"),
        (SESSIONS, "get"),
        (SESSIONS, "post"),
        (TESTS, "get"),
        (TESTS, "post"),
        (BULK, "post"),
    }
    assert set(paths[PROGRESS]) == set(paths[SESSIONS]) == set(paths[TESTS]) == {"get", "post"}
    assert set(paths[BULK]) == {"post"}
    for url, method in operations:
        operation = paths[url][method]
        assert operation["tags"] == ["Providers and labs"]
        assert operation["responses"]["200"]["content"]["application/json"]["examples"]
        error = operation["responses"]["400"]["content"]["application/json"]
        assert error["schema"] == {"$ref": "#/components/schemas/Error"}
        if method == "post":
            assert operation["requestBody"]["content"]["application/json"]["examples"]
            assert {"401", "403", "409", "429"} <= set(operation["responses"])
    assert "413" in paths[BULK]["post"]["responses"]
    assert {"404"} <= set(paths[TESTS]["post"]["responses"])
