"""Treatment services against real PostgreSQL: providers and the access their assignment grants,
every clinical record and drug test with its bad input refused whole, and idempotent
submission on a client's external id (including two identical submissions racing)."""

import threading
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from time import monotonic, sleep

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from participants.access import participants_visible_to
from tests.factories import ParticipantFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role
from treatment import services
from treatment.models import (
    ClinicalNote,
    DrugTest,
    DrugTestResult,
    Medication,
    ProgressUpdate,
    Provider,
    ProviderAssignment,
    Source,
    TestSelection,
    TreatmentEpisode,
    TreatmentSession,
)

pytestmark = pytest.mark.django_db

RECORD_MODELS = [
    TreatmentEpisode,
    TreatmentSession,
    Medication,
    ProgressUpdate,
    ClinicalNote,
    DrugTest,
    DrugTestResult,
    TestSelection,
    ProviderAssignment,
    AuditEvent,
]


def _counts() -> dict[str, int]:
    """Rows of every table a treatment service writes (the audit trail included)."""
    return {model.__name__: model.objects.count() for model in RECORD_MODELS}


@pytest.fixture
def today(program):
    return program_today(program)


@pytest.fixture
def clinician(personas):
    return personas[Role.CLINICIAN]


@pytest.fixture
def coordinator(personas):
    return personas[Role.COORDINATOR]


# --- providers and assignments ---------------------------------------------------------------
def test_provider_create_makes_its_group_and_serves_its_programs(program, other_program):
    provider = services.provider_create(
        acting_user=None, name="Sunrise Recovery", programs=[program, other_program], phone="555"
    )
    provider.refresh_from_db()
    assert provider.group.name == "provider: Sunrise Recovery"
    assert set(provider.programs.all()) == {program, other_program}
    assert provider.phone == "555"
    assert AuditEvent.objects.filter(
        action="create", object_type="treatment.provider", object_id=str(provider.uuid)
    ).exists()


def test_add_clinician_joins_the_providers_group_and_is_audited(provider, clinician):
    assert provider.group.user_set.filter(pk=clinician.pk).exists()
    event = AuditEvent.objects.get(
        action="grant", object_type="tjp.user", object_id=str(clinician.uuid)
    )
    assert event.detail == {"provider": "Recovery Clinic"}


def test_only_clinicians_may_belong_to_a_provider(provider, program, subtests):
    for role in Role:
        if role == Role.CLINICIAN:
            continue
        with subtests.test(role=role.value):
            user = UserFactory(role=role, programs=[program])
            before = _counts()
            with pytest.raises(ValidationError):
                services.provider_add_clinician(acting_user=None, provider=provider, user=user)
            assert not user.groups.filter(pk=provider.group.pk).exists()
            assert _counts() == before


def test_assignment_grants_the_providers_clinicians_and_unassignment_removes_it(
    participant, other_provider, coordinator, today
):
    clinician = other_provider.clinician
    assert participant not in participants_visible_to(clinician)

    assignment = services.provider_assign(
        acting_user=coordinator,
        participant=participant,
        provider=other_provider,
        assigned_on=today - timedelta(days=3),
    )
    assert participant in participants_visible_to(clinician)
    # A clinician who joins the organisation later reaches its participants too.
    newcomer = UserFactory(role=Role.CLINICIAN)
    services.provider_add_clinician(acting_user=None, provider=other_provider, user=newcomer)
    assert participant in participants_visible_to(newcomer)
    granted = AuditEvent.objects.get(
        action="grant", object_id=str(participant.uuid), detail__provider="Other Clinic"
    )
    assert granted.actor == coordinator
    assert granted.participant_uuid == participant.uuid
    assert granted.detail == {"provider": "Other Clinic"}

    services.provider_unassign(acting_user=coordinator, assignment=assignment, ended_on=today)
    assert participant not in participants_visible_to(clinician)
    assert participant not in participants_visible_to(newcomer)
    assignment.refresh_from_db()
    assert assignment.ended_on == today
    revoked = AuditEvent.objects.get(
        action="revoke", object_id=str(participant.uuid), detail__provider="Other Clinic"
    )
    assert revoked.actor == coordinator and revoked.detail == {"provider": "Other Clinic"}
    # Without an assignment the clinician can no longer record anything for the participant.
    with pytest.raises(ValidationError):
        services.progress_update_record(
            acting_user=clinician,
            participant=participant,
            period_start=today - timedelta(days=7),
            period_end=today,
            engagement="good",
            summary="Still attending.",
        )


