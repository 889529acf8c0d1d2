"""42 CFR Part 2 consents: every element, liveness, coverage and revocation."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from participants import services
from participants.models import Consent, Disposition, Document, InformationCategory, Status
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

C = InformationCategory


@pytest.fixture
def coordinator(personas):
    return personas[Role.COORDINATOR]


@pytest.fixture
def today(program):
    return program_today(program)


def _data(today, **overrides):
    return {
        "discloser": "Sunrise Recovery Center",
        "categories": [C.ATTENDANCE, C.DRUG_TESTS],
        "recipient_roles": [Role.JUDGE.value, Role.PROSECUTOR.value],
        "purpose": "Monitoring participation in the treatment court.",
        "criminal_justice": True,
        "signed_on": today - timedelta(days=10),
        "expires_on": today + timedelta(days=365),
        "expiry_event": "",
        **overrides,
    }


def _record(participant, by, data, **kw):
    return services.consent_record(acting_user=by, participant=participant, data=data, **kw)


@pytest.fixture
def consent(participant, coordinator, today):
    return _record(participant, coordinator, _data(today))


# --- recording -------------------------------------------------------------------------------
def test_consent_with_every_element_is_recorded(participant, coordinator, today):
    consent = _record(participant, coordinator, _data(today))
    consent.refresh_from_db()
    assert consent.participant == participant
    assert consent.created_by == coordinator
    assert consent.categories == ["attendance", "drug_tests"]
    assert consent.recipient_roles == ["judge", "prosecutor"]
    assert consent.criminal_justice is True
    assert consent.revoked_on is None
    event = AuditEvent.objects.get(participant_uuid=participant.uuid, object_id=str(consent.uuid))
    assert event.action == AuditEvent.Action.CREATE


def test_expiry_event_instead_of_a_date(participant, coordinator, today):
    consent = _record(
        participant,
        coordinator,
        _data(today, expires_on=None, expiry_event="Final disposition of the case"),
    )
    assert consent.expires_on is None
    assert consent.expiry_event == "Final disposition of the case"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"categories": []}, "categories"),
        ({"categories": ["clinical_notes"]}, "categories"),
        ({"recipient_roles": []}, "recipient_roles"),
        ({"recipient_roles": ["administrator"]}, "recipient_roles"),
        ({"recipient_roles": ["judge", "journalist"]}, "recipient_roles"),
        ({"discloser": "  "}, "discloser"),
        ({"purpose": ""}, "purpose"),
        ({"signed_on": None}, "signed_on"),
        ({"signed_on": "today+1"}, "signed_on"),
        ({"expires_on": "signed-1"}, "expires_on"),
        ({"expires_on": None, "expiry_event": "  "}, None),
    ],
    ids=[
        "no-categories",
        "unknown-category",
        "no-roles",
        "administrator",
        "unknown-role",
        "no-discloser",
        "no-purpose",
        "no-signature-date",
        "signed-in-future",
        "expires-before-signature",
        "no-expiry",
    ],
)
def test_every_element_is_required(participant, coordinator, today, overrides, field):
    data = _data(today)
    named = {"today+1": today + timedelta(days=1), "signed-1": data["signed_on"] - timedelta(1)}
    data.update({k: named.get(v, v) if isinstance(v, str) else v for k, v in overrides.items()})
    with pytest.raises(ValidationError) as refused:
        _record(participant, coordinator, data)
    if field:
        assert field in refused.value.message_dict
    assert not Consent.objects.exists()
    assert not AuditEvent.objects.filter(object_type="participants.consent").exists()


def test_signed_file_is_kept_as_a_consent_document(
    participant, coordinator, today, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    signed = SimpleUploadedFile("consent.pdf", b"%PDF-1.7\nsigned", content_type="text/plain")
    consent = _record(participant, coordinator, _data(today), signed_file=signed)
    assert consent.document.kind == Document.Kind.CONSENT
    assert consent.document.content_type == "application/pdf"
    assert consent.document.participant == participant


def test_a_refused_signed_file_leaves_no_consent(
    participant, coordinator, today, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    signed = SimpleUploadedFile("consent.pdf", b"not really a pdf")
    with pytest.raises(ValidationError):
        _record(participant, coordinator, _data(today), signed_file=signed)
    assert not Consent.objects.exists()
    assert not Document.objects.exists()


# --- is_live and covers ----------------------------------------------------------------------
def test_is_live_by_date(consent, today):
    assert consent.is_live(today)
    assert consent.is_live(consent.signed_on)
    assert not consent.is_live(consent.signed_on - timedelta(days=1))
    assert consent.is_live(consent.expires_on)
    assert not consent.is_live(consent.expires_on + timedelta(days=1))


def test_expiry_event_consent_stays_live_until_revoked(participant, coordinator, today):
    consent = _record(participant, coordinator, _data(today, expires_on=None, expiry_event="x"))
    assert consent.is_live(today + timedelta(days=3650))


def test_covers_by_category_and_role(consent, today):
    assert consent.covers(C.ATTENDANCE, Role.JUDGE.value, today)
    assert consent.covers(C.DRUG_TESTS, Role.PROSECUTOR.value, today)
    assert not consent.covers(C.PROGRESS, Role.JUDGE.value, today)
    assert not consent.covers(C.ATTENDANCE, Role.DEFENDER.value, today)
    assert not consent.covers(C.ATTENDANCE, Role.JUDGE.value, consent.expires_on + timedelta(1))


def test_live_consent(participant, consent, today):
    found = services.live_consent(participant, category=C.ATTENDANCE, role="judge", on=today)
    assert found == consent
    assert services.live_consent(participant, category=C.ATTENDANCE, role="judge") == consent
    assert services.live_consent(participant, category=C.DISCHARGE, role="judge") is None
    assert services.live_consent(participant, category=C.ATTENDANCE, role="coordinator") is None
    after = consent.expires_on + timedelta(days=1)
    assert services.live_consent(participant, category=C.ATTENDANCE, role="judge", on=after) is None


# --- revocation ------------------------------------------------------------------------------
def _revoke(consent, by, on):
    return services.consent_revoke(acting_user=by, consent=consent, revoked_on=on)


def test_criminal_justice_consent_stands_until_final_disposition(
    participant, consent, coordinator, personas, today
):
    with pytest.raises(ValidationError):
        _revoke(consent, coordinator, today)
    consent.refresh_from_db()
    assert consent.revoked_on is None
    # Exit alone is not the final disposition of the case.
    exit_day = today - timedelta(days=2)
    exited = services.status_change(
        acting_user=coordinator,
        participant=participant,
        to_status=Status.VOLUNTARY_WITHDRAWAL,
        effective_on=exit_day,
        reason="Chose ordinary proceedings.",
        expected_status=Status.ACTIVE,
    )
    with pytest.raises(ValidationError):
        _revoke(consent, coordinator, today)
    services.disposition_record(
        acting_user=personas[Role.JUDGE],
        participant=exited,
        disposition=Disposition.RETURNED,
        disposition_date=exit_day,
    )
    revoked = _revoke(consent, coordinator, today)
    assert revoked.revoked_on == today
    assert not revoked.is_live(today)
    assert revoked.is_live(today - timedelta(days=1))
    assert services.live_consent(participant, category=C.ATTENDANCE, role="judge") is None
    assert AuditEvent.objects.filter(
        participant_uuid=participant.uuid,
        object_id=str(consent.uuid),
        action=AuditEvent.Action.UPDATE,
    ).exists()


def test_other_consent_is_revocable_with_a_date(participant, coordinator, today):
    consent = _record(participant, coordinator, _data(today, criminal_justice=False))
    revoked_on = today - timedelta(days=1)
    revoked = _revoke(consent, coordinator, revoked_on)
    revoked.refresh_from_db()
    assert revoked.revoked_on == revoked_on
    assert not revoked.is_live(today)
    assert revoked.is_live(revoked_on - timedelta(days=1))


def test_revoking_twice_is_refused(participant, coordinator, today):
    consent = _record(participant, coordinator, _data(today, criminal_justice=False))
    _revoke(consent, coordinator, today - timedelta(days=1))
    with pytest.raises(ValidationError):
        _revoke(consent, coordinator, today)
    consent.refresh_from_db()
    assert consent.revoked_on == today - timedelta(days=1)


@pytest.mark.parametrize("when", ["future", "before-signature"])
def test_revocation_date_checks(participant, coordinator, today, when):
    consent = _record(participant, coordinator, _data(today, criminal_justice=False))
    on = today + timedelta(days=1) if when == "future" else consent.signed_on - timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        _revoke(consent, coordinator, on)
    assert "revoked_on" in refused.value.message_dict
    consent.refresh_from_db()
    assert consent.revoked_on is None
