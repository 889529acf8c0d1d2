"""People and referrals: person search and duplicates, a referral with its cases, assigning the
judge, defender and screening clinician."""

from datetime import date
from typing import Any

from django.contrib.postgres.lookups import Unaccent  # noqa: F401  (registers __unaccent)
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from participants.access import grant_participant, revoke_participant
from participants.models import (
    OPEN_STATUSES,
    PERSON_FIELDS,
    Case,
    Charge,
    Participant,
    Person,
)
from participants.services.rules import A, lock_participant, required_text
from tjp import audit, clock
from tjp.access import check_grantee
from tjp.audit import record_about
from tjp.clock import program_today
from tjp.models import Program, User
from tjp.roles import Role


# --- people and referrals --------------------------------------------------------------------
@transaction.atomic
def referral_create(
    *,
    acting_user: User,
    program: Program,
    referral: dict[str, Any],
    person: Person | None = None,
    person_data: dict[str, Any] | None = None,
    cases: list[dict[str, Any]] = (),
    request: HttpRequest | None = None,
) -> Participant:
    """Register a referral: the person (existing or new), the episode, its cases and charges."""
    if (person is None) == (person_data is None):
        raise ValueError("give either person or person_data")
    today = program_today(program)
    referred_on = referral["referred_on"]
    arrest_date = referral.get("arrest_date")
    clock.check_not_future(referred_on, program, "referred_on")
    clock.check_not_future(arrest_date, program, "arrest_date")
    if arrest_date and arrest_date > referred_on:
        raise ValidationError({"arrest_date": _("The arrest cannot come after the referral.")})
    # The same rule as participant_assign: a referral cannot bypass it.
    check_grantee(referral.get("judge"), program, Role.JUDGE, "judge")
    if person is None:
        dob = person_data["date_of_birth"]
        if dob >= today:
            raise ValidationError({"date_of_birth": _("The date of birth must be in the past.")})
        person = Person.objects.create(
            **{k: v for k, v in person_data.items() if k in PERSON_FIELDS and v is not None}
        )
        audit.record(
            actor=acting_user, action=A.CREATE, obj=person, program=program, request=request
        )
    if Participant.objects.filter(
        person=person, program=program, status__in=OPEN_STATUSES
    ).exists():
        raise ValidationError(_("This person already has an open episode in this program."))
    fields = {
        k: referral.get(k)
        for k in ("referred_on", "referral_source", "arrest_date", "primary_substance", "judge")
    }
    try:
        with transaction.atomic():
            participant = Participant.objects.create(
                person=person,
                program=program,
                created_by=acting_user,
                **{k: v for k, v in fields.items() if v is not None},
            )
    except IntegrityError as exc:  # a concurrent referral of the same person won the race
        raise ValidationError(
            _("This person already has an open episode in this program.")
        ) from exc
    for case in cases:
        charges = case.get("charges", [])
        created = Case.objects.create(
            participant=participant,
            created_by=acting_user,
            case_number=required_text(case.get("case_number", ""), "case_number"),
            court=case.get("court", ""),
            filed_on=case.get("filed_on"),
        )
        Charge.objects.bulk_create(Charge(case=created, **charge) for charge in charges)
    record_about(acting_user, A.CREATE, participant, participant, request)
    if referral.get("defender"):
        participant_assign(
            acting_user=acting_user,
            participant=participant,
            defender=referral["defender"],
            request=request,
        )
    return participant


@transaction.atomic
def case_add(
    *,
    acting_user: User,
    participant: Participant,
    case_number: str,
    charge: str,
    level: str,
    court: str = "",
    filed_on: date | None = None,
    statute: str = "",
    request: HttpRequest | None = None,
) -> Case:
    """Another criminal case of the same participant, with its (first) charge."""
    if level not in Charge.Level.values:
        raise ValidationError({"level": _("Choose a level.")})
    clock.check_not_future(filed_on, participant.program, "filed_on")
    case = Case.objects.create(
        participant=participant,
        created_by=acting_user,
        court=court,
        filed_on=filed_on,
        case_number=required_text(case_number, "case_number"),
    )
    Charge.objects.create(
        case=case, description=required_text(charge, "charge"), statute=statute, level=level
    )
    record_about(acting_user, A.CREATE, case, participant, request)
    return case


@transaction.atomic
def participant_assign(
    *,
    acting_user: User,
    participant: Participant,
    judge: User | None = None,
    defender: User | None = None,
    request: HttpRequest | None = None,
) -> Participant:
    """Assign the judge and/or the defense attorney; the defender gets (and a replaced one
    loses) access to the client's record."""
    locked = lock_participant(participant)
    changed = []
    if judge is not None and judge != locked.judge:
        check_grantee(judge, locked.program, Role.JUDGE, "judge")
        locked.judge = judge
        changed.append("judge")
    if defender is not None and defender != locked.defender:
        check_grantee(defender, locked.program, Role.DEFENDER, "defender")
        if locked.defender is not None:
            revoke_participant(locked.defender, locked)
        grant_participant(defender, locked)
        locked.defender = defender
        changed.append("defender")
    if changed:
        locked.save(update_fields=changed)
        record_about(acting_user, A.UPDATE, locked, locked, request, changed=changed)
    return locked


@transaction.atomic
def clinical_screening_request(
    *,
    acting_user: User,
    participant: Participant,
    clinician: User,
    request: HttpRequest | None = None,
) -> None:
    """Ask a clinician to screen a referral: they may now see this participant's record."""
    check_grantee(clinician, participant.program, Role.CLINICIAN, "clinician")
    grant_participant(clinician, participant)
    record_about(acting_user, A.GRANT, participant, participant, request, clinician=clinician.email)
