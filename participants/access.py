"""Which participants a user may see, and the lookups every view and API goes through.

Court-wide roles (judge, prosecutor, coordinator, program manager) see every participant of the
programs they staff. Defenders see the clients they hold a grant on; clinicians the participants
referred to them or to their provider organisation (a grant to the organisation's group).
Administrators see no participant. Outside your scope is 404; in scope but not allowed, 403.
"""

from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

from participants.models import Participant, Person
from tjp.access import programs_visible_to
from tjp.roles import Role, role_of

PARTICIPANT_GRANT = "participants.view_participant"
PROGRAM_WIDE_ROLES = {Role.JUDGE, Role.PROSECUTOR, Role.COORDINATOR, Role.MANAGER}
PER_RECORD_ROLES = {Role.DEFENDER, Role.CLINICIAN}
# Minimum necessary: only the roles that reach the participant in person see contact details.
CONTACT_ROLES = {Role.COORDINATOR, Role.DEFENDER}


def can_see_contact(user) -> bool:
    return role_of(user) in CONTACT_ROLES


def participants_visible_to(user) -> QuerySet[Participant]:
    if not user.is_authenticated or not user.is_active:
        return Participant.objects.none()
    role = role_of(user)
    if role in PROGRAM_WIDE_ROLES:
        return Participant.objects.filter(program__in=programs_visible_to(user))
    if role in PER_RECORD_ROLES:
        return get_objects_for_user(
            user,
            PARTICIPANT_GRANT,
            klass=Participant,
            accept_global_perms=False,
            with_superuser=False,
        )
    return Participant.objects.none()


def people_visible_to(user) -> QuerySet[Person]:
    """The people a user may find: those with an episode the user may see. Another program's
    people stay hidden, from the person search and duplicate detection alike."""
    return Person.objects.filter(pk__in=participants_visible_to(user).values("person_id"))


def get_participant_for_user(
    user, participant_uuid: UUID | str, *, perm: str | None = None
) -> Participant:
    """The participant if visible to the user (else 404) and `perm` is allowed (else 403)."""
    queryset = participants_visible_to(user).select_related("person", "program", "phase")
    try:
        participant = queryset.get(uuid=participant_uuid)
    except (Participant.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc
    if perm is not None and not user.has_perm(perm):
        raise PermissionDenied
    return participant


def grant_participant(user_or_group, participant: Participant) -> None:
    assign_perm(PARTICIPANT_GRANT, user_or_group, participant)


def revoke_participant(user_or_group, participant: Participant) -> None:
    remove_perm(PARTICIPANT_GRANT, user_or_group, participant)
