"""Mexico, suspensión condicional del proceso: the term, its extension and interruptions, and
the plan to repair the damage."""

from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError

from participants import services
from participants.models import LegalTerm, RestitutionPayment, RestitutionPlan, TermInterruption
from tests.factories import ParticipantFactory, PhaseFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role


@pytest.fixture
def mx(other_program, clerk, today):
    """An active participant of the Mexican suspensión condicional program, admitted long
    enough ago for the terms below (a term cannot start before the referral)."""
    PhaseFactory(program=other_program, number=1)
    referral = ParticipantFactory(
        program=other_program,
        referred_on=today - timedelta(days=300),
        arrest_date=today - timedelta(days=310),
    )
    return admit(referral, by=clerk, entry_days_ago=250)


@pytest.fixture
def clerk(other_program):
    return UserFactory(role=Role.COORDINATOR, programs=[other_program])


@pytest.fixture
def today(other_program):
    return program_today(other_program)


@pytest.fixture
def start(today):
    return today - timedelta(days=200)


def _set(participant, by, starts_on, ends_on, **kw):
    return services.legal_term_set(
        acting_user=by, participant=participant, starts_on=starts_on, ends_on=ends_on, **kw
    )


@pytest.fixture
def term(mx, clerk, start):
    return _set(mx, clerk, start, start + relativedelta(years=1))


def _audited(participant, **detail_key):
    return AuditEvent.objects.filter(participant_uuid=participant.uuid, **detail_key).exists()


# --- only for suspensión condicional ---------------------------------------------------------
def test_us_program_has_no_legal_term(participant, personas, start):
    with pytest.raises(ValidationError):
        _set(participant, personas[Role.COORDINATOR], start, start + relativedelta(years=1))
    with pytest.raises(ValidationError):
        services.restitution_plan_set(
            acting_user=personas[Role.COORDINATOR],
            participant=participant,
            total_amount=Decimal("100"),
            currency="USD",
            description="Repay the store.",
        )
    assert not LegalTerm.objects.exists() and not RestitutionPlan.objects.exists()


# --- the term --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("length", "ok"),
    [
        (relativedelta(months=6), True),
        (relativedelta(months=6, days=-1), False),
        (relativedelta(years=3), True),
        (relativedelta(years=3, days=1), False),
        (relativedelta(days=0), False),
        (relativedelta(days=-30), False),
    ],
    ids=["6-months", "6-months-less-a-day", "3-years", "3-years-and-a-day", "zero", "negative"],
)
def test_term_lasts_6_months_to_3_years(mx, clerk, start, length, ok):
    if ok:
        term = _set(mx, clerk, start, start + length)
        assert term.ends_on == start + length
        assert _audited(mx, detail__ends_on=str(start + length))
    else:
        with pytest.raises(ValidationError) as refused:
            _set(mx, clerk, start, start + length)
        assert "ends_on" in refused.value.message_dict
        assert not LegalTerm.objects.exists()


def test_setting_the_term_again_updates_it(mx, clerk, term, start):
    again = _set(
        mx,
        clerk,
        start,
        start + relativedelta(years=2),
        victim_objected=True,
        victim_objection_notes="The victim asks for a longer term.",
    )
    assert again.pk == term.pk
    assert LegalTerm.objects.count() == 1
    again.refresh_from_db()
    assert again.victim_objected and again.victim_objection_notes


def test_extension_once_by_at_most_731_days(mx, clerk, term):
    for days in (0, -1, 732):
        with pytest.raises(ValidationError):
            services.legal_term_extend(acting_user=clerk, term=term, days=days, reason="Missed.")
    with pytest.raises(ValidationError):
        services.legal_term_extend(acting_user=clerk, term=term, days=90, reason=" ")
    term.refresh_from_db()
    assert term.extension_days == 0
    extended = services.legal_term_extend(
        acting_user=clerk, term=term, days=731, reason="Instead of revocation."
    )
    assert extended.extension_days == 731
    assert extended.effective_end() == term.ends_on + timedelta(days=731)
    assert _audited(mx, detail__extension_days=731)
    with pytest.raises(ValidationError):
        services.legal_term_extend(acting_user=clerk, term=term, days=1, reason="Again.")
    term.refresh_from_db()
    assert term.extension_days == 731


# --- interruptions ---------------------------------------------------------------------------
def _interrupt(term, by, starts_on, ends_on=None, reason="Detained on another case."):
    return services.term_interruption_add(
        acting_user=by, term=term, starts_on=starts_on, ends_on=ends_on, reason=reason
    )


def test_closed_interruption_adds_its_days(mx, clerk, term, today):
    before_end, before_left = term.effective_end(today), term.days_remaining(today)
    _interrupt(term, clerk, today - timedelta(days=100), today - timedelta(days=90))
    term.refresh_from_db()
    assert term.interrupted_days(today) == 10
    assert term.effective_end(today) == before_end + timedelta(days=10)
    assert term.days_remaining(today) == before_left + 10
    assert _audited(mx, detail__interruption=str(today - timedelta(days=100)))


