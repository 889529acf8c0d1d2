"""Part 2 between providers: a clinician sees their own organisation's records in full, another
organisation's only under a live consent naming their organisation (or the clinician role),
logged as a disclosure; clinical notes never leave the organisation that wrote them; a clinician
asked only to screen sees the screening, not the treatment record."""

import json
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from hearings import services as hearing_services
from hearings.packet import staffing_packet
from participants import services as participant_services
from participants.models import InformationCategory
from tests.factories import UserFactory
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role
from treatment import services
from treatment.queries import treatment_record

R, C = Role, InformationCategory


@pytest.fixture
def two_providers(assigned, provider, other_provider, personas):
    """`assigned` treated by both `provider` (the persona clinician's, "Recovery Clinic") and
    `other_provider` ("Other Clinic"), each with one record of every kind of its own."""
    services.provider_assign(
        acting_user=personas[R.COORDINATOR],
        participant=assigned,
        provider=other_provider,
        assigned_on=assigned.entry_date,
    )
    today, now = program_today(assigned.program), timezone.now()
    for who, tag in ((personas[R.CLINICIAN], "ours"), (other_provider.clinician, "theirs")):
        services.progress_update_record(
            acting_user=who,
            participant=assigned,
            period_start=today - timedelta(days=7),
            period_end=today,
            engagement="good",
            summary=f"Progress {tag}",
        )
        services.session_record(
            acting_user=who,
            participant=assigned,
            session_date=today,
            kind="group",
            attendance="attended",
            hours=Decimal(1),
        )
        services.episode_record(
            acting_user=who,
            participant=assigned,
            level_of_care="1",
            modality="outpatient",
            admitted_on=assigned.entry_date,
        )
        services.medication_record(
            acting_user=who, participant=assigned, drug="buprenorphine", started_on=today
        )
        services.drug_test_record(
            acting_user=who,
            participant=assigned,
            collected_at=now - timedelta(hours=6),
            method="urine",
            results=[("opiates", "negative")],
        )
        services.clinical_note_record(
            acting_user=who, participant=assigned, written_on=today, text=f"Note {tag}"
        )
    return assigned


def _consent(participant, *, roles=(), organisations=(), categories=(C.PROGRESS,)):
    return participant_services.consent_record(
        acting_user=None,
        participant=participant,
        data={
            "discloser": "Other Clinic",
            "categories": [str(c) for c in categories],
            "recipient_roles": list(roles),
            "recipient_organisations": list(organisations),
            "purpose": "Coordinate treatment between providers.",
            "criminal_justice": False,
            "signed_on": participant.entry_date,
            "expires_on": None,
            "expiry_event": "End of treatment",
        },
    )


def _providers(rows) -> list[str]:
    return sorted(row.provider.name for row in rows)


def _disclosures():
    return AuditEvent.objects.filter(action=AuditEvent.Action.DISCLOSE)


OURS = ["Recovery Clinic"]
BOTH = ["Other Clinic", "Recovery Clinic"]


def test_a_clinician_sees_only_their_own_organisations_records(two_providers, personas):
    record = treatment_record(personas[R.CLINICIAN], two_providers)
    assert _providers(record.progress_updates) == OURS
    assert _providers(record.sessions) == OURS
    assert _providers(record.episodes) == OURS
    assert _providers(record.medications) == OURS
    assert _providers(record.drug_tests) == OURS
    assert [n.text for n in record.clinical_notes] == ["Note ours"]
    assert record.withheld == {
        "progress_updates",
        "sessions",
        "episodes",
        "medications",
        "drug_tests",
    }
    assert not _disclosures().exists()


def test_the_other_clinician_sees_theirs_only(two_providers, other_provider):
    record = treatment_record(other_provider.clinician, two_providers)
    assert [u.summary for u in record.progress_updates] == ["Progress theirs"]
    assert [n.text for n in record.clinical_notes] == ["Note theirs"]


def test_a_consent_naming_the_organisation_discloses_that_category_and_logs_it(
    two_providers, personas, provider
):
    clinician = personas[R.CLINICIAN]
    consent = _consent(two_providers, organisations=[provider.group])
    record = treatment_record(clinician, two_providers)
    assert _providers(record.progress_updates) == BOTH
    assert _providers(record.sessions) == OURS  # attendance is not in the consent
    assert [n.text for n in record.clinical_notes] == ["Note ours"]
    assert record.needs_redisclosure_notice and record.disclosed == ["progress"]
    event = _disclosures().get()
    assert (event.actor, event.consent_uuid) == (clinician, consent.uuid)
    assert event.participant_uuid == two_providers.uuid
    assert event.detail["categories"] == ["progress"]


def test_a_consent_naming_another_organisation_does_not_count(
    two_providers, personas, other_provider
):
    _consent(two_providers, organisations=[other_provider.group], categories=C.values)
    record = treatment_record(personas[R.CLINICIAN], two_providers)
    assert _providers(record.progress_updates) == OURS
    assert not _disclosures().exists()


def test_a_consent_naming_the_clinician_role_covers_every_provider(
    two_providers, personas, other_provider
):
    _consent(two_providers, roles=["clinician"], categories=C.values)
    for clinician in (personas[R.CLINICIAN], other_provider.clinician):
        record = treatment_record(clinician, two_providers)
        assert _providers(record.progress_updates) == BOTH
        assert _providers(record.drug_tests) == BOTH
        assert len(record.clinical_notes) == 1  # notes never: whatever the consent
    assert _disclosures().count() == 2


