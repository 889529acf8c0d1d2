"""The access spine: every lookup of a program-scoped record goes through these functions.

Role (a Group's model permissions) says what kind of thing a user may do; scope (guardian
object grants) says which records. A record outside your scope is a 404 — the same answer as a
record that does not exist — and a record you may see but not change is a 403.

Guardian is always called with accept_global_perms=False: a role's model-level permission
must never widen scope to every program.
"""

from uuid import UUID

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

from tjp.models import (
    Program,
    ProgramGroupObjectPermission,
    ProgramUserObjectPermission,
    User,
)
from tjp.roles import Role

STAFF_GRANT = "tjp.view_program"


def programs_visible_to(user) -> QuerySet[Program]:
    """The programs a user works in: those they (or one of their groups) hold a staff grant on."""
    if not user.is_authenticated or not user.is_active:
        return Program.objects.none()
    if user.has_perm("tjp.administer_all_programs"):
        return Program.objects.all()
    return get_objects_for_user(
        user,
        STAFF_GRANT,
        klass=Program,
        accept_global_perms=False,
        with_superuser=False,
    )


def get_program_for_user(user, program_uuid: UUID | str, *, perm: str | None = None) -> Program:
    """The program, if the user works in it (else 404) and their role allows `perm` (else 403)."""
    try:
        program = programs_visible_to(user).get(uuid=program_uuid)
    except (Program.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc
    if perm is not None and not user.has_perm(perm):
        raise PermissionDenied
    return program


def can(user, perm: str) -> bool:
    """Whether the user's role allows an action (scope is checked by the lookups above)."""
    return user.is_authenticated and user.has_perm(perm)


def grant_program_staff(user_or_group, program: Program) -> None:
    assign_perm(STAFF_GRANT, user_or_group, program)


def revoke_program_staff(user_or_group, program: Program) -> None:
    remove_perm(STAFF_GRANT, user_or_group, program)


def program_staff(programs: QuerySet[Program] | Program, role: Role) -> QuerySet[User]:
    """Active accounts of `role` who work in one of `programs`: a staff grant held by them or by
    one of their groups. The one answer to "who may be given this program's records": every
    picker lists these people and every service that writes a grant checks against it."""
    if isinstance(programs, Program):
        programs = Program.objects.filter(pk=programs.pk)
    grants = {"permission__codename": STAFF_GRANT.split(".")[1], "content_object__in": programs}
    direct = ProgramUserObjectPermission.objects.filter(**grants).values("user")
    via_group = ProgramGroupObjectPermission.objects.filter(**grants).values("group")
    return (
        User.objects.filter(is_active=True, groups__name=role.value)
        .filter(Q(pk__in=direct) | Q(pk__in=User.objects.filter(groups__in=via_group)))
        .order_by("last_name", "first_name", "email")
        .distinct()
    )


def check_grantee(user: User | None, program: Program, role: Role, field: str) -> None:
    """Refuse to hand `program`'s records to anyone but its own staff of `role`, whatever a
    form offered: a grant is an access path, and it is checked where it is written."""
    if user is None:
        return
    if not program_staff(program, role).filter(pk=user.pk).exists():
        raise ValidationError(
            {field: _("Choose a %(role)s of this program.") % {"role": role.label.lower()}}
        )


# A provider organisation is represented by a group of this name (treatment.services).
ORGANISATION_PREFIX = "provider: "


def organisation_label(group: Group) -> str:
    return group.name.removeprefix(ORGANISATION_PREFIX)


def program_organisations(program: Program) -> QuerySet[Group]:
    """The organisations working for `program` (treatment providers serving it): organisation
    groups holding the program's staff grant. A consent may name them."""
    grants = ProgramGroupObjectPermission.objects.filter(
        permission__codename=STAFF_GRANT.split(".")[1], content_object=program
    )
    return Group.objects.filter(
        pk__in=grants.values("group"), name__startswith=ORGANISATION_PREFIX
    ).order_by("name")
