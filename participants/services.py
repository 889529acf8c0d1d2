"""Every write on a participant's record. Each service takes the acting user, is atomic, locks
the participant row where two people could race, and leaves an audit row."""

from datetime import date
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.postgres.lookups import Unaccent  # noqa: F401  (registers __unaccent)
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from participants.access import grant_participant, revoke_participant
from participants.models import (
    EXIT_STATUSES,
    IN_PROGRAM_STATUSES,
    OPEN_STATUSES,
    Assessment,
    Case,
    CasePlanGoal,
    Charge,
    Consent,
    Disposition,
    Document,
    InformationCategory,
    LegalTerm,
    NewArrest,
    Participant,
    Person,
    PhaseChange,
    RestitutionPayment,
    RestitutionPlan,
    ScreeningDecision,
    ServiceReferral,
    Status,
    StatusChange,
    TermInterruption,
    program_today,
)
from participants.transitions import ADMISSION_MOVES, is_allowed
from tjp import audit
from tjp.access import check_grantee, program_organisations
from tjp.models import AuditEvent, Phase, Program, User
from tjp.roles import Role

A = AuditEvent.Action


# --- small shared rules ----------------------------------------------------------------------
def _check_not_future(day: date | None, program: Program, field: str) -> None:
    if day is not None and day > program_today(program):
        raise ValidationError({field: _("This date is in the future.")})


def _lock(participant: Participant) -> Participant:
    return (
        Participant.objects.select_for_update(of=("self",))
        .select_related("program", "person", "phase")
        .get(pk=participant.pk)
    )


def _record(actor, action, obj, participant: Participant, request=None, **detail) -> None:
    audit.record(
        actor=actor,
        action=action,
        obj=obj,
        program=participant.program,
        participant_uuid=participant.uuid,
        request=request,
        detail=detail or None,
    )


def _required_text(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("This field is required.")})
    return value


# --- people and referrals --------------------------------------------------------------------
def person_search(query: str) -> QuerySet[Person]:
    """People whose names contain every word of the query, ignoring accents and case."""
    people = Person.objects.all()
    words = query.split()
    if not words:
        return people.none()
    for word in words[:5]:
        people = people.filter(
            Q(first_name__unaccent__icontains=word)
            | Q(last_name__unaccent__icontains=word)
            | Q(second_last_name__unaccent__icontains=word)
        )
    return people


def person_possible_duplicates(
    *, first_name: str, last_name: str, date_of_birth: date | None
) -> QuerySet[Person]:
    """Same names (accents and case ignored), or same birth date and one name in common."""
    same_names = Q(first_name__unaccent__iexact=first_name.strip()) & Q(
        last_name__unaccent__iexact=last_name.strip()
    )
    query = same_names
    if date_of_birth is not None:
        query |= Q(date_of_birth=date_of_birth) & (
            Q(first_name__unaccent__iexact=first_name.strip())
            | Q(last_name__unaccent__iexact=last_name.strip())
        )
    return Person.objects.filter(query)


PERSON_FIELDS = [
    "first_name",
    "last_name",
    "second_last_name",
    "date_of_birth",
    "sex",
    "gender",
    "race_ethnicity",
    "preferred_language",
    "phone",
    "email",
    "address",
]


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
    _check_not_future(referred_on, program, "referred_on")
    _check_not_future(arrest_date, program, "arrest_date")
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
            case_number=_required_text(case.get("case_number", ""), "case_number"),
            court=case.get("court", ""),
            filed_on=case.get("filed_on"),
        )
        Charge.objects.bulk_create(Charge(case=created, **charge) for charge in charges)
    _record(acting_user, A.CREATE, participant, participant, request)
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
    _check_not_future(filed_on, participant.program, "filed_on")
    case = Case.objects.create(
        participant=participant,
        created_by=acting_user,
        court=court,
        filed_on=filed_on,
        case_number=_required_text(case_number, "case_number"),
    )
    Charge.objects.create(
        case=case, description=_required_text(charge, "charge"), statute=statute, level=level
    )
    _record(acting_user, A.CREATE, case, participant, request)
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
    locked = _lock(participant)
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
        _record(acting_user, A.UPDATE, locked, locked, request, changed=changed)
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
    _record(acting_user, A.GRANT, participant, participant, request, clinician=clinician.email)


