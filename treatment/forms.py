"""Forms validate shapes and choices; treatment.services applies the rules and writes."""

from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from participants.forms import DateInput
from tjp import clock
from tjp.access import programs_visible_to
from tjp.forms import StyledForm
from treatment.models import (
    DrugTest,
    DrugTestResult,
    Medication,
    ProgressUpdate,
    Substance,
    TreatmentEpisode,
    TreatmentSession,
)

SUBSTANCE_PREFIX = "result_"


def _date(label, required=True):
    return forms.DateField(label=label, required=required, widget=DateInput())


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ProgramDateTimeField(forms.DateTimeField):
    """A wall-clock time read in the program's time zone, whoever types it and wherever the
    server runs: a test collected at 08:00 in Monterrey is 08:00 Monterrey time."""

    widget = DateTimeLocalInput

    def __init__(self, *args, **kwargs):
        self.time_zone = ZoneInfo("UTC")
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        with timezone.override(self.time_zone):
            return super().to_python(value)


class EpisodeForm(StyledForm):
    level_of_care = forms.ChoiceField(
        label=_("Level of care (ASAM)"), choices=TreatmentEpisode.LevelOfCare.choices
    )
    modality = forms.ChoiceField(label=_("Modality"), choices=TreatmentEpisode.Modality.choices)
    admitted_on = _date(_("Admitted on"))
    discharged_on = _date(_("Discharged on"), required=False)
    discharge_reason = forms.CharField(label=_("Discharge reason"), max_length=200, required=False)


class SessionForm(StyledForm):
    session_date = _date(_("Session date"))
    kind = forms.ChoiceField(label=_("Kind of session"), choices=TreatmentSession.Kind.choices)
    attendance = forms.ChoiceField(
        label=_("Attendance"), choices=TreatmentSession.Attendance.choices
    )
    hours = forms.DecimalField(
        label=_("Hours"), min_value=0, max_value=24, max_digits=4, decimal_places=2
    )


class MedicationForm(StyledForm):
    drug = forms.ChoiceField(label=_("Medication"), choices=Medication.Drug.choices)
    dose = forms.CharField(label=_("Dose"), max_length=100, required=False)
    started_on = _date(_("Started on"))
    ended_on = _date(_("Ended on"), required=False)


class ProgressUpdateForm(StyledForm):
    period_start = _date(_("Period start"))
    period_end = _date(_("Period end"))
    engagement = forms.ChoiceField(label=_("Engagement"), choices=ProgressUpdate.Engagement.choices)
    summary = forms.CharField(
        label=_("Summary for the court team"), widget=forms.Textarea(attrs={"rows": 4})
    )
    recommendations = forms.CharField(
        label=_("Recommendations"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ClinicalNoteForm(StyledForm):
    written_on = _date(_("Date"))
    text = forms.CharField(
        label=_("Clinical note (never shown to the court team)"),
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class AssignProviderForm(StyledForm):
    provider = forms.ModelChoiceField(
        label=_("Treatment provider"), queryset=None, to_field_name="uuid"
    )
    assigned_on = _date(_("Assigned on"))

    def __init__(self, *args, participant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = participant.program.providers.all()


class EndAssignmentForm(StyledForm):
    ended_on = _date(_("Ended on"))


RESULT_CHOICES = [("", _("not tested")), *DrugTestResult.Result.choices]


class DrugTestForm(StyledForm):
    """One test with one select per substance; only the substances tested become results."""

    collected_at = ProgramDateTimeField(label=_("Collected at"))
    method = forms.ChoiceField(label=_("Method"), choices=DrugTest.Method.choices)
    observed = forms.BooleanField(label=_("Observed collection"), required=False)
    dilute = forms.BooleanField(label=_("Dilute"), required=False)
    adulterated = forms.BooleanField(label=_("Adulterated / tampered"), required=False)
    missed = forms.BooleanField(label=_("Missed"), required=False)
    refused = forms.BooleanField(label=_("Refused"), required=False)
    resulted_at = ProgramDateTimeField(label=_("Resulted at"), required=False)
    lab = forms.CharField(label=_("Laboratory"), max_length=120, required=False)
    confirmation = forms.ChoiceField(
        label=_("Confirmation"), choices=DrugTest.Confirmation.choices, required=False
    )

    def __init__(self, *args, participant, **kwargs):
        super().__init__(*args, **kwargs)
        time_zone = clock.zone(participant.program)
        for name in ("collected_at", "resulted_at"):
            self.fields[name].time_zone = time_zone
            self.fields[name].help_text = _("In the program's time zone (%(tz)s).") % {
                "tz": participant.program.time_zone
            }
        for value, label in Substance.choices:
            self.fields[SUBSTANCE_PREFIX + value] = forms.ChoiceField(
                label=label,
                choices=RESULT_CHOICES,
                required=False,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    def _is_substance(self, bound_field) -> bool:
        return bound_field.name.startswith(SUBSTANCE_PREFIX)

    def visible_fields(self):
        # includes/form_fields.html renders these; the substance selects get their own table.
        return [f for f in super().visible_fields() if not self._is_substance(f)]

    def substance_fields(self):
        return [f for f in super().visible_fields() if self._is_substance(f)]

    def clean(self):
        data = super().clean()
        data["results"] = [
            (value, result)
            for value in Substance.values
            if (result := data.pop(SUBSTANCE_PREFIX + value, ""))
        ]
        return data


class CallInForm(StyledForm):
    program = forms.ModelChoiceField(label=_("Program"), queryset=None, to_field_name="uuid")
    code = forms.CharField(label=_("Call-in code"), max_length=20)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs_visible_to(user)
