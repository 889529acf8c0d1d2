"""Status and phase changes (dates, reasons, stale forms) and the legal disposition."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from participants import services
from participants.models import Disposition, PhaseChange, Status, StatusChange
from tests.factories import PhaseFactory
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role


@pytest.fixture
def coordinator(personas):
    return personas[Role.COORDINATOR]


@pytest.fixture
def judge(personas):
    return personas[Role.JUDGE]


@pytest.fixture
def today(program):
    return program_today(program)


def _change(participant, by, to_status, on, *, reason="Staffing decision.", expected=None):
    return services.status_change(
        acting_user=by,
        participant=participant,
        to_status=to_status,
        effective_on=on,
        reason=reason,
        expected_status=expected or participant.status,
    )


def _phase(participant, by, to_phase, on, *, reason="Met the phase requirements.", **kw):
    return services.phase_change(
        acting_user=by,
        participant=participant,
        to_phase=to_phase,
        effective_on=on,
        reason=reason,
        expected_phase=kw.get("expected", participant.phase),
    )


def _assert_unchanged(participant, status=Status.ACTIVE, history=1):
    participant.refresh_from_db()
    assert participant.status == status
    assert StatusChange.objects.filter(participant=participant).count() == history


# --- status ----------------------------------------------------------------------------------
@pytest.mark.parametrize("to_status", [Status.GRADUATED, Status.WARRANT])
def test_status_change_before_entry_is_refused(participant, judge, to_status):
    with pytest.raises(ValidationError) as refused:
        _change(participant, judge, to_status, participant.entry_date - timedelta(days=1))
    assert "effective_on" in refused.value.message_dict
    _assert_unchanged(participant)
    assert participant.exit_date is None


def test_status_change_on_the_entry_day_is_fine(participant, judge):
    changed = _change(participant, judge, Status.WARRANT, participant.entry_date)
    assert changed.status == Status.WARRANT


def test_status_change_before_the_last_change_is_refused(participant, judge, today):
    on_warrant = _change(participant, judge, Status.WARRANT, today - timedelta(days=5))
    with pytest.raises(ValidationError) as refused:
        _change(on_warrant, judge, Status.ACTIVE, today - timedelta(days=6))
    assert "effective_on" in refused.value.message_dict
    _assert_unchanged(participant, Status.WARRANT, history=2)


def test_future_status_change_is_refused(participant, judge, today):
    with pytest.raises(ValidationError) as refused:
        _change(participant, judge, Status.GRADUATED, today + timedelta(days=1))
    assert "effective_on" in refused.value.message_dict
    _assert_unchanged(participant)


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_status_change_needs_a_reason(participant, judge, today, reason):
    with pytest.raises(ValidationError) as refused:
        _change(participant, judge, Status.GRADUATED, today, reason=reason)
    assert "reason" in refused.value.message_dict
    _assert_unchanged(participant)


def test_stale_expected_status_is_refused(participant, judge, coordinator, today):
    # Two people opened the form while the participant was active; the first one saved.
    seen_by_second = type(participant).objects.get(pk=participant.pk)
    _change(participant, judge, Status.WARRANT, today, expected=Status.ACTIVE)
    with pytest.raises(ValidationError) as refused:
        _change(seen_by_second, coordinator, Status.IN_CUSTODY, today, expected=Status.ACTIVE)
    assert refused.value.code == "stale"
    _assert_unchanged(participant, Status.WARRANT, history=2)


def test_stale_is_checked_before_the_table(participant, judge, today):
    with pytest.raises(ValidationError) as refused:
        _change(participant, judge, Status.ACTIVE, today, expected=Status.WARRANT)
    assert refused.value.code == "stale"


def test_exit_records_date_reason_and_audit(participant, judge, today):
    _change(participant, judge, Status.GRADUATED, today, reason="Completed every phase.")
    participant.refresh_from_db()
    assert (participant.exit_date, participant.exit_reason) == (today, "Completed every phase.")
    assert participant.has_exited and not participant.is_open
    assert AuditEvent.objects.filter(
        participant_uuid=participant.uuid, actor=judge, detail__status="graduated"
    ).exists()


# --- phase -----------------------------------------------------------------------------------
def test_promotion_and_demotion_are_recorded_with_reasons(participant, judge, program, today):
    one, two = program.phases.get(number=1), program.phases.get(number=2)
    promoted = _phase(participant, judge, two, today - timedelta(days=10))
    assert promoted.phase == two
    demoted = _phase(promoted, judge, one, today, reason="Relapse; back to phase 1.")
    demoted.refresh_from_db()
    assert demoted.phase == one
    rows = list(
        PhaseChange.objects.filter(participant=participant).order_by("effective_on", "created_at")
    )
    assert [(r.from_phase, r.to_phase) for r in rows] == [(None, one), (one, two), (two, one)]
    assert rows[-1].reason == "Relapse; back to phase 1."
    assert rows[-1].created_by == judge
    assert rows[-1].effective_on == today
    phases_audited = AuditEvent.objects.filter(
        participant_uuid=participant.uuid, actor=judge, detail__has_key="phase"
    ).values_list("detail__phase", flat=True)
    assert sorted(phases_audited) == [1, 2]


def test_phase_of_another_program_is_refused(participant, judge, other_program, today):
    foreign = PhaseFactory(program=other_program, number=2)
    with pytest.raises(ValidationError) as refused:
        _phase(participant, judge, foreign, today)
    assert "to_phase" in refused.value.message_dict
    participant.refresh_from_db()
    assert participant.phase.number == 1
    assert PhaseChange.objects.filter(participant=participant).count() == 1


def test_same_phase_is_refused(participant, judge, today):
    with pytest.raises(ValidationError) as refused:
        _phase(participant, judge, participant.phase, today)
    assert "to_phase" in refused.value.message_dict
    assert PhaseChange.objects.filter(participant=participant).count() == 1


@pytest.mark.parametrize("problem", ["no-reason", "before-entry", "future"])
def test_phase_change_dates_and_reason(participant, judge, program, today, problem):
    two = program.phases.get(number=2)
    on = {
        "no-reason": today,
        "before-entry": participant.entry_date - timedelta(days=1),
        "future": today + timedelta(days=1),
    }[problem]
    with pytest.raises(ValidationError):
        _phase(participant, judge, two, on, reason=" " if problem == "no-reason" else "Ready.")
    assert PhaseChange.objects.filter(participant=participant).count() == 1


def test_phase_change_before_the_last_phase_change_is_refused(participant, judge, program, today):
    two, three = program.phases.get(number=2), program.phases.get(number=3)
    in_two = _phase(participant, judge, two, today - timedelta(days=5))
    with pytest.raises(ValidationError) as refused:
        _phase(in_two, judge, three, today - timedelta(days=6))
    assert "effective_on" in refused.value.message_dict
    participant.refresh_from_db()
    assert participant.phase == two


def test_stale_expected_phase_is_refused(participant, judge, program, today):
    one, two, three = (program.phases.get(number=n) for n in (1, 2, 3))
    _phase(participant, judge, two, today)
    with pytest.raises(ValidationError) as refused:
        _phase(participant, judge, three, today, expected=one)
    assert refused.value.code == "stale"
    participant.refresh_from_db()
    assert participant.phase == two


def test_no_phase_change_after_exit(participant, judge, program, today):
    exited = _change(participant, judge, Status.GRADUATED, today)
    with pytest.raises(ValidationError):
        _phase(exited, judge, program.phases.get(number=2), today)


def test_no_phase_change_for_a_referral(referral, judge, program, today):
    with pytest.raises(ValidationError):
        _phase(referral, judge, program.phases.get(number=1), today, expected=None)


# --- legal disposition -----------------------------------------------------------------------
def _dispose(participant, by, on, disposition=Disposition.DISMISSED):
    return services.disposition_record(
        acting_user=by, participant=participant, disposition=disposition, disposition_date=on
    )


def test_disposition_only_after_exit(participant, judge, today):
    with pytest.raises(ValidationError):
        _dispose(participant, judge, today)
    participant.refresh_from_db()
    assert participant.disposition == ""


def test_disposition_after_exit(participant, judge, today):
    exit_day = today - timedelta(days=3)
    exited = _change(participant, judge, Status.GRADUATED, exit_day)
    disposed = _dispose(exited, judge, exit_day)
    disposed.refresh_from_db()
    assert disposed.disposition == Disposition.DISMISSED
    assert disposed.disposition_date == exit_day
    assert AuditEvent.objects.filter(
        participant_uuid=participant.uuid, detail__disposition="dismissed"
    ).exists()


@pytest.mark.parametrize("problem", ["before-exit", "future", "empty"])
def test_disposition_checks(participant, judge, today, problem):
    exit_day = today - timedelta(days=3)
    exited = _change(participant, judge, Status.GRADUATED, exit_day)
    on = {"before-exit": exit_day - timedelta(days=1), "future": today + timedelta(days=1)}.get(
        problem, today
    )
    with pytest.raises(ValidationError):
        _dispose(exited, judge, on, "" if problem == "empty" else Disposition.SENTENCED)
    exited.refresh_from_db()
    assert exited.disposition == "" and exited.disposition_date is None


def test_disposition_of_a_declined_referral(referral, judge, today):
    declined = services.admission_decide(
        acting_user=judge,
        participant=referral,
        admit=False,
        reasons="Not eligible.",
        decided_on=referral.referred_on,
    )
    with pytest.raises(ValidationError):
        _dispose(declined, judge, referral.referred_on - timedelta(days=1), Disposition.RETURNED)
    assert _dispose(declined, judge, today, Disposition.RETURNED).disposition == "returned"
