"""Program settings: a manager edits them; bad input and concurrent edits lose nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.db import ProgrammingError, transaction
from django.urls import reverse

from tjp import services
from tjp.models import AuditEvent, Program
from tjp.roles import Role


def _form(program, **overrides):
    data = {f: getattr(program, f) for f in services.PROGRAM_SETTINGS_FIELDS}
    data["version"] = program.updated_at.isoformat()
    data.update(overrides)
    return data


def test_manager_changes_a_setting_and_it_is_audited(client, personas, program):
    client.force_login(personas[Role.MANAGER])
    url = reverse("program_settings", kwargs={"program_uuid": program.uuid})
    response = client.post(url, _form(program, result_turnaround_hours=24))
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.result_turnaround_hours == 24
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE, program=program)
    assert event.detail["changed"] == {"result_turnaround_hours": ["48", "24"]}


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("time_zone", "Mars/Olympus", "is not a known time zone"),
        ("result_turnaround_hours", "0", "greater than or equal to 1"),
        ("language", "fr", "Select a valid choice"),
        ("name", "", "This field is required"),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(client, personas, program, field, value, message):
    client.force_login(personas[Role.MANAGER])
    before = Program.objects.values().get(pk=program.pk)
    url = reverse("program_settings", kwargs={"program_uuid": program.uuid})
    response = client.post(url, _form(program, **{field: value, "judge_caseload_max": 99}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Program.objects.values().get(pk=program.pk) == before


def test_bad_input_message_is_translated(client, personas, program):
    client.force_login(personas[Role.MANAGER])
    client.post(reverse("set_language"), {"language": "es", "next": "/"})
    url = reverse("program_settings", kwargs={"program_uuid": program.uuid})
    response = client.post(url, _form(program, time_zone="Mars/Olympus"))
    assert "no es una zona horaria conocida" in response.content.decode()


def test_stale_edit_is_refused_and_the_first_change_kept(client, personas, program):
    client.force_login(personas[Role.MANAGER])
    url = reverse("program_settings", kwargs={"program_uuid": program.uuid})
    loaded = _form(program)  # both managers loaded the form at this version
    assert client.post(url, {**loaded, "judge_caseload_max": 100}).status_code == 302
    response = client.post(url, {**loaded, "clinician_caseload_max": 30})
    assert response.status_code == 200
    assert "Someone else changed these settings" in response.content.decode()
    program.refresh_from_db()
    assert (program.judge_caseload_max, program.clinician_caseload_max) == (100, 50)


def test_service_refuses_unknown_fields(personas, program):
    with pytest.raises(ValueError):
        services.program_update_settings(
            acting_user=personas[Role.MANAGER],
            program=program,
            changes={"code": "x"},
            seen_version=program.updated_at.isoformat(),
        )


def test_service_refuses_stale_version(personas, program):
    with pytest.raises(ValidationError):
        services.program_update_settings(
            acting_user=personas[Role.MANAGER],
            program=program,
            changes={"name": "X"},
            seen_version="2000-01-01T00:00:00+00:00",
        )


def test_audit_events_cannot_be_changed_or_deleted(personas, program):
    event = AuditEvent.objects.create(actor=personas[Role.JUDGE], action=AuditEvent.Action.VIEW)
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action=AuditEvent.Action.EXPORT)
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == AuditEvent.Action.VIEW


def test_program_changes_are_kept_as_history(personas, program):
    program.name = "Renamed court"
    program.save()
    assert program.events.filter(name="Renamed court").exists()