def test_open_interruption_runs_until_closed(mx, clerk, term, today):
    gap = _interrupt(term, clerk, today - timedelta(days=5))
    assert term.interrupted_days(today) == 5
    assert term.interrupted_days(today - timedelta(days=2)) == 3
    assert term.effective_end(today) == term.ends_on + timedelta(days=5)
    with pytest.raises(ValidationError):
        _interrupt(term, clerk, today - timedelta(days=1))
    assert TermInterruption.objects.count() == 1
    closed = services.term_interruption_close(
        acting_user=clerk, interruption=gap, ends_on=today - timedelta(days=1)
    )
    assert closed.ends_on == today - timedelta(days=1)
    assert term.interrupted_days(today + timedelta(days=30)) == 4
    assert _audited(mx, detail__released=str(today - timedelta(days=1)))
    _interrupt(term, clerk, today)
    assert TermInterruption.objects.count() == 2


def test_closing_checks(clerk, term, today):
    gap = _interrupt(term, clerk, today - timedelta(days=5))
    for ends_on in (today - timedelta(days=6), today + timedelta(days=1)):
        with pytest.raises(ValidationError):
            services.term_interruption_close(acting_user=clerk, interruption=gap, ends_on=ends_on)
    services.term_interruption_close(acting_user=clerk, interruption=gap, ends_on=today)
    with pytest.raises(ValidationError):
        services.term_interruption_close(acting_user=clerk, interruption=gap, ends_on=today)
    gap.refresh_from_db()
    assert gap.ends_on == today


@pytest.mark.parametrize("problem", ["before-term", "future", "released-before", "no-reason"])
def test_interruption_checks(clerk, term, start, today, problem):
    kwargs = {
        "before-term": {"starts_on": start - timedelta(days=1)},
        "future": {"starts_on": today + timedelta(days=1)},
        "released-before": {
            "starts_on": today - timedelta(days=5),
            "ends_on": today - timedelta(days=6),
        },
        "no-reason": {"starts_on": today - timedelta(days=5), "reason": ""},
    }[problem]
    with pytest.raises(ValidationError):
        _interrupt(term, clerk, **kwargs)
    assert not TermInterruption.objects.exists()


@pytest.mark.parametrize(
    ("starts", "ends"),
    [(95, 85), (105, 95), (98, 92), (110, 80), (95, None)],
    ids=["overlaps-end", "overlaps-start", "inside", "around", "open-inside"],
)
def test_overlapping_interruptions_are_refused(clerk, term, today, starts, ends):
    # Days in two overlapping detentions would be counted twice.
    _interrupt(term, clerk, today - timedelta(days=100), today - timedelta(days=90))
    with pytest.raises(ValidationError):
        _interrupt(
            term,
            clerk,
            today - timedelta(days=starts),
            ends and today - timedelta(days=ends),
        )
    assert term.interrupted_days(today) == 10


def test_adjacent_interruptions_are_fine(clerk, term, today):
    _interrupt(term, clerk, today - timedelta(days=100), today - timedelta(days=90))
    _interrupt(term, clerk, today - timedelta(days=90), today - timedelta(days=80))
    _interrupt(term, clerk, today - timedelta(days=120), today - timedelta(days=100))
    assert term.interrupted_days(today) == 40


def test_open_interruption_before_a_closed_one_is_refused(clerk, term, today):
    _interrupt(term, clerk, today - timedelta(days=20), today - timedelta(days=10))
    with pytest.raises(ValidationError):
        _interrupt(term, clerk, today - timedelta(days=30))


# --- warning before the end ------------------------------------------------------------------
def test_term_needs_warning_against_the_program_setting(term, other_program, today):
    end = term.effective_end(today)
    assert other_program.term_warning_days == 30
    assert services.term_needs_warning(term, end - timedelta(days=30))
    assert not services.term_needs_warning(term, end - timedelta(days=31))
    assert services.term_needs_warning(term, end + timedelta(days=1))
    other_program.term_warning_days = 60
    other_program.save()
    term = LegalTerm.objects.select_related("participant__program").get(pk=term.pk)
    assert services.term_needs_warning(term, end - timedelta(days=45))


def test_interruption_postpones_the_warning(clerk, term, today):
    on = term.ends_on - timedelta(days=20)
    assert services.term_needs_warning(term, on)
    _interrupt(term, clerk, today - timedelta(days=100), today - timedelta(days=80))
    assert not services.term_needs_warning(term, on)


# --- restitution -----------------------------------------------------------------------------
def _plan(participant, by, total="5000.00"):
    return services.restitution_plan_set(
        acting_user=by,
        participant=participant,
        total_amount=Decimal(total),
        currency="MXN",
        description="Pagos mensuales a la víctima.",
    )


def test_restitution_plan_and_payments(mx, clerk, today):
    with pytest.raises(ValidationError):
        _plan(mx, clerk, "-1")
    plan = _plan(mx, clerk)
    assert _audited(mx, detail__total="5000.00")
    assert plan.paid() == 0
    for amount in ("1000.00", "250.50"):
        services.restitution_payment_add(
            acting_user=clerk, plan=plan, paid_on=today, amount=Decimal(amount)
        )
    assert plan.paid() == Decimal("1250.50")
    assert _audited(mx, detail__payment="250.50")
    assert _plan(mx, clerk, "6000.00").pk == plan.pk
    assert RestitutionPlan.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "days_ahead"), [("0", 0), ("-10.00", 0), ("100.00", 1)], ids=str
)
def test_payment_checks(mx, clerk, today, amount, days_ahead):
    plan = _plan(mx, clerk)
    with pytest.raises(ValidationError):
        services.restitution_payment_add(
            acting_user=clerk,
            plan=plan,
            paid_on=today + timedelta(days=days_ahead),
            amount=Decimal(amount),
        )
    assert not RestitutionPayment.objects.exists()
    assert plan.paid() == 0
