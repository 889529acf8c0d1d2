from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tjp.models import RISK_LEVELS, Program, canonical_email
from tjp.services import PROGRAM_SETTINGS_FIELDS


def attach_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: by field where it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class BootstrapStyle:
    """Bootstrap classes on every widget (kept out of the templates)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):  # incl. checkbox lists
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class StyledForm(BootstrapStyle, forms.Form):
    pass


class StyledModelForm(BootstrapStyle, forms.ModelForm):
    pass


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def clean_username(self) -> str:
        return canonical_email(self.cleaned_data["username"])


class ProgramSettingsForm(StyledModelForm):
    """Validates settings; the service applies them (with the version check)."""

    version = forms.CharField(widget=forms.HiddenInput)
    eligible_risk_levels = forms.MultipleChoiceField(
        label=_("Eligible risk levels"), choices=RISK_LEVELS, widget=forms.CheckboxSelectMultiple
    )
    eligible_need_levels = forms.MultipleChoiceField(
        label=_("Eligible need levels"), choices=RISK_LEVELS, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Program
        fields = PROGRAM_SETTINGS_FIELDS


class AuditedPasswordResetForm(PasswordResetForm):
    """Django's reset by email (no answer says whether the address has an account), with the
    request written to the audit trail."""

    def save(self, *args, request=None, **kwargs):
        from tjp import audit
        from tjp.models import AuditEvent

        audit.record(
            actor=None,
            actor_label=canonical_email(self.cleaned_data["email"])[:254],
            action=AuditEvent.Action.UPDATE,
            request=request,
            detail={"password_reset": "requested"},
        )
        return super().save(*args, request=request, **kwargs)


class AuditedSetPasswordForm(SetPasswordForm):
    """A new password through a reset link; the second factor is still asked at sign-in."""

    def save(self, commit=True):
        from tjp import audit
        from tjp.models import AuditEvent

        user = super().save(commit=commit)
        audit.record(
            actor=user, action=AuditEvent.Action.UPDATE, obj=user, detail={"password_reset": "done"}
        )
        return user