# --- screening and admission -----------------------------------------------------------------
def assessment_fits_policy(assessment: Assessment, program: Program) -> bool:
    return (
        assessment.risk_level in program.eligible_risk_levels
        and assessment.need_level in program.eligible_need_levels
    )


@transaction.atomic
def assessment_record(
    *,
    acting_user: User,
    participant: Participant,
    data: dict[str, Any],
    request: HttpRequest | None = None,
) -> Assessment:
    _check_not_future(data["assessed_on"], participant.program, "assessed_on")
    assessment = Assessment.objects.create(participant=participant, created_by=acting_user, **data)
    _record(acting_user, A.CREATE, assessment, participant, request)
    return assessment


@transaction.atomic
def screening_record(
    *,
    acting_user: User,
    participant: Participant,
    kind: str,
    outcome: str,
    reasons: str,
    decided_on: date,
    request: HttpRequest | None = None,
) -> ScreeningDecision:
    """Record the legal (prosecutor) or clinical (clinician) eligibility of a referral."""
    locked = _lock(participant)
    if kind not in (ScreeningDecision.Kind.LEGAL, ScreeningDecision.Kind.CLINICAL):
        raise ValueError(kind)
    if outcome not in (ScreeningDecision.Outcome.ELIGIBLE, ScreeningDecision.Outcome.INELIGIBLE):
        raise ValidationError({"outcome": _("Choose eligible or not eligible.")})
    if locked.status != Status.REFERRED:
        raise ValidationError(_("Screening is over for this participant."))
    if kind == ScreeningDecision.Kind.CLINICAL and not locked.assessments.exists():
        raise ValidationError(_("Record a validated assessment before clinical eligibility."))
    _check_not_future(decided_on, locked.program, "decided_on")
    if decided_on < locked.referred_on:
        raise ValidationError({"decided_on": _("The decision cannot precede the referral.")})
    decision = ScreeningDecision.objects.create(
        participant=locked,
        created_by=acting_user,
        kind=kind,
        outcome=outcome,
        reasons=_required_text(reasons, "reasons"),
        decided_on=decided_on,
    )
    _record(acting_user, A.CREATE, decision, locked, request, kind=kind, outcome=outcome)
    return decision


def latest_screening(participant: Participant) -> dict[str, ScreeningDecision | None]:
    latest: dict[str, ScreeningDecision | None] = {k: None for k in ScreeningDecision.Kind.values}
    for decision in participant.screening_decisions.all():  # ordered by date
        latest[decision.kind] = decision
    return latest


@transaction.atomic
def admission_decide(
    *,
    acting_user: User,
    participant: Participant,
    admit: bool,
    reasons: str,
    decided_on: date,
    entry_date: date | None = None,
    request: HttpRequest | None = None,
) -> Participant:
    """The team's decision on a referral: admit (program entry, phase 1) or decline (kept,
    with its reasons, for equity reporting)."""
    locked = _lock(participant)
    if locked.status != Status.REFERRED:
        raise ValidationError(_("This referral has already been decided."))
    reasons = _required_text(reasons, "reasons")
    _check_not_future(decided_on, locked.program, "decided_on")
    if decided_on < locked.referred_on:
        raise ValidationError({"decided_on": _("The decision cannot precede the referral.")})
    Outcome = ScreeningDecision.Outcome
    if admit:
        latest = latest_screening(locked)
        legal, clinical = latest["legal"], latest["clinical"]
        if not (
            legal
            and legal.outcome == Outcome.ELIGIBLE
            and clinical
            and clinical.outcome == Outcome.ELIGIBLE
        ):
            raise ValidationError(
                _("Legal and clinical eligibility must both be recorded as eligible first.")
            )
        if entry_date is None:
            raise ValidationError({"entry_date": _("Give the program entry date.")})
        _check_not_future(entry_date, locked.program, "entry_date")
        if entry_date < decided_on:
            raise ValidationError({"entry_date": _("Entry cannot precede the admission decision.")})
        first_phase = locked.program.phases.order_by("number").first()
        if first_phase is None:
            raise ValidationError(_("The program has no phases; an administrator must add them."))
        to_status, effective = Status.ACTIVE, entry_date
        locked.entry_date, locked.phase = entry_date, first_phase
        PhaseChange.objects.create(
            participant=locked,
            created_by=acting_user,
            from_phase=None,
            to_phase=first_phase,
            effective_on=entry_date,
            reason=reasons,
        )
    else:
        to_status, effective = Status.DECLINED, decided_on
    ScreeningDecision.objects.create(
        participant=locked,
        created_by=acting_user,
        kind=ScreeningDecision.Kind.ADMISSION,
        outcome=Outcome.ADMITTED if admit else Outcome.DECLINED,
        reasons=reasons,
        decided_on=decided_on,
    )
    StatusChange.objects.create(
        participant=locked,
        created_by=acting_user,
        from_status=locked.status,
        to_status=to_status,
        effective_on=effective,
        reason=reasons,
    )
    locked.status = to_status
    locked.save(update_fields=["status", "entry_date", "phase"])
    _record(acting_user, A.UPDATE, locked, locked, request, status=to_status)
    return locked