def test_unassigning_one_provider_leaves_the_others_access(
    assigned, other_provider, coordinator, today
):
    second = services.provider_assign(
        acting_user=coordinator, participant=assigned, provider=other_provider, assigned_on=today
    )
    services.provider_unassign(acting_user=coordinator, assignment=second, ended_on=today)
    provider = Provider.objects.get(name="Recovery Clinic")
    assert services.provider_for(provider.group.user_set.get(), assigned) == provider


def test_provider_not_serving_the_program_is_refused(participant, other_program, coordinator):
    elsewhere = services.provider_create(
        acting_user=None, name="Clínica del Norte", programs=[other_program]
    )
    clinician = UserFactory(role=Role.CLINICIAN)
    services.provider_add_clinician(acting_user=None, provider=elsewhere, user=clinician)
    before = _counts()
    with pytest.raises(ValidationError) as error:
        services.provider_assign(
            acting_user=coordinator,
            participant=participant,
            provider=elsewhere,
            assigned_on=participant.entry_date,
        )
    assert "provider" in error.value.message_dict
    assert _counts() == before
    assert participant not in participants_visible_to(clinician)


def test_double_assignment_is_refused_but_a_new_one_after_the_end_is_not(
    assigned, provider, coordinator, today
):
    before = _counts()
    with pytest.raises(ValidationError) as error:
        services.provider_assign(
            acting_user=coordinator, participant=assigned, provider=provider, assigned_on=today
        )
    assert "provider" in error.value.message_dict
    assert _counts() == before

    open_one = ProviderAssignment.objects.get(participant=assigned, provider=provider)
    services.provider_unassign(acting_user=coordinator, assignment=open_one, ended_on=today)
    with pytest.raises(ValidationError):  # ending it twice
        services.provider_unassign(acting_user=coordinator, assignment=open_one, ended_on=today)
    again = services.provider_assign(
        acting_user=coordinator, participant=assigned, provider=provider, assigned_on=today
    )
    assert again.ended_on is None
    assert ProviderAssignment.objects.filter(participant=assigned).count() == 2


def test_assignment_dates_are_checked(participant, provider, coordinator, today):
    before = _counts()
    with pytest.raises(ValidationError) as error:
        services.provider_assign(
            acting_user=coordinator,
            participant=participant,
            provider=provider,
            assigned_on=today + timedelta(days=1),
        )
    assert "assigned_on" in error.value.message_dict
    assert _counts() == before
    assignment = services.provider_assign(
        acting_user=coordinator, participant=participant, provider=provider, assigned_on=today
    )
    for ended_on in (today - timedelta(days=1), today + timedelta(days=1)):
        with pytest.raises(ValidationError) as error:
            services.provider_unassign(
                acting_user=coordinator, assignment=assignment, ended_on=ended_on
            )
        assert "ended_on" in error.value.message_dict
    assignment.refresh_from_db()
    assert assignment.ended_on is None


