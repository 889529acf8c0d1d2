"""The program's catalog of incentives, sanctions and service adjustments."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from hearings.models import (
    ResponseKind,
    ResponseType,
    Unit,
)
from hearings.services.rules import A
from tjp import audit
from tjp.models import Program, User

# --- the program's catalog -------------------------------------------------------------------
DEFAULT_CATALOG = {
    "en": [
        (ResponseKind.INCENTIVE, "Verbal praise from the judge", Unit.NONE),
        (ResponseKind.INCENTIVE, "Applause in court", Unit.NONE),
        (ResponseKind.INCENTIVE, "Certificate of achievement", Unit.NONE),
        (ResponseKind.INCENTIVE, "Gift card", Unit.AMOUNT),
        (ResponseKind.INCENTIVE, "Reduced court appearances", Unit.NONE),
        (ResponseKind.INCENTIVE, "Curfew relaxed", Unit.DAYS),
        (ResponseKind.SANCTION, "Verbal admonishment", Unit.NONE),
        (ResponseKind.SANCTION, "Community service", Unit.COMMUNITY_SERVICE_HOURS),
        (ResponseKind.SANCTION, "Curfew", Unit.CURFEW_DAYS),
        (ResponseKind.SANCTION, "Jury box observation", Unit.HOURS),
        (ResponseKind.SANCTION, "Jail", Unit.JAIL_DAYS),
        (ResponseKind.SERVICE, "Increased drug testing", Unit.DAYS),
        (ResponseKind.SERVICE, "Treatment level of care reassessed", Unit.NONE),
        (ResponseKind.SERVICE, "Referral to additional services", Unit.NONE),
    ],
    "es": [
        (ResponseKind.INCENTIVE, "Reconocimiento verbal del juez", Unit.NONE),
        (ResponseKind.INCENTIVE, "Aplauso en audiencia", Unit.NONE),
        (ResponseKind.INCENTIVE, "Diploma de logro", Unit.NONE),
        (ResponseKind.INCENTIVE, "Vale de despensa", Unit.AMOUNT),
        (ResponseKind.INCENTIVE, "Menos audiencias de seguimiento", Unit.NONE),
        (ResponseKind.SANCTION, "Amonestación", Unit.NONE),
        (ResponseKind.SANCTION, "Trabajo comunitario", Unit.COMMUNITY_SERVICE_HOURS),
        (ResponseKind.SANCTION, "Toque de queda", Unit.CURFEW_DAYS),
        (ResponseKind.SANCTION, "Arresto", Unit.JAIL_DAYS),
        (ResponseKind.SERVICE, "Más pruebas de detección", Unit.DAYS),
        (ResponseKind.SERVICE, "Revaloración del nivel de atención", Unit.NONE),
        (ResponseKind.SERVICE, "Canalización a otros servicios", Unit.NONE),
    ],
}


def catalog_ensure(program: Program) -> int:
    """Give a program without a catalog the default one, in its language (idempotent)."""
    if program.response_types.exists():
        return 0
    rows = DEFAULT_CATALOG.get(program.language, DEFAULT_CATALOG["en"])
    ResponseType.objects.bulk_create(
        ResponseType(program=program, kind=kind, name=name, unit=unit) for kind, name, unit in rows
    )
    return len(rows)


@transaction.atomic
def response_type_save(
    *,
    acting_user: User,
    program: Program,
    kind: str,
    name: str,
    unit: str,
    active: bool = True,
    response_type: ResponseType | None = None,
    request: HttpRequest | None = None,
) -> ResponseType:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    if kind not in ResponseKind.values:
        raise ValidationError({"kind": _("Choose a kind.")})
    if unit not in Unit.values:
        raise ValidationError({"unit": _("Choose a unit.")})
    duplicate = program.response_types.filter(name__iexact=name)
    if response_type is not None:
        duplicate = duplicate.exclude(pk=response_type.pk)
    if duplicate.exists():
        raise ValidationError({"name": _("The catalog already has a response with this name.")})
    target = response_type or ResponseType(program=program)
    target.kind, target.name, target.unit, target.active = kind, name, unit, active
    target.save()
    audit.record(
        actor=acting_user,
        action=A.UPDATE if response_type else A.CREATE,
        obj=target,
        program=program,
        request=request,
        detail={"name": name},
    )
    return target
