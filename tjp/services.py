"""Writes to the core records. Each takes the acting user, is atomic and leaves an audit row."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from knox.settings import knox_settings

from tjp import audit
from tjp.access import grant_program_staff, revoke_program_staff
from tjp.models import ApiTokenName, AuditEvent, Program, User, canonical_email
from tjp.roles import Role

PROGRAM_SETTINGS_FIELDS = [
    "name",
    "jurisdiction",
    "language",
    "time_zone",
    "specimen_window_urine_hours",
    "specimen_window_oral_hours",
    "result_turnaround_hours",
    "judicial_minutes_target",
    "max_jail_sanction_days",
    "incentive_sanction_ratio_target",
    "data_entry_hours",
    "arrest_to_entry_days",
    "judge_caseload_max",
    "clinician_caseload_max",
    "case_manager_caseload_max",
    "term_warning_days",
    "hearing_reminder_hours",
    "equity_disparity_percent",
    "equity_min_group",
    "eligible_risk_levels",
    "eligible_need_levels",
    "first_offense_only",
]


@transaction.atomic
def program_update_settings(
    *,
    acting_user: User,
    program: Program,
    changes: dict[str, Any],
    seen_version: str,
    request: HttpRequest | None = None,
) -> Program:
    """Apply settings changes unless someone else saved the program since the form was loaded."""
    locked = Program.objects.select_for_update().get(pk=program.pk)
    if locked.updated_at.isoformat() != seen_version:
        raise ValidationError(
            _(
                "Someone else changed these settings while you were editing. "
                "Reload the page to see their changes, then make yours again."
            ),
            code="stale",
        )
    changed = {}
    for field, value in changes.items():
        if field not in PROGRAM_SETTINGS_FIELDS:
            raise ValueError(f"{field} is not a program setting")
        old = getattr(locked, field)
        if old != value:
            changed[field] = [str(old), str(value)]
            setattr(locked, field, value)
    if changed:
        locked.full_clean()
        locked.save(update_fields=[*changed, "updated_at"])
        audit.record(
            actor=acting_user,
            action=AuditEvent.Action.UPDATE,
            obj=locked,
            program=locked,
            request=request,
            detail={"changed": changed},
        )
    return locked


@transaction.atomic
def user_create(
    *,
    acting_user: User | None,
    email: str,
    password: str | None,
    role: Role,
    first_name: str = "",
    last_name: str = "",
    programs: list[Program] = (),
) -> User:
    """Create an account with its role and the programs it works in."""
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(_("An account with this email address already exists."))
    user = User.objects.create_user(
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        is_staff=role == Role.ADMINISTRATOR,
    )
    user.groups.add(Group.objects.get(name=role.value))
    audit.record(
        actor=acting_user, action=AuditEvent.Action.CREATE, obj=user, detail={"role": role.value}
    )
    for program in programs:
        program_staff_add(acting_user=acting_user, program=program, user=user)
    return user


@transaction.atomic
def program_staff_add(*, acting_user: User | None, program: Program, user: User) -> None:
    """Make `user` staff of `program` (scope: they may now see its records their role allows)."""
    grant_program_staff(user, program)
    audit.record(
        actor=acting_user,
        action=AuditEvent.Action.GRANT,
        obj=user,
        program=program,
        detail={"grant": "program_staff"},
    )


@transaction.atomic
def program_staff_remove(*, acting_user: User | None, program: Program, user: User) -> None:
    revoke_program_staff(user, program)
    audit.record(
        actor=acting_user,
        action=AuditEvent.Action.REVOKE,
        obj=user,
        program=program,
        detail={"grant": "program_staff"},
    )


def locked_accounts():
    """Sign-in attempts that currently lock an account."""
    from axes.models import AccessAttempt

    return AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT)


@transaction.atomic
def account_unlock(*, acting_user: User, email: str, request: HttpRequest | None = None) -> int:
    """Release an account locked by failed sign-ins."""
    from axes.utils import reset

    released = reset(username=canonical_email(email))
    audit.record(
        actor=acting_user,
        action=AuditEvent.Action.GRANT,
        request=request,
        detail={"unlocked": email, "attempts_cleared": released},
    )
    return released


# --- the second factor (django-otp) ----------------------------------------------------------
def second_factor_device(user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator-app device, if they enrolled one."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@transaction.atomic
def second_factor_enrolment(*, user: User) -> TOTPDevice:
    """The authenticator-app device being enrolled: a new secret, unconfirmed until the user
    types a code it generated. The same one is shown until then (reloading keeps the QR code)."""
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if pending is None:
        pending = TOTPDevice.objects.create(
            user=user, name=str(_("Authenticator app")), confirmed=False
        )
    return pending


@transaction.atomic
def second_factor_confirm(
    *, user: User, token: str, request: HttpRequest | None = None
) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending device with a code from it; issue recovery codes. Returns the device
    and the codes (shown once)."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(token.strip()):
        audit.record(
            actor=user,
            action=AuditEvent.Action.DENIED,
            obj=user,
            request=request,
            detail={"reason": "second_factor_enrolment_failed"},
        )
        raise ValidationError(
            {"otp_token": _("That code is not right. Type the code your app shows now.")}
        )
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = recovery_codes_issue(user=user, request=request)
    audit.record(
        actor=user,
        action=AuditEvent.Action.CREATE,
        obj=user,
        request=request,
        detail={"second_factor": "enrolled"},
    )
    return device, codes


@transaction.atomic
def recovery_codes_issue(*, user: User, request: HttpRequest | None = None) -> list[str]:
    """New recovery codes (each works once), replacing any earlier ones."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": str(_("Recovery codes")), "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _n in range(settings.RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    audit.record(
        actor=user,
        action=AuditEvent.Action.UPDATE,
        obj=user,
        request=request,
        detail={"second_factor": "recovery_codes_issued"},
    )
    return codes


