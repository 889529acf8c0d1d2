"""The read-only participants API: scope as a table, filters, minimum necessary, audit, queries."""

from datetime import timedelta

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from participants import services
from participants.models import Case, Charge, InformationCategory
from tests.factories import ParticipantFactory
from tjp.models import AuditEvent
from tjp.roles import Role

LIST = "/api/v1/participants/"
SEES_PARTICIPANT = {
    Role.JUDGE,
    Role.PROSECUTOR,
    Role.COORDINATOR,
    Role.MANAGER,
    Role.DEFENDER,
    Role.CLINICIAN,
}
OTHER_PERSONAS = ["other_defender", "other_clinician", "outsider"]


def detail(participant) -> str:
    return f"{LIST}{participant.uuid}/"


def listed(client, query: str = "") -> list[str]:
    response = client.get(LIST + query)
    assert response.status_code == 200, response.content
    return [row["uuid"] for row in response.json()["results"]]


@pytest.fixture
def user_for(request, personas):
    """A persona by role, or one of the other-persona fixtures by name."""

    def get(who):
        return personas[who] if isinstance(who, Role) else request.getfixturevalue(who)

    return get


# --- scope, as a table -----------------------------------------------------------------------
@pytest.mark.parametrize("who", [*Role, *OTHER_PERSONAS], ids=str)
def test_scope_table(client, user_for, participant, other_participant, who):
    client.force_login(user_for(who))
    allowed = who in SEES_PARTICIPANT
    assert (str(participant.uuid) in listed(client)) is allowed
    assert client.get(detail(participant)).status_code == (200 if allowed else 404)


@pytest.mark.parametrize("who", [*Role, "other_defender", "other_clinician"], ids=str)
def test_another_programs_participant_is_404_for_every_persona(
    client, user_for, participant, other_participant, who
):
    client.force_login(user_for(who))
    assert str(other_participant.uuid) not in listed(client)
    assert client.get(detail(other_participant)).status_code == 404


def test_the_outsider_sees_only_their_own_program(client, outsider, participant, other_participant):
    client.force_login(outsider)
    assert listed(client) == [str(other_participant.uuid)]
    assert client.get(detail(other_participant)).status_code == 200


def test_administrator_list_is_empty(client, personas, participant):
    client.force_login(personas[Role.ADMINISTRATOR])
    assert client.get(LIST).json()["count"] == 0


@pytest.mark.parametrize("path", ["list", "detail", "unknown"])
def test_anonymous_is_refused(client, participant, path):
    url = {"list": LIST, "detail": detail(participant), "unknown": f"{LIST}{'0' * 36}/"}[path]
    assert client.get(url).status_code in (401, 403)


def test_unknown_or_malformed_uuid_is_404(client, personas, participant):
    client.force_login(personas[Role.COORDINATOR])
    assert client.get(f"{LIST}00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get(f"{LIST}{'z' * 36}/").status_code == 404
    assert client.get(f"{LIST}{participant.pk}/").status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_api_is_read_only(client, personas, participant, method):
    client.force_login(personas[Role.COORDINATOR])
    url = LIST if method == "post" else detail(participant)
    response = getattr(client, method)(url, {}, content_type="application/json")
    assert response.status_code == 405
    assert client.get(detail(participant)).json()["status"] == "active"


# --- filters ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"participant", "referral"}),
        ("?search=jose perez", {"referral"}),
        ("?search=JOSÉ", {"referral"}),
        ("?search=nunez", {"participant"}),
        ("?search=perez nunez", set()),
        ("?search=   ", {"participant", "referral"}),
        ("?status=active", {"participant"}),
        ("?status=referred", {"referral"}),
        ("?phase=1", {"participant"}),
        ("?phase=2", set()),
        ("?program={program}", {"participant", "referral"}),
        ("?program={other_program}", set()),
        ("?status=active&search=ana", {"participant"}),
        ("?unknown=1&person__first_name=Ana", {"participant", "referral"}),
        # An empty value is no filter (the schema's allowEmptyValue).
        ("?status=&phase=&program=&search=&page=", {"participant", "referral"}),
    ],
)
def test_filters(client, personas, participant, referral, other_participant, query, expected):
    client.force_login(personas[Role.COORDINATOR])
    query = query.format(
        program=participant.program.uuid, other_program=other_participant.program.uuid
    )
    names = {str(participant.uuid): "participant", str(referral.uuid): "referral"}
    assert {names.get(u, u) for u in listed(client, query)} == expected


@pytest.mark.parametrize(
    "query",
    [
        "?status=bogus",
        "?phase=abc",
        "?phase=1.5",
        "?phase=0",
        "?phase=99999999999999999999999",
        "?program=not-a-uuid",
        "?search=" + "a" * 101,
        "?search=%00",
        "?search=a%1Bb",
        "?search=%C2%9C",
    ],
)
def test_bogus_filter_values_are_refused(client, personas, participant, query):
    client.force_login(personas[Role.COORDINATOR])
    response = client.get(LIST + query)
    assert response.status_code == 400, response.content
    assert not AuditEvent.objects.filter(detail__has_key="list").exists()


