"""Role by action by record, as one table. Every role, plus an outsider from another program."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import UserFactory
from tjp.access import get_program_for_user, programs_visible_to
from tjp.roles import Role

R = Role
ALL_PROGRAM_ROLES = [R.JUDGE, R.PROSECUTOR, R.DEFENDER, R.CLINICIAN, R.COORDINATOR, R.MANAGER]

# action: (url name, method) ; expected status per role for `program`'s record
ACCESS_TABLE = {
    "view program page": (
        "program_detail",
        "get",
        {**{r: 200 for r in ALL_PROGRAM_ROLES}, R.ADMINISTRATOR: 200},
    ),
    "open settings form": (
        "program_settings",
        "get",
        {**{r: 403 for r in ALL_PROGRAM_ROLES}, R.MANAGER: 200, R.ADMINISTRATOR: 200},
    ),
    "read program over the API": (
        "program-detail",
        "get",
        {**{r: 200 for r in ALL_PROGRAM_ROLES}, R.ADMINISTRATOR: 200},
    ),
}


def _url(name, program):
    kwarg = "uuid" if name.startswith("program-") else "program_uuid"
    return reverse(name, kwargs={kwarg: program.uuid})


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(ACCESS_TABLE))
def test_role_action_table(client, personas, program, role, action):
    name, method, expected = ACCESS_TABLE[action]
    client.force_login(personas[role])
    response = getattr(client, method)(_url(name, program))
    assert response.status_code == expected[role], (role, action)


@pytest.mark.parametrize("action", list(ACCESS_TABLE))
def test_outsider_gets_404_for_every_action(client, outsider, program, action):
    name, method, _ = ACCESS_TABLE[action]
    client.force_login(outsider)
    assert getattr(client, method)(_url(name, program)).status_code == 404


def test_outsider_holding_every_permission_still_gets_404(client, other_program, program):
    """Role permissions never widen scope: a user with every model permission of every app,
    staff of another program, still cannot see this one (guardian with global perms off)."""
    user = UserFactory(email="everything@pjt.test", programs=[other_program])
    user.user_permissions.set(Permission.objects.exclude(codename="administer_all_programs"))
    client.force_login(user)
    assert client.get(_url("program_detail", program)).status_code == 404
    assert client.get(_url("program-detail", program)).status_code == 404
    assert list(programs_visible_to(user)) == [other_program]


def test_settings_403_holds_with_every_permission_but_change_program(client, program):
    user = UserFactory(email="almost@atc.test", programs=[program])
    user.user_permissions.set(
        Permission.objects.exclude(codename__in=["change_program", "administer_all_programs"])
    )
    client.force_login(user)
    assert client.get(_url("program_settings", program)).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="change_program"))
    client.force_login(user)
    assert client.get(_url("program_settings", program)).status_code == 200


def test_api_list_is_scoped(client, personas, outsider, program, other_program):
    client.force_login(personas[R.JUDGE])
    codes = [p["code"] for p in client.get("/api/v1/programs/").json()["results"]]
    assert codes == ["atc"]
    client.force_login(outsider)
    codes = [p["code"] for p in client.get("/api/v1/programs/").json()["results"]]
    assert codes == ["pjt"]


@pytest.mark.parametrize("role", ALL_PROGRAM_ROLES)
def test_home_lists_only_own_programs(client, personas, outsider, program, other_program, role):
    client.force_login(personas[role])
    page = client.get(reverse("home")).content.decode()
    assert program.name in page
    assert other_program.name not in page


def test_administrator_sees_every_program(personas, program, other_program):
    assert set(programs_visible_to(personas[R.ADMINISTRATOR])) == {program, other_program}


def test_inactive_user_sees_nothing(personas, program):
    judge = personas[R.JUDGE]
    judge.is_active = False
    assert not programs_visible_to(judge).exists()


def test_unknown_or_malformed_id_is_404(personas):
    from django.http import Http404

    with pytest.raises(Http404):
        get_program_for_user(personas[R.JUDGE], "not-a-uuid")
    with pytest.raises(Http404):
        get_program_for_user(personas[R.JUDGE], "00000000-0000-0000-0000-000000000000")
