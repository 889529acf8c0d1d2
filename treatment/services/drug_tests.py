"""Drug and alcohol tests, one at a time or in a lab's batch."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from participants.models import Participant
from tjp import audit, clock
from tjp.models import User
from tjp.roles import Role, role_of
from treatment.models import (
    DrugTest,
    DrugTestResult,
    Provider,
    ProviderAssignment,
    Source,
    Substance,
    TestSelection,
)
from treatment.services.rules import CONFLICT, A, _choice
from treatment.services.submission import Submission, _same

# --- drug and alcohol tests ------------------------------------------------------------------
TEST_FIELDS = [
    "collected_at",
    "method",
    "observed",
    "dilute",
    "adulterated",
    "missed",
    "refused",
    "resulted_at",
    "confirmation",
    "lab",
]


def _check_drug_test(participant: Participant, item: dict[str, Any]) -> tuple[dict, list]:
    """Validate one test (raises ValidationError); returns its fields and sorted results."""
    method, collected_at = item["method"], item["collected_at"]
    resulted_at, confirmation = item.get("resulted_at"), item.get("confirmation", "")
    missed, refused = item.get("missed", False), item.get("refused", False)
    _choice(method, DrugTest.Method, "method")
    if confirmation:
        _choice(confirmation, DrugTest.Confirmation, "confirmation")
    clock.check_not_future_moment(collected_at, "collected_at")
    clock.check_not_future_moment(resulted_at, "resulted_at")
    if resulted_at and resulted_at < collected_at:
        raise ValidationError({"resulted_at": _("The result cannot precede the collection.")})
    if collected_at.date() < participant.referred_on - timedelta(days=1):
        raise ValidationError({"collected_at": _("The test precedes the referral.")})
    results = [
        (
            _choice(substance, Substance, "results"),
            _choice(result, DrugTestResult.Result, "results"),
        )
        for substance, result in item.get("results", ())
    ]
    if len({s for s, _r in results}) != len(results):
        raise ValidationError({"results": _("A substance appears twice.")})
    if (missed or refused) and results:
        raise ValidationError({"results": _("A missed or refused test has no results.")})
    if not (missed or refused) and not results:
        raise ValidationError({"results": _("Give the result of at least one substance.")})
    fields = {
        name: item.get(name, DrugTest._meta.get_field(name).get_default()) for name in TEST_FIELDS
    }
    return fields, sorted(results)


@dataclass
class TestOutcome:
    """What became of one submitted test: created, duplicate, error or conflict."""

    __test__ = False
    status: str
    test: DrugTest | None = None
    error: ValidationError | None = None


def _conflict(external_id: str) -> ValidationError:
    return ValidationError(
        _("External id %(id)s was already used for different content.") % {"id": external_id},
        code=CONFLICT,
    )


class _RaceLost(Exception):
    """Another request inserted one of our external ids while we were checking."""


def drug_tests_record(
    *,
    acting_user: User,
    items: list[dict[str, Any]],
    source: str | None = None,
    allow_partial: bool = False,
    check_only: bool = False,
    request: HttpRequest | None = None,
) -> tuple[list[TestOutcome], bool]:
    """Record many tests at once (a lab's batch, or one test from a form).

    Every item is checked first; then already-sent external ids, the reporting provider and
    the day's random selections are read with one query each, and the new tests, their results
    and their audit rows are inserted in bulk. Unless `allow_partial`, one bad or conflicting
    item means nothing is saved; `check_only` reports on every item and saves nothing. Returns
    one outcome per item, and whether anything was saved.
    """
    try:
        return _drug_tests_record(acting_user, items, source, allow_partial, check_only, request)
    except _RaceLost:
        # The other request has committed: checking again now sees its rows, so a re-send of
        # the same content is a duplicate and different content a conflict, as usual.
        return _drug_tests_record(acting_user, items, source, allow_partial, check_only, request)


@transaction.atomic
def _drug_tests_record(acting_user, items, source, allow_partial, check_only, request):
    outcomes: list[TestOutcome] = []
    checked: list[tuple[dict, list] | None] = []
    for item in items:
        try:
            checked.append(_check_drug_test(item["participant"], item))
            outcomes.append(TestOutcome("pending"))
        except ValidationError as exc:
            checked.append(None)
            outcomes.append(TestOutcome("error", error=exc))
    participants = {item["participant"].pk: item["participant"] for item in items}
    clinician = role_of(acting_user) == Role.CLINICIAN
    providers: dict[int, Provider] = {}
    if clinician:
        for assignment in ProviderAssignment.objects.filter(
            participant_id__in=participants,
            ended_on__isnull=True,
            provider__group__user=acting_user,
        ).select_related("provider"):
            providers.setdefault(assignment.participant_id, assignment.provider)
    ids = {item.get("external_id") for item in items if item.get("external_id")}
    sent = {
        t.external_id: t
        for t in DrugTest.objects.filter(
            created_by=acting_user, external_id__in=ids
        ).prefetch_related("results")
    }
    in_batch: dict[str, tuple] = {}
    new: list[tuple[int, DrugTest, list]] = []
    for index, (item, check) in enumerate(zip(items, checked, strict=True)):
        if check is None:
            continue
        participant, external_id = item["participant"], item.get("external_id") or ""
        fields, results = check
        if clinician:
            if participant.pk not in providers:
                outcomes[index] = TestOutcome(
                    "error",
                    error=ValidationError(
                        _(
                            "You can record treatment only for participants assigned to your "
                            "organisation."
                        )
                    ),
                )
                continue
            fields.update(provider=providers[participant.pk], source=Source.PROVIDER)
        else:
            fields.update(provider=None, source=source if source == Source.LAB else Source.COURT)
        content = (participant.pk, fields, results)
        if external_id and external_id in sent:
            old = sent[external_id]
            same = (
                old.participant_id == participant.pk
                and _same(old, fields)
                and sorted((r.substance, r.result) for r in old.results.all()) == results
            )
            outcomes[index] = (
                TestOutcome("duplicate", test=old)
                if same
                else TestOutcome("conflict", error=_conflict(external_id))
            )
            continue
        if external_id and external_id in in_batch:
            first_index, first_content = in_batch[external_id]
            if first_content == content:
                outcomes[index] = TestOutcome("duplicate", test=outcomes[first_index].test)
            else:
                outcomes[index] = TestOutcome("conflict", error=_conflict(external_id))
            continue
        test = DrugTest(
            participant=participant, created_by=acting_user, external_id=external_id, **fields
        )
        outcomes[index] = TestOutcome("created", test=test)
        new.append((index, test, results))
        if external_id:
            in_batch[external_id] = (index, content)
    if check_only or (
        not allow_partial and any(o.status in ("error", "conflict") for o in outcomes)
    ):
        return outcomes, False
    _attach_selections([test for _i, test, _r in new], participants)
    try:
        with transaction.atomic():
            DrugTest.objects.bulk_create([test for _i, test, _r in new])
    except IntegrityError as exc:  # the same external id sent at the same moment elsewhere
        raise _RaceLost from exc
    DrugTestResult.objects.bulk_create(
        DrugTestResult(test=test, substance=s, result=r)
        for _i, test, results in new
        for s, r in results
    )
    linked = []
    for _i, test, _r in new:
        if (selection := getattr(test, "selection_to_link", None)) is not None:
            selection.test = test
            linked.append(selection)
    TestSelection.objects.bulk_update(linked, ["test"])
    audit.record_many(
        actor=acting_user,
        action=A.CREATE,
        request=request,
        rows=[
            {
                "obj": test,
                "program": test.participant.program,
                "participant_uuid": test.participant.uuid,
            }
            for _i, test, _r in new
        ],
    )
    return outcomes, True


def _attach_selections(tests: list[DrugTest], participants: dict[int, Participant]) -> None:
    """A specimen given by the deadline answers that day's random selection. The selections
    are locked, so the missed-test conversion cannot claim them at the same time."""
    if not tests:
        return
    days = {
        (
            t.participant_id,
            timezone.localtime(
                t.collected_at, clock.zone(participants[t.participant_id].program)
            ).date(),
        )
        for t in tests
    }
    open_selections = {
        (s.participant_id, s.day): s
        for s in TestSelection.objects.select_for_update().filter(
            excused="",
            participant_id__in={p for p, _d in days},
            day__in={d for _p, d in days},
            test__isnull=True,
        )
    }
    for test in tests:
        day = timezone.localtime(
            test.collected_at, clock.zone(participants[test.participant_id].program)
        ).date()
        selection = open_selections.get((test.participant_id, day))
        if selection is not None and test.collected_at <= selection.deadline:
            test.random = True
            test.selection_to_link = selection
            del open_selections[(test.participant_id, day)]


def drug_test_record(
    *,
    acting_user: User,
    participant: Participant,
    collected_at: datetime,
    method: str,
    results: list[tuple[str, str]] = (),
    observed: bool = False,
    dilute: bool = False,
    adulterated: bool = False,
    missed: bool = False,
    refused: bool = False,
    resulted_at: datetime | None = None,
    confirmation: str = "",
    lab: str = "",
    source: str | None = None,
    external_id: str = "",
    request: HttpRequest | None = None,
) -> Submission:
    """One test entered by the court team, reported by a provider, or received from a lab.
    Missed and refused tests carry no results and count as positive in every measure."""
    item = {
        "participant": participant,
        "collected_at": collected_at,
        "method": method,
        "results": list(results),
        "observed": observed,
        "dilute": dilute,
        "adulterated": adulterated,
        "missed": missed,
        "refused": refused,
        "resulted_at": resulted_at,
        "confirmation": confirmation,
        "lab": lab,
        "external_id": external_id,
    }
    (outcome,), _saved = drug_tests_record(
        acting_user=acting_user, items=[item], source=source, request=request
    )
    if outcome.error is not None:
        raise outcome.error
    return Submission(outcome.test, created=outcome.status == "created")
