"""The roster's filters: an explicit allow-list, choices limited to what the user may see."""

import django_filters
from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from participants.forms import StyledForm
from participants.models import Participant, Status
from participants.search import participants_matching
from tjp.access import programs_visible_to
from tjp.models import User
from tjp.roles import Role

# Phase.number is a PositiveSmallIntegerField: anything outside it is a bad request.
PHASE_NUMBER_MAX = 32767


class PhaseNumberFilter(django_filters.NumberFilter):
    # NumberFilter parses decimals; "1.5" must be refused, not silently truncated to phase 1.
    field_class = forms.IntegerField


class RosterFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name"), method="search")
    program = django_filters.ModelChoiceFilter(
        label=_("Program"), queryset=None, to_field_name="code"
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Status.choices)
    phase = PhaseNumberFilter(
        label=_("Phase"), field_name="phase__number", min_value=1, max_value=PHASE_NUMBER_MAX
    )
    judge = django_filters.ModelChoiceFilter(label=_("Judge"), queryset=None, to_field_name="uuid")
    defender = django_filters.ModelChoiceFilter(
        label=_("Defense attorney"), queryset=None, to_field_name="uuid"
    )
    provider = django_filters.ModelChoiceFilter(
        label=_("Provider"), queryset=None, to_field_name="name", method="by_provider"
    )

    class Meta:
        model = Participant
        fields = []
        form = StyledForm

    def __init__(self, *args, visible, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["program"].queryset = programs_visible_to(user)
        self.filters["judge"].queryset = User.objects.filter(pk__in=visible.values("judge"))
        self.filters["defender"].queryset = User.objects.filter(pk__in=visible.values("defender"))
        # Provider organisations are the groups (other than role groups) granted on records.
        self.filters["provider"].queryset = (
            Group.objects.filter(participantgroupobjectpermission__content_object__in=visible)
            .exclude(name__in=Role.values)
            .distinct()
        )

    def search(self, queryset, name, value):
        """Names, typo- and accent-tolerant, best match first (participants.search)."""
        return participants_matching(value, queryset)

    def by_provider(self, queryset, name, value):
        return queryset.filter(participantgroupobjectpermission__group=value).distinct()
