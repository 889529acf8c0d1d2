"""Finding people by name: accents, case, typos, word order and two surnames forgiven, ranked by
similarity, over a trigram index (PostgreSQL pg_trgm).

A person's name is searched as one normalised text — `tjp_person_name(first, last, second)`:
the names joined, lower-cased and without accents, by an immutable SQL function (migration
participants 0004) so that a GIN trigram index can hold it. A query matches when its trigrams are
found, mostly, among those of one stretch of the name (`word_similarity`, pg_trgm's `<%`
operator at its default threshold of 0.6): "Nunes" finds Núñez, "perez garcia" finds García
Pérez. The results are ranked by that similarity, best first.

Scope is the caller's: pass `within` (people or participants the user may see) and nothing else
is searched.
"""

from datetime import date

from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db.models import F, Q, QuerySet, Value

from participants.models import Normalised, Participant, Person, PersonName

MAX_QUERY = 100
# Above this similarity of one name, a person born the same day is a possible duplicate.
SAME_BIRTHDAY_NAME_SIMILARITY = 0.3


def _query(text: str) -> str:
    return " ".join(text.split())[:MAX_QUERY]


def people_matching(query: str, within: QuerySet[Person] | None = None) -> QuerySet[Person]:
    """The people whose name matches `query`, best match first (`rank`)."""
    people = Person.objects.all() if within is None else within
    text = _query(query)
    if not text:
        return people.none()
    wanted = Normalised(Value(text))
    return (
        people.annotate(search_name=PersonName())
        .filter(search_name__trigram_word_similar=wanted)
        .annotate(rank=TrigramWordSimilarity(wanted, "search_name"))
        .order_by("-rank", "last_name", "first_name", "pk")
    )


def participants_matching(query: str, within: QuerySet[Participant]) -> QuerySet[Participant]:
    """The participants (of `within`) whose person's name matches `query`, best first."""
    text = _query(query)
    if not text:
        return within.none()
    wanted = Normalised(Value(text))
    return (
        within.annotate(search_name=PersonName("person__"))
        .filter(search_name__trigram_word_similar=wanted)
        .annotate(rank=TrigramWordSimilarity(wanted, "search_name"))
        .order_by("-rank", "person__last_name", "person__first_name", "pk")
    )


def possible_duplicates(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date | None,
    within: QuerySet[Person] | None = None,
) -> QuerySet[Person]:
    """People who may be this one: a similar name, or the same birthday and a name alike."""
    people = Person.objects.all() if within is None else within
    similar = people_matching(f"{first_name} {last_name}", people).values("pk")
    found = Q(pk__in=similar)
    if date_of_birth is not None:
        first, last = Normalised(Value(first_name.strip())), Normalised(Value(last_name.strip()))
        born_that_day = (
            people.filter(date_of_birth=date_of_birth)
            .annotate(
                first_alike=TrigramSimilarity(first, Normalised(F("first_name"))),
                last_alike=TrigramSimilarity(last, Normalised(F("last_name"))),
            )
            .filter(
                Q(first_alike__gte=SAME_BIRTHDAY_NAME_SIMILARITY)
                | Q(last_alike__gte=SAME_BIRTHDAY_NAME_SIMILARITY)
            )
            .values("pk")
        )
        found |= Q(pk__in=born_that_day)
    return people.filter(found).order_by("last_name", "first_name", "pk")
