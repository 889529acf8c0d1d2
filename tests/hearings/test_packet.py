"""The staffing packet: what each role sees about each participant on a docket since their last
hearing, the consent gate on provider information (with its disclosures logged), clinical notes
for their own clinicians only, the PDF, and a query count that does not grow with the docket."""

import base64
import re
import zlib
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hearings import services
from hearings.packet import staffing_packet
from participants import services as participant_services
from participants.models import InformationCategory, Status
from tests.factories import ParticipantFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role
from treatment import services as treatment_services

pytestmark = pytest.mark.django_db

COURT_ROLES = [Role.JUDGE, Role.PROSECUTOR, Role.DEFENDER, Role.COORDINATOR, Role.MANAGER]
NOTE = "ZEBRACLINICAL confided a relapse"  # a clinical note: for its clinicians only
PROGRESS = "QUOKKAPROGRESS engaged in group"  # a progress update: under consent only
STAFFING = "Recommend praise"


def _url(session, pdf=False):
    return reverse("staffing_packet_pdf" if pdf else "staffing_packet", args=[session.uuid])


def _disclosures(**filters):
    return AuditEvent.objects.filter(action=AuditEvent.Action.DISCLOSE, **filters)


def _consent(participant, **overrides):
    return participant_services.consent_record(
        acting_user=None,
        participant=participant,
        data={
            "discloser": "Recovery Clinic",
            "categories": InformationCategory.values,
            "recipient_roles": [r.value for r in COURT_ROLES],
            "purpose": "Monitor participation in the treatment court.",
            "criminal_justice": True,
            "signed_on": participant.entry_date,
            "expires_on": None,
            "expiry_event": "Final disposition of the case",
            **overrides,
        },
    )


def _stock(p, *, personas, provider, past_session, session, consent=True):
    """Put `p` on both dockets (appearing at `past_session`) and give them one fact of every
    kind since then: court and provider tests, a treatment session, a progress update, a
    clinical note, a new arrest, a staffing note and a response at this hearing."""
    coordinator, clinician = personas[Role.COORDINATOR], personas[Role.CLINICIAN]
    today = program_today(p.program)
    if not p.provider_assignments.exists():
        treatment_services.provider_assign(
            acting_user=coordinator, participant=p, provider=provider, assigned_on=p.entry_date
        )
    if consent and not p.consents.exists():
        _consent(p)
    previous = services.docket_add(acting_user=coordinator, session=past_session, participant=p)
    services.entry_update(
        acting_user=coordinator, entry=previous, field="attendance", value="present", expected=""
    )
    entry = services.docket_add(acting_user=coordinator, session=session, participant=p)
    after = past_session.starts_at + timedelta(days=2)
    treatment_services.drug_test_record(
        acting_user=coordinator, participant=p, collected_at=after, method="urine", missed=True
    )
    treatment_services.drug_test_record(
        acting_user=clinician,
        participant=p,
        collected_at=after + timedelta(days=1),
        method="urine",
        results=[("opiates", "positive"), ("cocaine", "negative")],
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
    participant_services.arrest_record(
        acting_user=coordinator,
        participant=p,
        arrested_on=today - timedelta(days=4),
        charge="Shoplifting",
    )
    services.staffing_note_add(
        acting_user=personas[Role.JUDGE], entry=entry, text=STAFFING, recommendation="incentive"
    )
    return entry


@pytest.fixture
def docket(assigned, personas, provider, past_session, session_today, catalog):
    """`participant` (assigned to `provider`) with everything since their last hearing, on
    today's docket; no consent yet."""
    entry = _stock(
        assigned,
        personas=personas,
        provider=provider,
        past_session=past_session,
        session=session_today,
        consent=False,
    )
    services.response_add(
        acting_user=personas[Role.JUDGE],
        entry=entry,
        response_type=catalog["Verbal praise from the judge"],
        behavior_on=program_today(assigned.program) - timedelta(days=1),
    )
    return entry


def _item(packet, participant):
    (item,) = [i for i in packet.items if i.participant.pk == participant.pk]
    return item


def _pdf_text(content: bytes) -> str:
    """The text drawn on the PDF's pages: its content streams inflated, strings unescaped."""
    texts = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", content, re.S):
        head = content[: match.start()].rsplit(b"<<", 1)[-1]
        data = match.group(1)
        if b"/ASCII85Decode" in head:
            data = base64.a85decode(data.strip().removesuffix(b"~>"))
        if b"/FlateDecode" in head:
            data = zlib.decompress(data)
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", data, re.S):
            raw = re.sub(
                rb"\\([0-7]{1,3}|.)",
                lambda m: (
                    bytes([int(m.group(1), 8)])
                    if m.group(1)[:1].isdigit()
                    else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m.group(1), m.group(1))
                ),
                literal,
            )
            texts.append(raw.decode("cp1252"))
    return "\n".join(texts)