# --- the record ------------------------------------------------------------------------------
def test_detail_carries_the_record(client, personas, participant):
    coordinator = personas[Role.COORDINATOR]
    today = timezone.localdate()
    case = Case.objects.create(participant=participant, case_number="CR-1", court="District")
    Charge.objects.create(case=case, description="Possession", level=Charge.Level.FELONY)
    services.consent_record(
        acting_user=coordinator,
        participant=participant,
        data={
            "discloser": "Clinic",
            "categories": [InformationCategory.ATTENDANCE],
            "recipient_roles": [Role.JUDGE.value],
            "purpose": "Court supervision",
            "signed_on": today - timedelta(days=10),
            "expires_on": today + timedelta(days=300),
        },
    )
    services.goal_add(
        acting_user=coordinator, participant=participant, description="Job", target_date=None
    )
    services.service_referral_add(
        acting_user=coordinator,
        participant=participant,
        service="housing",
        agency="Shelter",
        referred_on=today - timedelta(days=5),
    )
    services.arrest_record(
        acting_user=coordinator,
        participant=participant,
        arrested_on=today - timedelta(days=3),
        charge="Theft",
    )
    client.force_login(personas[Role.JUDGE])

    body = client.get(detail(participant)).json()

    assert body["full_name"] == "Ana Núñez"
    assert body["program_code"] == "atc"
    assert (body["status"], body["phase_number"]) == ("active", 1)
    assert body["judge_email"] == personas[Role.JUDGE].email
    assert body["defender_email"] == personas[Role.DEFENDER].email
    assert body["cases"][0]["charges"][0]["description"] == "Possession"
    assert {d["kind"] for d in body["screening_decisions"]} >= {"legal", "clinical", "admission"}
    assert body["assessments"][0]["instrument"] == "rant"
    assert [(s["from_status"], s["to_status"]) for s in body["status_history"]] == [
        ("referred", "active")
    ]
    assert body["phase_history"][0]["to_phase"] == 1
    consent = body["consents"][0]
    assert consent["live"] is True and consent["categories"] == ["attendance"]
    assert [g["description"] for g in body["goals"]] == ["Job"]
    assert body["service_referrals"][0]["agency"] == "Shelter"
    assert body["new_arrests"][0]["charge"] == "Theft"


@pytest.mark.parametrize("role", sorted(SEES_PARTICIPANT))
def test_contact_details_only_for_coordinator_and_defender(client, personas, participant, role):
    person = participant.person
    person.phone, person.email, person.address = "555-0100", "ana@mail.test", "1 Main St"
    person.save(update_fields=["phone", "email", "address"])
    client.force_login(personas[role])

    response = client.get(detail(participant))

    if role in (Role.COORDINATOR, Role.DEFENDER):
        assert response.json()["contact"] == {
            "phone": "555-0100",
            "email": "ana@mail.test",
            "address": "1 Main St",
        }
    else:
        assert response.json()["contact"] is None
        for value in (b"555-0100", b"ana@mail.test", b"1 Main St"):
            assert value not in response.content


# --- audit -----------------------------------------------------------------------------------
def test_detail_read_is_audited(client, personas, participant):
    judge = personas[Role.JUDGE]
    client.force_login(judge)

    client.get(detail(participant))

    event = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, actor=judge).get()
    assert event.participant_uuid == participant.uuid
    assert event.object_id == str(participant.uuid)
    assert event.program == participant.program


def test_list_read_is_audited_with_the_count_on_the_page(client, personas, participant, referral):
    judge = personas[Role.JUDGE]
    client.force_login(judge)

    client.get(LIST)

    event = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, actor=judge).get()
    assert event.detail == {"list": 2}


def test_out_of_scope_detail_writes_no_view_event(client, personas, other_participant):
    client.force_login(personas[Role.JUDGE])
    client.get(detail(other_participant))
    assert not AuditEvent.objects.filter(participant_uuid=other_participant.uuid).filter(
        action=AuditEvent.Action.VIEW
    )


# --- performance -----------------------------------------------------------------------------
def _add_participants(program, count: int) -> None:
    phases = list(program.phases.all())
    for i in range(count):
        ParticipantFactory(
            program=program,
            status="active",
            phase=phases[i % len(phases)],
            entry_date=timezone.localdate() - timedelta(days=30),
        )


def test_list_queries_do_not_grow_with_the_page(
    client, personas, program, django_assert_max_num_queries
):
    client.force_login(personas[Role.COORDINATOR])
    _add_participants(program, 3)
    client.get(LIST)  # warm the session up
    with CaptureQueriesContext(connection) as three:
        assert len(listed(client)) == 3

    _add_participants(program, 27)
    with django_assert_max_num_queries(len(three)):
        assert len(listed(client)) == 30


# --- schema ----------------------------------------------------------------------------------
def test_schema_documents_both_endpoints(client, personas):
    client.force_login(personas[Role.JUDGE])
    response = client.get("/api/schema/")
    assert response.status_code == 200
    paths = yaml.safe_load(response.content)["paths"]
    assert {"/api/v1/participants/", "/api/v1/participants/{uuid}/"} <= set(paths)
    parameters = {p["name"] for p in paths["/api/v1/participants/"]["get"]["parameters"]}
    assert {"program", "status", "phase", "search", "page"} <= parameters
    assert set(paths["/api/v1/participants/{uuid}/"]) == {"get"}
