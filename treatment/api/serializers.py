"""What the provider and lab API reads and writes. Input serializers only check the shape (types,
choices, lengths); the rules (times in the future, results before collection, idempotency) are
the services'. Output serializers are read-only."""

from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from tjp.api_fields import HoursField, StrictBooleanField, StrictUUIDField, TextField
from treatment.models import DrugTest, DrugTestResult, ProgressUpdate, Substance, TreatmentSession


class OffsetDateTimeField(serializers.DateTimeField):
    """ISO-8601 with a UTC offset: a lab's "08:15" is ambiguous without its time zone."""

    default_error_messages = {
        "naive": _("Give the UTC offset, e.g. 2025-03-03T08:15:00-06:00 or …Z."),
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None  # well formed but impossible: the parent says so
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)


def _participant_field():
    return StrictUUIDField(help_text=_("The participant's uuid (GET /api/v1/participants/)."))


def _external_id_field():
    return TextField(
        max_length=100,
        help_text=_(
            "Your own id for this record, unique per account and kind of record. Sending it "
            "again with the same content creates nothing; with other content it is a 409."
        ),
    )


class ProgressUpdateInSerializer(serializers.Serializer):
    participant = _participant_field()
    external_id = _external_id_field()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    engagement = serializers.ChoiceField(choices=ProgressUpdate.Engagement.choices)
    summary = TextField(max_length=20000)
    recommendations = TextField(max_length=20000, required=False, allow_blank=True, default="")


class TreatmentSessionInSerializer(serializers.Serializer):
    participant = _participant_field()
    external_id = _external_id_field()
    session_date = serializers.DateField()
    kind = serializers.ChoiceField(choices=TreatmentSession.Kind.choices)
    attendance = serializers.ChoiceField(choices=TreatmentSession.Attendance.choices)
    hours = HoursField(help_text=_('Units of service: a string from "0" to "24", two decimals.'))


class SubstanceResultSerializer(serializers.Serializer):
    substance = serializers.ChoiceField(choices=Substance.choices)
    result = serializers.ChoiceField(choices=DrugTestResult.Result.choices)


class DrugTestInSerializer(serializers.Serializer):
    participant = _participant_field()
    external_id = _external_id_field()
    collected_at = OffsetDateTimeField()
    method = serializers.ChoiceField(choices=DrugTest.Method.choices)
    results = SubstanceResultSerializer(
        many=True,
        required=False,
        help_text=_("One result per substance; none for a missed or refused test."),
    )
    observed = StrictBooleanField(required=False, default=False)
    dilute = StrictBooleanField(required=False, default=False)
    adulterated = StrictBooleanField(required=False, default=False)
    missed = StrictBooleanField(required=False, default=False)
    refused = StrictBooleanField(required=False, default=False)
    resulted_at = OffsetDateTimeField(required=False, allow_null=True, default=None)
    confirmation = serializers.ChoiceField(
        choices=DrugTest.Confirmation.choices, required=False, allow_blank=True, default=""
    )
    lab = TextField(max_length=120, required=False, allow_blank=True, default="")


def drug_test_arguments(data: dict[str, Any]) -> dict[str, Any]:
    """Validated input → the keyword arguments of `drug_test_record` (participant apart)."""
    arguments = {k: v for k, v in data.items() if k not in ("participant", "results")}
    arguments["results"] = [(r["substance"], r["result"]) for r in data.get("results", [])]
    return arguments


# --- output serializers ----------------------------------------------------------------------
REPORTED_FIELDS = ["uuid", "participant", "external_id", "provider", "source", "created_at"]


class _ReportedSerializer(serializers.ModelSerializer):
    participant = serializers.UUIDField(source="participant.uuid", read_only=True)
    provider = serializers.CharField(source="provider.name", read_only=True, allow_null=True)


class ProgressUpdateSerializer(_ReportedSerializer):
    class Meta:
        model = ProgressUpdate
        fields = [
            *REPORTED_FIELDS,
            "period_start",
            "period_end",
            "engagement",
            "summary",
            "recommendations",
        ]
        read_only_fields = fields


