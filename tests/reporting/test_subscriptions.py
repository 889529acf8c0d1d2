"""Monthly reports by email (reporting.scheduled): subscribing, which month is owed when (in
each program's time zone), sent once (also by two runs at once), stopped when the subscriber
loses access, the email in the program's language with the measures' figures and the PDF, and
the subscriptions page for every role. "Now" is passed into the services."""

from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from reporting import measures, scheduled
from reporting.models import MonthlyReportSent, ReportSubscription
from reporting.params import ReportParams
from tests.factories import ProgramFactory, UserFactory
from tests.participants.test_concurrency import _race
from tests.reporting.test_measures import cohort  # noqa: F401 (fixture)
from tjp.access import grant_program_staff, revoke_program_staff
from tjp.models import AuditEvent, Program
from tjp.roles import Role

A = AuditEvent.Action
SITE = "https://tjp.example.org"
SPANISH_MONTHS = [
    *("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto"),
    *("septiembre", "octubre", "noviembre", "diciembre"),
]


@pytest.fixture(autouse=True)
def _site(settings, mailoutbox):
    settings.SITE_URL = SITE


@pytest.fixture
def manager(personas):
    return personas[Role.MANAGER]


def _local(program: Program, *args) -> datetime:
    """A moment on the program's clock: _local(program, 2027, 1, 1, 0, 30)."""
    return datetime(*args, tzinfo=ZoneInfo(program.time_zone))


def _subscribe(user, program, since=date(2026, 1, 1)) -> ReportSubscription:
    """Subscribed through the service, as if on `since` (noon UTC)."""
    subscription = scheduled.subscription_start(acting_user=user, program=program)
    subscription.active_since = datetime.combine(since, time(12), tzinfo=UTC)
    subscription.save(update_fields=["active_since"])
    return subscription


def _months_sent(subscription) -> list[date]:
    return list(subscription.sent.order_by("month").values_list("month", flat=True))


# --- subscribing -----------------------------------------------------------------------------
def test_subscribing_and_stopping_are_audited(program, manager):
    subscription = scheduled.subscription_start(acting_user=manager, program=program)
    assert subscription.active and subscription.user == manager
    # Again: nothing changes, nothing more is logged.
    assert scheduled.subscription_start(acting_user=manager, program=program) == subscription
    assert scheduled.subscription_stop(acting_user=manager, program=program) is True
    assert scheduled.subscription_stop(acting_user=manager, program=program) is False
    subscription.refresh_from_db()
    assert not subscription.active
    started_first = subscription.active_since
    again = scheduled.subscription_start(acting_user=manager, program=program)
    assert again.pk == subscription.pk and again.active and again.active_since > started_first
    events = AuditEvent.objects.filter(object_type="reporting.reportsubscription").order_by("pk")
    assert [(e.action, e.actor, e.detail["report_subscription"]) for e in events] == [
        (A.GRANT, manager, "started"),
        (A.REVOKE, manager, "stopped"),
        (A.GRANT, manager, "started"),
    ]
    assert all(e.program == program and e.detail["program"] == "atc" for e in events)
    assert ReportSubscription.objects.count() == 1


def test_only_a_manager_of_the_program_may_subscribe(program, other_program, personas):
    for role in Role:
        if role != Role.MANAGER:
            with pytest.raises(PermissionDenied):
                scheduled.subscription_start(acting_user=personas[role], program=program)
    with pytest.raises(PermissionDenied):
        scheduled.subscription_start(acting_user=personas[Role.MANAGER], program=other_program)
    assert not ReportSubscription.objects.exists()


