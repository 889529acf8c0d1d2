"""Small rules the treatment services share."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from participants.models import Status
from tjp.models import AuditEvent

A = AuditEvent.Action
# Participants who are tested at random: in the program and reachable (not on a warrant, in
# custody or on medical leave).
TESTED_STATUSES = [Status.ACTIVE, Status.PENDING_TERMINATION]
# A selection stops being owed when the participant is in one of these by the deadline.
EXCUSING_STATUSES = [s for s in Status.values if s not in (*TESTED_STATUSES, Status.WARRANT)]
CONFLICT = "conflict"


def _choice(value: str, choices, field: str) -> str:
    if value not in choices.values:
        raise ValidationError({field: _("“%(value)s” is not a valid choice.") % {"value": value}})
    return value
