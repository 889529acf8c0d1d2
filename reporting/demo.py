"""Demo subscriptions: each demo program's manager (manager@<code>.example, made by seed_demo)
subscribes to their program's monthly report, through the service (audited). The first report
goes out on the 1st of next month, in the program's time zone.

Idempotent: a manager who already has a subscription to the program, active or stopped, is
left as they are (a demo user who unsubscribed stays unsubscribed)."""

from reporting import scheduled
from reporting.models import ReportSubscription
from tjp.models import Program, User
from tjp.roles import Role

PROGRAMS = ("atc", "pjt")


def seed(*, stdout) -> None:
    for program in Program.objects.filter(code__in=PROGRAMS).order_by("code"):
        manager = User.objects.filter(email=f"{Role.MANAGER.value}@{program.code}.example").first()
        if manager is None:
            continue
        if ReportSubscription.objects.filter(user=manager, program=program).exists():
            stdout.write(f"reporting: {manager.email} already has a monthly-report subscription.")
            continue
        scheduled.subscription_start(acting_user=manager, program=program)
        stdout.write(f"reporting: {manager.email} subscribed to the {program.code} monthly report.")