# --- status, phase, exit ---------------------------------------------------------------------
STALE = _("Someone else changed this participant while you were working. Reload and try again.")


@transaction.atomic
def status_change(
    *,
    acting_user: User,
    participant: Participant,
    to_status: str,
    effective_on: date,
    reason: str,
    expected_status: str,
    request: HttpRequest | None = None,
) -> Participant:
    """Move a participant to another status, as the transition table allows. Two people racing:
    the row lock serialises them and the second sees that the status it expected is gone."""
    if to_status not in Status.values:
        raise ValidationError({"to_status": _("Choose a status.")})
    locked = _lock(participant)
    if locked.status != expected_status:
        raise ValidationError(STALE, code="stale")
    if not is_allowed(locked.status, to_status) or (locked.status, to_status) in ADMISSION_MOVES:
        raise ValidationError(
            _("A participant cannot go from “%(from)s” to “%(to)s”.")
            % {"from": Status(locked.status).label, "to": Status(to_status).label},
            code="forbidden_transition",
        )
    reason = _required_text(reason, "reason")
    _check_not_future(effective_on, locked.program, "effective_on")
    last = locked.status_changes.order_by("-effective_on").first()
    floor = max(d for d in (locked.entry_date, last and last.effective_on) if d)
    if effective_on < floor:
        raise ValidationError(
            {"effective_on": _("The date cannot precede program entry or the last change.")}
        )
    StatusChange.objects.create(
        participant=locked,
        created_by=acting_user,
        from_status=locked.status,
        to_status=to_status,
        effective_on=effective_on,
        reason=reason,
    )
    fields = ["status"]
    if to_status in EXIT_STATUSES:
        locked.exit_date, locked.exit_reason = effective_on, reason
        fields += ["exit_date", "exit_reason"]
    locked.status = to_status
    locked.save(update_fields=fields)
    _record(acting_user, A.UPDATE, locked, locked, request, status=to_status)
    return locked


@transaction.atomic
def phase_change(
    *,
    acting_user: User,
    participant: Participant,
    to_phase: Phase,
    effective_on: date,
    reason: str,
    expected_phase: Phase | None,
    request: HttpRequest | None = None,
) -> Participant:
    """Promote or demote a participant (with the reason)."""
    locked = _lock(participant)
    if locked.phase_id != (expected_phase.pk if expected_phase else None):
        raise ValidationError(STALE, code="stale")
    if locked.status not in IN_PROGRAM_STATUSES:
        raise ValidationError(_("Only a participant in the program can change phase."))
    if to_phase.program_id != locked.program_id:
        raise ValidationError({"to_phase": _("That phase belongs to another program.")})
    if to_phase.pk == locked.phase_id:
        raise ValidationError({"to_phase": _("The participant is already in that phase.")})
    reason = _required_text(reason, "reason")
    _check_not_future(effective_on, locked.program, "effective_on")
    if effective_on < locked.entry_date:
        raise ValidationError({"effective_on": _("The date cannot precede program entry.")})
    # As for status: a history dated out of order would misstate time spent in each phase.
    last = locked.phase_changes.order_by("-effective_on").first()
    if last is not None and effective_on < last.effective_on:
        raise ValidationError(
            {"effective_on": _("The date cannot precede program entry or the last change.")}
        )
    PhaseChange.objects.create(
        participant=locked,
        created_by=acting_user,
        from_phase=locked.phase,
        to_phase=to_phase,
        effective_on=effective_on,
        reason=reason,
    )
    locked.phase = to_phase
    locked.save(update_fields=["phase"])
    _record(acting_user, A.UPDATE, locked, locked, request, phase=to_phase.number)
    return locked


