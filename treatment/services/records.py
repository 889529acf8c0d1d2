"""Clinical records: episodes, session attendance, medications, progress updates, clinical notes."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from participants.models import Participant
from tjp import audit, clock
from tjp.models import User
from tjp.roles import Role, role_of
from treatment.models import (
    ClinicalNote,
    Medication,
    ProgressUpdate,
    Source,
    TreatmentEpisode,
    TreatmentSession,
)
from treatment.services.providers import _reporting, provider_for
from treatment.services.rules import A, _choice
from treatment.services.submission import Submission, _submit


# --- clinical records ------------------------------------------------------------------------
@transaction.atomic
def episode_record(
    *,
    acting_user: User,
    participant: Participant,
    level_of_care: str,
    modality: str,
    admitted_on: date,
    discharged_on: date | None = None,
    discharge_reason: str = "",
    external_id: str = "",
    request: HttpRequest | None = None,
) -> Submission:
    _choice(level_of_care, TreatmentEpisode.LevelOfCare, "level_of_care")
    _choice(modality, TreatmentEpisode.Modality, "modality")
    clock.check_not_future(admitted_on, participant.program, "admitted_on")
    clock.check_not_future(discharged_on, participant.program, "discharged_on")
    if discharged_on and discharged_on < admitted_on:
        raise ValidationError({"discharged_on": _("Discharge cannot precede admission.")})
    fields = {
        "level_of_care": level_of_care,
        "modality": modality,
        "admitted_on": admitted_on,
        "discharged_on": discharged_on,
        "discharge_reason": discharge_reason,
        **_reporting(acting_user, participant, None),
    }
    result = _submit(
        TreatmentEpisode,
        user=acting_user,
        participant=participant,
        external_id=external_id,
        fields=fields,
    )
    if result.created:
        audit.record_about(acting_user, A.CREATE, result.obj, participant, request)
    return result


@transaction.atomic
def session_record(
    *,
    acting_user: User,
    participant: Participant,
    session_date: date,
    kind: str,
    attendance: str,
    hours: Decimal,
    external_id: str = "",
    request: HttpRequest | None = None,
) -> Submission:
    _choice(kind, TreatmentSession.Kind, "kind")
    _choice(attendance, TreatmentSession.Attendance, "attendance")
    clock.check_not_future(session_date, participant.program, "session_date")
    if session_date < participant.referred_on:
        raise ValidationError({"session_date": _("The session precedes the referral.")})
    # Stored with 2 decimals: round first, so a re-sent item compares equal to what was saved.
    hours = Decimal(str(hours)).quantize(Decimal("0.01"))
    if not Decimal(0) <= hours <= Decimal(24):
        raise ValidationError({"hours": _("Hours must be between 0 and 24.")})
    fields = {
        "session_date": session_date,
        "kind": kind,
        "attendance": attendance,
        "hours": hours,
        **_reporting(acting_user, participant, None),
    }
    result = _submit(
        TreatmentSession,
        user=acting_user,
        participant=participant,
        external_id=external_id,
        fields=fields,
    )
    if result.created:
        audit.record_about(acting_user, A.CREATE, result.obj, participant, request)
    return result


@transaction.atomic
def medication_record(
    *,
    acting_user: User,
    participant: Participant,
    drug: str,
    started_on: date,
    dose: str = "",
    ended_on: date | None = None,
    request: HttpRequest | None = None,
) -> Medication:
    _choice(drug, Medication.Drug, "drug")
    clock.check_not_future(started_on, participant.program, "started_on")
    if ended_on and ended_on < started_on:
        raise ValidationError({"ended_on": _("The end cannot precede the start.")})
    medication = Medication.objects.create(
        participant=participant,
        created_by=acting_user,
        drug=drug,
        dose=dose,
        started_on=started_on,
        ended_on=ended_on,
        **_reporting(acting_user, participant, None),
    )
    audit.record_about(acting_user, A.CREATE, medication, participant, request)
    return medication


@transaction.atomic
def progress_update_record(
    *,
    acting_user: User,
    participant: Participant,
    period_start: date,
    period_end: date,
    engagement: str,
    summary: str,
    recommendations: str = "",
    external_id: str = "",
    request: HttpRequest | None = None,
) -> Submission:
    _choice(engagement, ProgressUpdate.Engagement, "engagement")
    clock.check_not_future(period_end, participant.program, "period_end")
    if period_end < period_start:
        raise ValidationError({"period_end": _("The period cannot end before it starts.")})
    if not summary.strip():
        raise ValidationError({"summary": _("This field is required.")})
    fields = {
        "period_start": period_start,
        "period_end": period_end,
        "engagement": engagement,
        "summary": summary.strip(),
        "recommendations": recommendations,
        **_reporting(acting_user, participant, None),
    }
    result = _submit(
        ProgressUpdate,
        user=acting_user,
        participant=participant,
        external_id=external_id,
        fields=fields,
    )
    if result.created:
        audit.record_about(acting_user, A.CREATE, result.obj, participant, request)
    return result


@transaction.atomic
def clinical_note_record(
    *,
    acting_user: User,
    participant: Participant,
    written_on: date,
    text: str,
    request: HttpRequest | None = None,
) -> ClinicalNote:
    """Only a clinician of the treating provider writes (and reads) clinical notes."""
    if role_of(acting_user) != Role.CLINICIAN:
        raise ValidationError(_("Only the treating clinicians write clinical notes."))
    clock.check_not_future(written_on, participant.program, "written_on")
    if not text.strip():
        raise ValidationError({"text": _("This field is required.")})
    note = ClinicalNote.objects.create(
        participant=participant,
        created_by=acting_user,
        written_on=written_on,
        text=text.strip(),
        provider=provider_for(acting_user, participant),
        source=Source.PROVIDER,
    )
    # The audit row names the note, never its content.
    audit.record_about(acting_user, A.CREATE, note, participant, request)
    return note
