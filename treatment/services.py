"""Every write about treatment and testing. Services take the acting user, are atomic and
audited; submissions carrying a client's external id are idempotent (the same item sent twice
creates nothing new; the same id with different content is a conflict)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from participants.access import grant_participant, revoke_participant
from participants.models import IN_PROGRAM_STATUSES, Participant, Status
from tjp import audit, clock
from tjp.access import ORGANISATION_PREFIX, grant_program_staff
from tjp.clock import program_today
from tjp.models import AuditEvent, Program, User
from tjp.roles import Role, role_of
from treatment import randomization
from treatment.models import (
    ClinicalNote,
    DrugTest,
    DrugTestResult,
    Medication,
    ProgressUpdate,
    Provider,
    ProviderAssignment,
    Source,
    Substance,
    TestingProfile,
    TestSelection,
    TreatmentEpisode,
    TreatmentSession,
)

A = AuditEvent.Action
# Participants who are tested at random: in the program and reachable (not on a warrant, in
# custody or on medical leave).
TESTED_STATUSES = [Status.ACTIVE, Status.PENDING_TERMINATION]
# A selection stops being owed when the participant is in one of these by the deadline.
EXCUSING_STATUSES = [s for s in Status.values if s not in (*TESTED_STATUSES, Status.WARRANT)]
CONFLICT = "conflict"


def _choice(value: str, choices, field: str) -> str:
    if value not in choices.values:
        raise ValidationError({field: _("“%(value)s” is not a valid choice.") % {"value": value}})
    return value


# --- providers and assignments ---------------------------------------------------------------
@transaction.atomic
def provider_create(
    *, acting_user: User | None, name: str, programs: Iterable[Program], phone: str = ""
) -> Provider:
    programs = list(programs)
    group = Group.objects.create(name=f"{ORGANISATION_PREFIX}{name}"[:150])
    provider = Provider.objects.create(name=name, group=group, phone=phone)
    provider.programs.set(programs)
    # The organisation works for these programs: its clinicians are their staff (pickers list
    # them) and a consent may name it as a recipient (tjp.access.program_organisations).
    for program in programs:
        grant_program_staff(group, program)
    audit.record(actor=acting_user, action=A.CREATE, obj=provider)
    return provider


@transaction.atomic
def provider_add_clinician(*, acting_user: User | None, provider: Provider, user: User) -> None:
    if role_of(user) != Role.CLINICIAN:
        raise ValidationError(_("Only clinicians can belong to a treatment provider."))
    user.groups.add(provider.group)
    audit.record(actor=acting_user, action=A.GRANT, obj=user, detail={"provider": provider.name})


@transaction.atomic
def provider_assign(
    *,
    acting_user: User,
    participant: Participant,
    provider: Provider,
    assigned_on: date,
    request: HttpRequest | None = None,
) -> ProviderAssignment:
    """Refer a participant to a provider: its clinicians may now see the participant."""
    if not provider.programs.filter(pk=participant.program_id).exists():
        raise ValidationError({"provider": _("This provider does not serve the program.")})
    clock.check_not_future(assigned_on, participant.program, "assigned_on")
    if ProviderAssignment.objects.filter(
        participant=participant, provider=provider, ended_on__isnull=True
    ).exists():
        raise ValidationError({"provider": _("The participant is already assigned to it.")})
    assignment = ProviderAssignment.objects.create(
        participant=participant,
        provider=provider,
        assigned_on=assigned_on,
        created_by=acting_user,
    )
    grant_participant(provider.group, participant)
    audit.record_about(
        acting_user, A.GRANT, participant, participant, request, provider=provider.name
    )
    return assignment


@transaction.atomic
def provider_unassign(
    *,
    acting_user: User,
    assignment: ProviderAssignment,
    ended_on: date,
    request: HttpRequest | None = None,
) -> ProviderAssignment:
    """End an assignment: the provider's clinicians lose access to the participant."""
    assignment = (
        ProviderAssignment.objects.select_for_update()
        .select_related("participant__program", "provider__group")
        .get(pk=assignment.pk)
    )
    if assignment.ended_on is not None:
        raise ValidationError(_("This assignment has already ended."))
    if ended_on < assignment.assigned_on:
        raise ValidationError({"ended_on": _("The end cannot precede the assignment.")})
    clock.check_not_future(ended_on, assignment.participant.program, "ended_on")
    assignment.ended_on = ended_on
    assignment.save(update_fields=["ended_on"])
    revoke_participant(assignment.provider.group, assignment.participant)
    audit.record_about(
        acting_user,
        A.REVOKE,
        assignment.participant,
        assignment.participant,
        request,
        provider=assignment.provider.name,
    )
    return assignment


