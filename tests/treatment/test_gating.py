"""Consent gating of what came from a treatment provider (42 CFR Part 2), as a table: every
court role by every gated category, without and with a consent, each read recorded as a
disclosure; consents that do not count (other roles, expired, revoked); what needs no consent
(court-entered and lab tests); and what no consent can release (clinical notes)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from participants import services as participant_services
from participants.access import participants_visible_to
from participants.models import InformationCategory, Status
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role
from treatment import services
from treatment.access import clinical_notes_for, provider_gate
from treatment.models import ClinicalNote, Source
from treatment.queries import treatment_record

pytestmark = pytest.mark.django_db

C = InformationCategory
COURT_ROLES = [Role.JUDGE, Role.PROSECUTOR, Role.DEFENDER, Role.COORDINATOR, Role.MANAGER]
# The categories a provider's records fall under, as the consent form names them.
GATED = [C.PROGRESS, C.ATTENDANCE, C.TREATMENT_PLAN, C.DRUG_TESTS]


@pytest.fixture
def treated(assigned, personas):
    """`assigned` with one record of every kind: from its provider (a progress update, a
    session, an episode, a medication, a test, a clinical note) and from the court (a test
    entered by the coordinator, a lab result)."""
    clinician, coordinator = personas[Role.CLINICIAN], personas[Role.COORDINATOR]
    p, today, now = assigned, program_today(assigned.program), timezone.now()
    services.progress_update_record(
        acting_user=clinician,
        participant=p,
        period_start=today - timedelta(days=14),
        period_end=today,
        engagement="fair",
        summary="Missed one group.",
    )
    services.session_record(
        acting_user=clinician,
        participant=p,
        session_date=today,
        kind="group",
        attendance="absent",
        hours=Decimal(0),
    )
    services.episode_record(
        acting_user=clinician,
        participant=p,
        level_of_care="1",
        modality="outpatient",
        admitted_on=p.entry_date,
    )
    services.medication_record(
        acting_user=clinician, participant=p, drug="naltrexone_xr", started_on=p.entry_date
    )
    services.drug_test_record(
        acting_user=clinician,
        participant=p,
        collected_at=now - timedelta(hours=30),
        method="urine",
        results=[("opiates", "positive")],
        resulted_at=now - timedelta(hours=20),
    )
    services.clinical_note_record(
        acting_user=clinician, participant=p, written_on=today, text="Disclosed a relapse."
    )
    services.drug_test_record(
        acting_user=coordinator,
        participant=p,
        collected_at=now - timedelta(hours=5),
        method="breath",
        results=[("alcohol", "negative")],
        resulted_at=now - timedelta(hours=5),
    )
    services.drug_test_record(
        acting_user=coordinator,
        participant=p,
        collected_at=now - timedelta(hours=50),
        method="urine",
        results=[("cocaine", "negative")],
        resulted_at=now - timedelta(hours=26),
        source="lab",
        lab="Acme Labs",
    )
    return p


def _consent(participant, *, categories=GATED, roles=COURT_ROLES, **overrides):
    return participant_services.consent_record(
        acting_user=None,
        participant=participant,
        data={
            "discloser": "Recovery Clinic",
            "categories": [str(c) for c in categories],
            "recipient_roles": [str(r) for r in roles],
            "purpose": "Monitor participation in the treatment court.",
            "criminal_justice": True,
            "signed_on": participant.entry_date,
            "expires_on": None,
            "expiry_event": "Final disposition of the case",
            **overrides,
        },
    )


def _shown(record) -> set[str]:
    """The provider categories this record lets its reader see (`treated` has one record of
    each kind: a section not shown is withheld, and says so)."""
    assert bool(record.episodes) == bool(record.medications)
    provider_tests = [t for t in record.drug_tests if t.source == Source.PROVIDER]
    sections = {
        "progress_updates": record.progress_updates,
        "sessions": record.sessions,
        "episodes": record.episodes,
        "medications": record.medications,
        "drug_tests": provider_tests,
    }
    for rows in sections.values():
        assert len(rows) <= 1
    assert record.withheld == {name for name, rows in sections.items() if not rows}
    shown = {
        C.PROGRESS: record.progress_updates,
        C.ATTENDANCE: record.sessions,
        C.TREATMENT_PLAN: record.episodes,
        C.DRUG_TESTS: provider_tests,
    }
    return {str(category) for category, rows in shown.items() if rows}


def _court_tests(record) -> set[str]:
    return {t.source for t in record.drug_tests if t.source != Source.PROVIDER}


def _disclosures(**filters):
    return AuditEvent.objects.filter(action=AuditEvent.Action.DISCLOSE, **filters)


# --- the table -------------------------------------------------------------------------------
@pytest.mark.parametrize("category", [str(c) for c in GATED])
@pytest.mark.parametrize("role", COURT_ROLES, ids=lambda r: r.value)
def test_court_role_sees_a_category_only_under_a_consent(treated, personas, role, category):
    user = personas[role]
    assert treated in participants_visible_to(user)

    withheld = treatment_record(user, treated)
    assert _shown(withheld) == set()
    assert _court_tests(withheld) == {Source.COURT, Source.LAB}
    assert withheld.clinical_notes == [] and withheld.disclosed == []
    assert not withheld.needs_redisclosure_notice
    assert not _disclosures().exists()

    consent = _consent(treated, categories=[category], roles=[role])
    shown = treatment_record(user, treated)
    assert _shown(shown) == {category}  # that category and no other: minimum necessary
    assert _court_tests(shown) == {Source.COURT, Source.LAB}
    assert shown.clinical_notes == []
    assert shown.needs_redisclosure_notice and shown.disclosed == [category]
    event = _disclosures().get()
    assert event.consent_uuid == consent.uuid
    assert event.actor == user
    assert event.participant_uuid == treated.uuid
    assert event.program == treated.program
    assert event.detail == {"categories": [category], "export": False}

    # Every read is a disclosure of its own; an export says so.
    treatment_record(user, treated, export=True)
    assert _disclosures(consent_uuid=consent.uuid, actor=user).count() == 2
    assert _disclosures().order_by("-pk").first().detail["export"] is True

    # The consent names this role only: the next role of the team still sees nothing (every
    # role left out of a consent: test_consent_not_naming_a_role_withholds_from_that_role_only).
    other = COURT_ROLES[(COURT_ROLES.index(role) + 1) % len(COURT_ROLES)]
    assert _shown(treatment_record(personas[other], treated)) == set()
    assert _disclosures().count() == 2


@pytest.mark.parametrize("left_out", COURT_ROLES, ids=lambda r: r.value)
def test_consent_not_naming_a_role_withholds_from_that_role_only(treated, personas, left_out):
    consent = _consent(treated, roles=[r for r in COURT_ROLES if r != left_out])
    record = treatment_record(personas[left_out], treated)
    assert _shown(record) == set() and not record.needs_redisclosure_notice
    assert not _disclosures().exists()
    for role in COURT_ROLES:
        if role == left_out:
            continue
        record = treatment_record(personas[role], treated)
        assert _shown(record) == {str(c) for c in GATED}
        assert record.needs_redisclosure_notice
        # One read under one consent: one disclosure, naming every category it showed.
        event = _disclosures(actor=personas[role]).get()
        assert event.consent_uuid == consent.uuid
        assert sorted(event.detail["categories"]) == sorted(str(c) for c in GATED)
    assert _disclosures().count() == len(COURT_ROLES) - 1


def _everyone_withheld(personas, participant) -> None:
    for role in COURT_ROLES:
        record = treatment_record(personas[role], participant)
        assert _shown(record) == set(), role
        assert _court_tests(record) == {Source.COURT, Source.LAB}
        assert not record.needs_redisclosure_notice
    assert not _disclosures().exists()


def test_expired_consent_withholds(treated, personas):
    today = program_today(treated.program)
    _consent(
        treated,
        signed_on=today - timedelta(days=30),
        expires_on=today - timedelta(days=1),
        expiry_event="",
    )
    _everyone_withheld(personas, treated)


def test_revoked_consent_withholds(treated, personas):
    today = program_today(treated.program)
    consent = _consent(treated, criminal_justice=False)
    assert _shown(treatment_record(personas[Role.JUDGE], treated)) == {str(c) for c in GATED}
    participant_services.consent_revoke(acting_user=None, consent=consent, revoked_on=today)
    before = _disclosures().count()
    for role in COURT_ROLES:
        assert _shown(treatment_record(personas[role], treated)) == set(), role
    assert _disclosures().count() == before


def test_criminal_justice_consent_stands_until_disposition_then_revoked_withholds(
    treated, personas
):
    today = program_today(treated.program)
    consent = _consent(treated)
    with pytest.raises(ValidationError):
        participant_services.consent_revoke(acting_user=None, consent=consent, revoked_on=today)
    assert _shown(treatment_record(personas[Role.PROSECUTOR], treated)) == {str(c) for c in GATED}

    coordinator = personas[Role.COORDINATOR]
    exited = participant_services.status_change(
        acting_user=coordinator,
        participant=treated,
        to_status=Status.GRADUATED,
        effective_on=today,
        reason="Completed every phase.",
        expected_status=Status.ACTIVE,
    )
    participant_services.disposition_record(
        acting_user=coordinator,
        participant=exited,
        disposition="dismissed",
        disposition_date=today,
    )
    participant_services.consent_revoke(acting_user=None, consent=consent, revoked_on=today)
    before = _disclosures().count()
    for role in COURT_ROLES:
        assert _shown(treatment_record(personas[role], exited)) == set(), role
    assert _disclosures().count() == before


def test_court_and_lab_tests_need_no_consent_and_are_no_disclosure(assigned, personas):
    now = timezone.now()
    coordinator = personas[Role.COORDINATOR]
    for source in ("", "lab"):
        services.drug_test_record(
            acting_user=coordinator,
            participant=assigned,
            collected_at=now - timedelta(hours=3),
            method="oral_fluid",
            results=[("methamphetamine", "positive")],
            source=source or None,
        )
    services.drug_test_record(
        acting_user=coordinator,
        participant=assigned,
        collected_at=now - timedelta(hours=2),
        method="urine",
        missed=True,
    )
    consent = None
    for covered in (False, True):
        if covered:
            consent = _consent(assigned, categories=[C.DRUG_TESTS])
        for role in COURT_ROLES:
            record = treatment_record(personas[role], assigned)
            assert len(record.drug_tests) == 3
            assert "drug_tests" not in record.withheld  # there is nothing of the provider's
            assert not record.needs_redisclosure_notice
    assert consent is not None
    assert not _disclosures().exists()


def test_a_lab_result_forwarded_by_a_provider_is_provider_reported(assigned, personas, provider):
    """Labelling it a lab result does not take a provider's record out of the consent gate."""
    forwarded = services.drug_test_record(
        acting_user=personas[Role.CLINICIAN],
        participant=assigned,
        collected_at=timezone.now() - timedelta(hours=30),
        method="urine",
        results=[("fentanyl", "positive")],
        lab="Acme Labs",
        source="lab",
    ).obj
    assert (forwarded.source, forwarded.provider) == (Source.PROVIDER, provider)
    for role in COURT_ROLES:
        record = treatment_record(personas[role], assigned)
        assert record.drug_tests == [] and "drug_tests" in record.withheld, role
    assert not _disclosures().exists()