# --- which month, when -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("today", "since", "last_sent", "owed"),
    [
        # The year turns: December is owed on the 1st of January.
        (date(2027, 1, 1), date(2026, 3, 10), None, date(2026, 12, 1)),
        (date(2027, 1, 1), date(2026, 3, 10), date(2026, 11, 1), date(2026, 12, 1)),
        (date(2027, 1, 31), date(2026, 3, 10), date(2026, 12, 1), None),
        (date(2027, 2, 1), date(2026, 3, 10), date(2026, 12, 1), date(2027, 1, 1)),
        # Never the month under way, nor one already sent.
        (date(2026, 12, 31), date(2026, 3, 10), date(2026, 11, 1), None),
        # Catching up later in the month, but only the last complete month.
        (date(2026, 12, 20), date(2026, 3, 10), date(2026, 9, 1), date(2026, 11, 1)),
        # The first month sent is the one subscribed in.
        (date(2026, 11, 30), date(2026, 11, 15), None, None),
        (date(2026, 12, 1), date(2026, 11, 15), None, date(2026, 11, 1)),
    ],
)
def test_the_month_owed(today, since, last_sent, owed):
    assert scheduled.month_due(today=today, active_since=since, last_sent=last_sent) == owed


@pytest.mark.parametrize(
    ("today", "since", "last_sent", "next_on"),
    [
        (date(2026, 11, 23), date(2026, 11, 23), None, date(2026, 12, 1)),
        (date(2026, 12, 31), date(2026, 12, 31), None, date(2027, 1, 1)),
        (date(2026, 12, 5), date(2026, 3, 1), date(2026, 11, 1), date(2027, 1, 1)),
        (date(2026, 12, 5), date(2026, 3, 1), date(2026, 10, 1), date(2026, 12, 5)),  # owed now
    ],
)
def test_when_the_next_report_goes_out(today, since, last_sent, next_on):
    assert scheduled.next_send_on(today=today, active_since=since, last_sent=last_sent) == next_on


def test_the_month_turns_on_each_programs_own_clock(program, manager, mailoutbox):
    """In July Chicago is UTC-5 and Mexico City UTC-6 (no daylight saving since 2022): at
    05:30 UTC it is already July 1 in Chicago, still June 30 in Mexico City."""
    mexico = ProgramFactory(code="cdmx", name="Tribunal CDMX", time_zone="America/Mexico_City")
    both = UserFactory(role=Role.MANAGER, programs=[program, mexico])
    chicago_sub, mexico_sub = _subscribe(both, program), _subscribe(both, mexico)
    may = date(2026, 5, 1)
    assert scheduled.monthly_reports_send(now=datetime(2026, 6, 15, 12, tzinfo=UTC)) == 2
    assert scheduled.monthly_reports_send(now=datetime(2026, 7, 1, 5, 30, tzinfo=UTC)) == 1
    assert _months_sent(chicago_sub) == [may, date(2026, 6, 1)]
    assert _months_sent(mexico_sub) == [may]
    assert scheduled.monthly_reports_send(now=datetime(2026, 7, 1, 6, 30, tzinfo=UTC)) == 1
    assert _months_sent(mexico_sub) == [may, date(2026, 6, 1)]
    assert len(mailoutbox) == 4


def test_sent_once_across_the_year_and_never_a_month_under_way(program, manager, mailoutbox):
    subscription = _subscribe(manager, program)
    assert scheduled.monthly_reports_send(now=_local(program, 2026, 12, 15, 9)) == 1
    assert _months_sent(subscription) == [date(2026, 11, 1)]
    # Every hour until the year ends: nothing more (December is under way).
    for moment in (
        _local(program, 2026, 12, 15, 10),
        _local(program, 2026, 12, 31, 23, 59),
        datetime(2027, 1, 1, 5, 59, tzinfo=UTC),  # 23:59 on Dec 31 in Chicago
    ):
        assert scheduled.monthly_reports_send(now=moment) == 0
    assert scheduled.monthly_reports_send(now=datetime(2027, 1, 1, 6, 0, tzinfo=UTC)) == 1
    assert scheduled.monthly_reports_send(now=datetime(2027, 1, 1, 7, 0, tzinfo=UTC)) == 0
    assert _months_sent(subscription) == [date(2026, 11, 1), date(2026, 12, 1)]
    assert [m.subject for m in mailoutbox] == [
        "Monthly report: Adult Treatment Court, November 2026",
        "Monthly report: Adult Treatment Court, December 2026",
    ]
    logged = AuditEvent.objects.filter(action=A.EXPORT, detail__program="atc").order_by("pk")
    assert [e.detail["monthly_report"] for e in logged] == ["2026-11", "2026-12"]
    assert all(e.detail["to"] == manager.email and e.program == program for e in logged)


