"""The browser-facing pages: who may open what (a table), and the main flows through forms."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from participants import services
from participants.models import Document, Participant, Person, Status, StatusChange
from tests.factories import ParticipantFactory, admit
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

R = Role
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def screening(program, personas):
    """A referral the demo clinician was asked to screen and the defender represents."""
    referral = ParticipantFactory(program=program)
    services.participant_assign(
        acting_user=personas[R.COORDINATOR], participant=referral, defender=personas[R.DEFENDER]
    )
    services.clinical_screening_request(
        acting_user=personas[R.COORDINATOR], participant=referral, clinician=personas[R.CLINICIAN]
    )
    services.assessment_record(
        acting_user=personas[R.CLINICIAN],
        participant=referral,
        data={
            "instrument": "rant",
            "score": 10,
            "risk_level": "high",
            "need_level": "high",
            "assessed_on": referral.referred_on,
        },
    )
    return referral


SEES_ADMITTED = {R.JUDGE, R.PROSECUTOR, R.COORDINATOR, R.MANAGER, R.DEFENDER, R.CLINICIAN}
# (action, record) -> roles allowed. Roles that see the record but may not act get 403;
# roles that do not see it get 404. None is the record page itself.
TABLE = {
    (None, "participant"): SEES_ADMITTED,
    ("assign", "participant"): {R.COORDINATOR},
    ("request-screening", "screening"): {R.COORDINATOR},
    ("legal-screening", "screening"): {R.PROSECUTOR},
    ("assessment", "screening"): {R.CLINICIAN},
    ("clinical-screening", "screening"): {R.CLINICIAN},
    ("admission", "screening"): {R.JUDGE},
    ("status", "participant"): {R.JUDGE, R.COORDINATOR},
    ("phase", "participant"): {R.JUDGE, R.COORDINATOR},
    ("consent", "participant"): {R.COORDINATOR},
    ("case", "participant"): {R.COORDINATOR},
    ("document", "participant"): {R.COORDINATOR},
    ("goal", "participant"): {R.COORDINATOR},
    ("service", "participant"): {R.COORDINATOR},
    ("arrest", "participant"): {R.COORDINATOR},
}


def _url(action, record):
    if action is None:
        return reverse("participant_detail", args=[record.uuid])
    return reverse("participant_action", args=[record.uuid, action])


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("action", "record_name"), list(TABLE))
def test_permission_table(client, request, personas, role, action, record_name):
    record = request.getfixturevalue(record_name)
    sees = SEES_ADMITTED  # both records carry the defender's and the clinician's grants
    client.force_login(personas[role])
    status = client.get(_url(action, record)).status_code
    if role in TABLE[(action, record_name)]:
        assert status == 200, (role, action)
    elif role in sees and role != R.ADMINISTRATOR:
        assert status == 403, (role, action)
    else:
        assert status == 404, (role, action)


@pytest.mark.parametrize(("action", "record_name"), list(TABLE))
def test_outsider_gets_404(client, request, outsider, action, record_name):
    record = request.getfixturevalue(record_name)
    client.force_login(outsider)
    assert client.get(_url(action, record)).status_code == 404


@pytest.mark.parametrize("role", list(Role))
def test_another_programs_participant_is_404_for_everyone(
    client, personas, other_participant, role
):
    client.force_login(personas[role])
    assert client.get(_url(None, other_participant)).status_code == 404
    assert client.get(_url("status", other_participant)).status_code == 404


def test_record_view_is_audited(client, personas, participant):
    client.force_login(personas[R.JUDGE])
    client.get(_url(None, participant))
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW,
        participant_uuid=participant.uuid,
        actor=personas[R.JUDGE],
    ).exists()


def test_contact_details_only_for_coordinator_and_defender(client, personas, participant):
    participant.person.phone = "+1 555 0100"
    participant.person.save()
    for role, shown in [
        (R.COORDINATOR, True),
        (R.DEFENDER, True),
        (R.JUDGE, False),
        (R.PROSECUTOR, False),
        (R.CLINICIAN, False),
        (R.MANAGER, False),
    ]:
        client.force_login(personas[role])
        assert ("+1 555 0100" in client.get(_url(None, participant)).content.decode()) == shown


def test_page_offers_only_allowed_moves(client, personas, participant):
    client.force_login(personas[R.COORDINATOR])
    page = client.get(_url("status", participant)).content.decode()
    assert 'value="warrant"' in page and 'value="terminated"' not in page
    assert 'value="referred"' not in page


# --- flows through the forms -----------------------------------------------------------------
def test_status_change_through_the_form(client, personas, participant):
    client.force_login(personas[R.COORDINATOR])
    today = program_today(participant.program)
    response = client.post(
        _url("status", participant),
        {
            "to_status": "warrant",
            "effective_on": today,
            "reason": "Missed court.",
            "expected_status": "active",
        },
    )
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.status == Status.WARRANT


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"to_status": "terminated"}, "Select a valid choice"),
        ({"expected_status": "warrant"}, "Someone else changed this participant"),
        ({"effective_on": "2999-01-01"}, "This date is in the future."),
        ({"reason": ""}, "This field is required."),
    ],
)
def test_status_change_bad_input_saves_nothing(client, personas, participant, data, message):
    client.force_login(personas[R.COORDINATOR])
    post = {
        "to_status": "warrant",
        "effective_on": program_today(participant.program),
        "reason": "x",
        "expected_status": "active",
        **data,
    }
    before = StatusChange.objects.count()
    response = client.post(_url("status", participant), post)
    assert response.status_code == 400
    assert message in response.content.decode()
    participant.refresh_from_db()
    assert participant.status == Status.ACTIVE and StatusChange.objects.count() == before


def test_bad_input_message_in_spanish(client, personas, participant):
    client.force_login(personas[R.COORDINATOR])
    client.post(reverse("set_language"), {"language": "es", "next": "/"})
    response = client.post(
        _url("status", participant),
        {
            "to_status": "warrant",
            "effective_on": "2999-01-01",
            "reason": "x",
            "expected_status": "active",
        },
    )
    assert "Esta fecha está en el futuro." in response.content.decode()


def test_document_upload_download_and_wrong_type(
    client, personas, participant, settings, tmp_path, outsider
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(personas[R.COORDINATOR])
    fake = SimpleUploadedFile("order.pdf", b"MZ not a pdf", content_type="application/pdf")
    response = client.post(
        _url("document", participant), {"kind": "order", "title": "Order", "file": fake}
    )
    assert response.status_code == 400 and "Upload a PDF, PNG or JPEG file." in (
        response.content.decode()
    )
    assert not Document.objects.exists()
    real = SimpleUploadedFile("order.pdf", PDF, content_type="application/pdf")
    assert (
        client.post(
            _url("document", participant), {"kind": "order", "title": "Order", "file": real}
        ).status_code
        == 302
    )
    document = Document.objects.get()
    assert str(tmp_path) in document.file.path
    url = reverse("document_download", args=[participant.uuid, document.uuid])
    client.force_login(personas[R.JUDGE])
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment")
    client.force_login(outsider)
    assert client.get(url).status_code == 404


# --- roster ----------------------------------------------------------------------------------
def test_roster_query_count_is_constant(client, personas, program, django_assert_max_num_queries):
    client.force_login(personas[R.COORDINATOR])
    for _ in range(3):
        ParticipantFactory(program=program)
    with django_assert_max_num_queries(40) as small:
        client.get(reverse("roster"))
    for _ in range(22):
        ParticipantFactory(program=program)
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        page = client.get(reverse("roster")).content.decode()
    assert page.count("/participants/") >= 25
    assert len(large.captured_queries) == len(small.captured_queries)


def test_roster_filters_and_accent_insensitive_search(
    client, personas, program, referral, participant
):
    client.force_login(personas[R.COORDINATOR])
    page = client.get(reverse("roster"), {"q": "jose perez"}).content.decode()
    assert "José Pérez" in page and "Ana Núñez" not in page
    page = client.get(reverse("roster"), {"status": "active"}).content.decode()
    assert "Ana Núñez" in page and "José Pérez" not in page
    page = client.get(reverse("roster"), {"phase": "1"}).content.decode()
    assert "Ana Núñez" in page and "José Pérez" not in page
    page = client.get(reverse("roster"), {"defender": personas[R.DEFENDER].uuid}).content
    assert "Ana Núñez" in page.decode()
    assert client.get(reverse("roster"), {"status": "bogus"}).status_code == 200


def test_roster_htmx_returns_only_the_results(client, personas, participant):
    client.force_login(personas[R.COORDINATOR])
    page = client.get(reverse("roster"), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="results"' in page and "<html" not in page


def test_defender_roster_shows_only_own_clients(client, personas, program, participant):
    ParticipantFactory(program=program, person__first_name="Other", person__last_name="Client")
    client.force_login(personas[R.DEFENDER])
    page = client.get(reverse("roster")).content.decode()
    assert "Ana Núñez" in page and "Other Client" not in page


# --- referral intake -------------------------------------------------------------------------
def _referral_post(program, **person):
    today = program_today(program)
    data = {
        "program": program.uuid,
        "referred_on": today,
        "referral_source": "prosecutor",
        "arrest_date": today - timedelta(days=10),
        "case_number": "CR-2026-001",
        "charges-TOTAL_FORMS": 1,
        "charges-INITIAL_FORMS": 0,
        "charges-0-description": "Possession",
        "charges-0-level": "misdemeanor",
        "person-first_name": "José",
        "person-last_name": "Pérez",
        "person-date_of_birth": "1990-05-01",
        "person-sex": "male",
        "person-gender": "man",
        "person-race_ethnicity": "hispanic",
        "person-preferred_language": "es",
    }
    data.update({f"person-{k}": v for k, v in person.items()})
    return data


def test_referral_with_duplicate_detection(client, personas, program, participant):
    client.force_login(personas[R.COORDINATOR])
    url = reverse("referral_new")
    assert client.post(url, _referral_post(program)).status_code == 302
    created = Participant.objects.get(person__last_name="Pérez")
    assert created.status == Status.REFERRED and created.cases.get().charges.count() == 1
    # The same person typed without accents: found as a duplicate, nothing created.
    response = client.post(url, _referral_post(program, first_name="Jose", last_name="PEREZ"))
    assert response.status_code == 200 and "Possible duplicates" in response.content.decode()
    assert Person.objects.filter(last_name__iexact="perez").count() == 0
    assert Person.objects.count() == 2
    # Search finds them without accents, and referring the same person again is refused.
    assert "José Pérez" in client.get(url, {"q": "jose perez"}).content.decode()
    data = _referral_post(program)
    data["person"] = created.person.uuid
    response = client.post(f"{url}?person={created.person.uuid}", data)
    assert "already has an open episode" in response.content.decode()
    assert Participant.objects.filter(person=created.person).count() == 1


def test_referral_bad_dates_are_refused(client, personas, program):
    client.force_login(personas[R.COORDINATOR])
    response = client.post(
        reverse("referral_new"), _referral_post(program, date_of_birth="2999-01-01")
    )
    assert "The date of birth must be in the past." in response.content.decode()
    assert not Person.objects.exists() and not Participant.objects.exists()


def test_referral_search_hides_other_programs_people(client, personas, other_participant):
    client.force_login(personas[R.COORDINATOR])
    name = other_participant.person.last_name
    page = client.get(reverse("referral_new"), {"q": name}).content.decode()
    assert other_participant.person.full_name not in page


def test_admission_flow_through_forms(client, personas, screening):
    today = program_today(screening.program)
    client.force_login(personas[R.PROSECUTOR])
    client.post(
        _url("legal-screening", screening),
        {"outcome": "eligible", "reasons": "Eligible offence.", "decided_on": today},
    )
    client.force_login(personas[R.CLINICIAN])
    client.post(
        _url("clinical-screening", screening),
        {"outcome": "eligible", "reasons": "High need.", "decided_on": today},
    )
    client.force_login(personas[R.JUDGE])
    response = client.post(
        _url("admission", screening),
        {
            "decision": "admit",
            "reasons": "Team agrees.",
            "decided_on": today,
            "entry_date": today,
        },
    )
    assert response.status_code == 302
    screening.refresh_from_db()
    assert screening.status == Status.ACTIVE and screening.phase.number == 1
    page = client.get(_url(None, screening)).content.decode()
    assert "Admission decision" in page and "Team agrees." in page


def test_second_case_through_the_form(client, personas, participant):
    client.force_login(personas[R.COORDINATOR])
    response = client.post(
        _url("case", participant),
        {
            "case_number": "CR-2026-777",
            "charge": "Theft",
            "level": "misdemeanor",
        },
    )
    assert response.status_code == 302
    assert participant.cases.get(case_number="CR-2026-777").charges.get().description == "Theft"
    response = client.post(
        _url("case", participant), {"case_number": "", "charge": "x", "level": "misdemeanor"}
    )
    assert response.status_code == 400 and participant.cases.count() == 1


def test_admitted_fixture_via_factory(personas, program):
    p = admit(ParticipantFactory(program=program), by=personas[R.COORDINATOR])
    assert p.status == Status.ACTIVE
