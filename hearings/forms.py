"""Forms for the calendar and the dockets: they check shapes and limit choices to what the user
may see or schedule in; the services apply the rules (conflicts, judges, dates) and write."""

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from hearings.models import HearingSession, Kind
from participants.forms import DateInput
from tjp.access import program_staff
from tjp.forms import StyledForm
from tjp.models import Program, User
from tjp.roles import Role


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


def judges_of(programs: QuerySet[Program]) -> QuerySet[User]:
    """The judges a session of these programs may be given (the service checks the same)."""
    return program_staff(programs, Role.JUDGE)


def _duration():
    return forms.IntegerField(
        label=_("Duration (minutes)"), min_value=5, max_value=12 * 60, initial=120
    )


class _SessionFields(StyledForm):
    judge = forms.ModelChoiceField(
        label=_("Judge"), queryset=User.objects.none(), to_field_name="uuid"
    )
    courtroom = forms.CharField(label=_("Courtroom"), max_length=60)

    def __init__(self, *args, judges: QuerySet[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["judge"].queryset = judges


class SessionForm(_SessionFields):
    """One session (program, kind, judge and courtroom first, then when)."""

    field_order = ["program", "kind", "judge", "courtroom", "day", "start", "duration_minutes"]
    program = forms.ModelChoiceField(
        label=_("Program"), queryset=Program.objects.none(), to_field_name="uuid"
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.STATUS_REVIEW)
    day = forms.DateField(label=_("Date"), widget=DateInput())
    start = forms.TimeField(label=_("Start time"), widget=TimeInput())
    duration_minutes = _duration()
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, programs: QuerySet[Program], **kwargs):
        super().__init__(*args, judges=judges_of(programs), **kwargs)
        self.fields["program"].queryset = programs


class SeriesForm(SessionForm):
    """A recurring session: the same weekday and time every N weeks between two dates."""

    field_order = [
        "program",
        "kind",
        "judge",
        "courtroom",
        "weekday",
        "start",
        "duration_minutes",
        "interval_weeks",
        "starts_on",
        "ends_on",
    ]
    day = None
    notes = None
    weekday = forms.TypedChoiceField(
        label=_("Day of the week"), choices=sorted(WEEKDAYS.items()), coerce=int
    )
    interval_weeks = forms.IntegerField(
        label=_("Every how many weeks"), min_value=1, max_value=8, initial=1
    )
    starts_on = forms.DateField(label=_("First date"), widget=DateInput())
    ends_on = forms.DateField(label=_("Last date"), widget=DateInput())


class SessionEditForm(_SessionFields):
    """Move a session or change its judge or courtroom (its program and kind stay)."""

    field_order = ["judge", "courtroom", "day", "start", "duration_minutes", "notes"]
    version = forms.IntegerField(widget=forms.HiddenInput)
    day = forms.DateField(label=_("Date"), widget=DateInput())
    start = forms.TimeField(label=_("Start time"), widget=TimeInput())
    duration_minutes = _duration()
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class SessionCancelForm(StyledForm):
    reason = forms.CharField(
        label=_("Reason for cancelling"), widget=forms.Textarea(attrs={"rows": 3})
    )


class DocketAddForm(StyledForm):
    participant = forms.ModelChoiceField(
        label=_("Participant"), queryset=None, to_field_name="uuid"
    )

    def __init__(self, *args, participants, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["participant"]
        field.queryset = participants
        field.label_from_instance = lambda p: (
            f"{p.person.full_name} · {p.get_status_display()}"
            + (f" · {p.phase}" if p.phase_id else "")
        )


class DocketDueForm(StyledForm):
    phase = forms.ModelChoiceField(
        label=_("Only participants in phase"),
        queryset=None,
        to_field_name="uuid",
        required=False,
        empty_label=_("Every phase"),
    )

    def __init__(self, *args, phases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phase"].queryset = phases


class CalendarFilter(django_filters.FilterSet):
    """The calendar's filters: an explicit allow-list, choices limited to the sessions the user
    may see."""

    program = django_filters.ModelChoiceFilter(
        label=_("Program"), queryset=None, to_field_name="code"
    )
    judge = django_filters.ModelChoiceFilter(label=_("Judge"), queryset=None, to_field_name="uuid")
    courtroom = django_filters.ChoiceFilter(label=_("Courtroom"), choices=[])

    class Meta:
        model = HearingSession
        fields = []
        form = StyledForm

    def __init__(self, *args, visible: QuerySet[HearingSession], **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["program"].queryset = Program.objects.filter(pk__in=visible.values("program"))
        self.filters["judge"].queryset = User.objects.filter(
            pk__in=visible.values("judge")
        ).order_by("last_name", "first_name", "email")
        rooms = visible.order_by("courtroom").values_list("courtroom", flat=True).distinct()
        self.filters["courtroom"].extra["choices"] = [(r, r) for r in rooms]