# --- the consent gate ------------------------------------------------------------------------
@pytest.mark.parametrize("role", COURT_ROLES, ids=lambda r: r.value)
def test_without_consent_provider_information_is_withheld(docket, personas, as_user, role):
    client = as_user(personas[role])
    page = client.get(_url(docket.session)).content.decode()
    assert "Ana Núñez" in page
    assert page.count('data-testid="withheld"') == 3  # attendance, progress, provider tests
    assert PROGRESS not in page and "Opiates" not in page
    assert 'data-testid="redisclosure-notice"' not in page
    assert 'data-testid="flag-missed"' in page  # the court's own test needs no consent
    assert not _disclosures().exists()

    packet = staffing_packet(personas[role], docket.session)
    item = _item(packet, docket.participant)
    assert item.attendance.sessions == [] and item.progress_updates == []
    assert item.withheld == {"sessions", "progress_updates", "drug_tests"}
    assert [t.provider_id for t in item.drug_tests] == [None]
    assert not packet.needs_redisclosure_notice and not _disclosures().exists()


@pytest.mark.parametrize("role", COURT_ROLES, ids=lambda r: r.value)
def test_under_consent_shown_and_each_disclosure_logged(docket, consent, personas, as_user, role):
    user = personas[role]
    page = as_user(user).get(_url(docket.session)).content.decode()
    assert 'data-testid="withheld"' not in page
    assert PROGRESS in page and "Opiates" in page
    assert 'data-testid="redisclosure-notice"' in page and "42 CFR" in page
    event = _disclosures().get()
    assert (event.actor, event.consent_uuid) == (user, consent.uuid)
    assert event.participant_uuid == docket.participant.uuid
    assert event.program == docket.participant.program
    assert sorted(event.detail["categories"]) == ["attendance", "drug_tests", "progress"]
    assert event.detail["export"] is False
    assert event.detail["staffing_packet"] == str(docket.session.uuid)
    view = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_id=docket.session.uuid)
    assert view.actor == user
    assert view.detail["participants"] == [str(docket.participant.uuid)]


def test_consent_for_one_category_discloses_that_category_only(docket, personas):
    judge = personas[Role.JUDGE]
    consent = _consent(docket.participant, categories=[InformationCategory.PROGRESS])
    item = _item(staffing_packet(judge, docket.session), docket.participant)
    assert [u.summary for u in item.progress_updates] == [PROGRESS]
    assert item.attendance.sessions == [] and item.withheld == {"sessions", "drug_tests"}
    event = _disclosures().get()
    assert event.consent_uuid == consent.uuid and event.detail["categories"] == ["progress"]


def test_revoked_consent_withholds(docket, personas, as_user):
    consent = _consent(docket.participant, criminal_justice=False)
    participant_services.consent_revoke(
        acting_user=None, consent=consent, revoked_on=program_today(docket.participant.program)
    )
    page = as_user(personas[Role.JUDGE]).get(_url(docket.session)).content.decode()
    assert page.count('data-testid="withheld"') == 3 and PROGRESS not in page
    assert not _disclosures().exists()


