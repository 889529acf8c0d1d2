"""Forms of the in-court pages. They check shapes and choices; hearings.services applies the
rules (stale values, dates, magnitudes) and writes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from hearings.models import Recommendation, ResponseKind, ResponseType, Unit
from hearings.services import ENTRY_FIELDS
from participants.forms import DateInput
from tjp.forms import StyledForm


def _one_kind_of_newline(text: str) -> str:
    # Browsers send textarea line breaks as CRLF; the stored text and the `expected` copy of it
    # must compare equal whichever way they travelled.
    return text.replace("\r\n", "\n").replace("\r", "\n")


class EntryFieldForm(forms.Form):
    """One cell of the court docket: which field, the value the user started from, the new one."""

    field = forms.ChoiceField(choices=[(f, f) for f in ENTRY_FIELDS])
    expected = forms.CharField(required=False, strip=False)
    value = forms.CharField(required=False, strip=False)
    back = forms.ChoiceField(choices=[("court", "court"), ("entry", "entry")], required=False)

    def clean_expected(self) -> str:
        return _one_kind_of_newline(self.cleaned_data["expected"])

    def clean_value(self) -> str:
        return _one_kind_of_newline(self.cleaned_data["value"])


def response_type_label(response_type: ResponseType) -> str:
    if response_type.unit == Unit.NONE:
        return response_type.name
    return f"{response_type.name} ({Unit(response_type.unit).label})"


class ResponseForm(StyledForm):
    """An incentive, sanction or service adjustment from the program's active catalog."""

    response_type = forms.ChoiceField(label=_("Response"))
    magnitude = forms.DecimalField(
        label=_("Magnitude"),
        required=False,
        max_digits=6,
        decimal_places=1,
        help_text=_("How much, in the unit shown next to the response (jail: whole days)."),
    )
    behavior_on = forms.DateField(label=_("Date of the behaviour"), widget=DateInput())
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, catalog: list[ResponseType], **kwargs):
        super().__init__(*args, **kwargs)
        self.catalog = {str(t.uuid): t for t in catalog}
        groups = []
        for kind, label in ResponseKind.choices:
            options = [(str(t.uuid), response_type_label(t)) for t in catalog if t.kind == kind]
            if options:
                groups.append((label, options))
        self.fields["response_type"].choices = [("", _("Choose a response…")), *groups]

    def clean_response_type(self) -> ResponseType:
        return self.catalog[self.cleaned_data["response_type"]]


class StaffingNoteForm(StyledForm):
    recommendation = forms.ChoiceField(
        label=_("Recommendation"), choices=Recommendation.choices, required=False
    )
    text = forms.CharField(label=_("Note for the team"), widget=forms.Textarea(attrs={"rows": 3}))


class WarrantForm(forms.Form):
    back = forms.ChoiceField(choices=[("court", "court"), ("entry", "entry")], required=False)
