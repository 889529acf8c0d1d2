"""The API as specified: schemathesis runs every operation of the OpenAPI schema the API serves,
in process, as the three kinds of caller the API has, and holds every answer to the schema.

The callers: a provider's clinician with an API token, a lab (a coordinator's account holding a
token for result uploads) and a coordinator signed in to the browser (session cookie and CSRF
token). Each operation goes through schemathesis's phases: the schema's own examples, the
coverage cases at every boundary of every parameter, then generated data, valid and invalid;
and each answer through every check: no server error; the status code, content type, headers
and body as documented; invalid data refused; valid data accepted (but see
`_refused_by_an_unstated_rule`); a request without the credentials refused.

The data is real: participants in and out of each caller's scope, a consent, treatment records
and hearings. Generated uuids are swapped, deterministically, for seeded ones most of the time,
so a request names a record the caller may see, one they may not (404) or one that does not
exist.

Run it alone with `pytest -n 0 tests/api/test_schemathesis.py`: at the end of the run pytest
prints the number of cases and failures per caller. A failure shows the request as a curl
command.
"""

import json
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from knox.models import AuthToken
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.meta import TestPhase

from hearings import services as hearing_services
from participants import services as participant_services
from participants.models import InformationCategory
from tests.factories import ParticipantFactory, PhaseFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.roles import Role
from treatment import services as treatment_services
from treatment.api.serializers import (
    DrugTestInSerializer,
    ProgressUpdateInSerializer,
    TreatmentSessionInSerializer,
)

SCHEMA_URL = "/api/schema/"
CALLERS = ["clinician", "lab", "coordinator"]
# The schema's examples are dated March 2025: the seeded participants were referred before, so
# the examples are valid submissions, as an integrator copying them would expect.
REFERRED_ON = date(2025, 1, 6)
BULK = "POST /api/v1/drug-tests/bulk/"
WRITE_SERIALIZERS = {
    "POST /api/v1/progress-updates/": ProgressUpdateInSerializer,
    "POST /api/v1/treatment-sessions/": TreatmentSessionInSerializer,
    "POST /api/v1/drug-tests/": DrugTestInSerializer,
}
COURT_LISTS = {
    "GET /api/v1/progress-updates/",
    "GET /api/v1/treatment-sessions/",
    "GET /api/v1/drug-tests/",
}


def generated_schema() -> dict:
    """The schema as /api/schema/ serves it (the same generator and settings; checked by
    test_the_schema_served_is_the_one_tested). Built when the module is collected, before
    there is a database: schemathesis makes one test per operation from it."""
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))


schema = schemathesis.openapi.from_dict(
    generated_schema(),
    # Each caller's credentials are given; generated ones would only show, case after case, that
    # a wrong token is a 401 (the ignored_auth check probes each operation without credentials).
    config=schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}}),
)
# In process; the checks that send a request again (without credentials, say) use it too.
schema.app = WSGIHandler()


# --- the world the callers see -----------------------------------------------------------------
@dataclass
class World:
    """Seeded records, by kind: the uuids generated path and query values are swapped for."""

    uuids: dict[str, list[str]] = field(default_factory=dict)


def _admitted(program, coordinator, **person) -> Any:
    referral = ParticipantFactory(
        program=program,
        referred_on=REFERRED_ON,
        arrest_date=REFERRED_ON - timedelta(days=10),
        **{f"person__{k}": v for k, v in person.items()},
    )
    days_in = (program_today(program) - REFERRED_ON).days - 30
    return admit(referral, by=coordinator, entry_days_ago=days_in)


