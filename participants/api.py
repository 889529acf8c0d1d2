"""The read-only participants API: the roster and one participant's record, scoped like the UI.

Every lookup goes through `participants_visible_to`, so a participant outside the caller's scope
is a 404, exactly as in the browser. Every read leaves a "view" audit row.
"""

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from participants.access import can_see_contact, participants_visible_to
from participants.filters import PHASE_NUMBER_MAX, PhaseNumberFilter
from participants.models import (
    Assessment,
    Case,
    CasePlanGoal,
    Charge,
    Consent,
    NewArrest,
    Participant,
    Person,
    PhaseChange,
    ScreeningDecision,
    ServiceReferral,
    Status,
    StatusChange,
)
from participants.search import participants_matching
from tjp import audit
from tjp.api_errors import error_responses
from tjp.api_fields import TEXT_PATTERN, no_control_characters
from tjp.clock import program_today
from tjp.models import AuditEvent


# --- filters ---------------------------------------------------------------------------------
class ParticipantFilter(filters.FilterSet):
    """The allow-list of roster filters; nothing else in the query string reaches the ORM."""

    program = filters.UUIDFilter(field_name="program__uuid", label=_("Program"))
    status = filters.ChoiceFilter(choices=Status.choices, label=_("Status"))
    phase = PhaseNumberFilter(
        field_name="phase__number",
        label=_("Phase"),
        min_value=1,
        max_value=PHASE_NUMBER_MAX,
    )
    search = filters.CharFilter(
        method="filter_search",
        label=_("Name"),
        max_length=100,
        validators=[no_control_characters],
    )

    class Meta:
        model = Participant
        fields = ["program", "status", "phase", "search"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return participants_matching(value, queryset)


# --- serializers -----------------------------------------------------------------------------
class ParticipantListSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(source="person.full_name", read_only=True)
    program_uuid = serializers.UUIDField(source="program.uuid", read_only=True)
    program_code = serializers.CharField(source="program.code", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    phase_number = serializers.IntegerField(source="phase.number", read_only=True, allow_null=True)
    phase_name = serializers.CharField(source="phase.name", read_only=True, allow_null=True)

    class Meta:
        model = Participant
        fields = [
            "uuid",
            "full_name",
            "program_uuid",
            "program_code",
            "status",
            "status_label",
            "phase_number",
            "phase_name",
            "entry_date",
            "exit_date",
            "referred_on",
        ]
        read_only_fields = fields


class ChargeSerializer(serializers.ModelSerializer):
    level_label = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Charge
        fields = ["description", "statute", "level", "level_label"]
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    charges = ChargeSerializer(many=True, read_only=True)

    class Meta:
        model = Case
        fields = ["uuid", "case_number", "court", "filed_on", "charges"]
        read_only_fields = fields


class ScreeningDecisionSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)

    class Meta:
        model = ScreeningDecision
        fields = ["uuid", "kind", "kind_label", "outcome", "outcome_label", "reasons", "decided_on"]
        read_only_fields = fields


class AssessmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Assessment
        fields = ["uuid", "instrument", "score", "risk_level", "need_level", "assessed_on"]
        read_only_fields = fields


class StatusChangeSerializer(serializers.ModelSerializer):
    from_status_label = serializers.CharField(source="get_from_status_display", read_only=True)
    to_status_label = serializers.CharField(source="get_to_status_display", read_only=True)
    entered_by = serializers.EmailField(source="created_by.email", read_only=True, allow_null=True)

    class Meta:
        model = StatusChange
        fields = [
            "uuid",
            "from_status",
            "from_status_label",
            "to_status",
            "to_status_label",
            "effective_on",
            "reason",
            "created_at",
            "entered_by",
        ]
        read_only_fields = fields


class PhaseChangeSerializer(serializers.ModelSerializer):
    from_phase = serializers.IntegerField(
        source="from_phase.number", read_only=True, allow_null=True
    )
    from_phase_name = serializers.CharField(
        source="from_phase.name", read_only=True, allow_null=True
    )
    to_phase = serializers.IntegerField(source="to_phase.number", read_only=True)
    to_phase_name = serializers.CharField(source="to_phase.name", read_only=True)

    class Meta:
        model = PhaseChange
        fields = [
            "uuid",
            "from_phase",
            "from_phase_name",
            "to_phase",
            "to_phase_name",
            "effective_on",
            "reason",
            "created_at",
        ]
        read_only_fields = fields


class ConsentSummarySerializer(serializers.ModelSerializer):
    live = serializers.SerializerMethodField(
        help_text=_("Signed, not revoked and not expired today (in the program's time zone).")
    )

    class Meta:
        model = Consent
        fields = [
            "uuid",
            "signed_on",
            "expires_on",
            "expiry_event",
            "revoked_on",
            "categories",
            "recipient_roles",
            "criminal_justice",
            "live",
        ]
        read_only_fields = fields

    def get_live(self, consent: Consent) -> bool:
        return consent.is_live(self.context["today"])


class GoalSerializer(serializers.ModelSerializer):
    class Meta:
        model = CasePlanGoal
        fields = ["uuid", "description", "status", "target_date", "closed_on"]
        read_only_fields = fields


class ServiceReferralSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceReferral
        fields = ["uuid", "service", "agency", "referred_on", "outcome", "outcome_on"]
        read_only_fields = fields


class NewArrestSerializer(serializers.ModelSerializer):
    class Meta:
        model = NewArrest
        fields = ["uuid", "arrested_on", "charge", "convicted"]
        read_only_fields = fields


class ContactSerializer(serializers.Serializer):
    phone = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True)
    address = serializers.CharField(read_only=True)