# --- clinical records: happy paths -----------------------------------------------------------
def test_clinician_records_every_kind_of_treatment_fact(assigned, provider, clinician, today):
    p = assigned
    episode = services.episode_record(
        acting_user=clinician,
        participant=p,
        level_of_care="2.1",
        modality="intensive",
        admitted_on=today - timedelta(days=30),
        discharged_on=today - timedelta(days=2),
        discharge_reason="Stepped down to outpatient.",
        external_id="ep-1",
    )
    session = services.session_record(
        acting_user=clinician,
        participant=p,
        session_date=today,
        kind="group",
        attendance="attended",
        hours=Decimal("1.5"),
        external_id="s-1",
    )
    medication = services.medication_record(
        acting_user=clinician,
        participant=p,
        drug="buprenorphine",
        dose="8 mg daily",
        started_on=today - timedelta(days=20),
    )
    update = services.progress_update_record(
        acting_user=clinician,
        participant=p,
        period_start=today - timedelta(days=14),
        period_end=today,
        engagement="good",
        summary="  Attends every group.  ",
        recommendations="Keep phase 1.",
        external_id="pu-1",
    )
    note = services.clinical_note_record(
        acting_user=clinician, participant=p, written_on=today, text="Private counselling note."
    )
    for submission in (episode, session, update):
        assert submission.created
    records = [episode.obj, session.obj, medication, update.obj, note]
    for record in records:
        record.refresh_from_db()
        assert record.participant == p
        assert record.provider == provider
        assert record.source == Source.PROVIDER
        assert record.created_by == clinician
        event = AuditEvent.objects.get(action="create", object_id=str(record.uuid))
        assert event.actor == clinician and event.participant_uuid == p.uuid
        # The audit trail names a record, never its clinical content.
        assert "counselling" not in str(event.detail) + event.object_repr
    assert episode.obj.level_of_care == "2.1" and episode.obj.discharged_on is not None
    assert session.obj.hours == Decimal("1.50") and session.obj.attendance == "attended"
    assert medication.dose == "8 mg daily"
    assert update.obj.summary == "Attends every group."
    assert note.text == "Private counselling note."


def test_court_team_entries_carry_no_provider(participant, coordinator, today):
    session = services.session_record(
        acting_user=coordinator,
        participant=participant,
        session_date=today,
        kind="individual",
        attendance="excused",
        hours=0,
    )
    assert session.obj.provider is None and session.obj.source == Source.COURT


def test_drug_tests_from_the_court_a_provider_and_a_lab(assigned, provider, clinician, personas):
    now = timezone.now()
    court = services.drug_test_record(
        acting_user=personas[Role.COORDINATOR],
        participant=assigned,
        collected_at=now - timedelta(hours=30),
        method="urine",
        observed=True,
        dilute=True,
        results=[("cocaine", "negative"), ("fentanyl", "positive")],
        resulted_at=now - timedelta(hours=2),
        confirmation="pending",
    ).obj
    lab = services.drug_test_record(
        acting_user=personas[Role.COORDINATOR],
        participant=assigned,
        collected_at=now - timedelta(hours=50),
        method="oral_fluid",
        results=[("cannabis", "negative")],
        resulted_at=now - timedelta(hours=1),
        lab="Acme Labs",
        source="lab",
    ).obj
    reported = services.drug_test_record(
        acting_user=clinician,
        participant=assigned,
        collected_at=now - timedelta(hours=4),
        method="breath",
        results=[("alcohol", "negative")],
        # A few minutes of clock skew between a lab's system and ours is accepted.
        resulted_at=now + timedelta(minutes=2),
    ).obj
    assert (court.source, court.provider) == (Source.COURT, None)
    assert (lab.source, lab.provider, lab.lab) == (Source.LAB, None, "Acme Labs")
    assert (reported.source, reported.provider) == (Source.PROVIDER, provider)
    assert sorted(court.results.values_list("substance", "result")) == [
        ("cocaine", "negative"),
        ("fentanyl", "positive"),
    ]
    assert court.observed and court.dilute and court.confirmation == "pending"
    assert court.turnaround_hours == pytest.approx(28)
    assert lab.turnaround_hours == pytest.approx(49)
    assert not reported.random
    assert AuditEvent.objects.filter(action="create", object_type="treatment.drugtest").count() == 3


def test_missed_and_refused_tests_carry_no_results(participant, coordinator):
    now = timezone.now()
    for flag in ("missed", "refused"):
        test = services.drug_test_record(
            acting_user=coordinator,
            participant=participant,
            collected_at=now - timedelta(hours=3),
            method="urine",
            **{flag: True},
        ).obj
        assert getattr(test, flag) and not test.results.exists()
        assert test.counts_as_positive