@pytest.fixture
def world(program, other_program, personas) -> World:
    coordinator, clinician = personas[Role.COORDINATOR], personas[Role.CLINICIAN]
    ana = _admitted(program, coordinator, first_name="Ana", last_name="Núñez")
    bea = _admitted(program, coordinator, first_name="Bea", last_name="Ortiz")
    PhaseFactory(program=other_program, number=1)
    elsewhere_coordinator = UserFactory(role=Role.COORDINATOR, programs=[other_program])
    carla = _admitted(other_program, elsewhere_coordinator, first_name="Carla", last_name="Ruiz")

    # Ana is treated by the clinician's organisation and consents to the court seeing it; Bea is
    # the court's only (404 to the clinician); Carla belongs to another program (404 to all).
    provider = treatment_services.provider_create(
        acting_user=None, name="Recovery Clinic", programs=[program]
    )
    treatment_services.provider_add_clinician(acting_user=None, provider=provider, user=clinician)
    treatment_services.provider_assign(
        acting_user=coordinator, participant=ana, provider=provider, assigned_on=ana.entry_date
    )
    participant_services.participant_assign(
        acting_user=coordinator,
        participant=ana,
        judge=personas[Role.JUDGE],
        defender=personas[Role.DEFENDER],
    )
    participant_services.consent_record(
        acting_user=coordinator,
        participant=ana,
        data={
            "discloser": "Recovery Clinic",
            "categories": InformationCategory.values,
            "recipient_roles": ["judge", "prosecutor", "defender", "coordinator", "manager"],
            "purpose": "Monitor participation in the treatment court.",
            "criminal_justice": True,
            "signed_on": ana.entry_date,
            "expires_on": None,
            "expiry_event": "Final disposition of the case",
        },
    )

    day = program_today(program)
    now = timezone.now()
    treatment_services.progress_update_record(
        acting_user=clinician,
        participant=ana,
        period_start=day - timedelta(days=14),
        period_end=day - timedelta(days=1),
        engagement="good",
        summary="Attends every group.",
        recommendations="Continue.",
    )
    treatment_services.session_record(
        acting_user=clinician,
        participant=ana,
        session_date=day - timedelta(days=2),
        kind="group",
        attendance="attended",
        hours=1.5,
    )
    treatment_services.drug_test_record(
        acting_user=clinician,
        participant=ana,
        collected_at=now - timedelta(days=3),
        method="urine",
        results=[("cocaine", "negative"), ("fentanyl", "positive")],
        resulted_at=now - timedelta(days=2),
        lab="Central Toxicology",
    )
    for participant in (ana, bea):
        treatment_services.drug_test_record(
            acting_user=coordinator,
            participant=participant,
            collected_at=now - timedelta(days=1),
            method="breath",
            results=[("alcohol", "negative")],
        )

    def hearing(days: int):
        return hearing_services.session_create(
            acting_user=coordinator,
            program=program,
            kind="status_review",
            judge=personas[Role.JUDGE],
            courtroom="3B",
            day=day + timedelta(days=days),
            start=time(9, 0),
            duration_minutes=120,
        )

    held, ahead = hearing(-7), hearing(7)
    entry = hearing_services.docket_add(acting_user=coordinator, session=held, participant=ana)
    hearing_services.docket_add(acting_user=coordinator, session=held, participant=bea)
    hearing_services.docket_add(acting_user=coordinator, session=ahead, participant=bea)
    hearing_services.entry_update(
        acting_user=coordinator, entry=entry, field="attendance", value="present", expected=""
    )

    return World(
        uuids={
            # Weighted towards the records in the callers' scope.
            "participant": [str(p.uuid) for p in (ana, ana, ana, bea, carla)],
            "program": [str(p.uuid) for p in (program, program, other_program)],
            "hearing-session": [str(s.uuid) for s in (held, held, ahead)],
        }
    )


# --- the callers -------------------------------------------------------------------------------
@dataclass
class Caller:
    """Who calls, with what credentials; and what happened to their cases in one operation."""

    name: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    statuses: Counter = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)  # "check: detail" → curl

    def sent_headers(self) -> dict[str, str]:
        """The headers as sent, the cookies included. The in-process client takes the cookies
        apart (it drops a `Cookie` header); given this way, schemathesis knows the session
        cookie for the credential it is (the schema's cookieAuth), and its ignored_auth check
        sends the request again without it."""
        if not self.cookies:
            return self.headers
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return {**self.headers, "Cookie": cookie}

    def record(self, case, response, error: FailureGroup | None) -> None:
        self.statuses[response.status_code] += 1
        for failure in error.exceptions if error else ():
            first_line = (failure.message or "").partition("\n")[0]
            self.failures.setdefault(f"{failure.title}: {first_line}", case.as_curl_command())


def _token(user) -> dict[str, str]:
    _, token = AuthToken.objects.create(user)
    return {"Authorization": f"Token {token}"}


@pytest.fixture(params=CALLERS)
def caller(request, world, personas, program, client) -> Caller:
    name = request.param
    if name == "clinician":
        caller = Caller(name, headers=_token(personas[Role.CLINICIAN]))
    elif name == "lab":
        lab = UserFactory(email="lab@atc.test", role=Role.COORDINATOR, programs=[program])
        caller = Caller(name, headers=_token(lab))
    else:
        # The browser's session: signed in through the test client (whatever signing in takes,
        # a second factor included, force_login gives), then its cookies and the CSRF token, as
        # the pages' scripts send them.
        client.force_login(personas[Role.COORDINATOR])
        client.get("/")  # a page with a form: sets the CSRF cookie
        cookies = {
            cookie: client.cookies[cookie].value
            for cookie in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)
        }
        caller = Caller(
            name, headers={"X-CSRFToken": cookies[settings.CSRF_COOKIE_NAME]}, cookies=cookies
        )
    return caller


