"""Sign-in events into the audit trail. Django and axes only announce these as signals."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils import timezone

from tjp import audit
from tjp.models import AuditEvent, canonical_email

SESSION_STARTED_KEY = "tjp_auth_started_at"


@receiver(user_logged_in, dispatch_uid="tjp.audit_login")
def _logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STARTED_KEY] = timezone.now().timestamp()
    audit.record(actor=user, action=AuditEvent.Action.LOGIN, obj=user, request=request)


@receiver(user_logged_out, dispatch_uid="tjp.audit_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit.record(actor=user, action=AuditEvent.Action.LOGOUT, obj=user, request=request)


@receiver(user_login_failed, dispatch_uid="tjp.audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    audit.record(
        actor=None,
        actor_label=canonical_email(credentials.get("username"))[:254],
        action=AuditEvent.Action.LOGIN_FAILED,
        request=request,
    )


@receiver(user_locked_out, dispatch_uid="tjp.audit_lockout")
def _locked_out(sender, request, username, ip_address, **kwargs):
    audit.record(
        actor=None,
        actor_label=str(username or "")[:254],
        action=AuditEvent.Action.LOCKOUT,
        request=request,
    )