@transaction.atomic
def disposition_record(
    *,
    acting_user: User,
    participant: Participant,
    disposition: str,
    disposition_date: date,
    request: HttpRequest | None = None,
) -> Participant:
    """The legal outcome of the case, apart from the program outcome."""
    locked = _lock(participant)
    if locked.status not in [*EXIT_STATUSES, Status.DECLINED]:
        raise ValidationError(_("Record the legal disposition after the participant has exited."))
    if disposition not in Disposition.values or not disposition:
        raise ValidationError({"disposition": _("Choose a legal disposition.")})
    _check_not_future(disposition_date, locked.program, "disposition_date")
    if disposition_date < (locked.exit_date or locked.referred_on):
        raise ValidationError({"disposition_date": _("The disposition cannot precede the exit.")})
    locked.disposition, locked.disposition_date = disposition, disposition_date
    locked.save(update_fields=["disposition", "disposition_date"])
    _record(acting_user, A.UPDATE, locked, locked, request, disposition=disposition)
    return locked


# --- documents and consent -------------------------------------------------------------------
SIGNATURES = {
    b"%PDF-": ("application/pdf", "pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
}


def _sniff(uploaded: UploadedFile) -> tuple[str, str]:
    head = uploaded.read(16)
    uploaded.seek(0)
    for magic, kind in SIGNATURES.items():
        if head.startswith(magic):
            return kind
    raise ValidationError({"file": _("Upload a PDF, PNG or JPEG file.")})


@transaction.atomic
def document_upload(
    *,
    acting_user: User,
    participant: Participant,
    kind: str,
    title: str,
    uploaded_file: UploadedFile,
    request: HttpRequest | None = None,
) -> Document:
    """Store a document outside the web root; its type is read from its content, not its name."""
    if kind not in Document.Kind.values:
        raise ValidationError({"kind": _("Choose a kind of document.")})
    if uploaded_file.size > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("The file is larger than %(mb)s MB.")
                % {"mb": settings.DOCUMENT_MAX_BYTES // (1024 * 1024)}
            }
        )
    content_type, extension = _sniff(uploaded_file)
    document = Document(
        participant=participant,
        created_by=acting_user,
        kind=kind,
        title=_required_text(title, "title"),
        original_name=uploaded_file.name[:255],
        content_type=content_type,
        size=uploaded_file.size,
    )
    document.file.save(f"{document.uuid}.{extension}", uploaded_file, save=False)
    # The file is written before the row; if this transaction does not commit, remove it.
    stored = document.file.name
    try:
        document.save()
    except Exception:
        document.file.storage.delete(stored)
        raise
    _record(acting_user, A.CREATE, document, participant, request)
    return document


@transaction.atomic
def consent_record(
    *,
    acting_user: User,
    participant: Participant,
    data: dict[str, Any],
    signed_file: UploadedFile | None = None,
    request: HttpRequest | None = None,
) -> Consent:
    """Record a signed consent with all its 42 CFR Part 2 elements."""
    data = dict(data)
    program = participant.program
    categories = data.get("categories") or []
    if not categories or not set(categories) <= set(InformationCategory.values):
        raise ValidationError({"categories": _("Choose at least one kind of information.")})
    roles = data.get("recipient_roles") or []
    if not set(roles) <= {r.value for r in Role if r != Role.ADMINISTRATOR}:
        raise ValidationError({"recipient_roles": _("Choose the roles that may receive it.")})
    organisations = list(data.pop("recipient_organisations", None) or [])
    if not set(organisations) <= set(program_organisations(program)):
        raise ValidationError(
            {"recipient_organisations": _("Choose organisations that serve this program.")}
        )
    if not roles and not organisations:
        raise ValidationError(
            {"recipient_roles": _("Choose the roles or organisations that may receive it.")}
        )
    if not data.get("signed_on"):  # the signature date is one of the consent's elements
        raise ValidationError({"signed_on": _("This field is required.")})
    _check_not_future(data["signed_on"], program, "signed_on")
    if data.get("expires_on") and data["expires_on"] < data["signed_on"]:
        raise ValidationError({"expires_on": _("The consent cannot expire before it is signed.")})
    if not data.get("expires_on") and not (data.get("expiry_event") or "").strip():
        raise ValidationError(_("A consent needs an expiry date or an expiry event."))
    for field in ("discloser", "purpose"):
        data[field] = _required_text(data.get(field, ""), field)
    document = None
    if signed_file is not None:
        document = document_upload(
            acting_user=acting_user,
            participant=participant,
            kind=Document.Kind.CONSENT,
            title=_("Signed consent"),
            uploaded_file=signed_file,
            request=request,
        )
    consent = Consent.objects.create(
        participant=participant, created_by=acting_user, document=document, **data
    )
    consent.recipient_organisations.set(organisations)
    _record(acting_user, A.CREATE, consent, participant, request)
    return consent


