"""API tokens (created, shown once, used, revoked in the UI; stored hashed) and the API's one
error shape and throttling."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework import exceptions
from rest_framework.throttling import UserRateThrottle

from tjp.api_errors import Conflict, error_responses, exception_handler
from tjp.models import ApiTokenName, AuditEvent
from tjp.roles import Role

TOKENS = "/accounts/tokens/"
PROGRAMS = "/api/v1/programs/"
PARTICIPANTS = "/api/v1/participants/"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()  # throttling counts live in the cache
    yield
    cache.clear()


def create_token(client, name="Lab upload") -> str:
    response = client.post(TOKENS, {"name": name})
    assert response.status_code == 200, response.content
    token = response.context["token"]
    assert token in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    return token


def api(path, token=None, method="get", **kwargs):
    """A fresh client, no session: only the token authenticates."""
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    return getattr(Client(), method)(path, **headers, **kwargs)


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"status", "code", "message", "details"}, body
    assert body["error"]["status"] == status
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def text_columns_containing(value: str) -> list[str]:
    """Every text, varchar and json column of every table whose value contains `value`."""
    hits = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() "
            "AND data_type IN ('text', 'character varying', 'json', 'jsonb')"
        )
        for table, column in cursor.fetchall():
            qt, qc = connection.ops.quote_name(table), connection.ops.quote_name(column)
            cursor.execute(f"SELECT 1 FROM {qt} WHERE {qc}::text LIKE %s LIMIT 1", [f"%{value}%"])  # noqa: S608
            if cursor.fetchone():
                hits.append(f"{table}.{column}")
    return hits


# --- the whole life of a token ---------------------------------------------------------------
def test_token_is_shown_once_works_and_stops_working_when_revoked(as_user, personas, program):
    coordinator = personas[Role.COORDINATOR]
    client = as_user(coordinator)
    token = create_token(client)

    # Shown once: the list names it but never shows it again.
    page = client.get(TOKENS)
    assert page.status_code == 200
    content = page.content.decode()
    assert "Lab upload" in content
    assert token not in content
    assert token[:8] in content

    # It authenticates, as its owner and scoped like them.
    response = api(PROGRAMS, token)
    assert response.status_code == 200, response.content
    assert [p["uuid"] for p in response.json()["results"]] == [str(program.uuid)]

    label = ApiTokenName.objects.get(token__user=coordinator)
    response = client.post(reverse("api_token_revoke", args=[label.uuid]))
    assert response.status_code == 302
    assert not AuthToken.objects.filter(user=coordinator).exists()
    assert not ApiTokenName.objects.exists()

    error = assert_error(api(PROGRAMS, token), 401, "authentication_failed")
    assert error["details"] is None


def test_token_is_stored_hashed_and_nowhere_in_clear(as_user, personas):
    client = as_user(personas[Role.CLINICIAN])
    token = create_token(client)
    client.get(TOKENS)
    api(PROGRAMS, token)

    stored = AuthToken.objects.get(user=personas[Role.CLINICIAN])
    assert stored.digest != token
    assert len(stored.digest) == 128  # SHA-512, hex
    assert token.startswith(stored.token_key) and len(stored.token_key) < len(token)
    assert text_columns_containing(token) == []
    for session in Session.objects.all():  # encoded, so decode before looking
        assert token not in str(session.get_decoded())


def test_create_and_revoke_are_audited_without_the_token(as_user, personas):
    coordinator = personas[Role.COORDINATOR]
    client = as_user(coordinator)
    token = create_token(client, name="EHR")
    label = ApiTokenName.objects.get()
    client.post(reverse("api_token_revoke", args=[label.uuid]))

    granted = AuditEvent.objects.get(actor=coordinator, action=AuditEvent.Action.GRANT)
    revoked = AuditEvent.objects.get(actor=coordinator, action=AuditEvent.Action.REVOKE)
    for event in (granted, revoked):
        assert event.object_type == "tjp.apitokenname"
        assert event.object_id == str(label.uuid)
        assert event.object_repr == "EHR"
        assert event.detail["api_token"] == token[:8]
    assert text_columns_containing(token) == []


def test_a_user_may_hold_several_tokens_and_revoke_one(as_user, personas):
    client = as_user(personas[Role.COORDINATOR])
    first, second = create_token(client, "one"), create_token(client, "two")
    client.post(reverse("api_token_revoke", args=[ApiTokenName.objects.get(name="one").uuid]))
    assert api(PROGRAMS, first).status_code == 401
    assert api(PROGRAMS, second).status_code == 200


def test_token_limit_per_user(as_user, personas, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    client = as_user(personas[Role.COORDINATOR])
    create_token(client, "one")
    create_token(client, "two")
    response = client.post(TOKENS, {"name": "three"})
    assert response.status_code == 200
    assert "token" not in response.context
    assert AuthToken.objects.filter(user=personas[Role.COORDINATOR]).count() == 2


def test_a_name_is_required(as_user, personas):
    client = as_user(personas[Role.COORDINATOR])
    response = client.post(TOKENS, {"name": ""})
    assert response.status_code == 200
    assert "token" not in response.context
    assert not AuthToken.objects.exists()


def test_an_expired_token_is_refused(as_user, personas):
    token = create_token(as_user(personas[Role.CLINICIAN]))
    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    assert_error(api(PROGRAMS, token), 401, "authentication_failed")


def test_tokens_expire_after_the_configured_ttl(as_user, personas, settings):
    create_token(as_user(personas[Role.CLINICIAN]))
    expiry = AuthToken.objects.get().expiry
    expected = timezone.now() + settings.REST_KNOX["TOKEN_TTL"]
    assert abs((expiry - expected).total_seconds()) < 60


def test_a_token_stops_working_when_its_owner_loses_the_role(as_user, personas):
    coordinator = personas[Role.COORDINATOR]
    token = create_token(as_user(coordinator))
    coordinator.groups.set([Group.objects.get(name=Role.JUDGE.value)])
    assert_error(api(PROGRAMS, token), 401, "authentication_failed")


def test_a_deactivated_account_token_is_refused(as_user, personas):
    coordinator = personas[Role.COORDINATOR]
    token = create_token(as_user(coordinator))
    coordinator.is_active = False
    coordinator.save()
    assert api(PROGRAMS, token).status_code == 401


# --- who may ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "role", [Role.JUDGE, Role.PROSECUTOR, Role.DEFENDER, Role.MANAGER, Role.ADMINISTRATOR]
)
def test_other_roles_may_not_have_tokens(as_user, personas, role):
    client = as_user(personas[role])
    assert client.get(TOKENS).status_code == 403
    assert client.post(TOKENS, {"name": "x"}).status_code == 403
    assert not AuthToken.objects.exists()
    assert "API tokens" not in client.get("/").content.decode()


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.COORDINATOR])
def test_provider_roles_see_the_nav_link(as_user, personas, role):
    assert reverse("api_tokens") in as_user(personas[role]).get("/").content.decode()


def test_another_users_token_is_404_and_stays(client, personas):
    client.force_login(personas[Role.CLINICIAN])
    token = create_token(client)
    label = ApiTokenName.objects.get()
    client.force_login(personas[Role.COORDINATOR])
    assert client.post(reverse("api_token_revoke", args=[label.uuid])).status_code == 404
    assert "Lab upload" not in client.get(TOKENS).content.decode()
    assert api(PROGRAMS, token).status_code == 200
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.REVOKE).exists()


def test_revoke_is_post_only(as_user, personas):
    client = as_user(personas[Role.COORDINATOR])
    create_token(client)
    assert (
        client.get(reverse("api_token_revoke", args=[ApiTokenName.objects.get().uuid])).status_code
        == 405
    )
    assert AuthToken.objects.count() == 1


def test_anonymous_is_sent_to_sign_in(client, personas):
    response = client.get(TOKENS)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    response = client.post(
        reverse("api_token_revoke", args=["3f2b8c1e-5d4a-4e7b-9c0d-1a2b3c4d5e6f"])
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- the error shape -------------------------------------------------------------------------
@pytest.fixture
def token(as_user, personas):
    return create_token(as_user(personas[Role.COORDINATOR]))


def test_unknown_participant_is_404_in_the_shape(token):
    error = assert_error(
        api(f"{PARTICIPANTS}00000000-0000-0000-0000-000000000000/", token), 404, "not_found"
    )
    assert error["details"] is None
    assert "Participant" not in error["message"]  # Django's own 404 text names the model


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing-here/",
        f"{PARTICIPANTS}not-a-uuid/",
        f"{PARTICIPANTS}{'z' * 36}/",
        "/api/v1/programs/0.5/",
        "/api/v1/drug-tests/bulk/extra/",
    ],
)
def test_a_path_that_names_no_endpoint_is_404_in_the_shape(token, path):
    assert_error(api(path, token), 404, "not_found")


def test_a_page_that_does_not_exist_is_still_a_page(as_user, personas):
    response = as_user(personas[Role.COORDINATOR]).get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_no_credentials_is_401_in_the_shape():
    response = api(PROGRAMS)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_bad_token_is_401_in_the_shape(db):
    assert_error(api(PROGRAMS, "0" * 64), 401, "authentication_failed")
    assert_error(api(PROGRAMS, "not-hex"), 401, "authentication_failed")


def test_wrong_method_is_405_in_the_shape(token):
    response = api(PROGRAMS, token, method="post", data="{}", content_type="application/json")
    assert_error(response, 405, "method_not_allowed")


def test_bad_filter_is_400_with_field_details(token):
    error = assert_error(api(f"{PARTICIPANTS}?phase=abc", token), 400, "invalid")
    assert set(error["details"]) == {"phase"}
    assert isinstance(error["details"]["phase"], list)


def test_malformed_json_is_400_in_the_shape(as_user, personas):
    # Any endpoint that accepts a JSON POST will do: the body is refused before anything else.
    path = "/api/v1/progress-updates/"
    try:
        resolve(path)
    except Resolver404:
        pytest.skip("no JSON POST endpoint yet")
    token = create_token(as_user(personas[Role.CLINICIAN]))
    response = api(
        path, token, method="post", data='{"participant": ', content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_error_responses_document_the_shape():
    responses = error_responses(400, 404, 409, 413, 429)
    assert set(responses) == {400, 404, 409, 413, 429}
    example = responses[409].examples[0].value
    assert example["error"]["code"] == "conflict" and example["error"]["status"] == 409


def test_errors_are_in_the_request_language(token):
    response = api(PROGRAMS, token, method="post", HTTP_ACCEPT_LANGUAGE="es")
    error = assert_error(response, 405, "method_not_allowed")
    assert error["message"] != 'Method "POST" not allowed.'


def test_throttled_is_429_in_the_shape(token, monkeypatch):
    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "2/min")
    cache.clear()
    assert api(PROGRAMS, token).status_code == 200
    assert api(PROGRAMS, token).status_code == 200
    response = api(PROGRAMS, token)
    error = assert_error(response, 429, "throttled")
    assert 0 < error["details"]["wait_seconds"] <= 60
    assert int(response["Retry-After"]) == error["details"]["wait_seconds"]


def test_bulk_scope_has_a_rate(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["bulk"]


@pytest.mark.parametrize(
    ("exc", "status", "code", "details"),
    [
        (exceptions.ParseError("JSON parse error - Expecting value"), 400, "parse_error", None),
        (
            exceptions.ValidationError({"results": [{"substance": ["Unknown."]}]}),
            400,
            "invalid",
            {"results": [{"substance": ["Unknown."]}]},
        ),
        (exceptions.ValidationError(["Too many items."]), 400, "invalid", ["Too many items."]),
        (Conflict(), 409, "conflict", None),
        (
            Conflict({"external_id": ["Sent before with other content."]}),
            409,
            "conflict",
            {"external_id": ["Sent before with other content."]},
        ),
        (Http404("No Participant matches the given query."), 404, "not_found", None),
        (PermissionDenied("secret reason"), 403, "permission_denied", None),
        (exceptions.Throttled(wait=3), 429, "throttled", {"wait_seconds": 3}),
    ],
)
def test_the_handler_shapes_every_api_error(db, exc, status, code, details):
    response = exception_handler(exc, {"view": None, "request": None})
    assert response.status_code == status
    error = response.data["error"]
    assert (error["status"], error["code"], error["details"]) == (status, code, details)
    assert "Participant" not in error["message"] and "secret" not in error["message"]


def test_the_handler_leaves_server_errors_to_django():
    assert exception_handler(ValueError("boom"), {"view": None, "request": None}) is None