class ParticipantDetailSerializer(ParticipantListSerializer):
    date_of_birth = serializers.DateField(source="person.date_of_birth", read_only=True)
    sex = serializers.ChoiceField(source="person.sex", choices=Person.Sex.choices, read_only=True)
    gender = serializers.ChoiceField(
        source="person.gender", choices=Person.Gender.choices, read_only=True
    )
    race_ethnicity = serializers.ChoiceField(
        source="person.race_ethnicity", choices=Person.RaceEthnicity.choices, read_only=True
    )
    preferred_language = serializers.ChoiceField(
        source="person.preferred_language", choices=settings.LANGUAGES, read_only=True
    )
    contact = serializers.SerializerMethodField(
        help_text=_("Shown to the coordinator and the defense attorney only; null for others.")
    )
    judge_email = serializers.EmailField(source="judge.email", read_only=True, allow_null=True)
    defender_email = serializers.EmailField(
        source="defender.email", read_only=True, allow_null=True
    )
    cases = CaseSerializer(many=True, read_only=True)
    screening_decisions = ScreeningDecisionSerializer(many=True, read_only=True)
    assessments = AssessmentSerializer(many=True, read_only=True)
    status_history = StatusChangeSerializer(source="status_changes", many=True, read_only=True)
    phase_history = PhaseChangeSerializer(source="phase_changes", many=True, read_only=True)
    consents = ConsentSummarySerializer(many=True, read_only=True)
    goals = GoalSerializer(many=True, read_only=True)
    service_referrals = ServiceReferralSerializer(many=True, read_only=True)
    new_arrests = NewArrestSerializer(many=True, read_only=True)

    class Meta(ParticipantListSerializer.Meta):
        fields = [
            *ParticipantListSerializer.Meta.fields,
            "date_of_birth",
            "sex",
            "gender",
            "race_ethnicity",
            "preferred_language",
            "contact",
            "judge_email",
            "defender_email",
            "arrest_date",
            "referral_source",
            "disposition",
            "disposition_date",
            "cases",
            "screening_decisions",
            "assessments",
            "status_history",
            "phase_history",
            "consents",
            "goals",
            "service_referrals",
            "new_arrests",
        ]
        read_only_fields = fields

    @extend_schema_field(ContactSerializer(allow_null=True))
    def get_contact(self, participant: Participant) -> dict | None:
        if not self.context.get("show_contact"):
            return None
        return ContactSerializer(participant.person).data