def provider_for(user: User, participant: Participant) -> Provider:
    """The user's provider organisation that currently treats this participant."""
    provider = Provider.objects.filter(
        group__user=user,
        assignments__participant=participant,
        assignments__ended_on__isnull=True,
    ).first()
    if provider is None:
        raise ValidationError(
            _("You can record treatment only for participants assigned to your organisation.")
        )
    return provider


def _reporting(user: User, participant: Participant, source: str | None) -> dict[str, Any]:
    """Who reports: a clinician reports for their provider; the court team enters its own."""
    if role_of(user) == Role.CLINICIAN:
        # Whatever a provider sends is provider-reported, a lab result it forwards included:
        # it is part of its treatment record and reaches the court only under a consent.
        return {"provider": provider_for(user, participant), "source": Source.PROVIDER}
    return {"provider": None, "source": source if source == Source.LAB else Source.COURT}


# --- idempotent submission -------------------------------------------------------------------
@dataclass
class Submission:
    obj: Model
    created: bool


def _same(existing: Model, fields: dict[str, Any]) -> bool:
    for name, value in fields.items():
        current = getattr(existing, name)
        if isinstance(current, Decimal) or isinstance(value, Decimal):
            current, value = Decimal(str(current)), Decimal(str(value))
        if hasattr(current, "pk"):
            current, value = current.pk, getattr(value, "pk", value)
        if current != value:
            return False
    return True


def _submit(
    model,
    *,
    user: User,
    participant: Participant,
    external_id: str,
    fields: dict[str, Any],
    extra_same=lambda obj: True,
) -> Submission:
    """Create unless this user already sent this external id: then the same content is a
    no-op, and different content is a conflict (nothing saved)."""

    def already_sent() -> Submission | None:
        existing = model.objects.filter(created_by=user, external_id=external_id).first()
        if existing is None:
            return None
        if (
            existing.participant_id == participant.pk
            and _same(existing, fields)
            and extra_same(existing)
        ):
            return Submission(existing, created=False)
        raise ValidationError(
            _("External id %(id)s was already used for different content.") % {"id": external_id},
            code=CONFLICT,
        )

    if external_id and (sent := already_sent()) is not None:
        return sent
    try:
        with transaction.atomic():
            obj = model.objects.create(
                participant=participant, created_by=user, external_id=external_id, **fields
            )
    except IntegrityError as exc:
        # The same id sent twice at once: the other one won (our insert waited for it to
        # commit, so it is visible now). The same content is then a re-send like any other.
        sent = already_sent() if external_id else None
        if sent is None:
            raise ValidationError(
                _("External id %(id)s is being submitted twice at once.") % {"id": external_id},
                code=CONFLICT,
            ) from exc
        return sent
    return Submission(obj, created=True)


