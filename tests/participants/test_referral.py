"""Referral: the person (new or existing), the episode, its cases and charges; people search."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from participants import services
from participants.access import participants_visible_to
from participants.models import Case, Charge, Participant, Person, Status
from participants.search import people_matching, possible_duplicates
from tests.factories import PersonFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role


@pytest.fixture
def coordinator(personas):
    return personas[Role.COORDINATOR]


@pytest.fixture
def today(program):
    return program_today(program)


def _referral(today, **overrides):
    return {
        "referred_on": today - timedelta(days=3),
        "referral_source": "prosecutor",
        "arrest_date": today - timedelta(days=10),
        "primary_substance": "methamphetamine",
        **overrides,
    }


def _person_data(**overrides):
    return {
        "first_name": "María",
        "last_name": "González",
        "second_last_name": "Ruiz",
        "date_of_birth": date(1990, 5, 17),
        "sex": "female",
        "race_ethnicity": "hispanic",
        "phone": None,  # left out, the model default applies
        **overrides,
    }


CASES = [
    {
        "case_number": "CR-2025-0001",
        "court": "District Court 3",
        "charges": [
            {"description": "Possession of a controlled substance", "level": "felony"},
            {"description": "Petty theft", "statute": "PC 484", "level": "misdemeanor"},
        ],
    },
    {"case_number": "CR-2025-0002", "charges": []},
]


def _counts():
    return (
        Person.objects.count(),
        Participant.objects.count(),
        Case.objects.count(),
        Charge.objects.count(),
        AuditEvent.objects.count(),
    )


# --- creating a referral ---------------------------------------------------------------------
def test_referral_with_a_new_person_saves_person_episode_cases_and_charges(
    program, coordinator, today
):
    participant = services.referral_create(
        acting_user=coordinator,
        program=program,
        referral=_referral(today),
        person_data=_person_data(),
        cases=CASES,
    )
    participant.refresh_from_db()
    assert participant.status == Status.REFERRED
    assert participant.program == program
    assert participant.created_by == coordinator
    assert participant.referred_on == today - timedelta(days=3)
    assert participant.arrest_date == today - timedelta(days=10)
    assert participant.primary_substance == "methamphetamine"
    assert participant.entry_date is None and participant.phase is None
    person = participant.person
    assert (person.first_name, person.last_name, person.second_last_name) == (
        "María",
        "González",
        "Ruiz",
    )
    assert person.phone == ""
    cases = list(participant.cases.order_by("case_number"))
    assert [c.case_number for c in cases] == ["CR-2025-0001", "CR-2025-0002"]
    assert cases[0].court == "District Court 3"
    assert cases[0].created_by == coordinator
    assert sorted(cases[0].charges.values_list("level", flat=True)) == ["felony", "misdemeanor"]
    assert cases[0].charges.get(level="misdemeanor").statute == "PC 484"
    assert not cases[1].charges.exists()
    event = AuditEvent.objects.get(participant_uuid=participant.uuid)
    assert event.action == AuditEvent.Action.CREATE
    assert event.actor == coordinator
    assert event.program == program
    assert AuditEvent.objects.filter(
        object_type="participants.person", object_id=str(person.uuid)
    ).exists()


def test_referral_of_an_existing_person_reuses_the_person(program, coordinator, today):
    person = PersonFactory()
    people = Person.objects.count()
    participant = services.referral_create(
        acting_user=coordinator, program=program, referral=_referral(today), person=person
    )
    assert participant.person == person
    assert Person.objects.count() == people
    assert AuditEvent.objects.filter(participant_uuid=participant.uuid).count() == 1


def test_person_or_person_data_exactly_one(program, coordinator, today):
    with pytest.raises(ValueError):
        services.referral_create(
            acting_user=coordinator, program=program, referral=_referral(today)
        )
    with pytest.raises(ValueError):
        services.referral_create(
            acting_user=coordinator,
            program=program,
            referral=_referral(today),
            person=PersonFactory(),
            person_data=_person_data(),
        )


def test_referral_with_a_defender_grants_the_defender(program, personas, coordinator, today):
    defender = personas[Role.DEFENDER]
    participant = services.referral_create(
        acting_user=coordinator,
        program=program,
        referral=_referral(today, defender=defender, judge=personas[Role.JUDGE]),
        person_data=_person_data(),
    )
    participant.refresh_from_db()
    assert participant.defender == defender
    assert participant.judge == personas[Role.JUDGE]
    assert list(participants_visible_to(defender)) == [participant]


def test_referral_refuses_a_judge_who_is_not_a_judge_of_the_program(
    program, other_program, personas, coordinator, today
):
    other_judge = UserFactory(role=Role.JUDGE, programs=[other_program])
    before = _counts()
    for not_our_judge in (personas[Role.PROSECUTOR], other_judge):
        with pytest.raises(ValidationError) as refused:
            services.referral_create(
                acting_user=coordinator,
                program=program,
                referral=_referral(today, judge=not_our_judge),
                person_data=_person_data(),
            )
        assert "judge" in refused.value.message_dict
    assert _counts() == before


# --- one open episode per person and program -------------------------------------------------
def test_second_open_episode_in_the_same_program_is_refused(program, coordinator, referral, today):
    before = _counts()
    with pytest.raises(ValidationError):
        services.referral_create(
            acting_user=coordinator,
            program=program,
            referral=_referral(today),
            person=referral.person,
            cases=CASES,
        )
    assert _counts() == before


def test_open_episode_elsewhere_does_not_block_another_program(
    program, other_program, coordinator, referral, today
):
    participant = services.referral_create(
        acting_user=coordinator,
        program=other_program,
        referral=_referral(today),
        person=referral.person,
    )
    assert participant.program == other_program
    assert referral.person.episodes.count() == 2


@pytest.mark.parametrize("ending", [Status.GRADUATED, Status.VOLUNTARY_WITHDRAWAL])
def test_a_new_episode_may_follow_an_exit(program, coordinator, referral, today, ending):
    admitted = admit(referral, by=coordinator)
    services.status_change(
        acting_user=coordinator,
        participant=admitted,
        to_status=ending,
        effective_on=today - timedelta(days=5),
        reason="Episode over.",
        expected_status=Status.ACTIVE,
    )
    again = services.referral_create(
        acting_user=coordinator, program=program, referral=_referral(today), person=referral.person
    )
    assert again.status == Status.REFERRED
    assert referral.person.episodes.filter(program=program).count() == 2


def test_a_new_episode_may_follow_a_declined_referral(program, coordinator, referral, today):
    services.admission_decide(
        acting_user=coordinator,
        participant=referral,
        admit=False,
        reasons="Not eligible now.",
        decided_on=today - timedelta(days=20),
    )
    again = services.referral_create(
        acting_user=coordinator, program=program, referral=_referral(today), person=referral.person
    )
    assert again.pk != referral.pk


# --- dates -----------------------------------------------------------------------------------
@pytest.mark.parametrize("days_ahead", [0, 1, 400])
def test_birth_date_today_or_in_the_future_is_refused(program, coordinator, today, days_ahead):
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        services.referral_create(
            acting_user=coordinator,
            program=program,
            referral=_referral(today),
            person_data=_person_data(date_of_birth=today + timedelta(days=days_ahead)),
        )
    assert "date_of_birth" in refused.value.message_dict
    assert _counts() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"arrest_date": "referred+1"}, "arrest_date"),
        ({"arrest_date": "today+1", "referred_on": "today"}, "arrest_date"),
        ({"referred_on": "today+1", "arrest_date": None}, "referred_on"),
    ],
    ids=["arrest-after-referral", "arrest-in-future", "referral-in-future"],
)
def test_referral_dates_are_checked(program, coordinator, today, overrides, field):
    referral = _referral(today)
    named = {
        "today": today,
        "today+1": today + timedelta(days=1),
        "referred+1": referral["referred_on"] + timedelta(days=1),
    }
    referral.update({k: named.get(v, v) for k, v in overrides.items()})
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        services.referral_create(
            acting_user=coordinator,
            program=program,
            referral=referral,
            person_data=_person_data(),
        )
    assert field in refused.value.message_dict
    assert _counts() == before


def test_arrest_on_the_referral_day_and_referral_today_are_fine(program, coordinator, today):
    participant = services.referral_create(
        acting_user=coordinator,
        program=program,
        referral=_referral(today, referred_on=today, arrest_date=today),
        person_data=_person_data(),
    )
    assert participant.referred_on == today == participant.arrest_date


def test_nothing_is_half_saved(program, coordinator, today):
    before = _counts()
    cases = [CASES[0], {"court": "District Court 3", "charges": [CASES[0]["charges"][0]]}]
    with pytest.raises(ValidationError) as refused:
        services.referral_create(
            acting_user=coordinator,
            program=program,
            referral=_referral(today),
            person_data=_person_data(),
            cases=cases,
        )
    assert "case_number" in refused.value.message_dict
    assert _counts() == before


def test_blank_case_number_is_refused(program, coordinator, today):
    before = _counts()
    with pytest.raises(ValidationError):
        services.referral_create(
            acting_user=coordinator,
            program=program,
            referral=_referral(today),
            person_data=_person_data(),
            cases=[{"case_number": "   "}],
        )
    assert _counts() == before


# --- finding people --------------------------------------------------------------------------
@pytest.fixture
def people(referral):
    return {
        "jose": referral.person,
        "maria": PersonFactory(first_name="María José", last_name="López", second_last_name="Peña"),
        "john": PersonFactory(first_name="John", last_name="Smith"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("jose perez", {"jose"}),
        ("José Pérez", {"jose"}),
        ("PÉREZ", {"jose"}),
        ("perez", {"jose"}),
        ("Perez Jose", {"jose"}),
        ("jose", {"jose", "maria"}),
        ("pena", {"maria"}),  # second last name, ñ folded
        ("lopez maria", {"maria"}),
        ("smi", {"john"}),
        ("jose smith", set()),
        ("", set()),
        ("   ", set()),
    ],
)
def test_person_search_ignores_accents_case_and_word_order(people, query, expected):
    found = set(people_matching(query))
    assert found == {people[key] for key in expected}


def test_possible_duplicates_by_name_and_birth_date(people):
    jose = people["jose"]
    dob = jose.date_of_birth
    other_dob = dob - timedelta(days=400)

    def dupes(first, last, birth):
        return set(possible_duplicates(first_name=first, last_name=last, date_of_birth=birth))

    assert dupes("jose", "PEREZ", None) == {jose}  # same names, accents and case ignored
    assert dupes(" José ", "Pérez", other_dob) == {jose}
    assert dupes("Josefa", "Pérez", dob) == {jose}  # birth date and one name in common
    assert dupes("Pepe", "perez", dob) == {jose}
    # "Pepe Pérez" is close enough to "José Pérez" (0.67) for someone to look: Pepe is José.
    assert dupes("Pepe", "Pérez", other_dob) == {jose}
    assert dupes("Pepe", "Sánchez", dob) == set()  # only the birth date in common
    assert dupes("Jose", "Perz", other_dob) == {jose}  # a typo


# --- assigning judge and defender ------------------------------------------------------------
def test_participant_assign_moves_the_grant_to_the_new_defender(
    referral, personas, coordinator, other_defender
):
    first = personas[Role.DEFENDER]
    services.participant_assign(acting_user=coordinator, participant=referral, defender=first)
    assert list(participants_visible_to(first)) == [referral]
    services.participant_assign(
        acting_user=coordinator, participant=referral, defender=other_defender
    )
    referral.refresh_from_db()
    assert referral.defender == other_defender
    assert not participants_visible_to(first).exists()
    assert list(participants_visible_to(other_defender)) == [referral]
    assert (
        AuditEvent.objects.filter(
            participant_uuid=referral.uuid, action=AuditEvent.Action.UPDATE
        ).count()
        == 2
    )


def test_participant_assign_checks_roles(referral, personas, coordinator):
    with pytest.raises(ValidationError):
        services.participant_assign(
            acting_user=coordinator, participant=referral, judge=personas[Role.PROSECUTOR]
        )
    with pytest.raises(ValidationError):
        services.participant_assign(
            acting_user=coordinator, participant=referral, defender=personas[Role.JUDGE]
        )
    referral.refresh_from_db()
    assert referral.judge is None and referral.defender is None


def test_clinical_screening_request_grants_the_clinician(referral, personas, coordinator):
    clinician = personas[Role.CLINICIAN]
    with pytest.raises(ValidationError):
        services.clinical_screening_request(
            acting_user=coordinator, participant=referral, clinician=personas[Role.JUDGE]
        )
    services.clinical_screening_request(
        acting_user=coordinator, participant=referral, clinician=clinician
    )
    assert list(participants_visible_to(clinician)) == [referral]
    assert AuditEvent.objects.filter(
        participant_uuid=referral.uuid, action=AuditEvent.Action.GRANT
    ).exists()
