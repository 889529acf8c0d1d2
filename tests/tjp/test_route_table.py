"""Every role, every route, every kind of record: one literal table.

Records, all admitted participants:
- `own`: of the program, represented by the persona defender, treated by the persona
  clinician's organisation;
- `other_provider`: of the program, treated by another organisation (with its own clinician),
  represented by another defender;
- `unassigned`: of the program, with no defender and no provider;
- `other_program`: of another program.

Expected answers are written out, never derived from the code under test: 200 (or 302 after a
write), 403 (may see the record, not do this), 404 (outside the role's scope: the same answer as
a record that does not exist). Writes that grant access are in the table too.
"""

import json

import pytest
from django.urls import reverse

from participants import services as participant_services
from tests.factories import ParticipantFactory, PhaseFactory, UserFactory, admit
from tjp.models import AuditEvent
from tjp.roles import Role
from treatment import services as treatment_services

R = Role
ROLES = [R.JUDGE, R.PROSECUTOR, R.DEFENDER, R.CLINICIAN, R.COORDINATOR, R.MANAGER, R.ADMINISTRATOR]
RECORDS = ["own", "other_provider", "unassigned", "other_program"]
NONE = (404,) * 7


@pytest.fixture
def world(program, other_program, personas):
    coordinator = personas[R.COORDINATOR]
    ours = treatment_services.provider_create(
        acting_user=None, name="Recovery Clinic", programs=[program]
    )
    treatment_services.provider_add_clinician(
        acting_user=None, provider=ours, user=personas[R.CLINICIAN]
    )
    theirs = treatment_services.provider_create(
        acting_user=None, name="Other Clinic", programs=[program]
    )
    clinician2 = UserFactory(email="clinician2@atc.test", role=R.CLINICIAN, programs=[program])
    treatment_services.provider_add_clinician(acting_user=None, provider=theirs, user=clinician2)
    defender2 = UserFactory(email="defender2@atc.test", role=R.DEFENDER, programs=[program])

    def admitted(first, *, defender=None, provider=None):
        p = admit(ParticipantFactory(program=program, person__first_name=first), by=coordinator)
        if defender is not None:
            participant_services.participant_assign(
                acting_user=coordinator, participant=p, defender=defender
            )
        if provider is not None:
            treatment_services.provider_assign(
                acting_user=coordinator, participant=p, provider=provider, assigned_on=p.entry_date
            )
        return p

    PhaseFactory(program=other_program, number=1)
    elsewhere = UserFactory(email="coord@pjt.test", role=R.COORDINATOR, programs=[other_program])
    return {
        "own": admitted("Own", defender=personas[R.DEFENDER], provider=ours),
        "other_provider": admitted("Other", defender=defender2, provider=theirs),
        "unassigned": admitted("Nobody"),
        "other_program": admit(ParticipantFactory(program=other_program), by=elsewhere),
        "defender2": defender2,
        "stranger_defender": UserFactory(
            email="defender@pjt.test", role=R.DEFENDER, programs=[other_program]
        ),
        "stranger_provider": treatment_services.provider_create(
            acting_user=None, name="Clínica Lejana", programs=[other_program]
        ),
    }


def _url(name, p, *args):
    return reverse(name, args=[p.uuid, *args])


# route -> record -> statuses in ROLES order (judge, prosecutor, defender, clinician,
# coordinator, manager, administrator).
READS = {
    "participant page": (
        lambda p: _url("participant_detail", p),
        {
            "own": (200, 200, 200, 200, 200, 200, 404),
            "other_provider": (200, 200, 404, 404, 200, 200, 404),
            "unassigned": (200, 200, 404, 404, 200, 200, 404),
        },
    ),
    "treatment page": (
        lambda p: _url("participant_treatment", p),
        {
            "own": (200, 200, 200, 200, 200, 200, 404),
            "other_provider": (200, 200, 404, 404, 200, 200, 404),
            "unassigned": (200, 200, 404, 404, 200, 200, 404),
        },
    ),
    "disclosures": (
        lambda p: _url("participant_disclosures", p),
        {
            "own": (403, 403, 403, 403, 200, 200, 404),
            "other_provider": (403, 403, 404, 404, 200, 200, 404),
            "unassigned": (403, 403, 404, 404, 200, 200, 404),
        },
    ),
    "disclosures pdf": (
        lambda p: _url("participant_disclosures_pdf", p),
        {
            "own": (403, 403, 403, 403, 200, 200, 404),
            "other_provider": (403, 403, 404, 404, 200, 200, 404),
            "unassigned": (403, 403, 404, 404, 200, 200, 404),
        },
    ),
    "case summary pdf": (
        lambda p: _url("case_summary_pdf", p),
        {
            "own": (403, 403, 403, 403, 403, 200, 404),
            "other_provider": (403, 403, 404, 404, 403, 200, 404),
            "unassigned": (403, 403, 404, 404, 403, 200, 404),
        },
    ),
    "assign form": (
        lambda p: _url("participant_action", p, "assign"),
        {
            "own": (403, 403, 403, 403, 200, 403, 404),
            "other_provider": (403, 403, 404, 404, 200, 403, 404),
            "unassigned": (403, 403, 404, 404, 200, 403, 404),
        },
    ),
    "provider assignment form": (
        lambda p: _url("treatment_action", p, "provider-assign"),
        {
            "own": (403, 403, 403, 403, 200, 403, 404),
            "other_provider": (403, 403, 404, 404, 200, 403, 404),
            "unassigned": (403, 403, 404, 404, 200, 403, 404),
        },
    ),
    "progress update form": (
        lambda p: _url("treatment_action", p, "progress"),
        {
            "own": (403, 403, 403, 200, 403, 403, 404),
            "other_provider": (403, 403, 404, 404, 403, 403, 404),
            "unassigned": (403, 403, 404, 404, 403, 403, 404),
        },
    ),
    "clinical note form": (
        lambda p: _url("treatment_action", p, "note"),
        {
            "own": (403, 403, 403, 200, 403, 403, 404),
            "other_provider": (403, 403, 404, 404, 403, 403, 404),
            "unassigned": (403, 403, 404, 404, 403, 403, 404),
        },
    ),
    "API participant": (
        lambda p: f"/api/v1/participants/{p.uuid}/",
        {
            "own": (200, 200, 200, 200, 200, 200, 404),
            "other_provider": (200, 200, 404, 404, 200, 200, 404),
            "unassigned": (200, 200, 404, 404, 200, 200, 404),
        },
    ),
    "API progress updates": (
        lambda p: f"/api/v1/progress-updates/?participant={p.uuid}",
        {
            "own": (200, 200, 200, 200, 200, 200, 404),
            "other_provider": (200, 200, 404, 404, 200, 200, 404),
            "unassigned": (200, 200, 404, 404, 200, 200, 404),
        },
    ),
    "API drug tests": (
        lambda p: f"/api/v1/drug-tests/?participant={p.uuid}",
        {
            "own": (200, 200, 200, 200, 200, 200, 404),
            "other_provider": (200, 200, 404, 404, 200, 200, 404),
            "unassigned": (200, 200, 404, 404, 200, 200, 404),
        },
    ),
}
for _route, (_url_of, _table) in READS.items():
    _table["other_program"] = NONE
    assert set(_table) == set(RECORDS), _route


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("route", list(READS))
def test_reads(client, personas, world, route, record):
    url_of, table = READS[route]
    url = url_of(world[record])
    got = []
    for role in ROLES:
        client.force_login(personas[role])
        got.append(client.get(url).status_code)
    assert tuple(got) == table[record], (route, record, dict(zip(ROLES, got, strict=True)))