# --- clinical records: bad input, each refused with nothing saved ----------------------------
def _valid(kind: str, participant, today, now) -> dict:
    return {
        "episode": {
            "level_of_care": "1",
            "modality": "outpatient",
            "admitted_on": today - timedelta(days=10),
        },
        "session": {
            "session_date": today - timedelta(days=1),
            "kind": "individual",
            "attendance": "attended",
            "hours": Decimal("1"),
        },
        "medication": {"drug": "methadone", "started_on": today - timedelta(days=5)},
        "progress": {
            "period_start": today - timedelta(days=7),
            "period_end": today,
            "engagement": "fair",
            "summary": "Attends most groups.",
        },
        "note": {"written_on": today, "text": "Talked about triggers."},
        "drug_test": {
            "collected_at": now - timedelta(hours=6),
            "method": "urine",
            "results": [("cocaine", "negative"), ("opiates", "negative")],
            "resulted_at": now - timedelta(hours=1),
        },
    }[kind]


SERVICES = {
    "episode": services.episode_record,
    "session": services.session_record,
    "medication": services.medication_record,
    "progress": services.progress_update_record,
    "note": services.clinical_note_record,
    "drug_test": services.drug_test_record,
}
DAY, HOUR = timedelta(days=1), timedelta(hours=1)

# (record, what is wrong, {field: a function of (today, now, participant) giving the bad
# value}, the field the error names)
BAD_INPUT = [
    ("episode", "unknown level of care", {"level_of_care": lambda t, n, p: "5"}, "level_of_care"),
    ("episode", "unknown modality", {"modality": lambda t, n, p: "hypnosis"}, "modality"),
    ("episode", "admitted tomorrow", {"admitted_on": lambda t, n, p: t + DAY}, "admitted_on"),
    (
        "episode",
        "discharged tomorrow",
        {"discharged_on": lambda t, n, p: t + DAY},
        "discharged_on",
    ),
    (
        "episode",
        "discharge before admission",
        {"discharged_on": lambda t, n, p: t - 11 * DAY},
        "discharged_on",
    ),
    ("session", "unknown kind", {"kind": lambda t, n, p: "couples"}, "kind"),
    ("session", "unknown attendance", {"attendance": lambda t, n, p: "present"}, "attendance"),
    ("session", "held tomorrow", {"session_date": lambda t, n, p: t + DAY}, "session_date"),
    (
        "session",
        "before the referral",
        {"session_date": lambda t, n, p: p.referred_on - DAY},
        "session_date",
    ),
    ("session", "25 hours", {"hours": lambda t, n, p: Decimal("25")}, "hours"),
    ("session", "negative hours", {"hours": lambda t, n, p: Decimal("-0.5")}, "hours"),
    ("medication", "unknown drug", {"drug": lambda t, n, p: "aspirin"}, "drug"),
    ("medication", "started tomorrow", {"started_on": lambda t, n, p: t + DAY}, "started_on"),
    ("medication", "ends before it starts", {"ended_on": lambda t, n, p: t - 6 * DAY}, "ended_on"),
    ("progress", "unknown engagement", {"engagement": lambda t, n, p: "great"}, "engagement"),
    ("progress", "period ends tomorrow", {"period_end": lambda t, n, p: t + DAY}, "period_end"),
    (
        "progress",
        "period ends before it starts",
        {"period_start": lambda t, n, p: t + DAY, "period_end": lambda t, n, p: t},
        "period_end",
    ),
    ("progress", "blank summary", {"summary": lambda t, n, p: "   "}, "summary"),
    ("note", "written tomorrow", {"written_on": lambda t, n, p: t + DAY}, "written_on"),
    ("note", "blank text", {"text": lambda t, n, p: "\n "}, "text"),
    ("drug_test", "unknown method", {"method": lambda t, n, p: "hair"}, "method"),
    (
        "drug_test",
        "unknown substance",
        {"results": lambda t, n, p: [("cocaine", "negative"), ("caffeine", "positive")]},
        "results",
    ),
    (
        "drug_test",
        "unknown result",
        {"results": lambda t, n, p: [("cocaine", "inconclusive")]},
        "results",
    ),
    (
        "drug_test",
        "unknown confirmation",
        {"confirmation": lambda t, n, p: "maybe"},
        "confirmation",
    ),
    (
        "drug_test",
        "collected in the future",
        {"collected_at": lambda t, n, p: n + HOUR, "resulted_at": lambda t, n, p: None},
        "collected_at",
    ),
    (
        "drug_test",
        "resulted in the future",
        {"resulted_at": lambda t, n, p: n + HOUR},
        "resulted_at",
    ),
    (
        "drug_test",
        "result before collection",
        {"resulted_at": lambda t, n, p: n - 7 * HOUR},
        "resulted_at",
    ),
    (
        "drug_test",
        "collected before the referral",
        {
            "collected_at": lambda t, n, p: datetime.combine(
                p.referred_on - 3 * DAY, time(12), tzinfo=UTC
            ),
            "resulted_at": lambda t, n, p: None,
        },
        "collected_at",
    ),
    ("drug_test", "missed with results", {"missed": lambda t, n, p: True}, "results"),
    ("drug_test", "refused with results", {"refused": lambda t, n, p: True}, "results"),
    ("drug_test", "no results for a normal test", {"results": lambda t, n, p: []}, "results"),
    (
        "drug_test",
        "the same substance twice",
        {"results": lambda t, n, p: [("cocaine", "negative"), ("cocaine", "positive")]},
        "results",
    ),
]