class TreatmentSessionSerializer(_ReportedSerializer):
    class Meta:
        model = TreatmentSession
        fields = [
            *REPORTED_FIELDS,
            "session_date",
            "kind",
            "attendance",
            "hours",
        ]
        read_only_fields = fields


class DrugTestSerializer(_ReportedSerializer):
    results = SubstanceResultSerializer(many=True, read_only=True)
    counts_as_positive = serializers.BooleanField(
        read_only=True,
        help_text=_("Missed, refused, adulterated or any positive substance."),
    )
    turnaround_hours = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = DrugTest
        fields = [
            *REPORTED_FIELDS,
            "collected_at",
            "method",
            "results",
            "observed",
            "dilute",
            "adulterated",
            "missed",
            "refused",
            "random",
            "resulted_at",
            "confirmation",
            "lab",
            "counts_as_positive",
            "turnaround_hours",
        ]
        read_only_fields = fields


SUBMISSION_STATUSES = [
    ("created", _("Created")),
    ("duplicate", _("Already sent with the same content: nothing new saved")),
]


def _submission_status():
    return serializers.ChoiceField(
        choices=SUBMISSION_STATUSES,
        read_only=True,
        help_text=_("created, or duplicate when this external id was already sent."),
    )


class ProgressUpdateSubmittedSerializer(ProgressUpdateSerializer):
    status = _submission_status()

    class Meta(ProgressUpdateSerializer.Meta):
        fields = ["status", *ProgressUpdateSerializer.Meta.fields]


class TreatmentSessionSubmittedSerializer(TreatmentSessionSerializer):
    status = _submission_status()

    class Meta(TreatmentSessionSerializer.Meta):
        fields = ["status", *TreatmentSessionSerializer.Meta.fields]


class DrugTestSubmittedSerializer(DrugTestSerializer):
    status = _submission_status()

    class Meta(DrugTestSerializer.Meta):
        fields = ["status", *DrugTestSerializer.Meta.fields]


# --- bulk ------------------------------------------------------------------------------------
class BulkRequestSerializer(serializers.Serializer):
    """For the schema: the body is checked step by step (size first) in the view."""

    items = serializers.ListField(
        child=DrugTestInSerializer(),
        min_length=1,
        help_text=_("At most API_BULK_MAX_ITEMS (5000)."),
    )
    allow_partial = StrictBooleanField(
        required=False,
        default=False,
        help_text=_(
            "false (default): all or nothing. true: save the valid items, report the others."
        ),
    )


BULK_ITEM_STATUSES = [
    ("created", _("Created")),
    ("duplicate", _("Already stored")),
    ("error", _("Not valid")),
    ("conflict", _("External id already used for other content")),
    ("not_saved", _("Valid, but the batch was rolled back")),
]


class BulkItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("Position of the item in `items`, from 0."))
    external_id = serializers.CharField(
        allow_null=True,
        max_length=100,
        help_text=_("The item's external id; null when the item has none that is valid."),
    )
    status = serializers.ChoiceField(
        choices=BULK_ITEM_STATUSES,
        help_text=_(
            "created, duplicate (already stored), error, conflict (external id already used "
            "for other content), or not_saved (valid, but the batch was rolled back)."
        ),
    )
    uuid = serializers.UUIDField(required=False)
    errors = serializers.DictField(required=False, help_text=_("Field errors of this item."))


class BulkSummarySerializer(serializers.Serializer):
    received = serializers.IntegerField()
    created = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    error = serializers.IntegerField()
    conflict = serializers.IntegerField()
    not_saved = serializers.IntegerField()
    saved = serializers.BooleanField(help_text=_("false when nothing of the batch was saved."))


class BulkResponseSerializer(serializers.Serializer):
    summary = BulkSummarySerializer()
    results = BulkItemResultSerializer(many=True)