def test_a_missed_first_of_the_month_is_caught_up_with_the_last_month_only(
    program, manager, mailoutbox
):
    subscription = _subscribe(manager, program)
    MonthlyReportSent.objects.create(subscription=subscription, month=date(2026, 8, 1))
    # The job was down from September to the 20th of December: November alone goes out.
    assert scheduled.monthly_reports_send(now=_local(program, 2026, 12, 20, 15)) == 1
    assert _months_sent(subscription) == [date(2026, 8, 1), date(2026, 11, 1)]
    assert len(mailoutbox) == 1


def test_the_first_report_covers_the_month_subscribed_in(program, manager, mailoutbox):
    subscription = _subscribe(manager, program, since=date(2026, 11, 15))
    assert scheduled.monthly_reports_send(now=_local(program, 2026, 11, 30, 23)) == 0
    assert scheduled.monthly_reports_send(now=_local(program, 2026, 12, 1, 0, 30)) == 1
    assert _months_sent(subscription) == [date(2026, 11, 1)]


def test_a_stopped_subscription_is_not_sent(program, manager, mailoutbox):
    _subscribe(manager, program)
    scheduled.subscription_stop(acting_user=manager, program=program)
    assert scheduled.monthly_reports_send(now=_local(program, 2026, 12, 2)) == 0
    assert mailoutbox == []


def _deactivate(user, program):
    user.is_active = False
    user.save(update_fields=["is_active"])


def _change_role(user, program):
    user.groups.set([Group.objects.get(name=Role.COORDINATOR.value)])


def _leave_program(user, program):
    revoke_program_staff(user, program)


@pytest.mark.parametrize("lose_access", [_deactivate, _change_role, _leave_program])
def test_a_subscriber_who_lost_access_gets_nothing_and_is_unsubscribed(
    program, manager, mailoutbox, lose_access
):
    subscription = _subscribe(manager, program)
    lose_access(manager, program)
    assert scheduled.monthly_reports_send(now=_local(program, 2026, 12, 2)) == 0
    assert mailoutbox == [] and not MonthlyReportSent.objects.exists()
    subscription.refresh_from_db()
    assert not subscription.active
    stopped = AuditEvent.objects.get(action=A.REVOKE, object_id=str(subscription.uuid))
    assert stopped.actor is None and stopped.actor_label == "monthly report"
    assert stopped.detail == {
        "report_subscription": "stopped",
        "program": "atc",
        "reason": "no longer allowed",
    }
    # Stopped: the next runs do not even look at it.
    assert scheduled.monthly_reports_send(now=_local(program, 2027, 1, 2)) == 0
    assert AuditEvent.objects.filter(action=A.REVOKE).count() == 1


# --- the email -------------------------------------------------------------------------------
def _send_month(program, manager, month: date):
    _subscribe(manager, program, since=date(2000, 1, 1))
    after = month + relativedelta(months=1)
    assert scheduled.monthly_reports_send(now=_local(program, after.year, after.month, 1, 1)) == 1


def _measured(program, month: date) -> dict[str, object]:
    """The month's key figures, read here from the measures by their (English) labels."""
    end = month + relativedelta(months=1) - timedelta(days=1)
    params = ReportParams(programs=(program,), start=month, end=end)

    def column(fn, label):
        table = fn(params)
        return table.rows[0][table.columns.index(label)]

    with translation.override("en"):
        moves = measures.admissions_exits(params)
        return {
            "Participants in the program at the end of the month": sum(
                n for _status, n in measures.census_status(params).rows
            ),
            "Admissions": sum(row[1] for row in moves.rows),
            "Exits": sum(row[2] for row in moves.rows),
            "Retention (%)": column(measures.retention, "Retention (%)"),
            "Graduation rate (%)": column(measures.graduation, "Graduation rate (%)"),
            "Failed tests per participant": column(
                measures.sobriety, "Failed tests per participant"
            ),
            "Incentives per sanction": dict(measures.responses(params).rows)[
                "Incentives per sanction"
            ],
        }