# --- writes that grant access ----------------------------------------------------------------
# Naming the program's second defender: only the coordinator may (302); the others are refused
# before the form is read.
ASSIGN_OWN_DEFENDER = {
    "own": (403, 403, 403, 403, 302, 403, 404),
    "other_provider": (403, 403, 404, 404, 302, 403, 404),
    "unassigned": (403, 403, 404, 404, 302, 403, 404),
    "other_program": NONE,
}


@pytest.mark.parametrize("record", RECORDS)
def test_assigning_the_programs_own_defender(client, personas, world, record):
    p = world[record]
    got = []
    for role in ROLES:
        client.force_login(personas[role])
        response = client.post(
            _url("participant_action", p, "assign"), {"defender": world["defender2"].pk}
        )
        got.append(response.status_code)
    assert tuple(got) == ASSIGN_OWN_DEFENDER[record]


# Naming another program's defender, or a provider serving another program: refused for
# everyone (the coordinator gets the form back, 400), and the stranger still sees nothing.
GRANT_TO_A_STRANGER = {
    "own": (403, 403, 403, 403, 400, 403, 404),
    "other_provider": (403, 403, 404, 404, 400, 403, 404),
    "unassigned": (403, 403, 404, 404, 400, 403, 404),
    "other_program": NONE,
}


@pytest.mark.parametrize("record", RECORDS)
def test_granting_to_another_programs_defender(client, personas, world, record):
    p, stranger = world[record], world["stranger_defender"]
    got = []
    for role in ROLES:
        client.force_login(personas[role])
        response = client.post(_url("participant_action", p, "assign"), {"defender": stranger.pk})
        got.append(response.status_code)
    assert tuple(got) == GRANT_TO_A_STRANGER[record]
    client.force_login(stranger)
    if record != "other_program":
        assert client.get(_url("participant_detail", p)).status_code == 404
        assert client.get(f"/api/v1/participants/{p.uuid}/").status_code == 404


@pytest.mark.parametrize("record", RECORDS)
def test_assigning_a_provider_of_another_program(client, personas, world, record):
    p, stranger = world[record], world["stranger_provider"]
    got = []
    for role in ROLES:
        client.force_login(personas[role])
        response = client.post(
            _url("treatment_action", p, "provider-assign"),
            {"provider": str(stranger.uuid), "assigned_on": str(p.entry_date)},
        )
        got.append(response.status_code)
    assert tuple(got) == GRANT_TO_A_STRANGER[record]
    assert not p.provider_assignments.filter(provider=stranger).exists()


def test_a_grant_through_the_api_does_not_exist(client, personas, world):
    """The API writes records, never grants: an assignment posted to it is refused."""
    client.force_login(personas[R.COORDINATOR])
    body = {"defender": str(world["stranger_defender"].uuid)}
    response = client.patch(
        f"/api/v1/participants/{world['own'].uuid}/",
        json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 405
    assert world["own"].defender != world["stranger_defender"]


def test_every_refusal_on_a_record_is_in_the_audit_trail(client, personas, world):
    client.force_login(personas[R.DEFENDER])
    assert client.get(_url("participant_detail", world["unassigned"])).status_code == 404
    client.force_login(personas[R.JUDGE])
    assert client.get(_url("participant_action", world["own"], "assign")).status_code == 403
    denied = AuditEvent.objects.filter(action=AuditEvent.Action.DENIED).order_by("pk")
    assert [(e.actor, e.detail["status"]) for e in denied] == [
        (personas[R.DEFENDER], 404),
        (personas[R.JUDGE], 403),
    ]
    assert str(world["unassigned"].uuid) in denied[0].path