@pytest.mark.parametrize("kind", SERVICES)
def test_bad_input_is_refused_and_nothing_saved(assigned, clinician, today, kind, subtests):
    """Each row of the table above is refused, naming its field, with not a row written; the
    valid base they all start from is then accepted, so each refusal is for its own reason."""
    now = timezone.now()
    for record, what, bad, field in BAD_INPUT:
        if record != kind:
            continue
        with subtests.test(what):
            data = _valid(kind, assigned, today, now)
            data.update({name: make(today, now, assigned) for name, make in bad.items()})
            before = _counts()
            with pytest.raises(ValidationError) as error:
                SERVICES[kind](acting_user=clinician, participant=assigned, **data)
            assert field in error.value.message_dict
            assert _counts() == before
    before = _counts()
    SERVICES[kind](
        acting_user=clinician, participant=assigned, **_valid(kind, assigned, today, now)
    )
    assert _counts()["AuditEvent"] == before["AuditEvent"] + 1


def test_clinician_outside_an_assigned_provider_records_nothing(
    assigned, other_provider, today, subtests
):
    for kind, service in SERVICES.items():
        with subtests.test(kind):
            before = _counts()
            with pytest.raises(ValidationError):
                service(
                    acting_user=other_provider.clinician,
                    participant=assigned,
                    **_valid(kind, assigned, today, timezone.now()),
                )
            assert _counts() == before


def test_only_a_clinician_writes_clinical_notes(assigned, personas, today, subtests):
    for role in Role:
        if role == Role.CLINICIAN:
            continue
        with subtests.test(role=role.value):
            before = _counts()
            with pytest.raises(ValidationError):
                services.clinical_note_record(
                    acting_user=personas[role], participant=assigned, written_on=today, text="A."
                )
            assert _counts() == before


# --- idempotency on the external id ----------------------------------------------------------
def _progress(user, participant, today, **overrides):
    return services.progress_update_record(
        acting_user=user,
        participant=participant,
        **{
            "period_start": today - timedelta(days=7),
            "period_end": today,
            "engagement": "good",
            "summary": "Engaged.",
            "external_id": "pu-42",
            **overrides,
        },
    )


