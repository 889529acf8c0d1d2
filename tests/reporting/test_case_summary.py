"""A participant's case summary as a PDF: managers only, in scope only, every download an export
in the audit trail, provider information only under a consent (each disclosure logged, the
redisclosure notice printed), clinical notes never, in the user's language and the program's
time zone."""

# The fixtures imported below are pytest fixtures: naming them as test parameters is their use.
# ruff: noqa: F811

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation

from hearings import services as hearing_services
from participants import services as participant_services
from tests.factories import UserFactory
from tests.hearings.conftest import catalog, make_session  # noqa: F401
from tests.hearings.test_packet import _pdf_text
from tests.treatment.conftest import assigned, consent, provider  # noqa: F401
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role
from treatment import services as treatment_services

pytestmark = pytest.mark.django_db

NOTE = "ZEBRACLINICAL confided a relapse"  # a clinical note: never in a summary
PROGRESS = "QUOKKAPROGRESS engaged"  # a progress update: under consent only


def _url(participant):
    return reverse("case_summary_pdf", args=[participant.uuid])


def _events(action, **filters):
    return AuditEvent.objects.filter(action=action, **filters)


def _en(value) -> str:
    with translation.override("en"):
        return formats.date_format(value, "SHORT_DATE_FORMAT")


@pytest.fixture
def case(assigned, personas, provider, make_session, catalog):
    """`participant` (assigned to `provider`, no consent yet) with a case, history, a case plan,
    a hearing attended with a response, another ahead, court and provider tests, treatment
    facts and a clinical note."""
    p = assigned
    coordinator, clinician = personas[Role.COORDINATOR], personas[Role.CLINICIAN]
    today = program_today(p.program)
    p.person.date_of_birth = date(1990, 3, 25)
    p.person.save(update_fields=["date_of_birth"])
    participant_services.case_add(
        acting_user=coordinator,
        participant=p,
        case_number="CR-2024-0117",
        charge="Possession",
        level="felony",
        court="District 4",
    )
    phase_two = p.program.phases.get(number=2)
    p = participant_services.phase_change(
        acting_user=coordinator,
        participant=p,
        to_phase=phase_two,
        effective_on=today - timedelta(days=30),
        reason="Clean month",
        expected_phase=p.phase,
    )
    p = participant_services.status_change(
        acting_user=coordinator,
        participant=p,
        to_status="in_custody",
        effective_on=today - timedelta(days=20),
        reason="Held overnight",
        expected_status="active",
    )
    p = participant_services.status_change(
        acting_user=coordinator,
        participant=p,
        to_status="active",
        effective_on=today - timedelta(days=19),
        reason="Released",
        expected_status="in_custody",
    )
    participant_services.goal_add(
        acting_user=coordinator,
        participant=p,
        description="Stable housing",
        target_date=today + timedelta(days=60),
    )
    participant_services.service_referral_add(
        acting_user=coordinator,
        participant=p,
        service="housing",
        agency="Casa Nueva",
        referred_on=today - timedelta(days=10),
    )
    past = make_session(-14)
    entry = hearing_services.docket_add(acting_user=coordinator, session=past, participant=p)
    hearing_services.entry_update(
        acting_user=coordinator, entry=entry, field="attendance", value="present", expected=""
    )
    hearing_services.response_add(
        acting_user=personas[Role.JUDGE],
        entry=entry,
        response_type=catalog["Community service"],
        magnitude=Decimal(8),
        behavior_on=today - timedelta(days=15),
    )
    hearing_services.response_add(
        acting_user=personas[Role.JUDGE],
        entry=entry,
        response_type=catalog["Jail"],
        magnitude=Decimal(2),
        behavior_on=today - timedelta(days=15),
    )
    ahead = make_session(7)
    hearing_services.docket_add(acting_user=coordinator, session=ahead, participant=p)
    after = past.starts_at + timedelta(days=2)
    treatment_services.drug_test_record(
        acting_user=coordinator, participant=p, collected_at=after, method="urine", missed=True
    )
    treatment_services.drug_test_record(
        acting_user=coordinator,
        participant=p,
        collected_at=after + timedelta(days=1),
        method="urine",
        results=[("cocaine", "negative")],
    )
    treatment_services.drug_test_record(
        acting_user=clinician,
        participant=p,
        collected_at=after + timedelta(days=3),
        method="urine",
        results=[("opiates", "positive")],
    )
    treatment_services.episode_record(
        acting_user=clinician,
        participant=p,
        level_of_care="2.1",
        modality="intensive",
        admitted_on=p.entry_date,
    )
    treatment_services.session_record(
        acting_user=clinician,
        participant=p,
        session_date=today - timedelta(days=3),
        kind="group",
        attendance="attended",
        hours=Decimal("1.5"),
    )
    treatment_services.progress_update_record(
        acting_user=clinician,
        participant=p,
        period_start=today - timedelta(days=10),
        period_end=today - timedelta(days=1),
        engagement="good",
        summary=PROGRESS,
    )
    treatment_services.clinical_note_record(
        acting_user=clinician, participant=p, written_on=today - timedelta(days=2), text=NOTE
    )
    p.past_session, p.next_session = past, ahead
    return p


