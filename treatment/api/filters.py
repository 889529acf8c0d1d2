"""The list filters: an allow-list, so nothing else in the query string reaches the ORM."""

from django.db.models import DateField, DateTimeField, F, Func
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from treatment.models import DrugTest, ProgressUpdate, TreatmentSession


class _DateRangeFilter(filters.FilterSet):
    """One participant, and an inclusive range of dates: each subclass says which dates."""

    participant = filters.UUIDFilter(field_name="participant__uuid", label=_("Participant"))
    date_from = filters.DateFilter(method="filter_from", label=_("From (date, inclusive)"))
    date_to = filters.DateFilter(method="filter_to", label=_("To (date, inclusive)"))


class ProgressUpdateFilter(_DateRangeFilter):
    """Updates whose period overlaps the range."""

    class Meta:
        model = ProgressUpdate
        fields = ["participant", "date_from", "date_to"]

    def filter_from(self, queryset, name, value):
        return queryset.filter(period_end__gte=value)

    def filter_to(self, queryset, name, value):
        return queryset.filter(period_start__lte=value)


class TreatmentSessionFilter(_DateRangeFilter):
    class Meta:
        model = TreatmentSession
        fields = ["participant", "date_from", "date_to"]

    def filter_from(self, queryset, name, value):
        return queryset.filter(session_date__gte=value)

    def filter_to(self, queryset, name, value):
        return queryset.filter(session_date__lte=value)


def _collection_day():
    """The day of collection in the participant's program time zone (PostgreSQL timezone())."""
    local = Func(
        F("participant__program__time_zone"),
        F("collected_at"),
        function="timezone",
        output_field=DateTimeField(),
    )
    return Cast(local, DateField())


class DrugTestFilter(_DateRangeFilter):
    """By the day of collection, in the program's time zone."""

    class Meta:
        model = DrugTest
        fields = ["participant", "date_from", "date_to"]

    def filter_from(self, queryset, name, value):
        return queryset.alias(collection_day=_collection_day()).filter(collection_day__gte=value)

    def filter_to(self, queryset, name, value):
        return queryset.alias(collection_day=_collection_day()).filter(collection_day__lte=value)
