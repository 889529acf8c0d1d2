"""What TJP tells people about hearings outside the app: participants' reminders of their next
appearance, the team's daily digest of tomorrow's dockets, and each user's calendar feed.

Sending is idempotent: a marker row (Reminder, DigestSent) is written in the same transaction
as the send, under a lock, so a job that runs twice or is retried sends nothing twice; each
send leaves an audit row. Nothing sent or published here says anything about treatment; the
feed carries no participant names.
"""

import hashlib
import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, DateTimeField, DurationField, Exists, F, OuterRef, Value
from django.db.models.expressions import ExpressionWrapper
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from guardian.shortcuts import get_users_with_perms
from icalendar import Calendar, Event

from hearings.access import entries_visible_to, sessions_visible_to
from hearings.models import CalendarFeed, DigestSent, DocketEntry, HearingSession, Kind, Reminder
from participants.models import OPEN_STATUSES
from tjp import audit, clock
from tjp.access import STAFF_GRANT, programs_visible_to
from tjp.models import AuditEvent, Program, User
from tjp.roles import Role, role_of

A = AuditEvent.Action
EMAIL, SMS = Reminder.Channel.EMAIL, Reminder.Channel.SMS
VIEW_SESSIONS = "hearings.view_hearingsession"
# The team that staffs and hears the cases gets the digest (the program manager does not).
DIGEST_ROLES = {Role.JUDGE, Role.PROSECUTOR, Role.DEFENDER, Role.CLINICIAN, Role.COORDINATOR}
FEED_PAST_DAYS, FEED_FUTURE_DAYS = 60, 365


# --- participants' reminders -----------------------------------------------------------------
def reminders_due(*, now: datetime | None = None) -> list[tuple[int, str]]:
    """(entry pk, channel) of every reminder owed now: appearances not yet started, within
    their program's notice period, of participants still in the program and reachable on that
    channel, not yet reminded on it (one query)."""
    now = now or timezone.now()
    notice = ExpressionWrapper(
        F("session__program__hearing_reminder_hours") * Value(timedelta(hours=1)),
        output_field=DurationField(),
    )
    sent = Reminder.objects.filter(entry=OuterRef("pk"))
    rows = (
        DocketEntry.objects.filter(
            session__cancelled=False,
            session__starts_at__gt=now,
            participant__status__in=OPEN_STATUSES,
            attendance="",  # an appearance excused in advance needs no reminder
        )
        .alias(until=ExpressionWrapper(Value(now) + notice, output_field=DateTimeField()))
        .filter(session__starts_at__lte=F("until"))
        .annotate(
            emailed=Exists(sent.filter(channel=EMAIL)), texted=Exists(sent.filter(channel=SMS))
        )
        .values_list(
            "pk", "participant__person__email", "participant__person__phone", "emailed", "texted"
        )
        .order_by("session__starts_at", "pk")
    )
    due = []
    for pk, email, phone, emailed, texted in rows:
        if email and not emailed:
            due.append((pk, EMAIL))
        if phone and settings.SMS_BACKEND and not texted:
            due.append((pk, SMS))
    return due


def _queue_reminder(entry_pk: int, channel: str) -> None:
    from hearings.tasks import send_hearing_reminder

    send_hearing_reminder.delay(entry_pk, channel)


@transaction.atomic
def reminders_queue(*, now: datetime | None = None) -> int:
    """Queue a send job per reminder owed (after commit). Running it again before those jobs
    ran queues them again: the send itself is what is idempotent."""
    due = reminders_due(now=now)
    for pk, channel in due:
        transaction.on_commit(lambda pk=pk, ch=channel: _queue_reminder(pk, ch), robust=True)
    return len(due)


def reminder_text(entry: DocketEntry) -> tuple[str, str]:
    """Subject and text of a reminder, in the participant's language: when and where, never
    anything about treatment or testing."""
    session, person = entry.session, entry.participant.person
    program = session.program
    when = clock.local(session.starts_at, program)
    with translation.override(person.preferred_language or program.language):
        subject = _("Court appearance reminder")
        body = _(
            "%(name)s, you have a court appearance on %(date)s at %(time)s, courtroom "
            "%(courtroom)s, %(program)s."
        ) % {
            "name": person.first_name,
            "date": formats.date_format(when, "DATE_FORMAT"),
            "time": formats.time_format(when, "TIME_FORMAT"),
            "courtroom": session.courtroom,
            "program": program.name,
        }
    return str(subject), str(body)


