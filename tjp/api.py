from rest_framework import serializers, viewsets

from tjp.access import programs_visible_to
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


class ProgramViewSet(viewsets.ReadOnlyModelViewSet):
    """Programs the caller works in."""

    serializer_class = ProgramSerializer
    lookup_field = "uuid"

    def get_queryset(self):
        return programs_visible_to(self.request.user).prefetch_related("phases")
