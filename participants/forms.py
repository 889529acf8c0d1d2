"""Forms validate shapes and choices; the services apply the rules and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from participants.models import (
    PERSON_FIELDS,
    Assessment,
    CasePlanGoal,
    Charge,
    Disposition,
    Document,
    InformationCategory,
    Person,
    ReferralSource,
    ScreeningDecision,
    ServiceReferral,
)
from participants.transitions import allowed_moves
from tjp.access import organisation_label, program_organisations, program_staff
from tjp.forms import StyledForm, StyledModelForm
from tjp.roles import Role


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _date(label, required=True):
    return forms.DateField(label=label, required=required, widget=DateInput())


def _reason(label=None):
    return forms.CharField(label=label or _("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class PersonForm(StyledModelForm):
    class Meta:
        model = Person
        fields = PERSON_FIELDS
        widgets = {"date_of_birth": DateInput(), "address": forms.Textarea(attrs={"rows": 2})}


class ReferralForm(StyledForm):
    referred_on = _date(_("Referral date"))
    referral_source = forms.ChoiceField(label=_("Referral source"), choices=ReferralSource.choices)
    arrest_date = _date(_("Arrest date"), required=False)
    primary_substance = forms.CharField(label=_("Primary substance"), required=False, max_length=60)
    case_number = forms.CharField(label=_("Case number"), max_length=60)
    court = forms.CharField(label=_("Court"), max_length=120, required=False)
    confirm_new_person = forms.BooleanField(
        label=_("This is a different person from the possible duplicates listed above"),
        required=False,
    )


class CaseForm(StyledForm):
    case_number = forms.CharField(label=_("Case number"), max_length=60)
    court = forms.CharField(label=_("Court"), max_length=120, required=False)
    filed_on = _date(_("Filed on"), required=False)
    charge = forms.CharField(label=_("Charge"), max_length=200)
    statute = forms.CharField(label=_("Statute / article"), max_length=100, required=False)
    level = forms.ChoiceField(label=_("Level"), choices=Charge.Level.choices)


class ChargeForm(StyledForm):
    description = forms.CharField(label=_("Charge"), max_length=200, required=False)
    statute = forms.CharField(label=_("Statute / article"), max_length=100, required=False)
    level = forms.ChoiceField(label=_("Level"), choices=Charge.Level.choices)


ChargeFormSet = forms.formset_factory(ChargeForm, extra=3, max_num=10)


class AssignForm(StyledForm):
    judge = forms.ModelChoiceField(label=_("Judge"), queryset=None, required=False)
    defender = forms.ModelChoiceField(label=_("Defense attorney"), queryset=None, required=False)

    def __init__(self, *args, participant, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the program's own staff: the service refuses anyone else (tjp.access).
        self.fields["judge"].queryset = program_staff(participant.program, Role.JUDGE)
        self.fields["defender"].queryset = program_staff(participant.program, Role.DEFENDER)


class ClinicianForm(StyledForm):
    clinician = forms.ModelChoiceField(label=_("Clinician"), queryset=None)

    def __init__(self, *args, participant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = program_staff(participant.program, Role.CLINICIAN)


class ScreeningForm(StyledForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (ScreeningDecision.Outcome.ELIGIBLE, ScreeningDecision.Outcome.ELIGIBLE.label),
            (ScreeningDecision.Outcome.INELIGIBLE, ScreeningDecision.Outcome.INELIGIBLE.label),
        ],
        widget=forms.RadioSelect,
    )
    reasons = _reason(_("Reasons"))
    decided_on = _date(_("Decided on"))


class AssessmentForm(StyledModelForm):
    class Meta:
        model = Assessment
        fields = ["instrument", "score", "risk_level", "need_level", "assessed_on"]
        widgets = {"assessed_on": DateInput()}


class AdmissionForm(StyledForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("admit", _("Admit to the program")), ("decline", _("Decline the referral"))],
        widget=forms.RadioSelect,
    )
    reasons = _reason(_("Reasons"))
    decided_on = _date(_("Decided on"))
    entry_date = _date(_("Program entry date (if admitted)"), required=False)


class StatusForm(StyledForm):
    to_status = forms.ChoiceField(label=_("New status"))
    effective_on = _date(_("Effective date"))
    reason = _reason()
    expected_status = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, participant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [
            (s.value, s.label) for s in allowed_moves(participant.status)
        ]
        self.fields["expected_status"].initial = participant.status


class PhaseForm(StyledForm):
    to_phase = forms.ModelChoiceField(label=_("New phase"), queryset=None)
    effective_on = _date(_("Effective date"))
    reason = _reason()
    expected_phase = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, participant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_phase"].queryset = participant.program.phases.exclude(
            pk=participant.phase_id
        )
        self.fields["expected_phase"].initial = participant.phase_id or ""


class DispositionForm(StyledForm):
    disposition = forms.ChoiceField(
        label=_("Legal disposition"), choices=[c for c in Disposition.choices if c[0]]
    )
    disposition_date = _date(_("Disposition date"))


class ConsentForm(StyledForm):
    discloser = forms.CharField(label=_("Who may disclose"), max_length=200)
    categories = forms.MultipleChoiceField(
        label=_("Information that may be disclosed"),
        choices=InformationCategory.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    recipient_roles = forms.MultipleChoiceField(
        label=_("To which roles of the program"),
        choices=[(r.value, r.label) for r in Role if r != Role.ADMINISTRATOR],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    recipient_organisations = forms.ModelMultipleChoiceField(
        label=_("To which treatment provider organisations"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    purpose = forms.CharField(label=_("Purpose"), widget=forms.Textarea(attrs={"rows": 2}))
    criminal_justice = forms.BooleanField(
        label=_(
            "Condition of a criminal-justice program (42 CFR 2.35): cannot be revoked "
            "before the final disposition"
        ),
        required=False,
        initial=True,
    )
    signed_on = _date(_("Signature date"))
    expires_on = _date(_("Expiry date"), required=False)
    expiry_event = forms.CharField(label=_("or expiry event"), max_length=200, required=False)
    signed_file = forms.FileField(label=_("Signed consent (PDF or image)"), required=False)

    def __init__(self, *args, participant, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["recipient_organisations"]
        field.queryset = program_organisations(participant.program)
        field.label_from_instance = organisation_label


class RevokeForm(StyledForm):
    revoked_on = _date(_("Revoked on"))


class DocumentForm(StyledForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=Document.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    file = forms.FileField(label=_("File (PDF, PNG or JPEG)"))


class GoalForm(StyledForm):
    description = forms.CharField(label=_("Goal"), max_length=300)
    target_date = _date(_("Target date"), required=False)


class GoalCloseForm(StyledForm):
    status = forms.ChoiceField(
        label=_("Outcome"),
        choices=[c for c in CasePlanGoal.GoalStatus.choices if c[0] != "open"],
    )
    closed_on = _date(_("Closed on"))


class ServiceReferralForm(StyledForm):
    service = forms.ChoiceField(label=_("Service"), choices=ServiceReferral.Service.choices)
    agency = forms.CharField(label=_("Agency"), max_length=200, required=False)
    referred_on = _date(_("Referred on"))


class ServiceOutcomeForm(StyledForm):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ServiceReferral.Outcome.choices)
    outcome_on = _date(_("Outcome date"))


class ArrestForm(StyledForm):
    arrested_on = _date(_("Arrest date"))
    charge = forms.CharField(label=_("Charge"), max_length=200)


class TermForm(StyledForm):
    starts_on = _date(_("Term start"))
    ends_on = _date(_("Term end"))
    victim_objected = forms.BooleanField(label=_("The victim objected"), required=False)
    victim_objection_notes = forms.CharField(
        label=_("Victim's objection"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ExtensionForm(StyledForm):
    days = forms.IntegerField(label=_("Extension (days, at most 731)"), min_value=1, max_value=731)
    reason = _reason()


class InterruptionForm(StyledForm):
    starts_on = _date(_("Detained from"))
    ends_on = _date(_("Released on"), required=False)
    reason = forms.CharField(
        label=_("Reason"), max_length=200, initial=_("Detained on another case")
    )


class InterruptionCloseForm(StyledForm):
    ends_on = _date(_("Released on"))


class RestitutionPlanForm(StyledForm):
    total_amount = forms.DecimalField(
        label=_("Total amount"), min_value=0, max_digits=12, decimal_places=2
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="MXN")
    description = forms.CharField(label=_("Plan"), widget=forms.Textarea(attrs={"rows": 3}))


class PaymentForm(StyledForm):
    paid_on = _date(_("Paid on"))
    amount = forms.DecimalField(label=_("Amount"), min_value=0.01, max_digits=12, decimal_places=2)
