"""Case plan goals, service referrals and new arrests, all dated within the episode."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from participants import services
from participants.models import CasePlanGoal, NewArrest, ServiceReferral, Status
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

Goal = CasePlanGoal.GoalStatus


@pytest.fixture
def coordinator(personas):
    return personas[Role.COORDINATOR]


@pytest.fixture
def today(program):
    return program_today(program)


@pytest.fixture
def exited(participant, coordinator, today):
    """`participant`, graduated ten days ago."""
    return services.status_change(
        acting_user=coordinator,
        participant=participant,
        to_status=Status.GRADUATED,
        effective_on=today - timedelta(days=10),
        reason="Completed the program.",
        expected_status=Status.ACTIVE,
    )


def _audited(participant, obj, action):
    return AuditEvent.objects.filter(
        participant_uuid=participant.uuid, object_id=str(obj.uuid), action=action
    ).exists()


# --- goals -----------------------------------------------------------------------------------
def _goal(participant, by, target_date=None, description="Find stable housing"):
    return services.goal_add(
        acting_user=by, participant=participant, description=description, target_date=target_date
    )


def test_goal_add_and_close(participant, coordinator, today):
    goal = _goal(participant, coordinator, today + timedelta(days=60))
    assert goal.status == Goal.OPEN and goal.created_by == coordinator
    assert _audited(participant, goal, AuditEvent.Action.CREATE)
    closed = services.goal_close(
        acting_user=coordinator, goal=goal, status=Goal.MET, closed_on=today
    )
    closed.refresh_from_db()
    assert (closed.status, closed.closed_on) == (Goal.MET, today)
    assert _audited(participant, goal, AuditEvent.Action.UPDATE)


@pytest.mark.parametrize("problem", ["no-description", "target-before-entry"])
def test_goal_add_checks(participant, coordinator, problem):
    with pytest.raises(ValidationError):
        if problem == "no-description":
            _goal(participant, coordinator, description="  ")
        else:
            _goal(participant, coordinator, participant.entry_date - timedelta(days=1))
    assert not CasePlanGoal.objects.exists()


@pytest.mark.parametrize("problem", ["still-open", "before-entry", "future"])
def test_goal_close_checks(participant, coordinator, today, problem):
    goal = _goal(participant, coordinator)
    status, on = {
        "still-open": (Goal.OPEN, today),
        "before-entry": (Goal.NOT_MET, participant.entry_date - timedelta(days=1)),
        "future": (Goal.MET, today + timedelta(days=1)),
    }[problem]
    with pytest.raises(ValidationError):
        services.goal_close(acting_user=coordinator, goal=goal, status=status, closed_on=on)
    goal.refresh_from_db()
    assert goal.status == Goal.OPEN and goal.closed_on is None


def test_goal_cannot_close_after_the_exit(participant, coordinator, exited, today):
    goal = _goal(participant, coordinator)
    with pytest.raises(ValidationError):
        services.goal_close(
            acting_user=coordinator, goal=goal, status=Goal.DROPPED, closed_on=today
        )
    services.goal_close(
        acting_user=coordinator, goal=goal, status=Goal.DROPPED, closed_on=exited.exit_date
    )


# --- service referrals -----------------------------------------------------------------------
def _refer(participant, by, on):
    return services.service_referral_add(
        acting_user=by,
        participant=participant,
        service=ServiceReferral.Service.HOUSING,
        agency="Casa Esperanza",
        referred_on=on,
    )


def test_service_referral_and_outcome(participant, coordinator, today):
    referral = _refer(participant, coordinator, today - timedelta(days=7))
    assert referral.outcome == ServiceReferral.Outcome.PENDING
    assert _audited(participant, referral, AuditEvent.Action.CREATE)
    done = services.service_referral_outcome(
        acting_user=coordinator,
        referral=referral,
        outcome=ServiceReferral.Outcome.ENROLLED,
        outcome_on=today,
    )
    done.refresh_from_db()
    assert (done.outcome, done.outcome_on) == (ServiceReferral.Outcome.ENROLLED, today)
    assert _audited(participant, referral, AuditEvent.Action.UPDATE)


@pytest.mark.parametrize("when", ["before-entry", "future"])
def test_service_referral_dates(participant, coordinator, today, when):
    on = participant.entry_date - timedelta(days=1) if when == "before-entry" else today
    on = on + timedelta(days=1) if when == "future" else on
    with pytest.raises(ValidationError):
        _refer(participant, coordinator, on)
    assert not ServiceReferral.objects.exists()


@pytest.mark.parametrize("when", ["before-referral", "future"])
def test_service_outcome_dates(participant, coordinator, today, when):
    referral = _refer(participant, coordinator, today - timedelta(days=7))
    on = today - timedelta(days=8) if when == "before-referral" else today + timedelta(days=1)
    with pytest.raises(ValidationError):
        services.service_referral_outcome(
            acting_user=coordinator,
            referral=referral,
            outcome=ServiceReferral.Outcome.NO_SHOW,
            outcome_on=on,
        )
    referral.refresh_from_db()
    assert referral.outcome == ServiceReferral.Outcome.PENDING


# --- new arrests: in-program recidivism ------------------------------------------------------
def _arrest(participant, by, on, charge="Shoplifting"):
    return services.arrest_record(
        acting_user=by, participant=participant, arrested_on=on, charge=charge
    )


def test_arrest_while_enrolled(participant, coordinator, today):
    arrest = _arrest(participant, coordinator, today - timedelta(days=3))
    arrest.refresh_from_db()
    assert arrest.arrested_on == today - timedelta(days=3)
    assert arrest.convicted is None and arrest.created_by == coordinator
    assert _audited(participant, arrest, AuditEvent.Action.CREATE)
    assert _arrest(participant, coordinator, participant.entry_date)


def test_arrest_of_a_referral_is_refused(referral, coordinator, today):
    with pytest.raises(ValidationError):
        _arrest(referral, coordinator, today)
    assert not NewArrest.objects.exists()


@pytest.mark.parametrize("problem", ["before-entry", "future", "no-charge"])
def test_arrest_checks(participant, coordinator, today, problem):
    on = {
        "before-entry": participant.entry_date - timedelta(days=1),
        "future": today + timedelta(days=1),
    }.get(problem, today)
    with pytest.raises(ValidationError):
        _arrest(participant, coordinator, on, charge="" if problem == "no-charge" else "DUI")
    assert not NewArrest.objects.exists()


def test_arrest_after_exit_is_refused(exited, coordinator, today):
    with pytest.raises(ValidationError):
        _arrest(exited, coordinator, exited.exit_date + timedelta(days=1))
    assert not NewArrest.objects.exists()
    assert _arrest(exited, coordinator, exited.exit_date)  # the exit day is still in the program
