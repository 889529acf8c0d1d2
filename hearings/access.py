"""Who sees which sessions and docket entries.

Judges, prosecutors, coordinators and program managers see every session of the programs they
staff, and every entry on them. Defenders see those sessions and the names on the dockets, and
the full entry only for their own clients. Clinicians see the sessions where a participant of
theirs appears, and only those entries. Administrators see none. A session or entry outside
your scope is a 404, as everywhere (tjp.access).
"""

from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404

from hearings.models import DocketEntry, HearingSession
from participants.access import PROGRAM_WIDE_ROLES, participants_visible_to
from tjp.access import programs_visible_to
from tjp.roles import Role, role_of

# Roles that see every session of their programs (defenders: names only, beyond their clients).
SESSION_WIDE_ROLES = PROGRAM_WIDE_ROLES | {Role.DEFENDER}


def sessions_visible_to(user) -> QuerySet[HearingSession]:
    if not user.is_authenticated or not user.is_active:
        return HearingSession.objects.none()
    role = role_of(user)
    if role in SESSION_WIDE_ROLES:
        return HearingSession.objects.filter(program__in=programs_visible_to(user))
    if role == Role.CLINICIAN:
        theirs = DocketEntry.objects.filter(participant__in=participants_visible_to(user))
        return HearingSession.objects.filter(pk__in=theirs.values("session_id"))
    return HearingSession.objects.none()


def entries_visible_to(user) -> QuerySet[DocketEntry]:
    """The docket rows a user may see at least by name."""
    if not user.is_authenticated or not user.is_active:
        return DocketEntry.objects.none()
    role = role_of(user)
    if role in SESSION_WIDE_ROLES:
        return DocketEntry.objects.filter(session__program__in=programs_visible_to(user))
    if role == Role.CLINICIAN:
        return DocketEntry.objects.filter(participant__in=participants_visible_to(user))
    return DocketEntry.objects.none()


def full_entries_visible_to(user) -> QuerySet[DocketEntry]:
    """The docket rows a user may see in full: those of participants in their scope."""
    return entries_visible_to(user).filter(participant__in=participants_visible_to(user))


def full_participant_ids(user, entries) -> set[int]:
    """Of these entries' participants, those the user may see in full (one query)."""
    ids = {e.participant_id for e in entries}
    if not ids:
        return set()
    return set(participants_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))


def get_session_for_user(
    user, session_uuid: UUID | str, *, perm: str | None = None
) -> HearingSession:
    queryset = sessions_visible_to(user).select_related("program", "judge", "series")
    try:
        session = queryset.get(uuid=session_uuid)
    except (HearingSession.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc
    if perm is not None and not user.has_perm(perm):
        raise PermissionDenied
    return session


def get_entry_for_user(user, entry_uuid: UUID | str, *, perm: str | None = None) -> DocketEntry:
    """A docket entry the user may see in full (else 404), and `perm` allowed (else 403)."""
    queryset = full_entries_visible_to(user).select_related(
        "session__program",
        "session__judge",
        "participant__person",
        "participant__phase",
        "participant__program",
    )
    try:
        entry = queryset.get(uuid=entry_uuid)
    except (DocketEntry.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc
    if perm is not None and not user.has_perm(perm):
        raise PermissionDenied
    return entry