@pytest.fixture
def counted_caller(caller, request):
    """The caller, whose cases go into the run's summary (tests/api/conftest.py), also from
    pytest-xdist's workers."""
    yield caller
    request.node.user_properties.append(
        (
            "schemathesis",
            {
                "caller": caller.name,
                "cases": sum(caller.statuses.values()),
                "statuses": {str(k): v for k, v in caller.statuses.items()},
                "failures": [f"{request.node.name}: {f}" for f in caller.failures],
            },
        )
    )


@pytest.fixture
def wsgi_app(monkeypatch):
    """Django's WSGI handler, called in process (the test's database transaction is visible).
    As in Django's own test client, a request must not close the test's connection."""
    # Thousands of requests a minute: throttling is tested on its own (tests/tjp).
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "1000000/min"),
    )
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schema.app
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# --- real values for generated ones ------------------------------------------------------------
def _pick(seed: str, pool: list[str]) -> str | None:
    """One of the pool, chosen by `seed` (so a run is reproducible), or None one time in
    len(pool) + 1."""
    index = zlib.crc32(seed.encode()) % (len(pool) + 1)
    return pool[index] if index < len(pool) else None


def _real(value: Any, pool: list[str]) -> Any:
    """A seeded uuid in place of a generated one; now and then the generated one stays (no such
    record), and an invalid value stays invalid."""
    if not isinstance(value, str):
        return value
    try:
        uuid.UUID(value)
    except ValueError:
        return value
    return _pick(value, pool) or value


def _use_real_records(case, world: World, caller: Caller) -> None:
    """Seeded uuids for generated ones in the path, the query and the body; and for a court
    role's list of treatment records, most of the time a participant (without one, the answer
    is always the same 400). Assigning the containers, not editing them in place, makes
    schemathesis re-check whether the case is still valid or invalid data."""
    path = case.operation.path
    kind = next((k for k in world.uuids if f"/{k}s/" in path), None)
    if kind and "uuid" in (case.path_parameters or {}):
        case.path_parameters = {
            **case.path_parameters,
            "uuid": _real(case.path_parameters["uuid"], world.uuids[kind]),
        }
    if isinstance(case.query, dict):
        query = {
            name: _real(value, world.uuids[name]) if name in world.uuids else value
            for name, value in case.query.items()
        }
        court_list = case.operation.label in COURT_LISTS and caller.name != "clinician"
        if court_list and not query.get("participant"):
            # Chosen by the generated query, not by the seeded uuids (new on every run).
            chosen = _pick(repr(sorted(case.query.items())), world.uuids["participant"])
            query = {**query, "participant": chosen} if chosen else query
        if query != case.query:
            case.query = query
    body = case.body
    example = case.meta is not None and case.meta.phase.name == TestPhase.EXAMPLES
    if isinstance(body, dict):
        items = body.get("items")
        if isinstance(items, list):
            swapped = [_with_participant(item, world, example) for item in items]
            if swapped != items:
                case.body = {**body, "items": swapped}
        elif "participant" in body:
            swapped = _with_participant(body, world, example)
            if swapped != body:
                case.body = swapped


def _with_participant(item: Any, world: World, example: bool) -> Any:
    if not isinstance(item, dict) or "participant" not in item:
        return item
    pool = world.uuids["participant"]
    if example:  # a documented example is sent as an integrator would: for one in scope
        return {**item, "participant": pool[0]}
    return {**item, "participant": _real(item["participant"], pool)}


# --- the run -----------------------------------------------------------------------------------
def _refused_by_an_unstated_rule(case, response, caller: Caller) -> bool:
    """Whether a 400 to a request the schema calls valid is one of the API's rules that a
    schema cannot state, so that `positive_data_acceptance` does not apply to it.

    - A write whose body has the documented shape (the input serializer takes it) and breaks a
      rule relative to the world: a date in the future or before the referral, a period ending
      before it starts, a result before its collection, a substance twice, no result for a test
      that was taken. The services refuse those, with field errors (docs/api.md §3).
    - A court role listing treatment records without `participant` (docs/api.md §6): the
      schema is the same for every caller, and for clinicians the filter is optional.
    """
    if response.status_code != 400:
        return False
    label = case.operation.label
    if label in COURT_LISTS:
        return caller.name != "clinician" and not (case.query or {}).get("participant")
    if label == BULK:
        items = case.body.get("items") if isinstance(case.body, dict) else None
        return isinstance(items, list) and all(
            DrugTestInSerializer(data=item).is_valid() for item in items
        )
    if label in WRITE_SERIALIZERS:
        return WRITE_SERIALIZERS[label](data=case.body).is_valid()
    return False


