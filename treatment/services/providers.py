"""Providers and assignments (which is what gives a provider's clinicians access)."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from participants.access import grant_participant, revoke_participant
from participants.models import Participant
from tjp import audit, clock
from tjp.access import ORGANISATION_PREFIX, grant_program_staff
from tjp.models import Program, User
from tjp.roles import Role, role_of
from treatment.models import (
    Provider,
    ProviderAssignment,
    Source,
)
from treatment.services.rules import A


# --- providers and assignments ---------------------------------------------------------------
@transaction.atomic
def provider_create(
    *, acting_user: User | None, name: str, programs: Iterable[Program], phone: str = ""
) -> Provider:
    programs = list(programs)
    group = Group.objects.create(name=f"{ORGANISATION_PREFIX}{name}"[:150])
    provider = Provider.objects.create(name=name, group=group, phone=phone)
    provider.programs.set(programs)
    # The organisation works for these programs: its clinicians are their staff (pickers list
    # them) and a consent may name it as a recipient (tjp.access.program_organisations).
    for program in programs:
        grant_program_staff(group, program)
    audit.record(actor=acting_user, action=A.CREATE, obj=provider)
    return provider


@transaction.atomic
def provider_add_clinician(*, acting_user: User | None, provider: Provider, user: User) -> None:
    if role_of(user) != Role.CLINICIAN:
        raise ValidationError(_("Only clinicians can belong to a treatment provider."))
    user.groups.add(provider.group)
    audit.record(actor=acting_user, action=A.GRANT, obj=user, detail={"provider": provider.name})


@transaction.atomic
def provider_assign(
    *,
    acting_user: User,
    participant: Participant,
    provider: Provider,
    assigned_on: date,
    request: HttpRequest | None = None,
) -> ProviderAssignment:
    """Refer a participant to a provider: its clinicians may now see the participant."""
    if not provider.programs.filter(pk=participant.program_id).exists():
        raise ValidationError({"provider": _("This provider does not serve the program.")})
    clock.check_not_future(assigned_on, participant.program, "assigned_on")
    if ProviderAssignment.objects.filter(
        participant=participant, provider=provider, ended_on__isnull=True
    ).exists():
        raise ValidationError({"provider": _("The participant is already assigned to it.")})
    assignment = ProviderAssignment.objects.create(
        participant=participant,
        provider=provider,
        assigned_on=assigned_on,
        created_by=acting_user,
    )
    grant_participant(provider.group, participant)
    audit.record_about(
        acting_user, A.GRANT, participant, participant, request, provider=provider.name
    )
    return assignment


@transaction.atomic
def provider_unassign(
    *,
    acting_user: User,
    assignment: ProviderAssignment,
    ended_on: date,
    request: HttpRequest | None = None,
) -> ProviderAssignment:
    """End an assignment: the provider's clinicians lose access to the participant."""
    assignment = (
        ProviderAssignment.objects.select_for_update()
        .select_related("participant__program", "provider__group")
        .get(pk=assignment.pk)
    )
    if assignment.ended_on is not None:
        raise ValidationError(_("This assignment has already ended."))
    if ended_on < assignment.assigned_on:
        raise ValidationError({"ended_on": _("The end cannot precede the assignment.")})
    clock.check_not_future(ended_on, assignment.participant.program, "ended_on")
    assignment.ended_on = ended_on
    assignment.save(update_fields=["ended_on"])
    revoke_participant(assignment.provider.group, assignment.participant)
    audit.record_about(
        acting_user,
        A.REVOKE,
        assignment.participant,
        assignment.participant,
        request,
        provider=assignment.provider.name,
    )
    return assignment


def provider_for(user: User, participant: Participant) -> Provider:
    """The user's provider organisation that currently treats this participant."""
    provider = Provider.objects.filter(
        group__user=user,
        assignments__participant=participant,
        assignments__ended_on__isnull=True,
    ).first()
    if provider is None:
        raise ValidationError(
            _("You can record treatment only for participants assigned to your organisation.")
        )
    return provider


def _reporting(user: User, participant: Participant, source: str | None) -> dict[str, Any]:
    """Who reports: a clinician reports for their provider; the court team enters its own."""
    if role_of(user) == Role.CLINICIAN:
        # Whatever a provider sends is provider-reported, a lab result it forwards included:
        # it is part of its treatment record and reaches the court only under a consent.
        return {"provider": provider_for(user, participant), "source": Source.PROVIDER}
    return {"provider": None, "source": source if source == Source.LAB else Source.COURT}