def test_expired_consent_withholds(docket, personas, as_user):
    today = program_today(docket.participant.program)
    _consent(
        docket.participant,
        signed_on=today - timedelta(days=30),
        expires_on=today - timedelta(days=1),
        expiry_event="",
    )
    page = as_user(personas[Role.PROSECUTOR]).get(_url(docket.session)).content.decode()
    assert page.count('data-testid="withheld"') == 3 and PROGRESS not in page
    assert not _disclosures().exists()


def test_consent_naming_other_roles_withholds_from_this_one(docket, personas):
    _consent(docket.participant, recipient_roles=["judge"])
    assert _item(staffing_packet(personas[Role.JUDGE], docket.session), docket.participant).full
    item = _item(staffing_packet(personas[Role.PROSECUTOR], docket.session), docket.participant)
    assert item.progress_updates == [] and item.attendance.sessions == []
    assert item.withheld == {"sessions", "progress_updates", "drug_tests"}
    assert _disclosures().get().actor == personas[Role.JUDGE]


# --- clinical notes --------------------------------------------------------------------------
@pytest.mark.parametrize("role", COURT_ROLES, ids=lambda r: r.value)
def test_clinical_notes_never_reach_a_court_role(docket, consent, personas, as_user, role):
    client = as_user(personas[role])
    page = client.get(_url(docket.session))
    pdf = client.get(_url(docket.session, pdf=True))
    assert page.status_code == pdf.status_code == 200
    assert "ZEBRACLINICAL" not in page.content.decode()
    assert 'data-testid="clinical-notes"' not in page.content.decode()
    text = _pdf_text(pdf.content)
    assert "Ana Núñez" in text  # the extraction works: the note would be found if it were there
    assert "ZEBRACLINICAL" not in text
    assert (
        _item(staffing_packet(personas[role], docket.session), docket.participant).clinical_notes
        == []
    )


def test_clinicians_see_their_own_organisation_notes_without_consent(
    docket, personas, as_user, other_provider
):
    clinician = personas[Role.CLINICIAN]
    client = as_user(clinician)
    page = client.get(_url(docket.session)).content.decode()
    assert "ZEBRACLINICAL" in page and PROGRESS in page and "Opiates" in page
    assert 'data-testid="withheld"' not in page
    assert "ZEBRACLINICAL" in _pdf_text(client.get(_url(docket.session, pdf=True)).content)
    assert not _disclosures().exists()  # the provider's own record: no disclosure

    # Another organisation treating the same participant keeps its notes to itself.
    stranger = other_provider.clinician
    treatment_services.provider_assign(
        acting_user=personas[Role.COORDINATOR],
        participant=docket.participant,
        provider=other_provider,
        assigned_on=program_today(docket.participant.program),
    )
    item = _item(staffing_packet(stranger, docket.session), docket.participant)
    assert item.full and item.clinical_notes == []
    assert [
        n.text
        for n in _item(
            staffing_packet(clinician, docket.session), docket.participant
        ).clinical_notes
    ] == [NOTE]


# --- who sees which entries ------------------------------------------------------------------
@pytest.fixture
def stranger_on_docket(program, personas, session_today):
    """Another participant on today's docket: nobody's client, referred to no clinician."""
    coordinator = personas[Role.COORDINATOR]
    other = admit(
        ParticipantFactory(program=program, person__first_name="Bruno", person__last_name="Ibarra"),
        by=coordinator,
    )
    entry = services.docket_add(acting_user=coordinator, session=session_today, participant=other)
    treatment_services.drug_test_record(
        acting_user=coordinator,
        participant=other,
        collected_at=session_today.starts_at - timedelta(days=1),
        method="urine",
        refused=True,
    )
    services.staffing_note_add(
        acting_user=personas[Role.JUDGE], entry=entry, text="KIWISTAFFING about Bruno"
    )
    return other