@transaction.atomic
def reminder_send(*, entry_pk: int, channel: str, now: datetime | None = None) -> bool:
    """Send one reminder, once: False (nothing sent) if it was sent already, the entry left
    the docket, the session was cancelled, moved out of the notice period or has started, the
    participant left the program, or the contact detail is gone."""
    now = now or timezone.now()
    entry = (
        DocketEntry.objects.select_for_update(of=("self",))
        .select_related("session__program", "participant__person")
        .filter(pk=entry_pk)
        .first()
    )
    if entry is None or entry.reminders.filter(channel=channel).exists():
        return False
    session, participant = entry.session, entry.participant
    notice = timedelta(hours=session.program.hearing_reminder_hours)
    if (
        session.cancelled
        or not now < session.starts_at <= now + notice
        or participant.status not in OPEN_STATUSES
        or entry.attendance
    ):
        return False
    if channel == EMAIL:
        address = participant.person.email
    elif channel == SMS:
        address = participant.person.phone if settings.SMS_BACKEND else ""
    else:
        raise ValueError(f"unknown reminder channel {channel!r}")
    if not address:
        return False
    subject, body = reminder_text(entry)
    if channel == EMAIL:
        send_mail(subject, body, None, [address])
    else:
        from sms import send_sms

        send_sms(body, None, [address])
    reminder = Reminder.objects.create(entry=entry, channel=channel)
    audit.record(
        actor=None,
        actor_label="hearing reminder",
        action=A.CREATE,
        obj=reminder,
        program=session.program,
        participant_uuid=participant.uuid,
        detail={
            "notice": "hearing reminder",
            "channel": channel,
            "session": str(session.uuid),
            "entry": str(entry.uuid),
        },
    )
    return True


# --- the team's daily digest -----------------------------------------------------------------
def digest_team(program: Program):
    """The active team members of a program (staff grant, directly or through a group) with
    an email address, and their roles loaded."""
    return (
        get_users_with_perms(
            program, only_with_perms_in=[STAFF_GRANT.split(".")[1]], with_group_users=True
        )
        .filter(is_active=True, groups__name__in=[r.value for r in DIGEST_ROLES])
        .exclude(email="")
        .distinct()
        .prefetch_related("groups")
        .order_by("pk")
    )


def _sessions_on(day: date, program: Program):
    start, end = clock.day_bounds(day, program)
    return HearingSession.objects.filter(
        program=program, cancelled=False, starts_at__gte=start, starts_at__lt=end
    )


def digests_due(*, now: datetime | None = None) -> list[tuple[int, int, date]]:
    """(user pk, program pk, day) of every digest owed now: in each program whose own clock
    has passed the digest hour and that sits tomorrow, for each team member who may see at
    least one of tomorrow's sessions and has not had that day's digest."""
    now = now or timezone.now()
    due = []
    for program in Program.objects.order_by("pk"):
        local = clock.local(now, program)
        if local.hour < settings.DOCKET_DIGEST_HOUR:
            continue
        day = local.date() + timedelta(days=1)
        tomorrow = _sessions_on(day, program)
        if not tomorrow.exists():
            continue
        sent = set(
            DigestSent.objects.filter(program=program, day=day).values_list("user_id", flat=True)
        )
        for user in digest_team(program):
            if user.pk in sent or not user.has_perm(VIEW_SESSIONS):
                continue
            # A clinician sees only the sessions where a participant of theirs appears.
            if sessions_visible_to(user).filter(pk__in=tomorrow.values("pk")).exists():
                due.append((user.pk, program.pk, day))
    return due


def _queue_digest(user_pk: int, program_pk: int, day: date) -> None:
    from hearings.tasks import send_docket_digest

    send_docket_digest.delay(user_pk, program_pk, day.isoformat())


@transaction.atomic
def digests_queue(*, now: datetime | None = None) -> int:
    due = digests_due(now=now)
    for user_pk, program_pk, day in due:
        transaction.on_commit(
            lambda u=user_pk, p=program_pk, d=day: _queue_digest(u, p, d), robust=True
        )
    return len(due)


def digest_content(user: User, program: Program, day: date) -> list[dict]:
    """Tomorrow's sessions as this user may see them, with the names on each docket that
    they may see (defenders: every name; clinicians: their participants). Two queries."""
    sessions = list(
        sessions_visible_to(user)
        .filter(pk__in=_sessions_on(day, program).values("pk"))
        .select_related("judge")
        .order_by("starts_at", "courtroom")
    )
    docket: dict[int, list] = {s.pk: [] for s in sessions}
    entries = (
        entries_visible_to(user)
        .filter(session__in=sessions)
        .select_related("participant__person")
        .order_by("position", "pk")
    )
    for entry in entries:
        docket[entry.session_id].append(entry.participant)
    return [{"session": s, "participants": docket[s.pk]} for s in sessions]


