from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from tjp.models import Program
from tjp.services import PROGRAM_SETTINGS_FIELDS


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class ProgramSettingsForm(forms.ModelForm):
    """Validates settings; the service applies them (with the version check)."""

    version = forms.CharField(widget=forms.HiddenInput)

    class Meta:
        model = Program
        fields = PROGRAM_SETTINGS_FIELDS