# --- clinical records ------------------------------------------------------------------------
@transaction.atomic
def episode_record(
    *,
    acting_user: User,
    participant: Participant,
    level_of_care: str,
    modality: str,
    admitted_on: date,
    discharged_on: date | None = None,
    discharge_reason: str = "",
    external_id: str = "",
    request: HttpRequest | None = None,
) -> Submission:
    _choice(level_of_care, TreatmentEpisode.LevelOfCare, "level_of_care")
    _choice(modality, TreatmentEpisode.Modality, "modality")
    clock.check_not_future(admitted_on, participant.program, "admitted_on")
    clock.check_not_future(discharged_on, participant.program, "discharged_on")
    if discharged_on and discharged_on < admitted_on:
        raise ValidationError({"discharged_on": _("Discharge cannot precede admission.")})
    fields = {
        "level_of_care": level_of_care,
        "modality": modality,
        "admitted_on": admitted_on,
        "discharged_on": discharged_on,
        "discharge_reason": discharge_reason,
        **_reporting(acting_user, participant, None),
    }
    result = _submit(
        TreatmentEpisode,
        user=acting_user,
        participant=participant,
        external_id=external_id,
        fields=fields,
    )
    if result.created:
        audit.record_about(acting_user, A.CREATE, result.obj, participant, request)
    return result


@transaction.atomic
def session_record(
    *,
    acting_user: User,
    participant: Participant,
    session_date: date,
    kind: str,
    attendance: str,
    hours: Decimal,
    external_id: str = "",
    request: HttpRequest | None = None,
) -> Submission:
    _choice(kind, TreatmentSession.Kind, "kind")
    _choice(attendance, TreatmentSession.Attendance, "attendance")
    clock.check_not_future(session_date, participant.program, "session_date")
    if session_date < participant.referred_on:
        raise ValidationError({"session_date": _("The session precedes the referral.")})
    # Stored with 2 decimals: round first, so a re-sent item compares equal to what was saved.
    hours = Decimal(str(hours)).quantize(Decimal("0.01"))
    if not Decimal(0) <= hours <= Decimal(24):
        raise ValidationError({"hours": _("Hours must be between 0 and 24.")})
    fields = {
        "session_date": session_date,
        "kind": kind,
        "attendance": attendance,
        "hours": hours,
        **_reporting(acting_user, participant, None),
    }
    result = _submit(
        TreatmentSession,
        user=acting_user,
        participant=participant,
        external_id=external_id,
        fields=fields,
    )
    if result.created:
        audit.record_about(acting_user, A.CREATE, result.obj, participant, request)
    return result


@transaction.atomic
def medication_record(
    *,
    acting_user: User,
    participant: Participant,
    drug: str,
    started_on: date,
    dose: str = "",
    ended_on: date | None = None,
    request: HttpRequest | None = None,
) -> Medication:
    _choice(drug, Medication.Drug, "drug")
    clock.check_not_future(started_on, participant.program, "started_on")
    if ended_on and ended_on < started_on:
        raise ValidationError({"ended_on": _("The end cannot precede the start.")})
    medication = Medication.objects.create(
        participant=participant,
        created_by=acting_user,
        drug=drug,
        dose=dose,
        started_on=started_on,
        ended_on=ended_on,
        **_reporting(acting_user, participant, None),
    )
    audit.record_about(acting_user, A.CREATE, medication, participant, request)
    return medication


@transaction.atomic
def progress_update_record(
    *,
    acting_user: User,
    participant: Participant,
    period_start: date,
    period_end: date,
    engagement: str,
    summary: str,
    recommendations: str = "",
    external_id: str = "",
    request: HttpRequest | None = None,
) -> Submission:
    _choice(engagement, ProgressUpdate.Engagement, "engagement")
    clock.check_not_future(period_end, participant.program, "period_end")
    if period_end < period_start:
        raise ValidationError({"period_end": _("The period cannot end before it starts.")})
    if not summary.strip():
        raise ValidationError({"summary": _("This field is required.")})
    fields = {
        "period_start": period_start,
        "period_end": period_end,
        "engagement": engagement,
        "summary": summary.strip(),
        "recommendations": recommendations,
        **_reporting(acting_user, participant, None),
    }
    result = _submit(
        ProgressUpdate,
        user=acting_user,
        participant=participant,
        external_id=external_id,
        fields=fields,
    )
    if result.created:
        audit.record_about(acting_user, A.CREATE, result.obj, participant, request)
    return result


