"""Monthly reports by email: a manager subscribes to a program's report (subscription_start /
subscription_stop); an hourly job (monthly_reports_send, Celery beat) sends each subscriber,
once the program's own calendar has turned the month, the previous complete month: a summary
of the key figures in the program's language, a link to that month's dashboard and the
dashboard PDF.

Sending is idempotent, as hearings.notify's reminders are: the subscription row is locked and
the MonthlyReportSent marker is written in the transaction of the send, so two runs at once,
or a retried job, send a month once. Only the last complete month is ever sent: a job that
was down on the 1st catches up later in the month; a month that passed entirely unsent is not
sent afterwards. The first month sent is the one in which the subscription (re)started.

Access is decided again at each send: a subscriber who is no longer active, no longer has
reporting.export_reports or no longer works in the program gets nothing, and their
subscription is stopped (audited). The email holds aggregate figures only (no names, nothing a
treatment provider reported), still marked confidential.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Max, QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from reporting.measures import all_tables
from reporting.models import MonthlyReportSent, ReportSubscription
from reporting.params import ReportParams
from reporting.tables import Table
from tjp import audit, clock
from tjp.access import can, programs_visible_to
from tjp.models import AuditEvent, Program, User

A = AuditEvent.Action
PERM = "reporting.export_reports"
SENDER_LABEL = "monthly report"


# --- the calendar ----------------------------------------------------------------------------
def program_local_date(program: Program, now: datetime) -> date:
    return clock.local_date(now, program)


def month_due(*, today: date, active_since: date, last_sent: date | None = None) -> date | None:
    """The month (its first day) owed on `today` (the program's date): the last complete
    month, unless it was sent already or ended before the subscription started."""
    last_complete = today.replace(day=1) - relativedelta(months=1)
    if last_complete < active_since.replace(day=1):
        return None
    if last_sent is not None and last_sent >= last_complete:
        return None
    return last_complete


def next_send_on(*, today: date, active_since: date, last_sent: date | None = None) -> date:
    """The program's date on which the next report goes out: today when one is owed now (the
    hourly job sends it within the hour), else the 1st after the next month to report."""
    if month_due(today=today, active_since=active_since, last_sent=last_sent) is not None:
        return today
    next_month = active_since.replace(day=1)
    if last_sent is not None:
        next_month = max(next_month, last_sent + relativedelta(months=1))
    return max(next_month, today.replace(day=1)) + relativedelta(months=1)


def month_params(program: Program, month: date) -> ReportParams:
    """One program over one calendar month (its own days, both ends inclusive)."""
    end = month + relativedelta(months=1) - timedelta(days=1)
    return ReportParams(programs=(program,), start=month, end=end)


# --- subscribing -----------------------------------------------------------------------------
def may_receive(user: User, program: Program) -> bool:
    """Whether `user` may be sent `program`'s monthly report now."""
    return (
        user.is_active
        and can(user, PERM)
        and programs_visible_to(user).filter(pk=program.pk).exists()
    )


def subscriptions_of(user: User) -> QuerySet[ReportSubscription]:
    """The user's subscriptions, with the last month sent on each (one query)."""
    return ReportSubscription.objects.filter(user=user).annotate(last_sent=Max("sent__month"))


def _audit_subscription(
    subscription: ReportSubscription,
    *,
    action: str,
    state: str,
    actor: User | None,
    request: HttpRequest | None = None,
    reason: str = "",
) -> None:
    detail = {"report_subscription": state, "program": subscription.program.code}
    if reason:
        detail["reason"] = reason
    audit.record(
        actor=actor,
        actor_label="" if actor is not None else SENDER_LABEL,
        action=action,
        obj=subscription,
        program=subscription.program,
        request=request,
        detail=detail,
    )


@transaction.atomic
def subscription_start(
    *, acting_user: User, program: Program, request: HttpRequest | None = None
) -> ReportSubscription:
    """Subscribe the acting user to the program's monthly report (again, if they had
    stopped). The first report covers the current month. Subscribing twice changes nothing."""
    if not may_receive(acting_user, program):
        raise PermissionDenied
    subscription, created = ReportSubscription.objects.select_for_update().get_or_create(
        user=acting_user, program=program
    )
    if not created:
        if subscription.active:
            return subscription
        subscription.active, subscription.active_since = True, timezone.now()
        subscription.save(update_fields=["active", "active_since"])
    _audit_subscription(
        subscription, action=A.GRANT, state="started", actor=acting_user, request=request
    )
    return subscription