@transaction.atomic
def consent_revoke(
    *,
    acting_user: User,
    consent: Consent,
    revoked_on: date,
    request: HttpRequest | None = None,
) -> Consent:
    """Revoke a consent. A criminal-justice consent (42 CFR 2.35) stands until the case's final
    disposition."""
    locked = (
        Consent.objects.select_for_update()
        .select_related("participant__program")
        .get(pk=consent.pk)
    )
    participant = locked.participant
    if locked.revoked_on is not None:
        raise ValidationError(_("This consent is already revoked."))
    if locked.criminal_justice and not participant.disposition:
        raise ValidationError(
            _(
                "A consent given as a condition of a criminal-justice program cannot be revoked "
                "before the final disposition of the case."
            )
        )
    _check_not_future(revoked_on, participant.program, "revoked_on")
    if revoked_on < locked.signed_on:
        raise ValidationError({"revoked_on": _("A consent cannot be revoked before it is signed.")})
    locked.revoked_on = revoked_on
    locked.save(update_fields=["revoked_on"])
    _record(acting_user, A.UPDATE, locked, participant, request, revoked_on=str(revoked_on))
    return locked


def live_consent(
    participant: Participant,
    *,
    category: str,
    role: str,
    on: date | None = None,
    organisations: frozenset[int] = frozenset(),
) -> Consent | None:
    """The consent that lets a reader of `role` (working for `organisations`) see `category` of
    this participant's treatment information today, if any (Consent.covers)."""
    on = on or program_today(participant.program)
    for consent in participant.consents.prefetch_related("recipient_organisations"):
        if consent.covers(category, role, on, organisations):
            return consent
    return None


# --- case plan, services, arrests ------------------------------------------------------------
def _within_episode(day: date, participant: Participant, field: str) -> None:
    _check_not_future(day, participant.program, field)
    start = participant.entry_date or participant.referred_on
    if day < start or (participant.exit_date and day > participant.exit_date):
        raise ValidationError({field: _("The date must fall within the participant's episode.")})


@transaction.atomic
def goal_add(
    *,
    acting_user: User,
    participant: Participant,
    description: str,
    target_date: date | None,
    request: HttpRequest | None = None,
) -> CasePlanGoal:
    if target_date and target_date < (participant.entry_date or participant.referred_on):
        raise ValidationError({"target_date": _("The target date precedes the episode.")})
    goal = CasePlanGoal.objects.create(
        participant=participant,
        created_by=acting_user,
        description=_required_text(description, "description"),
        target_date=target_date,
    )
    _record(acting_user, A.CREATE, goal, participant, request)
    return goal


@transaction.atomic
def goal_close(
    *,
    acting_user: User,
    goal: CasePlanGoal,
    status: str,
    closed_on: date,
    request: HttpRequest | None = None,
) -> CasePlanGoal:
    goal = CasePlanGoal.objects.select_for_update().get(pk=goal.pk)
    if status == CasePlanGoal.GoalStatus.OPEN or status not in CasePlanGoal.GoalStatus.values:
        raise ValidationError({"status": _("Choose how the goal ended.")})
    _within_episode(closed_on, goal.participant, "closed_on")
    goal.status, goal.closed_on = status, closed_on
    goal.save(update_fields=["status", "closed_on"])
    _record(acting_user, A.UPDATE, goal, goal.participant, request, status=status)
    return goal


