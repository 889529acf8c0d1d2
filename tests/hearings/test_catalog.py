"""The response catalog page: the team reads it, program managers add, edit and take entries out
of use, through `response_type_save`."""

import pytest

from hearings import services
from hearings.models import ResponseKind, ResponseType, Unit
from tjp.models import AuditEvent
from tjp.roles import Role

SEES = {
    Role.JUDGE,
    Role.PROSECUTOR,
    Role.DEFENDER,
    Role.CLINICIAN,
    Role.COORDINATOR,
    Role.MANAGER,
}


def catalog_url(program) -> str:
    return f"/hearings/programs/{program.uuid}/responses/"


def edit_url(program, response_type) -> str:
    return f"{catalog_url(program)}{response_type.uuid}/"


def toggle_url(program, response_type) -> str:
    return f"{edit_url(program, response_type)}toggle/"


@pytest.fixture
def other_catalog(other_program):
    services.catalog_ensure(other_program)
    return {t.name: t for t in other_program.response_types.all()}


def rows(response) -> list[str]:
    return [t.name for t in response.context["types"]]


# --- reading ---------------------------------------------------------------------------------
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_who_sees_the_catalog(client, personas, program, catalog, role):
    client.force_login(personas[role])

    response = client.get(catalog_url(program))

    if role in SEES:
        assert response.status_code == 200
        assert rows(response) == [t.name for t in program.response_types.all()]
        html = response.content.decode()
        assert "Certificate of achievement" in html and "days in jail" in html
        assert (response.context["form"] is not None) is (role == Role.MANAGER)
        assert ("Take out of use" in html) is (role == Role.MANAGER)
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", sorted(SEES), ids=str)
def test_another_programs_catalog_is_404(client, personas, other_program, other_catalog, role):
    client.force_login(personas[role])
    assert client.get(catalog_url(other_program)).status_code == 404


def test_the_outsider_sees_only_their_own(
    client, outsider, program, other_program, catalog, other_catalog
):
    client.force_login(outsider)
    assert client.get(catalog_url(program)).status_code == 404
    assert rows(client.get(catalog_url(other_program))) == sorted(
        other_catalog, key=lambda name: (other_catalog[name].kind, name)
    )


def test_the_catalog_shows_what_is_out_of_use(client, personas, program, catalog):
    catalog["Jail"].active = False
    catalog["Jail"].save(update_fields=["active"])
    client.force_login(personas[Role.JUDGE])
    response = client.get(catalog_url(program))
    jail = next(t for t in response.context["types"] if t.name == "Jail")
    assert jail.active is False
    assert "Put back in use" not in response.content.decode()  # a judge cannot change it


# --- adding ----------------------------------------------------------------------------------
def test_a_manager_adds_an_entry(client, personas, program, catalog):
    manager = personas[Role.MANAGER]
    client.force_login(manager)

    response = client.post(
        catalog_url(program),
        {"kind": ResponseKind.INCENTIVE, "name": "  Movie   tickets ", "unit": Unit.AMOUNT},
    )

    assert response.status_code == 302
    added = program.response_types.get(name="Movie tickets")
    assert (added.kind, added.unit, added.active) == ("incentive", "amount", True)
    event = AuditEvent.objects.filter(actor=manager, object_id=str(added.uuid)).get()
    assert event.action == AuditEvent.Action.CREATE
    assert "Movie tickets" in client.get(catalog_url(program)).content.decode()