def test_defender_sees_other_clients_by_name_only(docket, stranger_on_docket, personas, as_user):
    page = as_user(personas[Role.DEFENDER]).get(_url(docket.session)).content.decode()
    assert "Ana Núñez" in page and "Bruno Ibarra" in page
    assert page.count('data-testid="name-only"') == 1
    assert "KIWISTAFFING" not in page and 'data-testid="flag-refused"' not in page
    assert STAFFING in page  # their own client in full
    packet = staffing_packet(personas[Role.DEFENDER], docket.session)
    assert [(i.participant.person.first_name, i.full) for i in packet.items] == [
        ("Ana", True),
        ("Bruno", False),
    ]
    assert _item(packet, stranger_on_docket).drug_tests == []

    judge_page = as_user(personas[Role.JUDGE]).get(_url(docket.session)).content.decode()
    assert "KIWISTAFFING" in judge_page and 'data-testid="flag-refused"' in judge_page
    assert 'data-testid="name-only"' not in judge_page


def test_clinician_sees_only_their_participants(docket, stranger_on_docket, personas, as_user):
    page = as_user(personas[Role.CLINICIAN]).get(_url(docket.session)).content.decode()
    assert "Ana Núñez" in page and "Bruno Ibarra" not in page and "KIWISTAFFING" not in page
    pdf = _pdf_text(as_user(personas[Role.CLINICIAN]).get(_url(docket.session, pdf=True)).content)
    assert "Ana Núñez" in pdf and "Bruno Ibarra" not in pdf


def test_another_programs_session_and_administrators_get_404(
    docket, personas, as_user, outsider, other_program
):
    for user in (outsider, personas[Role.ADMINISTRATOR]):
        client = as_user(user)
        assert client.get(_url(docket.session)).status_code == 404
        assert client.get(_url(docket.session, pdf=True)).status_code == 404
    judge = UserFactory(role=Role.JUDGE, programs=[other_program])
    theirs = services.session_create(
        acting_user=outsider,
        program=other_program,
        kind="status_review",
        judge=judge,
        courtroom="1",
        day=program_today(other_program),
        start=docket.session.starts_at.time(),
        duration_minutes=60,
    )
    client = as_user(personas[Role.JUDGE])
    assert client.get(_url(theirs)).status_code == 404
    assert client.get(_url(theirs, pdf=True)).status_code == 404
    assert client.get(reverse("staffing_packet", args=[uuid4()])).status_code == 404
    assert not _disclosures().exists()


def test_a_clinician_without_a_participant_on_the_docket_gets_404(docket, as_user):
    nobody = UserFactory(role=Role.CLINICIAN)
    assert as_user(nobody).get(_url(docket.session)).status_code == 404


# --- since the last hearing ------------------------------------------------------------------
def test_only_what_happened_since_the_last_appearance(
    docket, consent, personas, past_session, make_session, catalog
):
    p, coordinator = docket.participant, personas[Role.COORDINATOR]
    # At the last hearing: a response (answered then, not since) ...
    previous = past_session.entries.get(participant=p)
    services.response_add(
        acting_user=personas[Role.JUDGE],
        entry=previous,
        response_type=catalog["Curfew"],
        behavior_on=program_today(p.program) - timedelta(days=15),
        magnitude=3,
    )
    # ... and a test collected the morning of it: both were staffed then.
    treatment_services.drug_test_record(
        acting_user=coordinator,
        participant=p,
        collected_at=past_session.starts_at - timedelta(hours=2),
        method="breath",
        results=[("alcohol", "positive")],
    )
    # A hearing between them that was cancelled, or not attended, does not move the boundary.
    absent = make_session(-7, hour=10)
    services.docket_add(acting_user=coordinator, session=absent, participant=p)
    services.entry_update(
        acting_user=coordinator,
        entry=absent.entries.get(participant=p),
        field="attendance",
        value="absent",
        expected="",
    )
    item = _item(staffing_packet(personas[Role.JUDGE], docket.session), p)
    assert item.last_hearing == past_session.starts_at
    assert item.since == past_session.starts_at.astimezone(ZoneInfo(p.program.time_zone)).date()
    assert all(t.collected_at > past_session.starts_at for t in item.drug_tests)
    assert [t.method for t in item.drug_tests] == ["urine", "urine"]
    assert item.responses_since == []
    assert [r.response_type.name for r in item.responses_here] == ["Verbal praise from the judge"]
    assert item.phase.appearances == 1 and item.phase.phase == p.phase
    assert item.phase.days_in_phase == (program_today(p.program) - p.entry_date).days


