"""/reports/subscriptions/: a manager subscribes to (or stops) each of their programs' monthly
report by email (reporting.scheduled). Roles without reporting.export_reports: 403; a program
the user does not work in: 404."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from reporting import scheduled
from tjp.access import can, get_program_for_user


def _require_reports(request) -> None:
    if not can(request.user, scheduled.PERM):
        raise PermissionDenied


@require_safe
def report_subscriptions(request):
    _require_reports(request)
    overview = scheduled.subscriptions_overview(request.user)
    return render(request, "reporting/subscriptions.html", {"overview": overview})


@require_POST
def report_subscribe(request, program_uuid):
    _require_reports(request)
    program = get_program_for_user(request.user, program_uuid, perm=scheduled.PERM)
    scheduled.subscription_start(acting_user=request.user, program=program, request=request)
    messages.success(
        request,
        _("You will receive the monthly report of %(program)s by email.")
        % {"program": program.name},
    )
    return redirect("report_subscriptions")


@require_POST
def report_unsubscribe(request, program_uuid):
    _require_reports(request)
    program = get_program_for_user(request.user, program_uuid, perm=scheduled.PERM)
    if scheduled.subscription_stop(acting_user=request.user, program=program, request=request):
        messages.success(
            request,
            _("You will no longer receive the monthly report of %(program)s.")
            % {"program": program.name},
        )
    return redirect("report_subscriptions")


urlpatterns = [
    path("subscriptions/", report_subscriptions, name="report_subscriptions"),
    path("subscriptions/<uuid:program_uuid>/subscribe/", report_subscribe, name="report_subscribe"),
    path(
        "subscriptions/<uuid:program_uuid>/unsubscribe/",
        report_unsubscribe,
        name="report_unsubscribe",
    ),
]
