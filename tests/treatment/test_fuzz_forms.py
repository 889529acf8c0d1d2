"""Every action form of a participant's record (participants and treatment), posted by the role
that may use it with hostile values in every field: never a server error, nothing half-saved
(each answer is a redirect after a whole save, or the form again with its errors)."""

import pytest
from django.urls import reverse

from participants.actions import ACTIONS as PARTICIPANT_ACTIONS
from tjp.roles import ROLE_PERMISSIONS, Role
from treatment.actions import ACTIONS as TREATMENT_ACTIONS

HOSTILE = [
    "",
    " ",
    "x" * 10_000,
    "-1",
    "99999999999999999999",
    "1e309",
    "NaN",
    "2999-99-99",
    "0000-00-00",
    "1900-01-01",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "Ünïcödé 🎉 ñ",
    "\u202e",
    "00000000-0000-0000-0000-000000000000",
    "x\x00y",
]
SAMPLE = "3f2b8c1e-5d4a-4e7b-9c0d-1a2b3c4d5e6f"
CASES = [("participant_action", name, spec) for name, spec in PARTICIPANT_ACTIONS.items()] + [
    ("treatment_action", name, spec) for name, spec in TREATMENT_ACTIONS.items()
]


def _role_for(perm: str) -> Role:
    for role in (Role.COORDINATOR, Role.CLINICIAN, Role.JUDGE, Role.PROSECUTOR):
        if perm in ROLE_PERMISSIONS[role]:
            return role
    raise AssertionError(perm)


@pytest.mark.parametrize(("url_name", "action", "spec"), CASES, ids=[c[1] for c in CASES])
def test_hostile_values_in_every_field_are_refused_cleanly(
    client, personas, consent, url_name, action, spec
):
    participant = consent.participant
    client.force_login(personas[_role_for(spec.perm)])
    url = reverse(url_name, args=[participant.uuid, action])
    if spec.target is not None:
        target = spec.target(participant).first()
        if target is None:
            assert client.get(url, {"target": SAMPLE}).status_code == 404
            pytest.skip(f"{action}: no such sub-record here (its absence is a 404)")
        url += f"?target={target.uuid}"
    form = client.get(url)
    assert form.status_code in (200, 302), action
    fields = list(spec.form.base_fields) if hasattr(spec.form, "base_fields") else []
    statuses = set()
    for value in HOSTILE:
        response = client.post(url, dict.fromkeys(fields, value))
        statuses.add(response.status_code)
        assert response.status_code < 500, (action, value)
    assert statuses <= {302, 400}, (action, statuses)
