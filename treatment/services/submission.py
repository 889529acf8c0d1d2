"""Idempotent submission: the same item sent twice creates nothing new; the same external id with
other content is a conflict."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from participants.models import Participant
from tjp.models import User
from treatment.services.rules import CONFLICT


# --- idempotent submission -------------------------------------------------------------------
@dataclass
class Submission:
    obj: Model
    created: bool


def _same(existing: Model, fields: dict[str, Any]) -> bool:
    for name, value in fields.items():
        current = getattr(existing, name)
        if isinstance(current, Decimal) or isinstance(value, Decimal):
            current, value = Decimal(str(current)), Decimal(str(value))
        if hasattr(current, "pk"):
            current, value = current.pk, getattr(value, "pk", value)
        if current != value:
            return False
    return True


def _submit(
    model,
    *,
    user: User,
    participant: Participant,
    external_id: str,
    fields: dict[str, Any],
    extra_same=lambda obj: True,
) -> Submission:
    """Create unless this user already sent this external id: then the same content is a
    no-op, and different content is a conflict (nothing saved)."""

    def already_sent() -> Submission | None:
        existing = model.objects.filter(created_by=user, external_id=external_id).first()
        if existing is None:
            return None
        if (
            existing.participant_id == participant.pk
            and _same(existing, fields)
            and extra_same(existing)
        ):
            return Submission(existing, created=False)
        raise ValidationError(
            _("External id %(id)s was already used for different content.") % {"id": external_id},
            code=CONFLICT,
        )

    if external_id and (sent := already_sent()) is not None:
        return sent
    try:
        with transaction.atomic():
            obj = model.objects.create(
                participant=participant, created_by=user, external_id=external_id, **fields
            )
    except IntegrityError as exc:
        # The same id sent twice at once: the other one won (our insert waited for it to
        # commit, so it is visible now). The same content is then a re-send like any other.
        sent = already_sent() if external_id else None
        if sent is None:
            raise ValidationError(
                _("External id %(id)s is being submitted twice at once.") % {"id": external_id},
                code=CONFLICT,
            ) from exc
        return sent
    return Submission(obj, created=True)