# --- schema documentation --------------------------------------------------------------------
FILTER_PARAMETERS = [
    OpenApiParameter(
        "program", OpenApiTypes.UUID, description=_("Only this program's participants.")
    ),
    OpenApiParameter("status", OpenApiTypes.STR, enum=Status.values, description=_("Status")),
    OpenApiParameter(
        "phase",
        {"type": "integer", "minimum": 1, "maximum": PHASE_NUMBER_MAX},
        description=_("Phase number (1, 2, 3…)."),
    ),
    OpenApiParameter(
        "search",
        {"type": "string", "maxLength": 100, "pattern": TEXT_PATTERN},
        description=_("Name search: every word must appear; accents and case are ignored."),
    ),
]
LIST_EXAMPLE = {
    "uuid": "3f0c1a52-8c1e-4d43-9a57-2f6b3b7f1d10",
    "full_name": "José Pérez",
    "program_uuid": "a4d1f1d6-34b5-4c1b-8f8e-0c5f2f1a9b77",
    "program_code": "atc",
    "status": "active",
    "status_label": "Active",
    "phase_number": 1,
    "phase_name": "Stabilization",
    "entry_date": "2025-03-03",
    "exit_date": None,
    "referred_on": "2025-02-10",
}
DETAIL_EXAMPLE = {
    **LIST_EXAMPLE,
    "date_of_birth": "1990-05-17",
    "sex": "male",
    "gender": "man",
    "race_ethnicity": "hispanic",
    "preferred_language": "es",
    "contact": None,
    "judge_email": "judge@atc.example",
    "defender_email": "defender@atc.example",
    "arrest_date": "2025-01-28",
    "referral_source": "prosecutor",
    "disposition": "",
    "disposition_date": None,
    "cases": [
        {
            "uuid": "0b9e6a1e-5b8a-4a53-8d5e-6c3a1f3e2d41",
            "case_number": "CR-2025-0142",
            "court": "District Court",
            "filed_on": "2025-01-30",
            "charges": [
                {
                    "description": "Possession of a controlled substance",
                    "statute": "481.115",
                    "level": "felony",
                    "level_label": "Felony / delito grave",
                }
            ],
        }
    ],
    "screening_decisions": [],
    "assessments": [],
    "status_history": [],
    "phase_history": [],
    "consents": [
        {
            "uuid": "6d2f7c0e-1e4b-4b8e-9f0a-3c5d7e9f1a2b",
            "signed_on": "2025-03-03",
            "expires_on": "2026-03-03",
            "expiry_event": "",
            "revoked_on": None,
            "categories": ["attendance", "drug_tests"],
            "recipient_roles": ["judge", "coordinator"],
            "criminal_justice": True,
            "live": True,
        }
    ],
    "goals": [],
    "service_referrals": [],
    "new_arrests": [],
}


# --- the viewset -----------------------------------------------------------------------------
DETAIL_PREFETCH = [
    "cases__charges",
    "screening_decisions",
    "assessments",
    Prefetch("status_changes", queryset=StatusChange.objects.select_related("created_by")),
    Prefetch(
        "phase_changes", queryset=PhaseChange.objects.select_related("from_phase", "to_phase")
    ),
    "consents",
    "goals",
    "service_referrals",
    "new_arrests",
]


@extend_schema_view(
    list=extend_schema(
        summary=_("List participants"),
        description=_(
            "The participants the caller may see (their programs, or the clients and referrals "
            "granted to them), paginated."
        ),
        parameters=FILTER_PARAMETERS,
        responses={
            200: ParticipantListSerializer(many=True),
            **error_responses(
                400,
                401,
                404,
                429,
                invalid=_("A filter value is not valid."),
                not_found=_("No such page."),
            ),
        },
        examples=[OpenApiExample(_("A participant"), value=LIST_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary=_("One participant's record"),
        description=_(
            "The participant's episode with its history. 404 when the participant does not "
            "exist or is outside the caller's scope. Contact details only for the coordinator "
            "and the defense attorney."
        ),
        parameters=[OpenApiParameter("uuid", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={
            200: ParticipantDetailSerializer,
            **error_responses(401, 404, 429, not_found=_("No such participant within your scope.")),
        },
        examples=[OpenApiExample(_("A participant"), value=DETAIL_EXAMPLE, response_only=True)],
    ),
)
class ParticipantViewSet(viewsets.ReadOnlyModelViewSet):
    """Participants visible to the caller; reads only, each one audited."""

    lookup_field = "uuid"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = ParticipantFilter

    def get_queryset(self) -> QuerySet[Participant]:
        queryset = participants_visible_to(self.request.user).select_related(
            "person", "program", "phase"
        )
        if self.action == "retrieve":
            queryset = queryset.select_related("judge", "defender").prefetch_related(
                *DETAIL_PREFETCH
            )
        return queryset.order_by("person__last_name", "person__first_name", "pk")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ParticipantDetailSerializer
        return ParticipantListSerializer

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["show_contact"] = can_see_contact(self.request.user)
        return context

    def list(self, request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = self.get_serializer(page, many=True).data
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.VIEW,
            request=request,
            detail={"list": len(data)},
        )
        return self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs) -> Response:
        participant = self.get_object()
        context = {**self.get_serializer_context(), "today": program_today(participant.program)}
        data = self.get_serializer(participant, context=context).data
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.VIEW,
            obj=participant,
            program=participant.program,
            participant_uuid=participant.uuid,
            request=request,
        )
        return Response(data)