@transaction.atomic
def clinical_note_record(
    *,
    acting_user: User,
    participant: Participant,
    written_on: date,
    text: str,
    request: HttpRequest | None = None,
) -> ClinicalNote:
    """Only a clinician of the treating provider writes (and reads) clinical notes."""
    if role_of(acting_user) != Role.CLINICIAN:
        raise ValidationError(_("Only the treating clinicians write clinical notes."))
    clock.check_not_future(written_on, participant.program, "written_on")
    if not text.strip():
        raise ValidationError({"text": _("This field is required.")})
    note = ClinicalNote.objects.create(
        participant=participant,
        created_by=acting_user,
        written_on=written_on,
        text=text.strip(),
        provider=provider_for(acting_user, participant),
        source=Source.PROVIDER,
    )
    # The audit row names the note, never its content.
    audit.record_about(acting_user, A.CREATE, note, participant, request)
    return note


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


# --- random selection ------------------------------------------------------------------------
def _secret() -> str:
    return settings.TESTING_SELECTION_SECRET


@transaction.atomic
def selection_run(
    *,
    program: Program,
    day: date,
    acting_user: User | None = None,
    request: HttpRequest | None = None,
) -> list[TestSelection]:
    """Select who must test on `day` (idempotent: running it again selects nobody new).

    Each participant's days of the week are drawn from a seed derived from a secret, so the
    schedule is unpredictable for participants yet reproducible for audit; every day of the
    week, weekends and holidays included, is equally likely, and the phase's weekly minimum is
    met."""
    tz = clock.zone(program)
    # Participants hear at 6:00 (call-in line, notifications). A run later in the day (a late
    # worker, the "run now" button) notifies now: the specimen window starts when they know.
    notified_at = datetime.combine(day, time(6, 0), tzinfo=tz)
    today = program_today(program)
    if day >= today:
        notified_at = max(notified_at, timezone.now())
    chosen = []
    participants = Participant.objects.filter(
        program=program,
        status__in=TESTED_STATUSES,
        phase__tests_per_week__gt=0,
    ).select_related("phase", "testing_profile", "person")
    for participant in participants:
        selected, seed = randomization.selected_on(
            secret=_secret(),
            program_uuid=program.uuid,
            participant_uuid=participant.uuid,
            day=day,
            tests_per_week=participant.phase.tests_per_week,
            eligible_from=participant.entry_date,
            eligible_until=participant.exit_date,
        )
        if not selected:
            continue
        profile = getattr(participant, "testing_profile", None)
        method = profile.method if profile else DrugTest.Method.URINE
        selection, created = TestSelection.objects.get_or_create(
            participant=participant,
            day=day,
            defaults={
                "method": method,
                "seed": seed,
                "tests_per_week": participant.phase.tests_per_week,
                "notified_at": notified_at,
                "deadline": randomization.specimen_deadline(
                    notified_at=notified_at,
                    method=method,
                    urine_hours=program.specimen_window_urine_hours,
                    oral_hours=program.specimen_window_oral_hours,
                ),
            },
        )
        if created:
            chosen.append(selection)
        if day == today and _notice_owed(selection, participant):
            # Tell the participant once the selection is committed (a worker sends it). Each
            # (hourly) run queues it again until it is sent: a notice whose job could not be
            # queued (broker down) or ran out of retries (mail server down) is not lost, and
            # the send itself never sends twice.
            transaction.on_commit(lambda pk=selection.pk: _queue_selection_notice(pk), robust=True)
    # Every run is logged (an hourly job leaves its trace), with the seed of each selection so
    # that an auditor holding the secret can re-derive it.
    audit.record(
        actor=acting_user,
        actor_label="" if acting_user else "random selection",
        action=A.CREATE,
        program=program,
        request=request,
        detail={"day": str(day), "selected": {str(x.participant.uuid): x.seed for x in chosen}},
    )
    return chosen


