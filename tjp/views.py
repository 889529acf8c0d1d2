from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from tjp import audit, services
from tjp.access import can, get_program_for_user, programs_visible_to
from tjp.audit_log import event_page, events_visible_to
from tjp.filters import AuditEventFilter, AuditPositionForm
from tjp.forms import ProgramSettingsForm
from tjp.models import AuditEvent, User, canonical_email
from tjp.roles import role_of


@require_GET
def home(request):
    programs = programs_visible_to(request.user).prefetch_related("phases")
    return render(
        request,
        "tjp/home.html",
        {"programs": programs, "role": role_of(request.user)},
    )


@require_GET
def program_detail(request, program_uuid):
    program = get_program_for_user(request.user, program_uuid)
    return render(
        request,
        "tjp/program_detail.html",
        {
            "program": program,
            "phases": program.phases.all(),
            "can_change": can(request.user, "tjp.change_program"),
        },
    )


def program_settings(request, program_uuid):
    program = get_program_for_user(request.user, program_uuid, perm="tjp.change_program")
    form = ProgramSettingsForm(
        request.POST or None,
        instance=program,
        initial={"version": program.updated_at.isoformat()},
    )
    if request.method == "POST" and form.is_valid():
        changes = {f: form.cleaned_data[f] for f in services.PROGRAM_SETTINGS_FIELDS}
        try:
            services.program_update_settings(
                acting_user=request.user,
                program=program,
                changes=changes,
                seen_version=form.cleaned_data["version"],
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Program settings saved."))
            return redirect("program_detail", program_uuid=program.uuid)
    return render(request, "tjp/program_settings.html", {"program": program, "form": form})


@require_GET
def audit_log(request):
    """Audit events, newest first, filtered, a keyset page at a time: of the user's programs
    (managers), or all (administrators)."""
    if not can(request.user, "tjp.view_auditevent"):
        raise PermissionDenied
    visible = events_visible_to(request.user)
    filters = AuditEventFilter(request.GET, queryset=visible)
    position = AuditPositionForm(request.GET)
    start = position.cleaned_data if position.is_valid() else {}
    page = event_page(
        filters.qs if filters.is_valid() else visible.none(),
        scope=visible,
        before=start.get("before"),
        after=start.get("after"),
    )
    # Reading the trail is itself recorded; the path keeps the filters used.
    audit.record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        request=request,
        detail={"audit_log": [str(event.uuid) for event in page.events]},
    )
    return render(request, "tjp/audit_log.html", {"filters": filters, "page": page})


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Liveness of the database and the broker; public and data-free."""
    status = {"database": "ok", "broker": "eager"}
    code = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        status["database"] = "error"
        code = 503
    if settings.CELERY_BROKER_URL:
        from tjp.celery import app

        try:
            with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            status["broker"] = "ok"
        except Exception:
            status["broker"] = "error"
            code = 503
    return JsonResponse(status, status=code)


def accounts(request):
    """Accounts, for administrators: sign-in state, second factor, last use; and the actions
    that change them (each audited)."""
    if not can(request.user, "tjp.change_user"):
        raise PermissionDenied
    users = User.objects.prefetch_related("groups").order_by("email")
    enrolled = set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    locked = {canonical_email(a.username) for a in services.locked_accounts()}
    rows = [{"user": u, "enrolled": u.pk in enrolled, "locked": u.email in locked} for u in users]
    return render(request, "tjp/accounts.html", {"rows": rows})


@require_POST
def account_action(request, user_uuid):
    if not can(request.user, "tjp.change_user"):
        raise PermissionDenied
    try:
        user = User.objects.get(uuid=user_uuid)
    except User.DoesNotExist as exc:
        raise Http404 from exc
    action = request.POST.get("action")
    if action == "reset_second_factor":
        services.second_factor_reset(acting_user=request.user, user=user, request=request)
        messages.success(
            request,
            _("%(email)s sets up a new authenticator app at their next sign-in.")
            % {"email": user.email},
        )
    elif action in ("disable", "enable"):
        services.account_set_active(
            acting_user=request.user, user=user, active=action == "enable", request=request
        )
        messages.success(request, _("Account %(email)s updated.") % {"email": user.email})
    elif action == "unlock":
        services.account_unlock(acting_user=request.user, email=user.email, request=request)
        messages.success(
            request, _("The account %(email)s can sign in again.") % {"email": user.email}
        )
    else:
        return HttpResponseBadRequest()
    return redirect("accounts")


def locked_accounts(request):
    """Accounts locked by failed sign-ins, and their release (administrators)."""
    if not can(request.user, "axes.delete_accessattempt"):
        raise PermissionDenied
    if request.method == "POST":
        email = request.POST.get("email", "")
        services.account_unlock(acting_user=request.user, email=email, request=request)
        messages.success(request, _("The account %(email)s can sign in again.") % {"email": email})
        return redirect("locked_accounts")
    return render(request, "tjp/locked_accounts.html", {"attempts": services.locked_accounts()})