def test_the_report_in_english_holds_the_measures_of_the_month_and_the_pdf(
    program,
    manager,
    cohort,  # noqa: F811
    mailoutbox,
):
    month = cohort.day(35).replace(day=1)  # a month with hearings, responses and tests
    _send_month(program, manager, month)
    (message,) = mailoutbox
    month_name = f"{month:%B %Y}"
    assert message.subject == f"Monthly report: Adult Treatment Court, {month_name}"
    assert message.to == [manager.email]
    body = message.body
    assert "Confidential" in body
    figures = _measured(program, month)
    assert figures["Participants in the program at the end of the month"] > 0
    for label, value in figures.items():
        assert f"- {label}: {'—' if value is None else value}\n" in body, (label, body)
    end = month + relativedelta(months=1) - timedelta(days=1)
    assert (
        f"{SITE}/reports/?program={program.uuid}&from={month.isoformat()}&to={end.isoformat()}"
        in body
    )
    assert f"{SITE}/reports/subscriptions/" in body
    # Aggregates only: no one's name.
    for participant in cohort.people.values():
        assert participant.person.last_name not in body
    ((filename, content, mimetype),) = message.attachments
    assert filename == f"tjp-atc-{month:%Y-%m}.pdf" and mimetype == "application/pdf"
    assert content.startswith(b"%PDF")
    event = AuditEvent.objects.get(action=A.EXPORT)
    assert event.actor is None and event.program == program
    assert event.detail["monthly_report"] == f"{month:%Y-%m}"
    assert event.detail["program"] == "atc" and event.detail["to"] == manager.email


def test_the_report_of_a_spanish_program_is_in_spanish(
    other_program, other_participant, mailoutbox
):
    """One participant admitted in the month: retention 100 %, written the Spanish way."""
    manager = UserFactory(email="manager@pjt.test", role=Role.MANAGER, programs=[other_program])
    month = other_participant.entry_date.replace(day=1)
    _send_month(other_program, manager, month)
    (message,) = mailoutbox
    spanish_month = f"{SPANISH_MONTHS[month.month - 1]} de {month.year}"
    assert spanish_month in message.subject and spanish_month in message.body
    for line in (
        "- Admisiones: 1\n",
        "- Salidas: 0\n",
        "- Retención (%): 100,0\n",
        "- Tasa de egreso (%): —\n",
        "- Incentivos por sanción: —\n",
    ):
        assert line in message.body, message.body
    assert "Retention" not in message.body
    assert message.attachments[0][1].startswith(b"%PDF")
    assert message.attachments[0][0] == f"tjp-pjt-{month:%Y-%m}.pdf"


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_one_email(program, manager, mailoutbox):
    subscription = _subscribe(manager, program)
    now = _local(program, 2026, 12, 1, 1)
    # Both runs find the month owed, then queue on the subscription's lock.
    results = _race(
        [lambda: scheduled.monthly_reports_send(now=now)] * 2,
        hold=lambda: ReportSubscription.objects.select_for_update().get(pk=subscription.pk),
    )
    assert sorted(results) == [0, 1], results
    assert len(mailoutbox) == 1
    assert _months_sent(subscription) == [date(2026, 11, 1)]
    assert AuditEvent.objects.filter(action=A.EXPORT).count() == 1


# --- the page --------------------------------------------------------------------------------
@pytest.mark.parametrize("role", list(Role))
def test_the_page_is_the_managers(role, personas, as_user, program):
    client = as_user(personas[role])
    expected = 200 if role == Role.MANAGER else 403
    assert client.get(reverse("report_subscriptions")).status_code == expected
    for name in ("report_subscribe", "report_unsubscribe"):
        response = client.post(reverse(name, args=[program.uuid]))
        assert response.status_code == (302 if role == Role.MANAGER else 403)
    assert ReportSubscription.objects.filter(active=True).count() == 0