def _stop(
    subscription: ReportSubscription,
    *,
    actor: User | None,
    request: HttpRequest | None = None,
    reason: str = "",
) -> None:
    subscription.active = False
    subscription.save(update_fields=["active"])
    _audit_subscription(
        subscription, action=A.REVOKE, state="stopped", actor=actor, request=request, reason=reason
    )


@transaction.atomic
def subscription_stop(
    *, acting_user: User, program: Program, request: HttpRequest | None = None
) -> bool:
    """Stop the acting user's subscription to the program's report. False if there was none."""
    subscription = (
        ReportSubscription.objects.select_for_update()
        .select_related("program")
        .filter(user=acting_user, program=program, active=True)
        .first()
    )
    if subscription is None:
        return False
    _stop(subscription, actor=acting_user, request=request)
    return True


# --- the report ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figure:
    label: str  # the measure's own translated column or row label
    value: int | float | None

    @property
    def places(self) -> str:
        """floatformat's argument (localised, grouped): whole numbers as they are, others to
        the decimals the measure kept (at most two)."""
        if isinstance(self.value, int):
            return "g"
        return f"{min(2, len(str(self.value).partition('.')[2]) or 1)}g"


def key_figures(tables: list[Table]) -> list[Figure]:
    """The summary of the email, read from the measure tables (reporting.measures): nothing
    is counted here. Census at the end of the month, admissions and exits, retention,
    graduation rate, failed tests per participant, incentives per sanction."""
    by_key = {t.key: t for t in tables}
    census = by_key["census_status"]
    moves = by_key["admissions_exits"]
    retention = by_key["retention"]
    graduation = by_key["graduation"]
    sobriety = by_key["sobriety"]
    responses = dict(by_key["responses"].rows)
    incentives_label = _("Incentives per sanction")  # the row label of the responses measure
    return [
        Figure(
            _("Participants in the program at the end of the month"),
            sum(row[1] for row in census.rows),
        ),
        Figure(moves.columns[1], sum(row[1] for row in moves.rows)),
        Figure(moves.columns[2], sum(row[2] for row in moves.rows)),
        Figure(retention.columns[3], retention.rows[0][3]),
        Figure(graduation.columns[4], graduation.rows[0][4]),
        Figure(sobriety.columns[2], sobriety.rows[0][2]),
        Figure(incentives_label, responses[incentives_label]),
    ]


def dashboard_url(params: ReportParams) -> str:
    """The absolute address of the dashboard for these params (SITE_URL: the site's origin)."""
    query = urlencode(params.as_query(), doseq=True)
    return f"{site_url()}{reverse('reporting_dashboard')}?{query}"


def site_url() -> str:
    return settings.SITE_URL.rstrip("/")


@dataclass
class Built:
    """One program's month, built once per run whoever it is sent to."""

    subject: str
    figures: list[Figure]
    pdf: bytes
    filename: str


def report_build(program: Program, month: date) -> Built:
    """The month's tables, summary and PDF, in the program's language and time zone."""
    from reporting.dashboard_pdf import render_dashboard_pdf  # built alongside; loaded late

    params = month_params(program, month)
    with translation.override(program.language):
        tables = all_tables(params)
        subject = _("Monthly report: %(program)s, %(month)s") % {
            "program": program.name,
            "month": formats.date_format(month, "YEAR_MONTH_FORMAT"),
        }
        figures = key_figures(tables)
        pdf = render_dashboard_pdf(params, tables)
    return Built(str(subject), figures, pdf, f"tjp-{program.code}-{month:%Y-%m}.pdf")


