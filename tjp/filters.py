"""The audit page's filters: an explicit allow-list, each a condition an index serves."""

from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from tjp.forms import StyledForm
from tjp.models import AuditEvent, User


class AuditFilterForm(StyledForm):
    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise ValidationError(_("The period must not end before it starts."))
        return cleaned


def _midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class EmailFilter(django_filters.CharFilter):
    field_class = forms.EmailField


class AuditEventFilter(django_filters.FilterSet):
    participant = django_filters.UUIDFilter(
        label=_("Participant (id)"), field_name="participant_uuid"
    )
    user = EmailFilter(label=_("User (email)"), method="by_user")
    action = django_filters.ChoiceFilter(label=_("Action"), choices=AuditEvent.Action.choices)
    # Whole days in UTC, the zone the page shows times in. Compared as timestamps, never by
    # `occurred_at::date`, which no index serves.
    since = django_filters.DateFilter(
        label=_("From (UTC)"), method="from_day", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        label=_("To (UTC)"), method="to_day", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = AuditEvent
        fields: list[str] = []
        form = AuditFilterForm

    def by_user(self, queryset: QuerySet[AuditEvent], name: str, value: str):
        # One scalar subquery, run once before the scan: `actor_id = $1` then reads the
        # (actor, occurred_at, id) index in order. An unknown address matches nothing.
        account = User.objects.filter(email__iexact=value).values("id")[:1]
        return queryset.filter(actor_id=Subquery(account))

    def from_day(self, queryset: QuerySet[AuditEvent], name: str, value: date):
        return queryset.filter(occurred_at__gte=_midnight_utc(value))

    def to_day(self, queryset: QuerySet[AuditEvent], name: str, value: date):
        return queryset.filter(occurred_at__lt=_midnight_utc(value + timedelta(days=1)))


class AuditPositionForm(forms.Form):
    """Where a page starts: just older than, or just newer than, the event with this uuid."""

    before = forms.UUIDField(required=False)
    after = forms.UUIDField(required=False)