def test_a_duplicate_name_is_refused_with_a_message(client, personas, program, catalog):
    client.force_login(personas[Role.MANAGER])
    before = program.response_types.count()

    response = client.post(
        catalog_url(program), {"kind": ResponseKind.SANCTION, "name": "jail", "unit": ""}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [
        "The catalog already has a response with this name."
    ]
    assert "The catalog already has a response with this name." in response.content.decode()
    assert program.response_types.count() == before


def test_the_same_name_in_another_program_is_fine(
    client, personas, program, catalog, other_catalog
):
    client.force_login(personas[Role.MANAGER])
    ResponseType.objects.filter(program=program, name="Jail").delete()
    response = client.post(
        catalog_url(program), {"kind": ResponseKind.SANCTION, "name": "Jail", "unit": "jail_days"}
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "reward", "name": "Praise", "unit": ""},
        {"kind": "incentive", "name": "", "unit": ""},
        {"kind": "incentive", "name": "Praise", "unit": "kilograms"},
    ],
)
def test_invalid_entries_are_refused(client, personas, program, catalog, data):
    client.force_login(personas[Role.MANAGER])
    before = program.response_types.count()
    assert client.post(catalog_url(program), data).status_code == 400
    assert program.response_types.count() == before


@pytest.mark.parametrize("role", sorted(SEES - {Role.MANAGER}), ids=str)
def test_only_managers_add(client, personas, program, catalog, role):
    client.force_login(personas[role])
    response = client.post(
        catalog_url(program), {"kind": "incentive", "name": "Bus pass", "unit": ""}
    )
    assert response.status_code == 403
    assert not program.response_types.filter(name="Bus pass").exists()


# --- editing and taking out of use -----------------------------------------------------------
def test_a_manager_edits_an_entry(client, personas, program, catalog):
    client.force_login(personas[Role.MANAGER])
    curfew = catalog["Curfew"]

    page = client.get(edit_url(program, curfew))
    assert page.status_code == 200
    assert page.context["form"].initial["name"] == "Curfew"

    response = client.post(
        edit_url(program, curfew),
        {"kind": "sanction", "name": "Home curfew", "unit": "curfew_days", "active": "on"},
    )

    assert response.status_code == 302
    curfew.refresh_from_db()
    assert (curfew.name, curfew.unit, curfew.active) == ("Home curfew", "curfew_days", True)


def test_renaming_onto_another_entry_is_refused(client, personas, program, catalog):
    client.force_login(personas[Role.MANAGER])
    curfew = catalog["Curfew"]
    response = client.post(
        edit_url(program, curfew), {"kind": "sanction", "name": "JAIL", "unit": "", "active": "on"}
    )
    assert response.status_code == 400
    assert "already has a response with this name" in response.content.decode()
    curfew.refresh_from_db()
    assert curfew.name == "Curfew"


def test_deactivate_and_reactivate(client, personas, program, catalog):
    manager = personas[Role.MANAGER]
    client.force_login(manager)
    jail = catalog["Jail"]

    response = client.post(toggle_url(program, jail), follow=True)
    jail.refresh_from_db()
    assert jail.active is False
    assert "“Jail” is no longer in use." in response.content.decode()

    client.post(toggle_url(program, jail))
    jail.refresh_from_db()
    assert jail.active is True
    assert AuditEvent.objects.filter(actor=manager, object_id=str(jail.uuid)).count() == 2


def test_toggle_takes_only_post(client, personas, program, catalog):
    client.force_login(personas[Role.MANAGER])
    assert client.get(toggle_url(program, catalog["Jail"])).status_code == 405


@pytest.mark.parametrize("role", sorted(SEES - {Role.MANAGER}), ids=str)
def test_only_managers_edit(client, personas, program, catalog, role):
    client.force_login(personas[role])
    jail = catalog["Jail"]
    assert client.get(edit_url(program, jail)).status_code == 403
    data = {"kind": "sanction", "name": "Cell", "unit": "", "active": ""}
    assert client.post(edit_url(program, jail), data).status_code == 403
    assert client.post(toggle_url(program, jail)).status_code == 403
    jail.refresh_from_db()
    assert (jail.name, jail.active) == ("Jail", True)


def test_another_programs_entry_is_404(client, personas, program, catalog, other_catalog):
    client.force_login(personas[Role.MANAGER])
    theirs = other_catalog["Arresto"]
    # Under the manager's own program, and under the other program.
    assert client.get(edit_url(program, theirs)).status_code == 404
    assert client.post(toggle_url(program, theirs)).status_code == 404
    assert client.post(toggle_url(theirs.program, theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.active is True