def test_resending_the_same_items_creates_nothing(assigned, clinician, today):
    now = timezone.now()
    calls = [
        lambda: _progress(clinician, assigned, today),
        lambda: services.episode_record(
            acting_user=clinician,
            participant=assigned,
            level_of_care="1",
            modality="outpatient",
            admitted_on=today - timedelta(days=9),
            external_id="ep-42",
        ),
        lambda: services.session_record(
            acting_user=clinician,
            participant=assigned,
            session_date=today,
            kind="group",
            attendance="late",
            hours=Decimal("1.5"),
            external_id="s-42",
        ),
    ]
    firsts = [call() for call in calls]
    after_first = _counts()
    for call, first in zip(calls, firsts, strict=True):
        again = call()
        assert first.created and not again.created
        assert again.obj.pk == first.obj.pk
    # The hours as a client would re-send them, in another spelling of the same number.
    same_hours = services.session_record(
        acting_user=clinician,
        participant=assigned,
        session_date=today,
        kind="group",
        attendance="late",
        hours="1.50",
        external_id="s-42",
    )
    assert not same_hours.created
    assert _counts() == after_first  # no row, no audit event

    first_test = services.drug_test_record(
        acting_user=clinician,
        participant=assigned,
        collected_at=now - timedelta(hours=6),
        method="urine",
        results=[("cocaine", "negative"), ("fentanyl", "positive"), ("alcohol", "negative")],
        resulted_at=now - timedelta(hours=1),
        external_id="lab-42",
    )
    after_test = _counts()
    reordered = services.drug_test_record(
        acting_user=clinician,
        participant=assigned,
        collected_at=now - timedelta(hours=6),
        method="urine",
        results=[("alcohol", "negative"), ("fentanyl", "positive"), ("cocaine", "negative")],
        resulted_at=now - timedelta(hours=1),
        external_id="lab-42",
    )
    assert first_test.created and not reordered.created
    assert reordered.obj.pk == first_test.obj.pk
    assert _counts() == after_test


def _test(user, participant, now, **overrides):
    return services.drug_test_record(
        acting_user=user,
        participant=participant,
        **{
            "collected_at": now - timedelta(hours=6),
            "method": "urine",
            "results": [("cocaine", "negative"), ("fentanyl", "positive")],
            "resulted_at": now - timedelta(hours=1),
            "external_id": "lab-7",
            **overrides,
        },
    )


def test_same_test_id_with_different_content_is_a_conflict(assigned, clinician, subtests):
    now = timezone.now()
    original = _test(clinician, assigned, now).obj
    changes = {
        "another result": {"results": [("cocaine", "negative"), ("fentanyl", "negative")]},
        "a substance fewer": {"results": [("cocaine", "negative")]},
        "a substance more": {
            "results": [("cocaine", "negative"), ("fentanyl", "positive"), ("pcp", "negative")]
        },
        "dilute": {"dilute": True},
        "method": {"method": "oral_fluid"},
        "collected earlier": {"collected_at": now - timedelta(hours=7)},
        "no result time": {"resulted_at": None},
        "missed": {"missed": True, "results": []},
    }
    for what, change in changes.items():
        with subtests.test(what):
            before = _counts()
            with pytest.raises(ValidationError) as error:
                _test(clinician, assigned, now, **change)
            assert error.value.code == services.CONFLICT
            assert _counts() == before
    stored = DrugTest.objects.get(pk=original.pk)
    assert (stored.method, stored.dilute, stored.missed) == ("urine", False, False)
    assert stored.collected_at == now - timedelta(hours=6)
    assert sorted(stored.results.values_list("substance", "result")) == [
        ("cocaine", "negative"),
        ("fentanyl", "positive"),
    ]


def test_same_update_id_with_different_content_is_a_conflict(
    assigned, clinician, provider, personas, today, subtests
):
    original = _progress(clinician, assigned, today).obj
    coordinator = personas[Role.COORDINATOR]
    another = admit(ParticipantFactory(program=assigned.program), by=coordinator)
    services.provider_assign(
        acting_user=coordinator, participant=another, provider=provider, assigned_on=today
    )
    changes = {
        "summary": (assigned, {"summary": "Not engaged at all."}),
        "engagement": (assigned, {"engagement": "poor"}),
        "period": (assigned, {"period_start": today - timedelta(days=8)}),
        "recommendations": (assigned, {"recommendations": "Move to phase 2."}),
        "another participant": (another, {}),
    }
    for what, (participant, change) in changes.items():
        with subtests.test(what):
            before = _counts()
            with pytest.raises(ValidationError) as error:
                _progress(clinician, participant, today, **change)
            assert error.value.code == services.CONFLICT
            assert _counts() == before
    stored = ProgressUpdate.objects.get(pk=original.pk)
    assert (stored.summary, stored.engagement, stored.recommendations) == ("Engaged.", "good", "")
    assert stored.participant_id == assigned.pk
    assert not ProgressUpdate.objects.filter(participant=another).exists()


