"""Control characters in any text input: refused whole with a clear message, never a server
error (PostgreSQL cannot store a NUL byte), and nothing saved."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from participants.models import Document, Participant
from tjp.roles import Role

R = Role
BAD = ["x\x00y", "x\x07y", "x\x1by", "x\x7fy", "\x00"]


@pytest.mark.parametrize("text", BAD)
def test_person_search_with_a_control_character_is_a_clear_400(as_user, personas, text):
    client = as_user(personas[R.COORDINATOR])
    response = client.get(reverse("referral_new"), {"q": text})
    assert response.status_code == 400
    assert "control characters" in response.content.decode()


def test_the_message_is_translated(as_user, personas):
    client = as_user(personas[R.COORDINATOR])
    response = client.get(reverse("roster"), {"q": "x\x00y"}, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "caracteres de control" in response.content.decode()


def test_tab_and_newline_are_ordinary_text(as_user, personas):
    client = as_user(personas[R.COORDINATOR])
    assert client.get(reverse("roster"), {"q": "Ana\tNúñez\n"}).status_code == 200


def test_a_form_field_with_a_nul_saves_nothing(as_user, personas, program):
    client = as_user(personas[R.COORDINATOR])
    before = Participant.objects.count()
    response = client.post(
        reverse("referral_new"),
        {"person-first_name": "Ana\x00", "person-last_name": "Núñez", "program": program.pk},
    )
    assert response.status_code == 400
    assert Participant.objects.count() == before


def test_an_upload_name_loses_its_control_characters(as_user, personas, participant):
    client = as_user(personas[R.COORDINATOR])
    upload = SimpleUploadedFile("consent\x07.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    response = client.post(
        reverse("participant_action", args=[participant.uuid, "document"]),
        {"kind": "other", "title": "Scan", "file": upload},
    )
    assert response.status_code == 302
    assert Document.objects.get().original_name == "consent.pdf"


@pytest.mark.parametrize("text", ["x\u0000y", "\u001b[31m", "a\u0085b"])
def test_api_json_with_a_control_character_is_a_400_naming_the_field(
    as_user, personas, participant, text
):
    client = as_user(personas[R.COORDINATOR])
    body = {"participant": str(participant.uuid), "external_id": text, "method": "urine"}
    response = client.post(
        reverse("drug-test-list"), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["details"]["external_id"] == [
        "Remove the control characters (such as NUL) from this text."
    ]


def test_api_query_string_with_a_nul_is_a_400(as_user, personas):
    client = as_user(personas[R.COORDINATOR])
    response = client.get(reverse("participant-list"), {"search": "a\x00"})
    assert response.status_code == 400
    assert response.json()["error"]["status"] == 400