def _summary(client, participant) -> str:
    response = client.get(_url(participant))
    assert response.status_code == 200
    return _pdf_text(response.content)


# --- who may download it ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.MANAGER, 200),
        (Role.JUDGE, 403),
        (Role.PROSECUTOR, 403),
        (Role.DEFENDER, 403),
        (Role.CLINICIAN, 403),
        (Role.COORDINATOR, 403),
        (Role.ADMINISTRATOR, 404),
    ],
)
def test_only_managers_download_it(case, consent, personas, as_user, role, status):
    response = as_user(personas[role]).get(_url(case))
    assert response.status_code == status
    exported = _events(AuditEvent.Action.EXPORT, participant_uuid=case.uuid).exists()
    disclosed = _events(AuditEvent.Action.DISCLOSE).exists()
    assert exported is disclosed is (status == 200)


def test_manager_gets_a_confidential_pdf_attachment(case, personas, as_user):
    response = as_user(personas[Role.MANAGER]).get(_url(case))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"case-summary-atc-{case.uuid}-" in disposition
    assert "Núñez" not in disposition
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    text = _pdf_text(response.content)
    assert "Ana Núñez" in text and "CONFIDENTIAL" in text and "Page 1 of" in text
    assert "Adult Treatment Court" in text
    assert _en(date(1990, 3, 25)) in text
    for fact in ("CR-2024-0117", "Possession (Felony / delito grave)", "District 4"):
        assert fact in text
    phase2 = str(case.program.phases.get(number=2))  # factory names depend on the run's sequence
    for fact in ("Clean month", "Held overnight", "Released", "In custody", phase2):
        assert fact in text
    assert "Stable housing" in text and "Casa Nueva" in text
    assert "Community service" in text and "Jail" in text


def test_another_programs_participant_or_manager_gets_404(
    case, other_participant, other_program, personas, as_user
):
    assert as_user(personas[Role.MANAGER]).get(_url(other_participant)).status_code == 404
    stranger = UserFactory(role=Role.MANAGER, programs=[other_program])
    assert as_user(stranger).get(_url(case)).status_code == 404
    assert not _events(AuditEvent.Action.EXPORT).exists()


def test_every_download_is_an_export_in_the_audit_trail(case, personas, as_user):
    manager = personas[Role.MANAGER]
    client = as_user(manager)
    client.get(_url(case))
    client.get(_url(case))
    events = _events(AuditEvent.Action.EXPORT, participant_uuid=case.uuid)
    assert events.count() == 2
    event = events.first()
    assert event.actor == manager and event.program == case.program
    assert event.object_id == str(case.uuid)
    assert event.detail["report"] == "case_summary" and event.detail["format"] == "pdf"


# --- the consent gate ------------------------------------------------------------------------
def test_without_consent_provider_information_is_withheld(case, personas, as_user):
    text = _summary(as_user(personas[Role.MANAGER]), case)
    assert PROGRESS not in text and NOTE not in text and "42 CFR" not in text
    # Episodes, attendance, medications, progress updates and the provider's test results.
    assert text.count("Withheld") == 5
    assert "Intensive outpatient" not in text
    assert not _events(AuditEvent.Action.DISCLOSE).exists()
    assert _events(AuditEvent.Action.EXPORT).get().detail["disclosed"] == []


def test_without_consent_test_counts_are_the_courts_only(case, personas, as_user):
    text = _summary(as_user(personas[Role.MANAGER]), case)
    missed = case.drug_tests.get(missed=True)
    local = timezone.localtime(missed.collected_at, ZoneInfo(case.program.time_zone))
    # Two court tests, one (missed) failed; the provider's positive is withheld.
    assert "Tests\n2\n" in text and "count as failed)\n1\n" in text
    assert f"Last failed test\n{_en(local.date())}" in text


def test_under_consent_shown_once_disclosed_with_the_notice(case, consent, personas, as_user):
    text = _summary(as_user(personas[Role.MANAGER]), case)
    assert PROGRESS in text and "Intensive outpatient" in text and "Recovery Clinic" in text
    assert "Confidentiality notice (42 CFR 2.32)" in text and "Withheld" not in text
    assert "Tests\n3\n" in text and "count as failed)\n2\n" in text
    event = _events(AuditEvent.Action.DISCLOSE).get()
    assert event.consent_uuid == consent.uuid and event.participant_uuid == case.uuid
    assert event.detail["export"] is True
    assert set(_events(AuditEvent.Action.EXPORT).get().detail["disclosed"]) == set(
        event.detail["categories"]
    )


