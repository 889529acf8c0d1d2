"""Two people acting on the same record at the same moment, each on their own connection."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from participants import services
from participants.models import Participant, Person, ScreeningDecision, Status, StatusChange
from tests.factories import PersonFactory
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT = 10


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _wait_until_blocked(pids: list, count: int) -> None:
    """Wait until `count` of the racing backends are queued on a lock."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        known = [pid for pid in pids if pid is not None]
        if len(known) == len(pids):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND pid = ANY(%s)",
                    [known],
                )
                if cursor.fetchone()[0] >= count:
                    return
        time.sleep(0.01)
    # Not an error here: if a service stopped locking, nobody queues and the assertions on the
    # outcome say what went wrong.


def _race(calls, *, hold):
    """Run each call in its own thread (and so its own connection), released together by a
    barrier. `hold` runs in the main thread's transaction and takes a lock the callers queue
    on; it is released once every caller is waiting, so they really overlap."""
    barrier = threading.Barrier(len(calls))
    pids: list = [None] * len(calls)
    results: list = [None] * len(calls)

    def worker(i, call):
        try:
            pids[i] = _backend_pid()
            barrier.wait(timeout=TIMEOUT)
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    with transaction.atomic():
        hold()
        for thread in threads:
            thread.start()
        _wait_until_blocked(pids, len(calls))
    for thread in threads:
        thread.join(timeout=TIMEOUT)
        assert not thread.is_alive()
    return results


def _split(results, model):
    wins = [r for r in results if isinstance(r, model)]
    losses = [r for r in results if isinstance(r, ValidationError)]
    assert len(wins) == 1 and len(losses) == 1, results
    return wins[0], losses[0]


@pytest.mark.parametrize(
    "targets",
    [(Status.WARRANT, Status.IN_CUSTODY), (Status.GRADUATED, Status.VOLUNTARY_WITHDRAWAL)],
)
def test_two_status_changes_at_once(participant, personas, program, targets):
    today = program_today(program)
    before = StatusChange.objects.filter(participant=participant).count()
    users = (personas[Role.JUDGE], personas[Role.COORDINATOR])

    def change(user, to_status):
        # Each person loaded the participant (active) before saving.
        seen = Participant.objects.get(pk=participant.pk)
        return lambda: services.status_change(
            acting_user=user,
            participant=seen,
            to_status=to_status,
            effective_on=today,
            reason="Reported at staffing.",
            expected_status=Status.ACTIVE,
        )

    results = _race(
        [change(u, t) for u, t in zip(users, targets, strict=True)],
        hold=lambda: Participant.objects.select_for_update().get(pk=participant.pk),
    )
    winner, loser = _split(results, Participant)
    assert loser.code == "stale"
    participant.refresh_from_db()
    assert participant.status == winner.status
    assert StatusChange.objects.filter(participant=participant).count() == before + 1
    assert (
        AuditEvent.objects.filter(
            participant_uuid=participant.uuid, detail__status__in=[str(t) for t in targets]
        ).count()
        == 1
    )


def test_two_referrals_of_the_same_person_at_once(program, personas):
    person = PersonFactory()
    today = program_today(program)

    def refer(user):
        return lambda: services.referral_create(
            acting_user=user,
            program=program,
            referral={"referred_on": today, "referral_source": "police"},
            person=person,
            cases=[{"case_number": "CR-1", "charges": []}],
        )

    results = _race(
        [refer(personas[Role.COORDINATOR]), refer(personas[Role.PROSECUTOR])],
        # The episode's foreign key to the person waits on this lock, so both inserts overlap.
        hold=lambda: Person.objects.select_for_update().get(pk=person.pk),
    )
    winner, _loser = _split(results, Participant)
    assert Participant.objects.filter(person=person, program=program).count() == 1
    assert winner.cases.count() == 1
    assert AuditEvent.objects.filter(object_type="participants.participant").count() == 1


def test_two_admission_decisions_at_once(referral, personas, program):
    on = referral.referred_on + timedelta(days=1)
    prosecutor, clinician = personas[Role.PROSECUTOR], personas[Role.CLINICIAN]
    services.assessment_record(
        acting_user=clinician,
        participant=referral,
        data={
            "instrument": "rant",
            "score": 10,
            "risk_level": "high",
            "need_level": "high",
            "assessed_on": on,
        },
    )
    for user, kind in ((prosecutor, "legal"), (clinician, "clinical")):
        services.screening_record(
            acting_user=user,
            participant=referral,
            kind=kind,
            outcome="eligible",
            reasons="Eligible.",
            decided_on=on,
        )

    def decide(admit):
        seen = Participant.objects.get(pk=referral.pk)
        return lambda: services.admission_decide(
            acting_user=personas[Role.JUDGE],
            participant=seen,
            admit=admit,
            reasons="Team decision.",
            decided_on=on,
            entry_date=on if admit else None,
        )

    results = _race(
        [decide(True), decide(False)],
        hold=lambda: Participant.objects.select_for_update().get(pk=referral.pk),
    )
    winner, _loser = _split(results, Participant)
    referral.refresh_from_db()
    assert referral.status == winner.status
    assert referral.screening_decisions.filter(kind=ScreeningDecision.Kind.ADMISSION).count() == 1
    assert StatusChange.objects.filter(participant=referral).count() == 1
