"""Every path that *grants* access to a participant's record, tried with an outsider.

A read-only crawl never finds these holes: a coordinator who picks another program's defender or
clinician would hand them the record. Each service that writes a grant refuses anyone who is not
staff of the participant's program in the right role (tjp.access.check_grantee), and each picker
lists only those people.
"""

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from hearings import services as hearing_services
from participants import services
from tests.factories import UserFactory
from tjp.access import program_staff
from tjp.clock import program_today
from tjp.roles import Role
from treatment import services as treatment_services

R = Role


@pytest.fixture
def strangers(other_program):
    """A judge, a defender and a clinician of another program, plus people of no program."""
    return {
        "judge": UserFactory(email="judge@pjt.test", role=R.JUDGE, programs=[other_program]),
        "defender": UserFactory(
            email="defender@pjt.test",
            first_name="Olga",
            last_name="Foránea",
            role=R.DEFENDER,
            programs=[other_program],
        ),
        "clinician": UserFactory(
            email="clinician@pjt.test",
            first_name="Omar",
            last_name="Ajeno",
            role=R.CLINICIAN,
            programs=[other_program],
        ),
        "unstaffed_defender": UserFactory(email="freelance@law.test", role=R.DEFENDER),
        "unstaffed_clinician": UserFactory(email="freelance@clinic.test", role=R.CLINICIAN),
    }


def _assign_defender(coordinator, participant, user):
    services.participant_assign(acting_user=coordinator, participant=participant, defender=user)


def _assign_judge(coordinator, participant, user):
    services.participant_assign(acting_user=coordinator, participant=participant, judge=user)


def _screening(coordinator, participant, user):
    services.clinical_screening_request(
        acting_user=coordinator, participant=participant, clinician=user
    )


# (grant path, grantee) -> refused. The grantee is a stranger, or own staff of the wrong role.
REFUSED = [
    (_assign_defender, "defender"),
    (_assign_defender, "unstaffed_defender"),
    (_assign_judge, "judge"),
    (_screening, "clinician"),
    (_screening, "unstaffed_clinician"),
]


@pytest.mark.parametrize(("grant", "who"), REFUSED)
def test_services_refuse_a_grantee_outside_the_program(referral, personas, strangers, grant, who):
    stranger = strangers[who]
    with pytest.raises(ValidationError):
        grant(personas[R.COORDINATOR], referral, stranger)
    # Nothing was saved: the stranger still cannot find the record.
    referral.refresh_from_db()
    assert referral.defender_id is None
    assert referral.judge_id != stranger.pk


@pytest.mark.parametrize(
    ("grant", "role"),
    [(_assign_defender, R.PROSECUTOR), (_assign_judge, R.DEFENDER), (_screening, R.COORDINATOR)],
)
def test_services_refuse_own_staff_of_another_role(referral, personas, grant, role):
    with pytest.raises(ValidationError):
        grant(personas[R.COORDINATOR], referral, personas[role])


def test_services_accept_the_programs_own_staff(referral, personas):
    coordinator = personas[R.COORDINATOR]
    _assign_defender(coordinator, referral, personas[R.DEFENDER])
    _assign_judge(coordinator, referral, personas[R.JUDGE])
    _screening(coordinator, referral, personas[R.CLINICIAN])
    referral.refresh_from_db()
    assert (referral.defender, referral.judge) == (personas[R.DEFENDER], personas[R.JUDGE])


def test_an_inactive_account_cannot_be_granted(referral, personas, program):
    retired = UserFactory(email="retired@atc.test", role=R.DEFENDER, programs=[program])
    retired.is_active = False
    retired.save(update_fields=["is_active"])
    with pytest.raises(ValidationError):
        _assign_defender(personas[R.COORDINATOR], referral, retired)


def test_referral_refuses_another_programs_judge_and_defender(program, personas, strangers):
    for field in ("judge", "defender"):
        with pytest.raises(ValidationError) as refused:
            services.referral_create(
                acting_user=personas[R.COORDINATOR],
                program=program,
                referral={"referred_on": program_today(program), field: strangers[field]},
                person_data={
                    "first_name": "Rita",
                    "last_name": "Sola",
                    "date_of_birth": program_today(program) - timedelta(days=30 * 365),
                },
            )
        assert field in refused.value.error_dict


def test_session_refuses_another_programs_judge(program, personas, strangers):
    with pytest.raises(ValidationError):
        hearing_services.session_create(
            acting_user=personas[R.COORDINATOR],
            program=program,
            kind="status_review",
            judge=strangers["judge"],
            courtroom="3B",
            day=program_today(program) + timedelta(days=3),
            start=time(9),
            duration_minutes=60,
        )


def test_provider_assignment_refuses_a_provider_not_serving_the_program(
    participant, personas, other_program
):
    elsewhere = treatment_services.provider_create(
        acting_user=None, name="Clínica Lejana", programs=[other_program]
    )
    with pytest.raises(ValidationError):
        treatment_services.provider_assign(
            acting_user=personas[R.COORDINATOR],
            participant=participant,
            provider=elsewhere,
            assigned_on=participant.entry_date,
        )
    assert not participant.provider_assignments.exists()


# --- through the forms, as a coordinator would --------------------------------------------
def _action(participant, action):
    return reverse("participant_action", args=[participant.uuid, action])


def test_assign_form_lists_only_the_programs_staff(client, referral, personas, strangers):
    client.force_login(personas[R.COORDINATOR])
    page = client.get(_action(referral, "assign")).content.decode()
    assert str(personas[R.DEFENDER]) in page
    assert "Foránea" not in page  # another program's defender: not even her name
    assert strangers["unstaffed_defender"].email not in page


def test_screening_form_lists_only_the_programs_clinicians(client, referral, personas, strangers):
    client.force_login(personas[R.COORDINATOR])
    page = client.get(_action(referral, "request-screening")).content.decode()
    assert str(personas[R.CLINICIAN]) in page
    assert "Ajeno" not in page


@pytest.mark.parametrize(
    ("action", "field", "who"),
    [
        ("assign", "defender", "defender"),
        ("assign", "judge", "judge"),
        ("request-screening", "clinician", "clinician"),
        ("request-screening", "clinician", "unstaffed_clinician"),
    ],
)
def test_a_forged_post_grants_nothing(client, referral, personas, strangers, action, field, who):
    """The stranger's id posted as if the form had offered it: refused, and they still get 404."""
    stranger = strangers[who]
    client.force_login(personas[R.COORDINATOR])
    response = client.post(_action(referral, action), {field: stranger.pk})
    assert response.status_code == 400  # the form again, with its error
    assert "Select a valid choice" in response.content.decode()
    client.force_login(stranger)
    assert client.get(reverse("participant_detail", args=[referral.uuid])).status_code == 404
    assert client.get(reverse("participant_treatment", args=[referral.uuid])).status_code == 404


def test_program_staff_is_literal(program, other_program, personas, strangers):
    assert set(program_staff(program, R.DEFENDER)) == {personas[R.DEFENDER]}
    assert set(program_staff(other_program, R.DEFENDER)) == {strangers["defender"]}
    assert set(program_staff(program, R.CLINICIAN)) == {personas[R.CLINICIAN]}