def test_clinical_notes_never_appear_even_under_a_full_consent(case, consent, personas, as_user):
    text = _summary(as_user(personas[Role.MANAGER]), case)
    assert PROGRESS in text  # the consent is in force: this is not a withheld summary
    assert "ZEBRACLINICAL" not in text and "relapse" not in text


# --- hearings, legal term, language and time zone --------------------------------------------
def test_hearings_and_responses_counted_next_hearing_in_program_time(case, personas, as_user):
    text = _summary(as_user(personas[Role.MANAGER]), case)
    assert "Hearings held\n1\nAppeared\n1\nAbsent\n0\n" in text
    assert "Sanctions\n2\n" in text and "Jail-sanction days\n2.0\n" in text
    local = timezone.localtime(case.next_session.starts_at, ZoneInfo(case.program.time_zone))
    with translation.override("en"):
        expected = formats.date_format(local, "SHORT_DATETIME_FORMAT")
        utc = formats.date_format(
            timezone.localtime(case.next_session.starts_at, ZoneInfo("UTC")),
            "SHORT_DATETIME_FORMAT",
        )
    assert f"Next hearing\n{expected}" in text and utc not in text


def test_no_legal_term_section_outside_a_conditional_suspension(case, personas, as_user):
    text = _summary(as_user(personas[Role.MANAGER]), case)
    assert "Conditional suspension" not in text


def test_mexican_legal_term_on_an_a4_page(other_participant, other_program, as_user):
    p = other_participant
    coordinator = UserFactory(role=Role.COORDINATOR, programs=[other_program])
    participant_services.legal_term_set(
        acting_user=coordinator,
        participant=p,
        starts_on=p.entry_date,
        ends_on=p.entry_date + timedelta(days=365),
        victim_objected=True,
        victim_objection_notes="Wants restitution",
    )
    manager = UserFactory(role=Role.MANAGER, programs=[other_program])
    response = as_user(manager).get(_url(p))
    assert response.status_code == 200
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in response.content  # A4
    text = _pdf_text(response.content)
    assert "Conditional suspension: legal term" in text
    assert "Objected: Wants restitution" in text
    days = p.legal_term.days_remaining(program_today(other_program))
    assert f"Days remaining\n{days}\n" in text


def test_in_the_users_language(case, personas, as_user):
    client = as_user(personas[Role.MANAGER])
    client.cookies["django_language"] = "es"
    response = client.get(_url(case), HTTP_ACCEPT_LANGUAGE="es")
    text = _pdf_text(response.content)
    assert "CONFIDENCIAL" in text and "Página 1 de" in text
    assert "Fecha de nacimiento\n25/03/1990" in text and "Date of birth" not in text
    assert "Causas y delitos" in text
    assert "\n2,0\n" in text  # the jail-sanction days, with a decimal comma


def _queries(client, participant) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(_url(participant)).status_code == 200
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_the_record(
    case,
    consent,
    personas,
    as_user,
    make_session,
    catalog,
):
    client = as_user(personas[Role.MANAGER])
    before = _queries(client, case)
    coordinator, today = personas[Role.COORDINATOR], program_today(case.program)
    session = make_session(-7, courtroom="4A")
    entry = hearing_services.docket_add(acting_user=coordinator, session=session, participant=case)
    for name in ("Verbal praise from the judge", "Applause in court"):
        hearing_services.response_add(
            acting_user=personas[Role.JUDGE],
            entry=entry,
            response_type=catalog[name],
            behavior_on=today - timedelta(days=8),
        )
    for days in (5, 4):
        treatment_services.drug_test_record(
            acting_user=personas[Role.CLINICIAN],
            participant=case,
            collected_at=timezone.now() - timedelta(days=days),
            method="urine",
            results=[("cannabis", "positive"), ("cocaine", "negative")],
        )
    participant_services.case_add(
        acting_user=coordinator,
        participant=case,
        case_number="CR-2",
        charge="Theft",
        level="misdemeanor",
    )
    participant_services.goal_add(
        acting_user=coordinator, participant=case, description="Work", target_date=None
    )
    assert _queries(client, case) == before


# --- the link on the participant's page ------------------------------------------------------
@pytest.mark.parametrize(("role", "shown"), [(Role.MANAGER, True), (Role.JUDGE, False)])
def test_participant_page_links_the_summary_for_managers(case, personas, as_user, role, shown):
    page = as_user(personas[role]).get(reverse("participant_detail", args=[case.uuid]))
    assert page.status_code == 200
    assert (_url(case) in page.content.decode()) is shown