def test_another_programs_subscription_is_not_found(manager, as_user, other_program):
    client = as_user(manager)
    for name in ("report_subscribe", "report_unsubscribe"):
        assert client.post(reverse(name, args=[other_program.uuid])).status_code == 404
    assert not ReportSubscription.objects.exists()
    assert "Programa de Justicia" not in client.get(reverse("report_subscriptions")).text


def test_subscribing_from_the_page(manager, as_user, program, other_program):
    client = as_user(manager)
    page = client.get(reverse("report_subscriptions"))
    assert page.status_code == 200
    assert 'data-subscribed="no"' in page.text and "English" in page.text
    assert "Programa de Justicia" not in page.text
    response = client.post(reverse("report_subscribe", args=[program.uuid]), follow=True)
    assert response.redirect_chain == [(reverse("report_subscriptions"), 302)]
    assert "You will receive the monthly report of Adult Treatment Court by email." in (
        response.text
    )
    assert 'data-subscribed="yes"' in response.text
    subscription = ReportSubscription.objects.get(user=manager, program=program)
    assert subscription.active
    event = AuditEvent.objects.get(action=A.GRANT, object_id=str(subscription.uuid))
    assert event.actor == manager and event.path == reverse("report_subscribe", args=[program.uuid])
    response = client.post(reverse("report_unsubscribe", args=[program.uuid]), follow=True)
    assert "You will no longer receive the monthly report" in response.text
    assert 'data-subscribed="no"' in response.text
    subscription.refresh_from_db()
    assert not subscription.active


def test_the_page_in_spanish_says_when_the_next_report_goes_out(manager, as_user, program):
    _subscribe(manager, program)
    MonthlyReportSent.objects.create(
        subscription=manager.report_subscriptions.get(),
        month=scheduled.program_local_date(program, datetime.now(UTC)).replace(day=1)
        - relativedelta(months=1),
    )
    client = as_user(manager)
    next_on = scheduled.subscriptions_overview(manager)[0].next_on
    assert next_on.day == 1
    page = client.get(reverse("report_subscriptions"), HTTP_ACCEPT_LANGUAGE="es")
    assert f"{next_on.day} de {SPANISH_MONTHS[next_on.month - 1]} de {next_on.year}" in page.text


def test_the_page_takes_the_same_queries_whatever_the_programs(manager, as_user, program):
    client = as_user(manager)
    _subscribe(manager, program)
    client.get(reverse("report_subscriptions"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("report_subscriptions"))
    for n in range(3):
        more = ProgramFactory(code=f"more{n}")
        UserFactory(role=Role.COORDINATOR, programs=[more])
        grant_program_staff(manager, more)
        _subscribe(manager, more)
    with CaptureQueriesContext(connection) as four:
        page = client.get(reverse("report_subscriptions"))
    assert page.text.count('data-subscribed="yes"') == 4
    assert len(four) == len(one)


# --- the demo --------------------------------------------------------------------------------
def test_the_demo_managers_are_subscribed_once(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", apps="reporting", stdout=out)
    assert "manager@pjt.example subscribed to the pjt monthly report" in out.getvalue()
    out = StringIO()
    call_command("seed_demo", apps="reporting", stdout=out)
    assert "manager@atc.example already has a monthly-report subscription" in out.getvalue()
    subscriptions = ReportSubscription.objects.select_related("user", "program")
    assert sorted((s.user.email, s.program.code, s.active) for s in subscriptions) == [
        ("manager@atc.example", "atc", True),
        ("manager@pjt.example", "pjt", True),
    ]
    assert AuditEvent.objects.filter(object_type="reporting.reportsubscription").count() == 2


def test_the_job_runs_hourly_on_beat(settings):
    from reporting.tasks import send_monthly_reports

    entry = settings.CELERY_BEAT_SCHEDULE["monthly-reports"]
    assert entry == {"task": send_monthly_reports.name, "schedule": 60 * 60}