def test_without_an_earlier_appearance_everything_since_program_entry(
    assigned, personas, session_today
):
    p, coordinator = assigned, personas[Role.COORDINATOR]
    services.docket_add(acting_user=coordinator, session=session_today, participant=p)
    treatment_services.drug_test_record(
        acting_user=coordinator,
        participant=p,
        collected_at=session_today.starts_at - timedelta(days=40),
        method="urine",
        results=[("cannabis", "negative")],
    )
    item = _item(staffing_packet(personas[Role.JUDGE], session_today), p)
    assert item.last_hearing is None and item.since == p.entry_date
    assert len(item.drug_tests) == 1 and item.phase.tests == 1


# --- flags -----------------------------------------------------------------------------------
def test_flags_missed_test_new_arrest_and_warrant(docket, personas, as_user):
    p = docket.participant
    page = as_user(personas[Role.PROSECUTOR]).get(_url(docket.session)).content.decode()
    assert 'data-testid="flag-missed"' in page and "1 missed test" in page
    assert 'data-testid="flag-arrest"' in page and "Shoplifting" in page
    assert 'data-testid="flag-warrant"' not in page

    participant_services.status_change(
        acting_user=personas[Role.COORDINATOR],
        participant=p,
        to_status=Status.WARRANT,
        effective_on=program_today(p.program),
        reason="Absconded.",
        expected_status=Status.ACTIVE,
    )
    page = as_user(personas[Role.PROSECUTOR]).get(_url(docket.session)).content.decode()
    assert 'data-testid="flag-warrant"' in page
    item = _item(staffing_packet(personas[Role.PROSECUTOR], docket.session), p)
    assert item.warrant and item.missed_tests == 1 and item.positive_tests == 1
    assert [a.charge for a in item.new_arrests] == ["Shoplifting"]
    assert "Warrant" in _pdf_text(
        as_user(personas[Role.PROSECUTOR]).get(_url(docket.session, pdf=True)).content
    )


def test_an_arrest_before_the_last_hearing_is_no_new_flag(docket, personas):
    p = docket.participant
    participant_services.arrest_record(
        acting_user=personas[Role.COORDINATOR],
        participant=p,
        arrested_on=p.entry_date + timedelta(days=1),
        charge="Old trespass",
    )
    item = _item(staffing_packet(personas[Role.JUDGE], docket.session), p)
    assert [a.charge for a in item.new_arrests] == ["Shoplifting"]


# --- the PDF ---------------------------------------------------------------------------------
def test_pdf_is_a_confidential_attachment_with_the_notice(docket, consent, personas, as_user):
    response = as_user(personas[Role.JUDGE]).get(_url(docket.session, pdf=True))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert re.search(r'filename="staffing-packet-atc-\d{4}-\d{2}-\d{2}-\d{4}\.pdf"', disposition)
    text = _pdf_text(response.content)
    assert "Ana Núñez" in text and "CONFIDENTIAL" in text and "Page 1 of" in text
    assert "42 CFR" in text and "Shoplifting" in text
    event = _disclosures().get()
    assert event.consent_uuid == consent.uuid and event.detail["export"] is True
    export = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert export.detail["participants"] == [str(docket.participant.uuid)]


