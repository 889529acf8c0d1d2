"""Who may see what came from a treatment provider: the consent gate, written once.

42 CFR Part 2 applies to every reader who is not the organisation that wrote a record:
- a clinician sees their own organisation's records in full;
- anyone else — the court team, and the clinicians of another provider organisation — sees a
  provider's records only while a live consent covers that category for their role or names
  their organisation, and each time they do, a disclosure is recorded under that consent;
- drug tests the court or a laboratory entered (no provider) are the court's own facts;
- clinical notes never leave the organisation that wrote them, whatever the consent.

`ProviderGate` answers this for one reader and any number of participants at once, in a
constant number of queries: the record page, the API, the staffing packet, the PDFs and the
reports all read provider information through it. Scope (which participants the reader may see
at all) is checked before, by the participants access functions.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest

from participants.access import participants_visible_to
from participants.models import Consent, InformationCategory, Participant
from tjp import audit
from tjp.clock import program_today
from tjp.models import AuditEvent, User
from tjp.roles import Role, role_of
from treatment.models import (
    ClinicalNote,
    DrugTest,
    Medication,
    ProgressUpdate,
    Provider,
    ProviderAssignment,
    TreatmentEpisode,
    TreatmentSession,
)

C = InformationCategory


@dataclass(frozen=True)
class Section:
    model: type[Model]
    category: str
    # Whether the court's and laboratories' own entries (no provider) are free to every reader
    # in scope: true of drug tests only; a session or progress update a coordinator typed in
    # from a provider's report is still that provider's information.
    court_entries_free: bool = False


# The parts of a treatment record, and the consent category each is gated by.
SECTIONS: dict[str, Section] = {
    "episodes": Section(TreatmentEpisode, C.TREATMENT_PLAN),
    "sessions": Section(TreatmentSession, C.ATTENDANCE),
    "medications": Section(Medication, C.TREATMENT_PLAN),
    "progress_updates": Section(ProgressUpdate, C.PROGRESS),
    "drug_tests": Section(DrugTest, C.DRUG_TESTS, court_entries_free=True),
}


def is_clinician(user) -> bool:
    return role_of(user) == Role.CLINICIAN


def providers_of(user) -> QuerySet[Provider]:
    return Provider.objects.filter(group__user=user)


def treatment_participants_visible_to(user) -> QuerySet[Participant]:
    """The participants whose treatment record a user may open. A clinician: those their
    organisation treats now (one asked only to screen sees the screening, not the treatment
    record). Everyone else: their participants scope (the gate then decides what they see)."""
    visible = participants_visible_to(user)
    if not is_clinician(user):
        return visible
    treated = ProviderAssignment.objects.filter(
        provider__in=providers_of(user), ended_on__isnull=True
    ).values("participant")
    return visible.filter(pk__in=treated)


def get_treatment_participant_for_user(
    user, participant_uuid: UUID | str, *, perm: str | None = None
) -> Participant:
    """The participant, if the user may open their treatment record (else 404), and `perm` is
    allowed (else 403)."""
    queryset = treatment_participants_visible_to(user).select_related("person", "program", "phase")
    try:
        participant = queryset.get(uuid=participant_uuid)
    except (Participant.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc
    if perm is not None and not user.has_perm(perm):
        raise PermissionDenied
    return participant


def clinical_notes_for(user, participant: Participant) -> QuerySet[ClinicalNote]:
    if not is_clinician(user):
        return ClinicalNote.objects.none()
    return ClinicalNote.objects.filter(participant=participant, provider__in=providers_of(user))


@dataclass
class ProviderGate:
    """What one reader may see of provider information, for a set of participants.

    Built with `provider_gate`; then `q(section)` filters a section's rows, `disclose(...)`
    logs what was shown under a consent, and `withheld(...)` tells which participants have rows
    the reader may not see."""

    user: User
    role: Role | None
    own: frozenset[int]  # the reader's provider organisations (ids)
    consents: dict[tuple[int, str], Consent]  # (participant id, section) -> the consent used
    participant_ids: frozenset[int]
    disclosed: dict[int, list[str]] = field(default_factory=dict)  # per participant

    def consent(self, participant_id: int, section: str) -> Consent | None:
        return self.consents.get((participant_id, section))

    def q(self, section: str) -> Q:
        """The rows of `section` the reader may see (of the participants the gate was built
        for: callers still filter by participant)."""
        visible = Q(provider__in=self.own) if self.own else Q(pk__in=[])
        if SECTIONS[section].court_entries_free:
            visible |= Q(provider__isnull=True)
        consented = [pk for (pk, name) in self.consents if name == section]
        if consented:
            visible |= Q(participant_id__in=consented)
        return visible

    def filter(self, section: str, queryset: QuerySet | None = None) -> QuerySet:
        """The section's rows of the gate's participants that the reader may see."""
        if queryset is None:
            queryset = SECTIONS[section].model.objects.all()
        return queryset.filter(self.q(section), participant_id__in=self.participant_ids)

    def withheld(self, section: str) -> set[int]:
        """The participants with rows of `section` the reader may not see (one query). The
        court team, without a consent for a section of treatment, learns nothing of it — not
        even whether it has any rows: it is withheld whatever there is."""
        if self.role != Role.CLINICIAN and not SECTIONS[section].court_entries_free:
            consented = {pk for (pk, name) in self.consents if name == section}
            return set(self.participant_ids) - consented
        model = SECTIONS[section].model
        return set(
            model.objects.filter(participant_id__in=self.participant_ids)
            .exclude(self.q(section))
            .order_by()
            .values_list("participant_id", flat=True)
            .distinct()
        )

    def shown_under_consent(self, section: str, row) -> bool:
        """Whether showing this row is a disclosure (it is neither the reader's own
        organisation's nor a free court entry)."""
        if row.provider_id is None:
            return not SECTIONS[section].court_entries_free
        return row.provider_id not in self.own

    def disclose(
        self,
        rows: dict[str, Iterable[Any]],
        *,
        participants: dict[int, Participant],
        request: HttpRequest | None = None,
        export: bool = False,
        detail: dict[str, Any] | None = None,
    ) -> dict[int, list[str]]:
        """Log the disclosures `rows` ({section: rows shown}) make: one audit row per
        participant and consent, naming its categories (42 CFR 2.24/2.25: the program must be
        able to list every disclosure), all in one insert. Returns the categories disclosed per
        participant id."""
        by_consent: dict[tuple[int, Consent], list[str]] = defaultdict(list)
        for section, shown in rows.items():
            category = str(SECTIONS[section].category)
            for row in shown:
                if not self.shown_under_consent(section, row):
                    continue
                consent = self.consents[(row.participant_id, section)]
                categories = by_consent[(row.participant_id, consent)]
                if category not in categories:
                    categories.append(category)
        audit_rows, disclosed = [], defaultdict(list)
        for (pk, consent), categories in by_consent.items():
            p = participants[pk]
            disclosed[pk].extend(c for c in categories if c not in disclosed[pk])
            audit_rows.append(
                {
                    "obj": p,
                    "program": p.program,
                    "participant_uuid": p.uuid,
                    "consent_uuid": consent.uuid,
                    "detail": {"categories": categories, "export": export, **(detail or {})},
                }
            )
        if audit_rows:
            audit.record_many(
                actor=self.user, action=AuditEvent.Action.DISCLOSE, rows=audit_rows, request=request
            )
        for pk, categories in disclosed.items():
            self.disclosed.setdefault(pk, []).extend(categories)
        return dict(disclosed)


def provider_gate(
    user: User,
    participants: Iterable[Participant] | QuerySet[Participant],
    sections: Iterable[str] = SECTIONS,
) -> ProviderGate:
    """The gate for `user` over `participants` (already scoped): two queries (the reader's
    organisations, and the participants' consents with their named organisations)."""
    role = role_of(user)
    own: frozenset[int] = frozenset()
    organisations: frozenset[int] = frozenset()
    if role == Role.CLINICIAN:
        mine = list(providers_of(user).values_list("pk", "group_id"))
        own = frozenset(pk for pk, _ in mine)
        organisations = frozenset(group for _, group in mine)
    if isinstance(participants, QuerySet):
        ids = frozenset(participants.values_list("pk", flat=True))
    else:
        ids = frozenset(p.pk for p in participants)
    consents: dict[tuple[int, str], Consent] = {}
    if role is not None and role != Role.ADMINISTRATOR and ids:
        wanted = {name: SECTIONS[name].category for name in sections}
        candidates = (
            Consent.objects.filter(
                participant_id__in=ids, categories__overlap=list(wanted.values())
            )
            .select_related("participant__program")
            .prefetch_related("recipient_organisations")
            .order_by("-signed_on", "-pk")
        )
        today: dict[int, Any] = {}
        for consent in candidates:
            program = consent.participant.program
            on = today.setdefault(program.pk, program_today(program))
            for name, category in wanted.items():
                key = (consent.participant_id, name)
                if key not in consents and consent.covers(category, role.value, on, organisations):
                    consents[key] = consent
    return ProviderGate(user=user, role=role, own=own, consents=consents, participant_ids=ids)