def second_factor_verify(*, user: User, token: str, request: HttpRequest | None = None):
    """The device (authenticator app or a recovery code) that accepts `token`, else a
    ValidationError. Every failure is an audited `denied`; django-otp's throttling makes each
    wrong code wait longer before the next try."""
    token = "".join(token.split()).lower()
    with transaction.atomic():
        devices = list(devices_for_user(user, for_verify=True))
        waiting = [d for d in devices if not d.verify_is_allowed()[0]]
        device = next((d for d in devices if d not in waiting and d.verify_token(token)), None)
    if device is not None:
        audit.record(
            actor=user,
            action=AuditEvent.Action.LOGIN,
            obj=user,
            request=request,
            detail={"second_factor": type(device).__name__},
        )
        return device
    audit.record(
        actor=user,
        action=AuditEvent.Action.DENIED,
        obj=user,
        request=request,
        detail={"reason": "second_factor_failed"},
    )
    if waiting and len(waiting) == len(devices):
        raise ValidationError(
            {"otp_token": _("Too many wrong codes. Wait a minute, then try again.")}
        )
    raise ValidationError({"otp_token": _("That code is not right.")})


@transaction.atomic
def second_factor_reset(
    *, acting_user: User, user: User, request: HttpRequest | None = None
) -> None:
    """An administrator removes a person's authenticator and recovery codes (a lost phone):
    they enrol a new one at their next sign-in. Done only after checking who is asking."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit.record(
        actor=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=user,
        request=request,
        detail={"second_factor": "reset"},
    )


# --- account lifecycle -----------------------------------------------------------------------
@transaction.atomic
def account_set_active(
    *, acting_user: User | None, user: User, active: bool, request: HttpRequest | None = None
) -> User:
    """Disable (or enable again) an account. A disabled account cannot sign in, its API tokens
    stop working and every access function sees nothing for it."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.is_active != active:
        locked.is_active = active
        if active:
            # A fresh 90 days: otherwise the next run of the inactivity job disables it again.
            locked.last_login = timezone.now()
        locked.save(update_fields=["is_active", "last_login"])
        audit.record(
            actor=acting_user,
            action=AuditEvent.Action.GRANT if active else AuditEvent.Action.REVOKE,
            obj=locked,
            request=request,
            detail={"account": "enabled" if active else "disabled"},
        )
    return locked


def accounts_disable_inactive(*, now=None) -> list[User]:
    """Disable every active account not used (signed in to, or one of its API tokens used)
    for ACCOUNT_INACTIVE_DAYS; one that never signed in counts from its creation."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ACCOUNT_INACTIVE_DAYS)
    stale = User.objects.filter(is_active=True).filter(
        Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff)
    )
    disabled = []
    for user in stale:
        disabled.append(account_set_active(acting_user=None, user=user, active=False))
    return disabled


def account_used(user: User) -> None:
    """Mark an account used now (an API token's owner): at most one write a day."""
    now = timezone.now()
    if user.last_login is None or now - user.last_login > timedelta(days=1):
        User.objects.filter(pk=user.pk).update(last_login=now)


# --- API tokens ------------------------------------------------------------------------------
# What the UI and the audit trail show of a token: enough to tell them apart, never the token.
TOKEN_PREFIX_LENGTH = 8


def live_api_tokens(user: User) -> int:
    now = timezone.now()
    return (
        AuthToken.objects.filter(user=user).exclude(expiry__isnull=False, expiry__lte=now).count()
    )


@transaction.atomic
def api_token_create(
    *, acting_user: User, name: str, request: HttpRequest | None = None
) -> tuple[ApiTokenName, str]:
    """A new API token of the acting user (and its name); the plain token is returned once and
    kept nowhere (knox stores a digest). At most TOKEN_LIMIT_PER_USER live tokens."""
    # The owner's row is the lock: two simultaneous requests cannot pass the limit.
    User.objects.select_for_update().filter(pk=acting_user.pk).first()
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    if limit is not None and live_api_tokens(acting_user) >= limit:
        raise ValidationError(
            ngettext(
                "You already have %(limit)d active token. Revoke it before creating another.",
                "You already have %(limit)d active tokens. Revoke one you no longer use "
                "before creating another.",
                limit,
            )
            % {"limit": limit}
        )
    auth_token, plain = AuthToken.objects.create(user=acting_user)
    label = ApiTokenName.objects.create(token=auth_token, name=name)
    audit.record(
        actor=acting_user,
        action=AuditEvent.Action.GRANT,
        obj=label,
        request=request,
        detail={
            "api_token": plain[:TOKEN_PREFIX_LENGTH],
            "expires": auth_token.expiry.isoformat() if auth_token.expiry else None,
        },
    )
    return label, plain


@transaction.atomic
def api_token_revoke(
    *, acting_user: User, label: ApiTokenName, request: HttpRequest | None = None
) -> str:
    """Revoke one of the acting user's tokens (the caller looked it up among their own);
    returns the prefix shown to tell it apart."""
    locked = ApiTokenName.objects.select_for_update().select_related("token").get(pk=label.pk)
    prefix = locked.token.token_key[:TOKEN_PREFIX_LENGTH]
    audit.record(
        actor=acting_user,
        action=AuditEvent.Action.REVOKE,
        obj=locked,
        request=request,
        detail={"api_token": prefix},
    )
    locked.token.delete()  # the name goes with it (cascade)
    return prefix