@transaction.atomic
def service_referral_add(
    *,
    acting_user: User,
    participant: Participant,
    service: str,
    agency: str,
    referred_on: date,
    request: HttpRequest | None = None,
) -> ServiceReferral:
    if service not in ServiceReferral.Service.values:
        raise ValidationError({"service": _("Choose a service.")})
    _within_episode(referred_on, participant, "referred_on")
    referral = ServiceReferral.objects.create(
        participant=participant,
        created_by=acting_user,
        service=service,
        agency=agency,
        referred_on=referred_on,
    )
    _record(acting_user, A.CREATE, referral, participant, request)
    return referral


@transaction.atomic
def service_referral_outcome(
    *,
    acting_user: User,
    referral: ServiceReferral,
    outcome: str,
    outcome_on: date,
    request: HttpRequest | None = None,
) -> ServiceReferral:
    referral = ServiceReferral.objects.select_for_update().get(pk=referral.pk)
    if outcome not in ServiceReferral.Outcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    _check_not_future(outcome_on, referral.participant.program, "outcome_on")
    if outcome_on < referral.referred_on:
        raise ValidationError({"outcome_on": _("The outcome cannot precede the referral.")})
    referral.outcome, referral.outcome_on = outcome, outcome_on
    referral.save(update_fields=["outcome", "outcome_on"])
    _record(acting_user, A.UPDATE, referral, referral.participant, request, outcome=outcome)
    return referral


@transaction.atomic
def arrest_record(
    *,
    acting_user: User,
    participant: Participant,
    arrested_on: date,
    charge: str,
    convicted: bool | None = None,
    request: HttpRequest | None = None,
) -> NewArrest:
    """A new arrest while enrolled (in-program recidivism)."""
    if participant.entry_date is None:
        raise ValidationError(_("New arrests are recorded once the participant is admitted."))
    _within_episode(arrested_on, participant, "arrested_on")
    arrest = NewArrest.objects.create(
        participant=participant,
        created_by=acting_user,
        arrested_on=arrested_on,
        charge=_required_text(charge, "charge"),
        convicted=convicted,
    )
    _record(acting_user, A.CREATE, arrest, participant, request)
    return arrest


# --- Mexico: the legal clock of the suspensión condicional del proceso ----------------------
MAX_EXTENSION_DAYS = 731  # "up to two years" (CNPP art. 198), a leap year included


def _mx_only(participant: Participant) -> None:
    if participant.program.legal_track != Program.LegalTrack.MX_SUSPENSION:
        raise ValidationError(_("The legal term applies to suspensión condicional programs only."))


@transaction.atomic
def legal_term_set(
    *,
    acting_user: User,
    participant: Participant,
    starts_on: date,
    ends_on: date,
    victim_objected: bool = False,
    victim_objection_notes: str = "",
    request: HttpRequest | None = None,
) -> LegalTerm:
    """Set the term (6 months to 3 years, CNPP art. 195) and the victim's position."""
    locked = _lock(participant)
    _mx_only(locked)
    if locked.entry_date is None:
        raise ValidationError(_("Set the legal term once the participant is admitted."))
    if starts_on < locked.referred_on:
        raise ValidationError({"starts_on": _("The term cannot start before the referral.")})
    if ends_on < starts_on + relativedelta(months=6) or ends_on > starts_on + relativedelta(
        years=3
    ):
        raise ValidationError({"ends_on": _("The term must last from 6 months to 3 years.")})
    term, _created = LegalTerm.objects.update_or_create(
        participant=locked,
        defaults={
            "starts_on": starts_on,
            "ends_on": ends_on,
            "victim_objected": victim_objected,
            "victim_objection_notes": victim_objection_notes,
            "created_by": acting_user,
        },
    )
    _record(
        acting_user, A.UPDATE, term, locked, request, starts_on=str(starts_on), ends_on=str(ends_on)
    )
    return term


@transaction.atomic
def legal_term_extend(
    *,
    acting_user: User,
    term: LegalTerm,
    days: int,
    reason: str,
    request: HttpRequest | None = None,
) -> LegalTerm:
    """The judge may extend the term once, by up to two years, instead of revoking it."""
    term = (
        LegalTerm.objects.select_for_update().select_related("participant__program").get(pk=term.pk)
    )
    if term.extension_days:
        raise ValidationError(_("The term has already been extended once."))
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValidationError({"days": _("An extension lasts from 1 day to 2 years.")})
    term.extension_days, term.extension_reason = days, _required_text(reason, "reason")
    term.save(update_fields=["extension_days", "extension_reason"])
    _record(acting_user, A.UPDATE, term, term.participant, request, extension_days=days)
    return term