def test_two_users_may_use_the_same_external_id(assigned, provider, clinician, today):
    colleague = UserFactory(role=Role.CLINICIAN)
    services.provider_add_clinician(acting_user=None, provider=provider, user=colleague)
    mine = _progress(clinician, assigned, today)
    theirs = _progress(colleague, assigned, today)
    assert mine.created and theirs.created
    assert mine.obj.pk != theirs.obj.pk
    assert ProgressUpdate.objects.filter(external_id="pu-42").count() == 2


def test_items_without_an_external_id_are_never_deduplicated(assigned, clinician, today):
    first = _progress(clinician, assigned, today, external_id="")
    second = _progress(clinician, assigned, today, external_id="")
    assert first.created and second.created
    assert ProgressUpdate.objects.count() == 2


# --- two identical submissions at the same moment --------------------------------------------
TIMEOUT = 10


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _wait_until_blocked(pids: list, count: int) -> bool:
    deadline = monotonic() + TIMEOUT
    while monotonic() < deadline:
        if None not in pids:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND pid = ANY(%s)",
                    [pids],
                )
                if cursor.fetchone()[0] >= count:
                    return True
        sleep(0.01)
    return False


def _race(calls, *, placeholder):
    """Run the calls in their own threads (own connections), released together by a barrier.
    `placeholder` inserts, in this thread's transaction, a row holding the same external id,
    so both submissions pass their "already sent?" check and queue on the unique index; rolling
    it back then lets one insert win while the other waits for it: a real collision, every
    time."""
    barrier = threading.Barrier(len(calls))
    pids: list = [None] * len(calls)
    results: list = [None] * len(calls)

    def worker(i, call):
        try:
            pids[i] = _backend_pid()
            barrier.wait(timeout=TIMEOUT)
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    with transaction.atomic():
        placeholder()
        for thread in threads:
            thread.start()
        collided = _wait_until_blocked(pids, len(calls))
        transaction.set_rollback(True)
    for thread in threads:
        thread.join(timeout=TIMEOUT)
        assert not thread.is_alive()
    assert collided, "the submissions never queued on the external id"
    return results


@pytest.mark.django_db(transaction=True)
def test_submissions_racing_on_one_external_id(assigned, clinician):
    """Identical submissions at the same moment: exactly one row, and the other is told it
    was already sent. Different content at the same moment: one saved, the other a conflict."""
    now = timezone.now()
    today = program_today(assigned.program)
    results = [("fentanyl", "positive"), ("cocaine", "negative")]

    def submit():
        return _test(clinician, assigned, now, results=results, external_id="race-1")

    def test_placeholder():
        DrugTest.objects.create(
            participant=assigned,
            created_by=clinician,
            external_id="race-1",
            collected_at=now - timedelta(hours=6),
            method="urine",
        )

    outcomes = _race([submit, submit], placeholder=test_placeholder)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sorted(o.created for o in outcomes) == [False, True]
    assert outcomes[0].obj.pk == outcomes[1].obj.pk
    test = DrugTest.objects.get(external_id="race-1")
    assert sorted(test.results.values_list("substance", "result")) == sorted(results)
    assert AuditEvent.objects.filter(action="create", object_id=str(test.uuid)).count() == 1

    def update_placeholder():
        ProgressUpdate.objects.create(
            participant=assigned,
            created_by=clinician,
            external_id="pu-42",
            period_start=today,
            period_end=today,
            engagement="good",
            summary="placeholder",
        )

    outcomes = _race(
        [
            lambda: _progress(clinician, assigned, today, summary="First version."),
            lambda: _progress(clinician, assigned, today, summary="Second version."),
        ],
        placeholder=update_placeholder,
    )
    saved = [o for o in outcomes if isinstance(o, services.Submission)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(saved) == 1 and len(refused) == 1, outcomes
    assert refused[0].code == services.CONFLICT
    stored = ProgressUpdate.objects.get(external_id="pu-42")
    assert stored.summary == saved[0].obj.summary