def _a_partial_batch(case, response) -> bool:
    """With allow_partial, a batch answers 200 and refuses its invalid items one by one
    (docs/api.md §4): for invalid data, the refusal to look for is in the items' statuses."""
    return (
        case.operation.label == BULK
        and response.status_code == 200
        and isinstance(case.body, dict)
        and case.body.get("allow_partial") is True
    )


def _an_object_in_the_query(case) -> bool:
    """An object in place of a query parameter: a query string has no objects, and how one is
    flattened is up to the client (schemathesis's in-process client drops its name), so the
    API never sees it; whether the request is invalid is moot."""
    return isinstance(case.query, dict) and any(isinstance(v, dict) for v in case.query.values())


def invalid_items_are_refused(ctx, response, case) -> None:
    """A partial batch the schema calls invalid saves it not as a whole: an item is refused."""
    summary = response.json()["summary"]
    assert summary["error"] > 0, f"Every item of an invalid batch was accepted: {summary}"


@hypothesis.settings(
    # Generated cases per operation, after the examples and the coverage cases (about 1,000
    # cases per caller in all); the same ones on every run.
    max_examples=10,
    derandomize=True,
    database=None,
    deadline=None,  # a request writes audit rows; its time is not under test
    suppress_health_check=[
        # The seeded world is shared by an operation's cases on purpose.
        hypothesis.HealthCheck.function_scoped_fixture,
        hypothesis.HealthCheck.too_slow,
        hypothesis.HealthCheck.filter_too_much,
        hypothesis.HealthCheck.data_too_large,
        hypothesis.HealthCheck.large_base_example,
    ],
)
@schema.parametrize()
def test_the_api_answers_as_specified(case, counted_caller, world, wsgi_app):
    caller = counted_caller
    _use_real_records(case, world, caller)
    credentials = {"headers": caller.headers, "cookies": caller.cookies}
    response = case.call(**credentials)
    excluded, additional = [], []
    if _refused_by_an_unstated_rule(case, response, caller):
        excluded.append(positive_data_acceptance)
    if case.meta.generation.mode.is_negative and _a_partial_batch(case, response):
        excluded.append(negative_data_rejection)
        additional.append(invalid_items_are_refused)
    if _an_object_in_the_query(case):
        excluded.append(negative_data_rejection)
    try:
        case.validate_response(
            response,
            headers=caller.sent_headers(),
            excluded_checks=excluded,
            additional_checks=additional,
            transport_kwargs=credentials,
        )
    except FailureGroup as error:
        caller.record(case, response, error)
        raise
    caller.record(case, response, None)


# --- the schema itself -------------------------------------------------------------------------
def test_the_schema_served_is_the_one_tested(caller, wsgi_app):
    """Each caller is served exactly the schema the run above was made from."""
    from werkzeug.test import Client

    browser = Client(wsgi_app)
    for name, value in caller.cookies.items():
        browser.set_cookie(name, value)
    response = browser.get(f"{SCHEMA_URL}?format=json", headers=caller.headers)
    assert response.status_code == 200, response.get_data()
    assert json.loads(response.get_data()) == schema.raw_schema


def _operations():
    for path, operations in schema.raw_schema["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def test_every_error_an_operation_can_give_is_documented_in_the_one_shape():
    """What a run cannot provoke: every operation needs credentials (401) and is throttled
    (429); what a run may miss: a list's pages (404), a write's content type (415) and its
    refusals (403)."""
    error = {"$ref": "#/components/schemas/Error"}
    for label, operation in _operations():
        expected = {"401", "429"}
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        if "page" in query:
            expected |= {"404"} | ({"400"} if query - {"page"} else set())
        if "{uuid}" in label:
            expected |= {"404"}
        if "requestBody" in operation:
            expected |= {"400", "403", "415"}
        responses = operation["responses"]
        assert expected <= set(responses), (label, expected - set(responses))
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert response["content"]["application/json"]["schema"] == error, label


def test_path_uuids_and_empty_filters_are_stated():
    for label, operation in _operations():
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert parameter["schema"] == {"type": "string", "format": "uuid"}, label
            elif parameter["in"] == "query":
                assert parameter["allowEmptyValue"] is True, (label, parameter["name"])