@transaction.atomic
def digest_send(*, user_pk: int, program_pk: int, day: date, now: datetime | None = None) -> bool:
    """Email one team member the day's dockets, once: False (nothing sent) if already sent,
    the day has passed, or they no longer work in the program, have no address, or may see
    none of the day's sessions."""
    now = now or timezone.now()
    user = User.objects.filter(pk=user_pk, is_active=True).exclude(email="").first()
    program = Program.objects.filter(pk=program_pk).first()
    if user is None or program is None or day < clock.local(now, program).date():
        return False
    if role_of(user) not in DIGEST_ROLES or not user.has_perm(VIEW_SESSIONS):
        return False
    if not programs_visible_to(user).filter(pk=program.pk).exists():
        return False
    if DigestSent.objects.filter(user=user, program=program, day=day).exists():
        return False
    content = digest_content(user, program, day)
    if not content:
        return False
    try:
        # The unique row is the lock: a concurrent send of the same digest waits here, then
        # fails; if this send fails, the row goes with the transaction and a retry may send.
        with transaction.atomic():
            marker = DigestSent.objects.create(user=user, program=program, day=day)
    except IntegrityError:
        return False
    with translation.override(program.language), timezone.override(clock.zone(program)):
        subject = _("Tomorrow's dockets: %(program)s, %(day)s") % {
            "program": program.name,
            "day": formats.date_format(day, "DATE_FORMAT"),
        }
        body = render_to_string(
            "hearings/email/docket_digest.txt",
            {"program": program, "day": day, "sessions": content, "user": user},
        )
    send_mail(str(subject), body, None, [user.email])
    audit.record(
        actor=None,
        actor_label="docket digest",
        action=A.CREATE,
        obj=marker,
        program=program,
        detail={
            "notice": "docket digest",
            "channel": EMAIL,
            "to": user.email,
            "day": day.isoformat(),
            "sessions": [str(c["session"].uuid) for c in content],
            # Whose names this person was sent (the trail can say who learnt of whom).
            "participants": [str(p.uuid) for c in content for p in c["participants"]],
        },
    )
    return True


# --- calendar feeds --------------------------------------------------------------------------
def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_rotate(*, acting_user: User, request: HttpRequest | None = None) -> str:
    """Give the user a new secret feed address (the old one, if any, stops working). Returns
    the secret: it is kept nowhere, only its hash."""
    token = secrets.token_urlsafe(32)
    User.objects.select_for_update().filter(pk=acting_user.pk).first()
    feed = CalendarFeed.objects.filter(user=acting_user).first()
    rotated = feed is not None
    if feed is None:
        feed = CalendarFeed.objects.create(user=acting_user, token_hash=_hash(token))
    else:
        feed.token_hash = _hash(token)
        feed.save(update_fields=["token_hash", "created_at"])
    audit.record(
        actor=acting_user,
        action=A.GRANT,
        obj=feed,
        request=request,
        detail={"calendar_feed": "rotated" if rotated else "created"},
    )
    return token


@transaction.atomic
def calendar_feed_stop(*, acting_user: User, request: HttpRequest | None = None) -> bool:
    feed = CalendarFeed.objects.select_for_update().filter(user=acting_user).first()
    if feed is None:
        return False
    audit.record(
        actor=acting_user,
        action=A.REVOKE,
        obj=feed,
        request=request,
        detail={"calendar_feed": "stopped"},
    )
    feed.delete()
    return True


def calendar_feed_owner(token: str) -> User | None:
    """Whose feed this secret opens: None for an unknown secret, an inactive account or a
    role that may no longer see sessions."""
    feed = CalendarFeed.objects.select_related("user").filter(token_hash=_hash(token)).first()
    if feed is None or not feed.user.is_active or not feed.user.has_perm(VIEW_SESSIONS):
        return None
    return feed.user


def calendar_ics(user: User, *, now: datetime | None = None) -> bytes:
    """The user's sessions as iCalendar, 60 days back to a year ahead (two queries): when,
    where, which judge and how many participants — no names, nothing about treatment."""
    now = now or timezone.now()
    sessions = list(
        sessions_visible_to(user)
        .filter(
            starts_at__gte=now - timedelta(days=FEED_PAST_DAYS),
            starts_at__lte=now + timedelta(days=FEED_FUTURE_DAYS),
        )
        .select_related("program", "judge")
        .order_by("starts_at", "pk")
    )
    counts = dict(
        entries_visible_to(user)
        .filter(session__in=sessions)
        .values("session_id")
        .annotate(n=Count("pk"))
        .values_list("session_id", "n")
    )
    cal = Calendar()
    cal.add("prodid", "-//TJP//Hearings//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", str(_("TJP hearings")))
    for session in sessions:
        program = session.program
        with translation.override(program.language):
            summary = f"{Kind(session.kind).label} · {program.name}"
            description = "\n".join(
                (
                    _("Judge: %(judge)s") % {"judge": session.judge},
                    _("Participants on the docket: %(count)d")
                    % {"count": counts.get(session.pk, 0)},
                )
            )
        event = Event()
        event.add("uid", f"{session.uuid}@tjp")
        event.add("dtstamp", now.astimezone(ZoneInfo("UTC")))
        event.add("dtstart", session.starts_at.astimezone(ZoneInfo("UTC")))
        event.add("dtend", session.ends_at.astimezone(ZoneInfo("UTC")))
        event.add("summary", summary)
        event.add("location", session.courtroom)
        event.add("description", description)
        event.add("sequence", session.version)
        event.add("status", "CANCELLED" if session.cancelled else "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()
