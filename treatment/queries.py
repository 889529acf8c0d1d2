"""Reading a participant's treatment record, with the consent gate applied once for every
caller (pages, API, exports, the staffing packet)."""

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.http import HttpRequest

from participants.models import Participant
from treatment.access import (
    GATED,
    clinical_notes_for,
    consent_for,
    is_clinician,
    record_disclosure,
)
from treatment.models import (
    ClinicalNote,
    DrugTest,
    DrugTestResult,
    Medication,
    ProgressUpdate,
    ProviderAssignment,
    TreatmentEpisode,
    TreatmentSession,
)


@dataclass
class TreatmentRecord:
    """What one user may see. A section is None when withheld for want of a consent."""

    participant: Participant
    clinician: bool
    assignments: list[ProviderAssignment]
    episodes: list[TreatmentEpisode] | None
    sessions: list[TreatmentSession] | None
    medications: list[Medication] | None
    progress_updates: list[ProgressUpdate] | None
    drug_tests: list[DrugTest]
    provider_tests_withheld: bool
    clinical_notes: list[ClinicalNote] = field(default_factory=list)
    disclosed: list[str] = field(default_factory=list)  # categories shown under a consent

    @property
    def needs_redisclosure_notice(self) -> bool:
        return bool(self.disclosed)


def _tests():
    return DrugTest.objects.prefetch_related(
        Prefetch("results", queryset=DrugTestResult.objects.order_by("substance"))
    )


# The record's sections and the consent key (treatment.access.GATED) each is gated by.
SECTIONS = {
    "episodes": "episodes",
    "sessions": "attendance",
    "medications": "medications",
    "progress_updates": "progress",
    "drug_tests": "drug_tests",
}


def treatment_record(
    user,
    participant: Participant,
    *,
    request: HttpRequest | None = None,
    export: bool = False,
    sections: set[str] | None = None,
) -> TreatmentRecord:
    """The caller has already passed the participant access check (scope). `sections` limits
    what is read (and so what is logged as disclosed) to those parts of the record."""
    p = participant
    assignments = list(p.provider_assignments.select_related("provider"))
    if is_clinician(user):
        return TreatmentRecord(
            participant=p,
            clinician=True,
            assignments=assignments,
            episodes=list(p.treatment_episodes.select_related("provider")),
            sessions=list(p.treatment_sessions.select_related("provider")),
            medications=list(p.medications.select_related("provider")),
            progress_updates=list(p.progress_updates.select_related("provider")),
            drug_tests=list(_tests().filter(participant=p)),
            provider_tests_withheld=False,
            clinical_notes=list(clinical_notes_for(user, p)),
        )
    wanted = {SECTIONS[name] for name in (sections or SECTIONS)}
    consents = {}
    for section, category in GATED.items():
        if section in wanted:
            consents[section] = consent_for(user, p, category)
    shown = {s: c for s, c in consents.items() if c is not None}

    def gated(section, queryset):
        return list(queryset) if section in shown else None

    tests = _tests().filter(participant=p) if "drug_tests" in wanted else DrugTest.objects.none()
    # Provider information is whatever a provider reported, whatever the source label says.
    if "drug_tests" not in shown:
        tests = tests.filter(provider__isnull=True)
    record = TreatmentRecord(
        participant=p,
        clinician=False,
        assignments=assignments,
        episodes=gated("episodes", p.treatment_episodes.select_related("provider")),
        sessions=gated("attendance", p.treatment_sessions.select_related("provider")),
        medications=gated("medications", p.medications.select_related("provider")),
        progress_updates=gated("progress", p.progress_updates.select_related("provider")),
        drug_tests=list(tests),
        provider_tests_withheld="drug_tests" in wanted
        and "drug_tests" not in shown
        and p.drug_tests.filter(provider__isnull=False).exists(),
    )
    disclosed = {}
    if record.episodes or record.medications:
        disclosed.setdefault(shown.get("episodes") or shown.get("medications"), []).append(
            GATED["episodes"]
        )
    if record.sessions:
        disclosed.setdefault(shown["attendance"], []).append(GATED["attendance"])
    if record.progress_updates:
        disclosed.setdefault(shown["progress"], []).append(GATED["progress"])
    if "drug_tests" in shown and any(t.provider_id for t in record.drug_tests):
        disclosed.setdefault(shown["drug_tests"], []).append(GATED["drug_tests"])
    for consent, categories in disclosed.items():
        record_disclosure(
            user=user,
            participant=p,
            consent=consent,
            categories=[str(c) for c in categories],
            request=request,
            export=export,
        )
        record.disclosed.extend(str(c) for c in categories)
    return record
