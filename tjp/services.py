"""Writes to the core records. Each takes the acting user, is atomic and leaves an audit row."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tjp import audit
from tjp.access import grant_program_staff, revoke_program_staff
from tjp.models import AuditEvent, Program, User, canonical_email
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
