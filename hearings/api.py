"""The read-only hearing sessions API: the court calendar with its dockets, scoped like the UI.

Sessions come only through `sessions_visible_to` and docket rows only through
`entries_visible_to`, so another program's session is a 404 exactly as in the browser. A docket
row carries the participant's name for everyone who may see the session; what happened in
court (attendance, minutes with the judge, next appearance) only for the participants the
caller may see in full (a defender's own clients, a clinician's own participants). Treatment
information, staffing notes, judge's notes and responses have no place here. Every read leaves a
"view" audit row naming the participants on it.
"""

from django.db.models import DateField, DateTimeField, F, Func, Prefetch, QuerySet
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from hearings.access import entries_visible_to, full_participant_ids, sessions_visible_to
from hearings.models import Attendance, DocketEntry, HearingSession
from tjp import audit
from tjp.api_errors import error_responses
from tjp.models import AuditEvent


# --- filters ---------------------------------------------------------------------------------
def _session_day():
    """The day a session starts on, in its program's time zone (PostgreSQL timezone())."""
    local = Func(
        F("program__time_zone"), F("starts_at"), function="timezone", output_field=DateTimeField()
    )
    return Cast(local, DateField())


class HearingSessionFilter(filters.FilterSet):
    """The allow-list of calendar filters; nothing else in the query string reaches the ORM.
    Dates are the program's own days (a session at 23:30 in Chicago is on that Chicago day)."""

    program = filters.UUIDFilter(field_name="program__uuid", label=_("Program"))
    starts_from = filters.DateFilter(method="filter_from", label=_("From (date, inclusive)"))
    starts_to = filters.DateFilter(method="filter_to", label=_("To (date, inclusive)"))

    # `from` and `to` are Python keywords, so they cannot be declared as attributes: the two
    # date filters are published under those names.
    PUBLISHED_AS = {"starts_from": "from", "starts_to": "to"}

    class Meta:
        model = HearingSession
        fields = ["program"]

    @classmethod
    def get_filters(cls):
        return {cls.PUBLISHED_AS.get(name, name): f for name, f in super().get_filters().items()}

    def filter_from(self, queryset, name, value):
        return queryset.alias(day=_session_day()).filter(day__gte=value)

    def filter_to(self, queryset, name, value):
        return queryset.alias(day=_session_day()).filter(day__lte=value)


# --- serializers -----------------------------------------------------------------------------
class DocketParticipantSerializer(serializers.Serializer):
    uuid = serializers.UUIDField(read_only=True)
    name = serializers.CharField(source="person.full_name", read_only=True)


class DocketEntrySerializer(serializers.Serializer):
    """One participant on the docket. The outcome fields are present only on entries the caller
    may see in full; for the others the row is the participant's name and nothing else."""

    participant = DocketParticipantSerializer(read_only=True)
    attendance = serializers.ChoiceField(
        choices=Attendance.choices,
        required=False,
        help_text=_("Empty until recorded. Only on entries you may see in full."),
    )
    judicial_minutes = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("Minutes with the judge. Only on entries you may see in full."),
    )
    next_appearance = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("Only on entries you may see in full."),
    )

    FULL_ONLY = ("attendance", "judicial_minutes", "next_appearance")

    def to_representation(self, entry: DocketEntry) -> dict:
        data = super().to_representation(entry)
        if entry.participant_id not in self.context["full_ids"]:
            for field in self.FULL_ONLY:
                data.pop(field, None)
        return data


class HearingSessionSerializer(serializers.ModelSerializer):
    program = serializers.UUIDField(source="program.uuid", read_only=True)
    time_zone = serializers.CharField(
        source="program.time_zone",
        read_only=True,
        help_text=_("The program's time zone: show the times in it."),
    )
    judge = serializers.CharField(source="judge.get_full_name", read_only=True)
    docket = DocketEntrySerializer(source="visible_entries", many=True, read_only=True)

    class Meta:
        model = HearingSession
        fields = [
            "uuid",
            "program",
            "kind",
            "starts_at",
            "ends_at",
            "time_zone",
            "courtroom",
            "judge",
            "cancelled",
            "docket",
        ]
        read_only_fields = fields


