from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from tjp.access import programs_visible_to
from tjp.api_errors import error_responses
from tjp.models import Phase, Program


class PhaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Phase
        fields = [
            "uuid",
            "number",
            "name",
            "description",
            "min_days",
            "tests_per_week",
            "hearing_interval_days",
        ]


class ProgramSerializer(serializers.ModelSerializer):
    phases = PhaseSerializer(many=True, read_only=True)

    class Meta:
        model = Program
        fields = [
            "uuid",
            "code",
            "name",
            "jurisdiction",
            "kind",
            "legal_track",
            "language",
            "time_zone",
            "phases",
        ]


@extend_schema_view(
    list=extend_schema(
        summary=_("List programs"),
        responses={
            200: ProgramSerializer(many=True),
            **error_responses(401, 404, 429, not_found=_("No such page.")),
        },
    ),
    retrieve=extend_schema(
        summary=_("One program"),
        parameters=[OpenApiParameter("uuid", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={
            200: ProgramSerializer,
            **error_responses(401, 404, 429, not_found=_("No such program among yours.")),
        },
    ),
)
class ProgramViewSet(viewsets.ReadOnlyModelViewSet):
    """Programs the caller works in."""

    serializer_class = ProgramSerializer
    lookup_field = "uuid"
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def get_queryset(self):
        return programs_visible_to(self.request.user).prefetch_related("phases")
