"""Every write on a participant's record, one module per subject. Each service takes the acting
user, is atomic, locks the participant row where two people could race, and leaves an audit row.
Callers import from here (`from participants import services`)."""

from participants.services.case_plan import (
    arrest_record,
    goal_add,
    goal_close,
    service_referral_add,
    service_referral_outcome,
)
from participants.services.consent import (
    SIGNATURES,
    consent_record,
    consent_revoke,
    document_upload,
    live_consent,
)
from participants.services.legal_clock import (
    MAX_EXTENSION_DAYS,
    legal_term_extend,
    legal_term_set,
    restitution_payment_add,
    restitution_plan_set,
    term_interruption_add,
    term_interruption_close,
    term_needs_warning,
)
from participants.services.people import (
    case_add,
    clinical_screening_request,
    participant_assign,
    referral_create,
)
from participants.services.rules import (
    lock_participant,
    required_text,
)
from participants.services.screening import (
    admission_decide,
    assessment_fits_policy,
    assessment_record,
    latest_screening,
    screening_record,
)
from participants.services.status import (
    STALE,
    disposition_record,
    phase_change,
    status_change,
)

__all__ = [
    "MAX_EXTENSION_DAYS",
    "SIGNATURES",
    "STALE",
    "admission_decide",
    "arrest_record",
    "assessment_fits_policy",
    "assessment_record",
    "case_add",
    "clinical_screening_request",
    "consent_record",
    "consent_revoke",
    "disposition_record",
    "document_upload",
    "goal_add",
    "goal_close",
    "latest_screening",
    "legal_term_extend",
    "legal_term_set",
    "live_consent",
    "lock_participant",
    "participant_assign",
    "phase_change",
    "referral_create",
    "required_text",
    "restitution_payment_add",
    "restitution_plan_set",
    "screening_record",
    "service_referral_add",
    "service_referral_outcome",
    "status_change",
    "term_interruption_add",
    "term_interruption_close",
    "term_needs_warning",
]
