"""Participants' hearing reminders and the team's daily digest: sent once (per channel; per
person and day), in the right language, to the right people, with what each may see, and
logged. "Now" is passed into the services; the sessions are built relative to it."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sms
from django.utils import formats, timezone, translation

from hearings import notify
from hearings import services as hearing_services
from hearings.models import DigestSent, Reminder
from participants import services as participant_services
from tests.factories import ParticipantFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

EMAIL, SMS = Reminder.Channel.EMAIL, Reminder.Channel.SMS
# (The personas are called "Test User…": "test" alone would match their names.)
TREATMENT_WORDS = ("treatment", "drug", "clinical", "consent", "tratamiento", "prueba", "droga")


@pytest.fixture(autouse=True)
def _outboxes(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "sms.backends.locmem.SmsBackend"
    settings.DOCKET_DIGEST_HOUR = 16
    sms.outbox = []


@pytest.fixture
def eager_tasks():
    from tjp.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def reachable(participant):
    person = participant.person
    person.email, person.phone = "ana@example.org", "+15550100"
    person.save(update_fields=["email", "phone"])
    return participant


@pytest.fixture
def soon(program, make_session):
    """A session starting two to three hours from now (real time: the queued jobs use it)."""

    def make(hours=3, **kwargs):
        local = timezone.localtime(
            timezone.now() + timedelta(hours=hours), ZoneInfo(program.time_zone)
        )
        days = (local.date() - program_today(program)).days
        return make_session(days, hour=local.hour, **kwargs)

    return make


def _add(session, participant, personas):
    return hearing_services.docket_add(
        acting_user=personas[Role.COORDINATOR], session=session, participant=participant
    )


def _reminders_sent():
    return AuditEvent.objects.filter(detail__notice="hearing reminder")


# --- reminders -------------------------------------------------------------------------------
def test_reminder_sent_once_per_channel_and_logged(
    soon, reachable, personas, mailoutbox, django_capture_on_commit_callbacks, eager_tasks
):
    session = soon()
    entry = _add(session, reachable, personas)
    with django_capture_on_commit_callbacks(execute=True):
        assert notify.reminders_queue() == 2
    assert len(mailoutbox) == 1 and len(sms.outbox) == 1
    mail, text = mailoutbox[0], sms.outbox[0]
    assert mail.to == ["ana@example.org"] and text.recipients == ["+15550100"]
    local = timezone.localtime(session.starts_at, ZoneInfo(session.program.time_zone))
    for body in (mail.body, text.body):
        assert body.startswith("Ana, you have a court appearance on ")
        assert formats.date_format(local, "DATE_FORMAT") in body
        assert formats.time_format(local, "TIME_FORMAT") in body
        assert "3B" in body and session.program.name in body
        # (The program's own name, "Adult Treatment Court", aside.)
        rest = body.replace(session.program.name, "").lower()
        assert not any(word in rest for word in TREATMENT_WORDS)
    assert set(entry.reminders.values_list("channel", flat=True)) == {EMAIL, SMS}
    logged = _reminders_sent()
    assert sorted(e.detail["channel"] for e in logged) == [EMAIL, SMS]
    assert {(e.actor, e.action, e.participant_uuid) for e in logged} == {
        (None, AuditEvent.Action.CREATE, reachable.uuid)
    }

    # The queue runs every 15 minutes: nothing is owed, nothing is sent again.
    with django_capture_on_commit_callbacks(execute=True):
        assert notify.reminders_queue() == 0
    # A retried (or duplicated) send job sends nothing twice.
    assert notify.reminder_send(entry_pk=entry.pk, channel=EMAIL) is False
    assert notify.reminder_send(entry_pk=entry.pk, channel=SMS) is False
    assert len(mailoutbox) == 1 and len(sms.outbox) == 1
    assert Reminder.objects.filter(entry=entry).count() == 2 and _reminders_sent().count() == 2


def test_queued_twice_before_the_jobs_ran_still_sends_once(
    soon, reachable, personas, mailoutbox, django_capture_on_commit_callbacks, eager_tasks
):
    _add(soon(), reachable, personas)
    with django_capture_on_commit_callbacks() as first:
        notify.reminders_queue()
    with django_capture_on_commit_callbacks() as second:
        notify.reminders_queue()
    assert len(first) == len(second) == 2  # both runs queued both channels...
    for callback in first + second:
        callback()
    assert len(mailoutbox) == 1 and len(sms.outbox) == 1  # ...each sent once
    assert _reminders_sent().count() == 2


def test_reminder_in_the_participants_language(soon, reachable, personas, mailoutbox):
    person = reachable.person
    person.preferred_language = "es"
    person.save(update_fields=["preferred_language"])
    session = soon()
    entry = _add(session, reachable, personas)
    assert notify.reminder_send(entry_pk=entry.pk, channel=EMAIL) is True
    local = timezone.localtime(session.starts_at, ZoneInfo(session.program.time_zone))
    with translation.override("es"):
        spanish_date = formats.date_format(local, "DATE_FORMAT")  # e.g. "3 de junio de 2026"
    with translation.override("en"):
        english_date = formats.date_format(local, "DATE_FORMAT")
    body = mailoutbox[0].body
    assert " de " in spanish_date and spanish_date in body and english_date not in body


def _due_for(entry, now):
    return [channel for pk, channel in notify.reminders_due(now=now) if pk == entry.pk]


def test_reminders_only_within_the_programs_notice_period(
    make_session, reachable, personas, program
):
    entry = _add(make_session(2), reachable, personas)
    starts = entry.session.starts_at
    assert _due_for(entry, starts - timedelta(hours=25)) == []
    assert _due_for(entry, starts - timedelta(hours=23)) == [EMAIL, SMS]
    assert _due_for(entry, starts - timedelta(minutes=1)) == [EMAIL, SMS]
    assert _due_for(entry, starts) == []  # started: too late
    assert _due_for(entry, starts + timedelta(hours=1)) == []
    # The notice period is the program's setting.
    program.hearing_reminder_hours = 48
    program.save(update_fields=["hearing_reminder_hours"])
    assert _due_for(entry, starts - timedelta(hours=47)) == [EMAIL, SMS]
    assert _due_for(entry, starts - timedelta(hours=49)) == []
    # The send checks the window again (a job that waited too long sends nothing).
    assert notify.reminder_send(entry_pk=entry.pk, channel=EMAIL, now=starts) is False
    assert (
        notify.reminder_send(entry_pk=entry.pk, channel=EMAIL, now=starts - timedelta(hours=49))
        is False
    )
    assert (
        notify.reminder_send(entry_pk=entry.pk, channel=EMAIL, now=starts - timedelta(hours=47))
        is True
    )


def test_no_reminder_for_a_cancelled_session(make_session, reachable, personas, mailoutbox):
    entry = _add(make_session(1), reachable, personas)
    now = entry.session.starts_at - timedelta(hours=2)
    assert _due_for(entry, now) == [EMAIL, SMS]
    hearing_services.session_cancel(
        acting_user=personas[Role.COORDINATOR], session=entry.session, reason="Judge ill."
    )
    assert _due_for(entry, now) == []
    # Queued before the cancellation, sent after it: nothing goes out.
    assert notify.reminder_send(entry_pk=entry.pk, channel=EMAIL, now=now) is False
    assert notify.reminder_send(entry_pk=entry.pk, channel=SMS, now=now) is False
    assert mailoutbox == [] and sms.outbox == [] and not _reminders_sent().exists()


def test_no_reminder_once_the_participant_left(make_session, reachable, personas, mailoutbox):
    entry = _add(make_session(1), reachable, personas)
    now = entry.session.starts_at - timedelta(hours=2)
    participant_services.status_change(
        acting_user=personas[Role.JUDGE],
        participant=reachable,
        to_status="voluntary_withdrawal",
        effective_on=program_today(reachable.program),
        reason="Chose ordinary proceedings.",
        expected_status="active",
    )
    assert _due_for(entry, now) == []
    assert notify.reminder_send(entry_pk=entry.pk, channel=EMAIL, now=now) is False
    assert mailoutbox == [] and not _reminders_sent().exists()


def test_no_reminder_without_contact_details(make_session, reachable, personas, mailoutbox):
    entry = _add(make_session(1), reachable, personas)
    now = entry.session.starts_at - timedelta(hours=2)
    person = reachable.person
    person.phone = ""
    person.save(update_fields=["phone"])
    assert _due_for(entry, now) == [EMAIL]
    person.email = ""  # gone after the job was queued
    person.save(update_fields=["email"])
    assert _due_for(entry, now) == []
    assert notify.reminder_send(entry_pk=entry.pk, channel=EMAIL, now=now) is False
    assert notify.reminder_send(entry_pk=entry.pk, channel=SMS, now=now) is False
    assert mailoutbox == [] and sms.outbox == [] and not Reminder.objects.exists()


def test_no_text_message_when_sms_is_off(settings, make_session, reachable, personas, mailoutbox):
    settings.SMS_BACKEND = ""
    entry = _add(make_session(1), reachable, personas)
    now = entry.session.starts_at - timedelta(hours=2)
    assert _due_for(entry, now) == [EMAIL]
    assert notify.reminder_send(entry_pk=entry.pk, channel=SMS, now=now) is False
    assert notify.reminder_send(entry_pk=entry.pk, channel=EMAIL, now=now) is True
    assert sms.outbox == [] and len(mailoutbox) == 1
    assert list(Reminder.objects.values_list("channel", flat=True)) == [EMAIL]


def test_an_entry_taken_off_the_docket_is_not_reminded(
    make_session, reachable, personas, mailoutbox
):
    entry = _add(make_session(1), reachable, personas)
    now = entry.session.starts_at - timedelta(hours=2)
    hearing_services.docket_remove(acting_user=personas[Role.COORDINATOR], entry=entry)
    assert notify.reminder_send(entry_pk=entry.pk, channel=EMAIL, now=now) is False
    assert mailoutbox == []


# --- the team's daily digest ----------------------------------------------------------------
def _local_today_at(program, hour: int) -> datetime:
    return datetime.combine(program_today(program), time(hour), tzinfo=ZoneInfo(program.time_zone))


@pytest.fixture
def tomorrow(program, make_session, participant, personas):
    """Tomorrow: courtroom 3B at 9:00 with Ana (the personas' defender's client and
    clinician's participant) and Bruno (neither's); courtroom 4A at 14:00 with Bruno only."""
    bruno = admit(
        ParticipantFactory(program=program, person__first_name="Bruno", person__last_name="Ibarra"),
        by=personas[Role.COORDINATOR],
    )
    shared = make_session(1, hour=9, courtroom="3B")
    second_judge = UserFactory(email="judge2@atc.test", role=Role.JUDGE, programs=[program])
    others = make_session(1, hour=14, courtroom="4A", judge=second_judge)
    _add(shared, participant, personas)
    _add(shared, bruno, personas)
    _add(others, bruno, personas)
    return {"3B": shared, "4A": others}


def _digest_to(mailoutbox, user):
    (mail,) = [m for m in mailoutbox if m.to == [user.email]]
    return mail


def test_no_digest_before_the_digest_hour(program, tomorrow):
    assert notify.digests_due(now=_local_today_at(program, 15)) == []
    assert notify.digests_due(now=_local_today_at(program, 16)) != []


def test_digest_once_per_team_member_and_day(
    program,
    tomorrow,
    personas,
    outsider,
    mailoutbox,
    django_capture_on_commit_callbacks,
    eager_tasks,
):
    now = _local_today_at(program, 17)
    with django_capture_on_commit_callbacks(execute=True):
        assert notify.digests_queue(now=now) == 6
    team = [Role.JUDGE, Role.PROSECUTOR, Role.DEFENDER, Role.CLINICIAN, Role.COORDINATOR]
    team = sorted([personas[r].email for r in team] + ["judge2@atc.test"])
    # Not the program manager, the administrator or another program's staff.
    assert sorted(m.to[0] for m in mailoutbox) == team
    day = program_today(program) + timedelta(days=1)
    assert DigestSent.objects.filter(program=program, day=day).count() == 6
    logged = AuditEvent.objects.filter(detail__notice="docket digest", program=program)
    assert sorted(e.detail["to"] for e in logged) == team
    assert {e.actor for e in logged} == {None}

    # The job runs hourly until midnight: nobody gets it twice, not even from a retried send.
    with django_capture_on_commit_callbacks(execute=True):
        assert notify.digests_queue(now=now + timedelta(hours=1)) == 0
    coordinator = personas[Role.COORDINATOR]
    assert (
        notify.digest_send(user_pk=coordinator.pk, program_pk=program.pk, day=day, now=now) is False
    )
    assert len(mailoutbox) == 6 and logged.count() == 6


def test_digest_shows_each_role_what_it_may_see(program, tomorrow, personas, mailoutbox):
    now = _local_today_at(program, 17)
    for user_pk, program_pk, day in notify.digests_due(now=now):
        assert notify.digest_send(user_pk=user_pk, program_pk=program_pk, day=day, now=now)
    coordinator = _digest_to(mailoutbox, personas[Role.COORDINATOR]).body
    defender = _digest_to(mailoutbox, personas[Role.DEFENDER]).body
    clinician = _digest_to(mailoutbox, personas[Role.CLINICIAN]).body
    # Court-wide roles and defenders see every session and every name on the dockets.
    for body in (coordinator, defender):
        assert "Ana Núñez" in body and body.count("Bruno Ibarra") == 2
        assert "3B" in body and "4A" in body
    # A clinician sees only the session where their participant appears, and only her.
    assert "Ana Núñez" in clinician and "Bruno" not in clinician
    assert "3B" in clinician and "4A" not in clinician
    local = timezone.localtime(tomorrow["3B"].starts_at, ZoneInfo(program.time_zone))
    assert formats.time_format(local, "TIME_FORMAT") in coordinator
    assert f"Judge: {tomorrow['3B'].judge}" in coordinator
    for body in (coordinator, defender, clinician):
        rest = body.replace(program.name, "").lower()
        assert not any(word in rest for word in TREATMENT_WORDS)
    logged = AuditEvent.objects.get(
        detail__notice="docket digest", detail__to=personas[Role.CLINICIAN].email
    )
    assert logged.detail["participants"] == [str(tomorrow["3B"].entries.first().participant.uuid)]


def test_digest_in_the_programs_language(program, tomorrow, personas, mailoutbox):
    program.language = "es"
    program.save(update_fields=["language"])
    now = _local_today_at(program, 17)
    day = program_today(program) + timedelta(days=1)
    judge = personas[Role.JUDGE]
    assert notify.digest_send(user_pk=judge.pk, program_pk=program.pk, day=day, now=now)
    with translation.override("es"):
        spanish_day = formats.date_format(day, "DATE_FORMAT")
    assert spanish_day in mailoutbox[0].subject and spanish_day in mailoutbox[0].body


def test_no_digest_without_sessions_tomorrow_or_for_cancelled_ones(
    program, make_session, participant, personas
):
    now = _local_today_at(program, 17)
    _add(make_session(2), participant, personas)  # the day after tomorrow
    assert notify.digests_due(now=now) == []
    session = make_session(1)
    # The clinician sees only sessions where a participant of theirs appears.
    assert len(notify.digests_due(now=now)) == 4
    _add(session, participant, personas)
    assert len(notify.digests_due(now=now)) == 5
    hearing_services.session_cancel(
        acting_user=personas[Role.COORDINATOR], session=session, reason="Holiday."
    )
    assert notify.digests_due(now=now) == []


def test_no_digest_for_inactive_or_removed_team_members(program, tomorrow, personas, mailoutbox):
    from tjp.services import program_staff_remove

    now = _local_today_at(program, 17)
    day = program_today(program) + timedelta(days=1)
    judge, prosecutor = personas[Role.JUDGE], personas[Role.PROSECUTOR]
    judge.is_active = False
    judge.save(update_fields=["is_active"])
    program_staff_remove(acting_user=personas[Role.ADMINISTRATOR], program=program, user=prosecutor)
    due = {user_pk for user_pk, _p, _d in notify.digests_due(now=now)}
    assert judge.pk not in due and prosecutor.pk not in due
    assert personas[Role.COORDINATOR].pk in due
    # Queued before the change, sent after it: nothing goes out.
    for user in (judge, prosecutor):
        assert not notify.digest_send(user_pk=user.pk, program_pk=program.pk, day=day, now=now)
    assert mailoutbox == [] and not DigestSent.objects.exists()