# --- what no consent releases ----------------------------------------------------------------
def test_clinical_notes_never_reach_a_court_role(treated, personas):
    _consent(treated, categories=C.values, roles=[r.value for r in Role if r != Role.ADMINISTRATOR])
    assert ClinicalNote.objects.filter(participant=treated).count() == 1
    for role in [*COURT_ROLES, Role.ADMINISTRATOR]:
        user = personas[role]
        record = treatment_record(user, treated)
        assert record.clinical_notes == [], role
        assert not clinical_notes_for(user, treated).exists(), role
        assert "Disclosed a relapse." not in repr(record)
    for event in _disclosures():
        assert set(event.detail["categories"]) <= {str(c) for c in GATED}
    mine = treatment_record(personas[Role.CLINICIAN], treated)
    assert [n.text for n in mine.clinical_notes] == ["Disclosed a relapse."]


def test_clinicians_see_their_own_providers_notes_only(treated, personas, other_provider, provider):
    clinician, stranger = personas[Role.CLINICIAN], other_provider.clinician
    assert treated not in participants_visible_to(stranger)
    assert not clinical_notes_for(stranger, treated).exists()

    # Both organisations treat the participant now: each keeps its own notes.
    services.provider_assign(
        acting_user=personas[Role.COORDINATOR],
        participant=treated,
        provider=other_provider,
        assigned_on=program_today(treated.program),
    )
    theirs = services.clinical_note_record(
        acting_user=stranger,
        participant=treated,
        written_on=program_today(treated.program),
        text="Their note.",
    )
    assert treated in participants_visible_to(stranger)
    assert list(clinical_notes_for(stranger, treated)) == [theirs]
    assert [n.provider for n in treatment_record(stranger, treated).clinical_notes] == [
        other_provider
    ]
    assert [n.provider for n in treatment_record(clinician, treated).clinical_notes] == [provider]


def test_clinicians_read_their_record_without_consent_or_disclosure(treated, personas):
    record = treatment_record(personas[Role.CLINICIAN], treated)
    assert record.clinician
    assert _shown(record) == {str(c) for c in GATED}
    assert len(record.drug_tests) == 3 and len(record.clinical_notes) == 1
    assert not record.needs_redisclosure_notice
    assert not _disclosures().exists()


def test_administrator_sees_nothing_whatever_the_consent(treated, personas):
    admin = personas[Role.ADMINISTRATOR]
    _consent(treated)
    assert not participants_visible_to(admin).exists()
    assert provider_gate(admin, [treated]).consents == {}
    # Even if a caller forgot the scope check, no provider information would be released.
    record = treatment_record(admin, treated)
    assert _shown(record) == set() and record.clinical_notes == []
    assert not _disclosures().exists()
