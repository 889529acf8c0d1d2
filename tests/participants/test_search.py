"""Finding people: typos, accents, transposed names and two surnames forgiven, best match first,
and never outside the searcher's scope (roster, referral search, duplicates, API)."""

import pytest
from django.urls import reverse

from participants.search import people_matching, possible_duplicates
from tests.factories import ParticipantFactory, PersonFactory, admit
from tjp.roles import Role

R = Role


@pytest.fixture
def named(program, personas):
    """Participants of `program` with the names a search must forgive."""
    coordinator = personas[R.COORDINATOR]
    people = {
        "nunez": ("Ana Lucía", "Núñez", "Herrera"),
        "rodriguez": ("Juan Carlos", "Rodríguez", ""),
        "garcia": ("María", "Pérez", "García"),
        "smith": ("John", "Smith", ""),
    }
    out = {}
    for key, (first, last, second) in people.items():
        p = ParticipantFactory(
            program=program,
            person__first_name=first,
            person__last_name=last,
            person__second_last_name=second,
        )
        out[key] = admit(p, by=coordinator)
    return out


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Ana Núñez", "nunez"),
        ("ana nunez", "nunez"),  # accents and case
        ("Nunes", "nunez"),  # a typo
        ("Núñez Ana", "nunez"),  # transposed
        ("nunez herrera", "nunez"),  # both surnames
        ("Rodrigez", "rodriguez"),  # a letter missing
        ("rodriguez juan carlos", "rodriguez"),
        ("perez garcia", "garcia"),  # two surnames
        ("garcia perez maria", "garcia"),  # in another order
        ("jon smith", "smith"),
    ],
)
def test_the_right_person_comes_first(named, query, expected):
    found = list(people_matching(query))
    assert found, query
    assert found[0] == named[expected].person, (query, [str(p) for p in found])


def test_nothing_unlike_is_found(named):
    assert list(people_matching("Zbigniew Brzęczyszczykiewicz")) == []
    assert list(people_matching("   ")) == []


def test_ranked_best_first(program, personas):
    coordinator = personas[R.COORDINATOR]
    for first, last in (("Ana", "Núñez"), ("Anabel", "Núñez Ortega"), ("Ana María", "Núñez")):
        admit(
            ParticipantFactory(program=program, person__first_name=first, person__last_name=last),
            by=coordinator,
        )
    ranks = [(str(p), round(p.rank, 2)) for p in people_matching("ana nunez")]
    assert ranks[0][1] == 1.0
    assert [r for _, r in ranks] == sorted((r for _, r in ranks), reverse=True)


def test_duplicates_forgive_typos_and_accents(named):
    nunez = named["nunez"].person
    assert set(
        possible_duplicates(first_name="Ana Lucia", last_name="Nunes", date_of_birth=None)
    ) == {nunez}
    assert set(
        possible_duplicates(
            first_name="Lucía", last_name="Ortiz", date_of_birth=nunez.date_of_birth
        )
    ) == {nunez}  # born the same day, a first name alike


# --- scope -----------------------------------------------------------------------------------
@pytest.fixture
def elsewhere(other_participant):
    """A person of another program whose name is a close match."""
    person = other_participant.person
    person.first_name, person.last_name, person.second_last_name = "Ana", "Nuñes", ""
    person.save()
    return other_participant


def test_roster_search_stays_in_scope(as_user, personas, named, elsewhere):
    page = as_user(personas[R.COORDINATOR]).get(reverse("roster"), {"q": "ana nunez"})
    text = page.content.decode()
    assert "Núñez" in text and "Nuñes" not in text


def test_referral_person_search_stays_in_scope(as_user, personas, named, elsewhere):
    page = as_user(personas[R.COORDINATOR]).get(reverse("referral_new"), {"q": "ana nunez"})
    text = page.content.decode()
    assert "Núñez" in text and "Nuñes" not in text


def test_api_search_stays_in_scope_and_ranks(as_user, personas, named, elsewhere):
    body = as_user(personas[R.COORDINATOR]).get("/api/v1/participants/", {"search": "nunes"})
    names = [r["full_name"] for r in body.json()["results"]]
    assert "Núñez" in names[0] and not any("Nuñes" in n for n in names)


def test_a_defender_finds_only_their_clients(as_user, personas, named, participant):
    client = as_user(personas[R.DEFENDER])
    text = client.get(reverse("roster"), {"q": "nunez"}).content.decode()
    assert "Ana Lucía" not in text  # not their client
    assert "Núñez" in text  # `participant` (Ana Núñez) is


def test_duplicates_never_reach_another_program(program, personas, elsewhere):
    found = possible_duplicates(
        first_name="Ana",
        last_name="Nuñes",
        date_of_birth=None,
        within=PersonFactory._meta.model.objects.filter(episodes__program=program),
    )
    assert list(found) == []


def test_roster_search_costs_a_constant_number_of_queries(
    as_user, personas, named, django_assert_max_num_queries
):
    client = as_user(personas[R.COORDINATOR])
    client.get(reverse("roster"), {"q": "nunez"})
    with django_assert_max_num_queries(20):
        client.get(reverse("roster"), {"q": "a"})