@transaction.atomic
def term_interruption_add(
    *,
    acting_user: User,
    term: LegalTerm,
    starts_on: date,
    reason: str,
    ends_on: date | None = None,
    request: HttpRequest | None = None,
) -> TermInterruption:
    """The clock stops while the person is detained on another case."""
    term = (
        LegalTerm.objects.select_for_update().select_related("participant__program").get(pk=term.pk)
    )
    program = term.participant.program
    _check_not_future(starts_on, program, "starts_on")
    _check_not_future(ends_on, program, "ends_on")
    if starts_on < term.starts_on:
        raise ValidationError({"starts_on": _("The interruption cannot precede the term.")})
    if ends_on and ends_on < starts_on:
        raise ValidationError({"ends_on": _("The release cannot precede the detention.")})
    if term.interruptions.filter(ends_on__isnull=True).exists():
        raise ValidationError(_("Close the open interruption first."))
    # Overlapping periods would count the same days twice and push the term's end too far.
    overlapping = term.interruptions.filter(ends_on__gt=starts_on)
    if ends_on is not None:
        overlapping = overlapping.filter(starts_on__lt=ends_on)
    if overlapping.exists():
        raise ValidationError(_("This period overlaps another interruption."))
    gap = TermInterruption.objects.create(
        term=term,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=_required_text(reason, "reason"),
        created_by=acting_user,
    )
    _record(acting_user, A.CREATE, term, term.participant, request, interruption=str(starts_on))
    return gap


@transaction.atomic
def term_interruption_close(
    *,
    acting_user: User,
    interruption: TermInterruption,
    ends_on: date,
    request: HttpRequest | None = None,
) -> TermInterruption:
    gap = (
        TermInterruption.objects.select_for_update()
        .select_related("term__participant__program")
        .get(pk=interruption.pk)
    )
    if gap.ends_on is not None:
        raise ValidationError(_("This interruption is already closed."))
    _check_not_future(ends_on, gap.term.participant.program, "ends_on")
    if ends_on < gap.starts_on:
        raise ValidationError({"ends_on": _("The release cannot precede the detention.")})
    gap.ends_on = ends_on
    gap.save(update_fields=["ends_on"])
    _record(acting_user, A.UPDATE, gap.term, gap.term.participant, request, released=str(ends_on))
    return gap


@transaction.atomic
def restitution_plan_set(
    *,
    acting_user: User,
    participant: Participant,
    total_amount: Decimal,
    currency: str,
    description: str,
    request: HttpRequest | None = None,
) -> RestitutionPlan:
    """The plan to repair the damage (reparación del daño) filed by the participant."""
    _mx_only(participant)
    if total_amount < 0:
        raise ValidationError({"total_amount": _("The amount cannot be negative.")})
    plan, _created = RestitutionPlan.objects.update_or_create(
        participant=participant,
        defaults={
            "total_amount": total_amount,
            "currency": currency,
            "description": _required_text(description, "description"),
            "created_by": acting_user,
        },
    )
    _record(acting_user, A.UPDATE, plan, participant, request, total=str(total_amount))
    return plan


@transaction.atomic
def restitution_payment_add(
    *,
    acting_user: User,
    plan: RestitutionPlan,
    paid_on: date,
    amount: Decimal,
    request: HttpRequest | None = None,
) -> RestitutionPayment:
    plan = (
        RestitutionPlan.objects.select_for_update()
        .select_related("participant__program")
        .get(pk=plan.pk)
    )
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be positive.")})
    _check_not_future(paid_on, plan.participant.program, "paid_on")
    if paid_on < plan.participant.referred_on:
        raise ValidationError({"paid_on": _("The payment cannot precede the referral.")})
    payment = RestitutionPayment.objects.create(
        plan=plan, paid_on=paid_on, amount=amount, created_by=acting_user
    )
    _record(acting_user, A.CREATE, plan, plan.participant, request, payment=str(amount))
    return payment


def term_needs_warning(term: LegalTerm, on: date | None = None) -> bool:
    """Warn the team before the term of a participant still in the program runs out."""
    participant = term.participant
    return (
        participant.status in IN_PROGRAM_STATUSES
        and term.days_remaining(on) <= participant.program.term_warning_days
    )
