"""Who may see what came from a treatment provider.

Clinicians see the full treatment record of the participants assigned to their provider
organisation (scope comes from participants.access: the organisation's group holds the grant),
and clinical notes of their own organisation only. The court team sees progress updates,
attendance and provider-reported test results only while a live consent covers that category
for their role; each time it does, a disclosure is recorded. Clinical notes never reach any
court role, whatever the consent.
"""

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy, gettext_noop

from participants.models import InformationCategory, Participant
from participants.services import live_consent
from tjp import audit
from tjp.models import AuditEvent
from tjp.roles import Role, role_of
from treatment.models import ClinicalNote, Provider

C = InformationCategory

# 42 CFR 2.32: the notice that goes with every disclosure, on screen, in the API and exports.
# gettext_noop marks the text for the catalogues; REDISCLOSURE_NOTICE shows it translated.
REDISCLOSURE_NOTICE_EN = gettext_noop(
    "This record which has been disclosed to you is protected by federal confidentiality rules "
    "(42 CFR part 2). These rules prohibit you from making any further disclosure of this record "
    "unless further disclosure is expressly permitted by the written consent of the individual "
    "whose information is being disclosed in this record or, is otherwise permitted by 42 CFR "
    "part 2. A general authorization for the release of medical or other information is NOT "
    "sufficient for this purpose (see §2.31). The federal rules restrict any use of the "
    "information to investigate or prosecute with regard to a crime any patient with a "
    "substance use disorder, except as provided at §§2.12(c)(5) and 2.65."
)
REDISCLOSURE_NOTICE = gettext_lazy(REDISCLOSURE_NOTICE_EN)


def is_clinician(user) -> bool:
    return role_of(user) == Role.CLINICIAN


def providers_of(user) -> QuerySet[Provider]:
    return Provider.objects.filter(group__user=user)


def consent_for(user, participant: Participant, category: str):
    """The live consent that lets this court user see `category`, or None. Clinicians (the
    provider side) need none; administrators and unknown roles get nothing."""
    role = role_of(user)
    if role is None or role in (Role.CLINICIAN, Role.ADMINISTRATOR):
        return None
    return live_consent(participant, category=category, role=role.value)


def clinical_notes_for(user, participant: Participant) -> QuerySet[ClinicalNote]:
    if not is_clinician(user):
        return ClinicalNote.objects.none()
    return ClinicalNote.objects.filter(participant=participant, provider__in=providers_of(user))


def record_disclosure(
    *,
    user,
    participant: Participant,
    consent,
    categories: list[str],
    request: HttpRequest | None = None,
    export: bool = False,
) -> None:
    """Log that provider information reached a court user under `consent` (42 CFR 2.24/2.25:
    the program must be able to list every disclosure)."""
    audit.record(
        actor=user,
        action=AuditEvent.Action.DISCLOSE,
        obj=participant,
        program=participant.program,
        participant_uuid=participant.uuid,
        consent_uuid=consent.uuid,
        request=request,
        detail={"categories": categories, "export": export},
    )


GATED = {
    "progress": C.PROGRESS,
    "attendance": C.ATTENDANCE,
    "drug_tests": C.DRUG_TESTS,
    "episodes": C.TREATMENT_PLAN,
    "medications": C.TREATMENT_PLAN,
}
