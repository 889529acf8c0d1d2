"""Random test selection, its notices, call-in and missed-test conversion."""

from datetime import date, datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from participants.models import IN_PROGRAM_STATUSES, Participant, Status
from tjp import audit, clock
from tjp.clock import program_today
from tjp.models import Program, User
from treatment import randomization
from treatment.models import (
    DrugTest,
    Source,
    TestingProfile,
    TestSelection,
)
from treatment.services.rules import EXCUSING_STATUSES, TESTED_STATUSES, A


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