def report_email(subscription: ReportSubscription, month: date, built: Built) -> EmailMessage:
    program = subscription.program
    context = {
        "program": program,
        "month": month,
        "figures": built.figures,
        "dashboard_url": dashboard_url(month_params(program, month)),
        "subscriptions_url": f"{site_url()}{reverse('report_subscriptions')}",
    }
    with translation.override(program.language), timezone.override(program.time_zone):
        body = render_to_string("reporting/email/monthly_report.txt", context)
    message = EmailMessage(built.subject, body, None, [subscription.user.email])
    message.attach(built.filename, built.pdf, "application/pdf")
    return message


# --- sending ---------------------------------------------------------------------------------
def _due(now: datetime) -> list[int]:
    """The active subscriptions owed a month now (one query; checked again under the lock)."""
    rows = (
        ReportSubscription.objects.filter(active=True)
        .select_related("program")
        .annotate(last_sent=Max("sent__month"))
        .order_by("pk")
    )
    return [
        s.pk
        for s in rows
        if month_due(
            today=program_local_date(s.program, now),
            active_since=program_local_date(s.program, s.active_since),
            last_sent=s.last_sent,
        )
    ]


@transaction.atomic
def monthly_report_send(
    *, subscription_pk: int, now: datetime | None = None, built: dict | None = None
) -> bool:
    """Send one subscription the month it is owed, once: False (nothing sent) when nothing is
    owed (sent already, by this run or a concurrent one) or the subscriber may no longer
    receive it (the subscription is then stopped). `built` caches each program's month
    across the sends of one run."""
    now = now or timezone.now()
    subscription = (
        ReportSubscription.objects.select_for_update(of=("self",))
        .select_related("user", "program")
        .filter(pk=subscription_pk, active=True)
        .first()
    )
    if subscription is None:
        return False
    program, user = subscription.program, subscription.user
    # Read after the lock: a concurrent send of this month has committed its marker by now.
    last_sent = subscription.sent.aggregate(last=Max("month"))["last"]
    month = month_due(
        today=program_local_date(program, now),
        active_since=program_local_date(program, subscription.active_since),
        last_sent=last_sent,
    )
    if month is None:
        return False
    if not may_receive(user, program):
        _stop(subscription, actor=None, reason="no longer allowed")
        return False
    built = {} if built is None else built
    if (program.pk, month) not in built:
        built[program.pk, month] = report_build(program, month)
    message = report_email(subscription, month, built[program.pk, month])
    marker = MonthlyReportSent.objects.create(subscription=subscription, month=month)
    # If sending fails, the marker goes with the transaction and a retry sends the month.
    message.send()
    audit.record(
        actor=None,
        actor_label=SENDER_LABEL,
        action=A.EXPORT,
        obj=marker,
        program=program,
        detail={
            "monthly_report": f"{month:%Y-%m}",
            "program": program.code,
            "channel": "email",
            "to": user.email,
            "subscription": str(subscription.uuid),
        },
    )
    return True


def monthly_reports_send(*, now: datetime | None = None) -> int:
    """Send every subscription the month it is owed (hourly, Celery beat); returns how many
    were sent. Each send is its own transaction: a failure leaves the ones before it sent,
    and the job's retry sends the rest (and nothing twice)."""
    now = now or timezone.now()
    built: dict = {}
    return sum(monthly_report_send(subscription_pk=pk, now=now, built=built) for pk in _due(now))


# --- what the subscriptions page shows -------------------------------------------------------
@dataclass(frozen=True)
class ProgramReport:
    program: Program
    subscribed: bool
    next_on: date  # the program's date the next report goes (or would go) out


def subscriptions_overview(user: User, *, now: datetime | None = None) -> list[ProgramReport]:
    """Each program the user works in, whether they are subscribed to its monthly report and
    when the next one goes out (had they subscribed now, if they are not). Fixed queries."""
    now = now or timezone.now()
    mine = {s.program_id: s for s in subscriptions_of(user).filter(active=True)}
    overview = []
    for program in programs_visible_to(user).order_by("name"):
        today = program_local_date(program, now)
        subscription = mine.get(program.pk)
        if subscription is None:
            next_on = next_send_on(today=today, active_since=today)
        else:
            next_on = next_send_on(
                today=today,
                active_since=program_local_date(program, subscription.active_since),
                last_sent=subscription.last_sent,
            )
        overview.append(ProgramReport(program, subscription is not None, next_on))
    return overview
