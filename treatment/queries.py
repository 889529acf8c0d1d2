"""Reading a participant's treatment record through the consent gate (treatment.access)."""

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.http import HttpRequest

from participants.models import Participant
from treatment.access import SECTIONS, clinical_notes_for, is_clinician, provider_gate
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
    """What one user may see. Each section lists the rows the reader may see; `withheld`
    names the sections with rows they may not (another organisation's, or any provider's
    without a consent)."""

    participant: Participant
    clinician: bool
    assignments: list[ProviderAssignment]
    episodes: list[TreatmentEpisode]
    sessions: list[TreatmentSession]
    medications: list[Medication]
    progress_updates: list[ProgressUpdate]
    drug_tests: list[DrugTest]
    withheld: set[str] = field(default_factory=set)
    clinical_notes: list[ClinicalNote] = field(default_factory=list)
    disclosed: list[str] = field(default_factory=list)  # categories shown under a consent

    @property
    def needs_redisclosure_notice(self) -> bool:
        return bool(self.disclosed)


def _read(section: str, queryset):
    queryset = queryset.select_related("provider")
    if section == "drug_tests":
        return queryset.prefetch_related(
            Prefetch("results", queryset=DrugTestResult.objects.order_by("substance"))
        )
    return queryset


def treatment_record(
    user,
    participant: Participant,
    *,
    request: HttpRequest | None = None,
    export: bool = False,
    sections: set[str] | None = None,
) -> TreatmentRecord:
    """The caller has already passed the participant access check (scope). `sections` limits
    what is read (and so what is logged as disclosed) to those parts of the record. A constant
    number of queries."""
    p = participant
    wanted = set(sections or SECTIONS)
    gate = provider_gate(user, [p], wanted)
    rows = {name: list(_read(name, gate.filter(name))) for name in wanted}
    withheld = {name for name in wanted if gate.withheld(name)}
    disclosed = gate.disclose(rows, participants={p.pk: p}, request=request, export=export).get(
        p.pk, []
    )
    return TreatmentRecord(
        participant=p,
        clinician=is_clinician(user),
        assignments=list(p.provider_assignments.select_related("provider")),
        episodes=rows.get("episodes", []),
        sessions=rows.get("sessions", []),
        medications=rows.get("medications", []),
        progress_updates=rows.get("progress_updates", []),
        drug_tests=rows.get("drug_tests", []),
        withheld=withheld,
        clinical_notes=list(clinical_notes_for(user, p)),
        disclosed=disclosed,
    )