# --- schema documentation --------------------------------------------------------------------
FILTER_PARAMETERS = [
    OpenApiParameter("program", OpenApiTypes.UUID, description=_("Only this program's sessions.")),
    OpenApiParameter(
        "from",
        OpenApiTypes.DATE,
        description=_("Sessions on or after this day (the program's own day, YYYY-MM-DD)."),
    ),
    OpenApiParameter(
        "to",
        OpenApiTypes.DATE,
        description=_("Sessions on or before this day (the program's own day, YYYY-MM-DD)."),
    ),
]
EXAMPLE = {
    "uuid": "5a1f0c3e-7b2d-4e8a-9c61-0d2e4f6a8b13",
    "program": "a4d1f1d6-34b5-4c1b-8f8e-0c5f2f1a9b77",
    "kind": "status_review",
    "starts_at": "2025-03-11T14:00:00Z",
    "ends_at": "2025-03-11T17:00:00Z",
    "time_zone": "America/Chicago",
    "courtroom": "3B",
    "judge": "Helen Carter",
    "cancelled": False,
    "docket": [
        {
            "participant": {"uuid": "3f0c1a52-8c1e-4d43-9a57-2f6b3b7f1d10", "name": "José Pérez"},
            "attendance": "present",
            "judicial_minutes": 4,
            "next_appearance": "2025-03-25",
        },
        {"participant": {"uuid": "8e9d4b0a-2c6f-4a1e-b7d3-5f0e1c2a3b4d", "name": "Ana Núñez"}},
    ],
}


# --- the viewset -----------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        summary=_("List hearing sessions"),
        description=_(
            "The court sessions the caller may see, with their dockets, ordered by start time "
            "and paginated. Judges, prosecutors, coordinators and program managers see every "
            "session of their programs; defenders too, with the full docket entry only for "
            "their clients; clinicians see the sessions where their participants appear, and "
            "only those entries."
        ),
        parameters=FILTER_PARAMETERS,
        responses={
            200: HearingSessionSerializer(many=True),
            **error_responses(
                400,
                401,
                404,
                429,
                invalid=_("A filter value is not valid."),
                not_found=_("No such page."),
            ),
        },
        examples=[OpenApiExample(_("A session"), value=EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary=_("One hearing session"),
        description=_(
            "A session and its docket. 404 when it does not exist or is outside the caller's scope."
        ),
        parameters=[OpenApiParameter("uuid", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={
            200: HearingSessionSerializer,
            **error_responses(401, 404, 429, not_found=_("No such session within your scope.")),
        },
        examples=[OpenApiExample(_("A session"), value=EXAMPLE, response_only=True)],
    ),
)
class HearingSessionViewSet(viewsets.ReadOnlyModelViewSet):
    """Hearing sessions visible to the caller; reads only, each one audited."""

    serializer_class = HearingSessionSerializer
    lookup_field = "uuid"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = HearingSessionFilter

    def get_queryset(self) -> QuerySet[HearingSession]:
        user = self.request.user
        entries = (
            entries_visible_to(user)
            .select_related("participant__person")
            .order_by("position", "pk")
        )
        return (
            sessions_visible_to(user)
            .select_related("program", "judge")
            .prefetch_related(Prefetch("entries", queryset=entries, to_attr="visible_entries"))
            .order_by("starts_at", "pk")
        )

    def _data(self, sessions: list[HearingSession], many: bool):
        entries = [e for s in sessions for e in s.visible_entries]
        context = {
            **self.get_serializer_context(),
            "full_ids": full_participant_ids(self.request.user, entries),
        }
        instance = sessions if many else sessions[0]
        data = self.get_serializer(instance, many=many, context=context).data
        return data, sorted({str(e.participant.uuid) for e in entries})

    def list(self, request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data, participants = self._data(page, many=True)
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.VIEW,
            request=request,
            detail={"hearing_sessions": [s["uuid"] for s in data], "participants": participants},
        )
        return self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs) -> Response:
        session = self.get_object()
        data, participants = self._data([session], many=False)
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.VIEW,
            obj=session,
            program=session.program,
            request=request,
            detail={"participants": participants},
        )
        return Response(data)
