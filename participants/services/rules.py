"""Small rules every participant service shares: the row lock, required text."""

from django.contrib.postgres.lookups import Unaccent  # noqa: F401  (registers __unaccent)
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from participants.models import (
    Participant,
)
from tjp.models import AuditEvent

A = AuditEvent.Action


def lock_participant(participant: Participant) -> Participant:
    """The participant's row, locked until the transaction ends: every write that two people
    could make at once (a status change and a docket entry, two coordinators) takes it first."""
    return (
        Participant.objects.select_for_update(of=("self",))
        .select_related("program", "person", "phase")
        .get(pk=participant.pk)
    )


def required_text(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("This field is required.")})
    return value