def _notice_owed(selection: TestSelection, participant: Participant) -> bool:
    return (
        selection.notice_sent_at is None
        and selection.test_id is None
        and bool(participant.person.email)
        and selection.deadline > timezone.now()
    )


def _queue_selection_notice(selection_pk: int) -> None:
    from treatment.tasks import send_selection_notice

    send_selection_notice.delay(selection_pk)


@transaction.atomic
def selection_notify(*, selection_pk: int) -> bool:
    """Email a selected participant that they must test today (once: a retried job sends
    nothing twice). The notice says when and how, never anything about treatment."""
    selection = (
        TestSelection.objects.select_for_update()
        .select_related("participant__person", "participant__program")
        .get(pk=selection_pk)
    )
    person, program = selection.participant.person, selection.participant.program
    if selection.notice_sent_at is not None or not person.email or selection.test_id:
        return False
    deadline = clock.local(selection.deadline, program)
    with translation.override(person.preferred_language or program.language):
        subject = _("Drug test today")
        body = _(
            "%(name)s, you have been selected for a drug test today. Give your specimen "
            "(%(method)s) by %(deadline)s. If you cannot, call your coordinator."
        ) % {
            "name": person.first_name,
            "method": DrugTest.Method(selection.method).label,
            "deadline": formats.date_format(deadline, "SHORT_DATETIME_FORMAT"),
        }
    send_mail(str(subject), str(body), None, [person.email])
    selection.notice_sent_at = timezone.now()
    selection.save(update_fields=["notice_sent_at"])
    audit.record_about(
        None,
        A.CREATE,
        selection.participant,
        selection.participant,
        None,
        notice="random test",
        channel="email",
    )
    return True


@transaction.atomic
def selection_call_in(
    *,
    program: Program,
    code: str,
    at: datetime | None = None,
    acting_user: User | None = None,
    request: HttpRequest | None = None,
) -> TestSelection | None:
    """A participant calls in under their code: are they selected today? (logged)"""
    at = at or timezone.now()
    day = clock.local_date(at, program)
    profile = (
        TestingProfile.objects.filter(
            participant__program=program, call_in_code__iexact=code.strip()
        )
        .select_related("participant")
        .first()
    )
    if profile is None:
        raise ValidationError({"code": _("Unknown call-in code.")})
    selection = (
        TestSelection.objects.select_for_update()
        .filter(participant=profile.participant, day=day)
        .first()
    )
    if selection is not None and selection.called_in_at is None:
        selection.called_in_at = at
        selection.save(update_fields=["called_in_at"])
    audit.record_about(
        acting_user,
        A.VIEW,
        profile.participant,
        profile.participant,
        request,
        call_in=code,
        selected=selection is not None,
    )
    return selection


def missed_tests_convert(*, now: datetime | None = None) -> int:
    """Selections past their deadline without a specimen become missed tests (idempotent;
    safe to run concurrently: rows are locked and skipped)."""
    now = now or timezone.now()
    converted = 0
    with transaction.atomic():
        overdue = (
            TestSelection.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(deadline__lt=now, test__isnull=True, excused="")
            .select_related("participant__program")
        )
        for selection in overdue:
            status = selection.participant.status
            if status in EXCUSING_STATUSES:
                # In custody, on medical leave or gone: not a missed test. (On a warrant the
                # participant absconded: the test was missed.)
                selection.excused = str(_("Status: %(status)s") % {"status": Status(status).label})
                selection.save(update_fields=["excused"])
                continue
            test = DrugTest.objects.create(
                participant=selection.participant,
                collected_at=selection.deadline,
                method=selection.method,
                missed=True,
                random=True,
                source=Source.SYSTEM,
            )
            selection.test = test
            selection.save(update_fields=["test"])
            audit.record_about(
                None,
                A.CREATE,
                test,
                selection.participant,
                None,
                missed_selection=str(selection.uuid),
            )
            converted += 1
    return converted


def in_program(participant: Participant) -> bool:
    return participant.status in IN_PROGRAM_STATUSES