def test_pdf_without_consent_marks_withheld_and_has_no_notice(docket, personas, as_user):
    text = _pdf_text(as_user(personas[Role.JUDGE]).get(_url(docket.session, pdf=True)).content)
    assert "Ana Núñez" in text and "42 CFR" not in text
    assert "QUOKKAPROGRESS" not in text and text.count("Withheld") == 3


def test_page_and_pdf_in_the_users_language(docket, personas, as_user):
    client = as_user(personas[Role.JUDGE])
    client.cookies["django_language"] = "es"
    page = client.get(_url(docket.session), HTTP_ACCEPT_LANGUAGE="es")
    assert page.status_code == 200
    assert '<html lang="es">' in page.content.decode()
    pdf = client.get(_url(docket.session, pdf=True), HTTP_ACCEPT_LANGUAGE="es")
    assert pdf.content.startswith(b"%PDF")


# --- a constant number of queries ------------------------------------------------------------
def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("role", [Role.JUDGE, Role.DEFENDER, Role.CLINICIAN], ids=str)
def test_query_count_does_not_grow_with_the_docket(
    docket, consent, personas, provider, past_session, as_user, program, role
):
    coordinator = personas[Role.COORDINATOR]
    session = docket.session

    def add(n):
        for _ in range(n):
            p = admit(ParticipantFactory(program=program), by=coordinator)
            participant_services.participant_assign(
                acting_user=coordinator, participant=p, defender=personas[Role.DEFENDER]
            )
            _stock(
                p, personas=personas, provider=provider, past_session=past_session, session=session
            )

    add(2)
    client = as_user(personas[role])
    client.get(_url(session))  # warm caches (content types, permissions)
    small = (_count(client, _url(session)), _count(client, _url(session, pdf=True)))
    add(10)
    large = (_count(client, _url(session)), _count(client, _url(session, pdf=True)))
    assert small == large
    packet = staffing_packet(personas[role], session)
    assert len(packet.items) == 13 and all(i.full for i in packet.items)
    if role != Role.CLINICIAN:
        # Every participant's provider information was disclosed, each under its consent.
        assert (
            _disclosures(actor=personas[role]).values("participant_uuid").distinct().count() == 13
        )


def test_legal_term_warning_costs_no_query_per_participant(program, personas, session_today):
    """Suspensión condicional: the term's end (pushed back by detentions) is flagged when near."""
    program.legal_track = "mx_suspension"
    program.term_warning_days = 365
    program.save()
    coordinator, judge = personas[Role.COORDINATOR], personas[Role.JUDGE]
    today = program_today(program)

    def add(n):
        for _ in range(n):
            p = admit(ParticipantFactory(program=program), by=coordinator)
            services.docket_add(acting_user=coordinator, session=session_today, participant=p)
            term = participant_services.legal_term_set(
                acting_user=coordinator,
                participant=p,
                starts_on=p.entry_date,
                ends_on=p.entry_date + timedelta(days=200),
            )
            participant_services.term_interruption_add(
                acting_user=coordinator,
                term=term,
                starts_on=p.entry_date + timedelta(days=1),
                ends_on=p.entry_date + timedelta(days=11),
                reason="Detained on another case.",
            )

    def count():
        with CaptureQueriesContext(connection) as ctx:
            packet = staffing_packet(judge, session_today)
        return len(ctx.captured_queries), packet

    add(1)
    count()  # the reader's role and permissions, cached on the user for the request
    small, _packet = count()
    add(3)
    large, packet = count()
    assert small == large
    for item in packet.items:
        expected = (item.participant.entry_date + timedelta(days=210) - today).days
        assert item.term_warning and item.term_days_remaining == expected
        assert item.flagged