def test_a_consent_may_not_name_an_organisation_outside_the_program(two_providers, other_program):
    elsewhere = services.provider_create(
        acting_user=None, name="Clínica Lejana", programs=[other_program]
    )
    with pytest.raises(ValidationError) as refused:
        _consent(two_providers, organisations=[elsewhere.group])
    assert "recipient_organisations" in refused.value.error_dict


def test_the_court_sees_neither_provider_without_consent(two_providers, personas):
    record = treatment_record(personas[R.JUDGE], two_providers)
    assert record.progress_updates == [] and record.drug_tests == []
    assert record.clinical_notes == []


# --- pages and API ---------------------------------------------------------------------------
def test_treatment_page_shows_own_records_and_says_the_rest_is_withheld(
    two_providers, personas, as_user
):
    url = reverse("participant_treatment", args=[two_providers.uuid])
    page = as_user(personas[R.CLINICIAN]).get(url).content.decode()
    assert "Progress ours" in page and "Note ours" in page
    assert "Progress theirs" not in page and "Note theirs" not in page
    assert 'data-testid="withheld"' in page


def _api(client, user):
    _, token = AuthToken.objects.create(user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    return client


@pytest.mark.parametrize(
    "url", ["/api/v1/progress-updates/", "/api/v1/treatment-sessions/", "/api/v1/drug-tests/"]
)
def test_api_lists_only_the_callers_organisations_records(two_providers, personas, client, url):
    body = _api(client, personas[R.CLINICIAN]).get(url).json()
    assert body["count"] == 1
    assert body["redisclosure_notice"] is None
    assert not _disclosures().exists()


def test_api_lists_another_organisations_records_under_consent_and_logs_it(
    two_providers, personas, provider, client
):
    consent = _consent(two_providers, organisations=[provider.group])
    body = _api(client, personas[R.CLINICIAN]).get("/api/v1/progress-updates/").json()
    assert sorted(r["summary"] for r in body["results"]) == ["Progress ours", "Progress theirs"]
    assert "42 CFR" in body["redisclosure_notice"]
    assert _disclosures().get().consent_uuid == consent.uuid


def test_the_packet_applies_the_same_gate_to_clinicians(two_providers, personas, program):
    coordinator = personas[R.COORDINATOR]
    session = hearing_services.session_create(
        acting_user=coordinator,
        program=program,
        kind="status_review",
        judge=personas[R.JUDGE],
        courtroom="3B",
        day=program_today(program),
        start=time(9),
        duration_minutes=60,
    )
    hearing_services.docket_add(acting_user=coordinator, session=session, participant=two_providers)
    (item,) = staffing_packet(personas[R.CLINICIAN], session).items
    assert [u.summary for u in item.progress_updates] == ["Progress ours"]
    assert [n.text for n in item.clinical_notes] == ["Note ours"]
    assert item.withheld == {"sessions", "progress_updates", "drug_tests"}


# --- asked only to screen ----------------------------------------------------------------------
@pytest.fixture
def screener(program):
    """A clinician of the program, of no organisation treating anyone."""
    return UserFactory(email="screener@atc.test", role=R.CLINICIAN, programs=[program])


def test_a_screening_clinician_sees_the_screening_not_the_treatment_record(
    two_providers, personas, screener, as_user, client
):
    participant_services.clinical_screening_request(
        acting_user=personas[R.COORDINATOR], participant=two_providers, clinician=screener
    )
    browser = as_user(screener)
    assert browser.get(reverse("participant_detail", args=[two_providers.uuid])).status_code == 200
    url = reverse("participant_treatment", args=[two_providers.uuid])
    assert browser.get(url).status_code == 404
    api = _api(client, screener)
    assert api.get("/api/v1/progress-updates/").json()["count"] == 0
    listed = api.get("/api/v1/progress-updates/", {"participant": str(two_providers.uuid)})
    assert listed.status_code == 404


def test_an_organisation_no_longer_treating_loses_the_record(two_providers, personas, provider):
    assignment = two_providers.provider_assignments.get(provider=provider)
    services.provider_unassign(
        acting_user=personas[R.COORDINATOR],
        assignment=assignment,
        ended_on=program_today(two_providers.program),
    )
    # The persona clinician was also asked to screen (a grant of their own): they still see the
    # participant, but no longer the treatment record.
    from treatment.access import treatment_participants_visible_to

    assert two_providers not in treatment_participants_visible_to(personas[R.CLINICIAN])


def test_api_refuses_a_json_body_naming_another_organisations_participant(
    two_providers, personas, other_participant, client
):
    """Recording for someone the caller's organisation does not treat: 404 (not in scope)."""
    body = {
        "participant": str(other_participant.uuid),
        "period_start": str(program_today(two_providers.program) - timedelta(days=7)),
        "period_end": str(program_today(two_providers.program)),
        "engagement": "good",
        "summary": "x",
        "external_id": "ehr-1",
    }
    response = _api(client, personas[R.CLINICIAN]).post(
        "/api/v1/progress-updates/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 404
