"""The actions on a participant's page: which permission each needs, its form, and the one
service call it makes. One generic view (`participants.views.participant_action`) runs them,
so every action is access check → form → service → redirect, and the page asks `available`
which buttons to show."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from participants import forms, services
from participants.access import get_participant_for_user
from participants.models import (
    EXIT_STATUSES,
    IN_PROGRAM_STATUSES,
    Participant,
    ScreeningDecision,
    Status,
    TermInterruption,
)
from participants.transitions import allowed_moves
from tjp.forms import attach_errors
from tjp.models import Program


@dataclass(frozen=True)
class Action:
    title: Any
    perm: str
    form: type
    run: Callable[..., Any]
    # Whether the action makes sense for the participant's current state.
    applies: Callable[[Participant], bool] = lambda p: True
    # The sub-records the action may work on (?target=<uuid>), given the participant.
    target: Callable[[Participant], Any] | None = None
    needs_participant_in_form: bool = False
    files: bool = False


def _mx(p: Participant) -> bool:
    return p.program.legal_track == Program.LegalTrack.MX_SUSPENSION


def _has_term(p: Participant) -> bool:
    return _mx(p) and hasattr(p, "legal_term")


def _enrolled_or_exited(p: Participant) -> bool:
    return p.entry_date is not None


def _screening(kind):
    def run(*, user, participant, data, request, **_):
        return services.screening_record(
            acting_user=user,
            participant=participant,
            kind=kind,
            outcome=data["outcome"],
            reasons=data["reasons"],
            decided_on=data["decided_on"],
            request=request,
        )

    return run


def _admission(*, user, participant, data, request, **_):
    return services.admission_decide(
        acting_user=user,
        participant=participant,
        admit=data["decision"] == "admit",
        reasons=data["reasons"],
        decided_on=data["decided_on"],
        entry_date=data["entry_date"],
        request=request,
    )


def _status(*, user, participant, data, request, **_):
    return services.status_change(
        acting_user=user,
        participant=participant,
        to_status=data["to_status"],
        effective_on=data["effective_on"],
        reason=data["reason"],
        expected_status=data["expected_status"],
        request=request,
    )


def _phase(*, user, participant, data, request, **_):
    expected = data["expected_phase"]
    expected_phase = participant.program.phases.filter(pk=expected).first() if expected else None
    return services.phase_change(
        acting_user=user,
        participant=participant,
        to_phase=data["to_phase"],
        effective_on=data["effective_on"],
        reason=data["reason"],
        expected_phase=expected_phase,
        request=request,
    )


def _consent(*, user, participant, data, request, **_):
    data = dict(data)
    signed_file = data.pop("signed_file", None)
    return services.consent_record(
        acting_user=user,
        participant=participant,
        data=data,
        signed_file=signed_file,
        request=request,
    )


ACTIONS: dict[str, Action] = {
    "assign": Action(
        _("Assign judge and defense attorney"),
        "participants.change_participant",
        forms.AssignForm,
        lambda *, user, participant, data, request, **_: services.participant_assign(
            acting_user=user,
            participant=participant,
            judge=data["judge"],
            defender=data["defender"],
            request=request,
        ),
        needs_participant_in_form=True,
    ),
    "request-screening": Action(
        _("Ask a clinician to screen"),
        "participants.change_participant",
        forms.ClinicianForm,
        lambda *, user, participant, data, request, **_: services.clinical_screening_request(
            acting_user=user, participant=participant, clinician=data["clinician"], request=request
        ),
        applies=lambda p: p.status == Status.REFERRED,
        needs_participant_in_form=True,
    ),
    "legal-screening": Action(
        _("Record legal eligibility"),
        "participants.record_legal_screening",
        forms.ScreeningForm,
        _screening(ScreeningDecision.Kind.LEGAL),
        applies=lambda p: p.status == Status.REFERRED,
    ),
    "assessment": Action(
        _("Record an assessment"),
        "participants.record_clinical_screening",
        forms.AssessmentForm,
        lambda *, user, participant, data, request, **_: services.assessment_record(
            acting_user=user, participant=participant, data=data, request=request
        ),
    ),
    "clinical-screening": Action(
        _("Record clinical eligibility"),
        "participants.record_clinical_screening",
        forms.ScreeningForm,
        _screening(ScreeningDecision.Kind.CLINICAL),
        applies=lambda p: p.status == Status.REFERRED,
    ),
    "admission": Action(
        _("Decide admission"),
        "participants.decide_admission",
        forms.AdmissionForm,
        _admission,
        applies=lambda p: p.status == Status.REFERRED,
    ),
    "status": Action(
        _("Change status"),
        "participants.change_status",
        forms.StatusForm,
        _status,
        applies=lambda p: bool(allowed_moves(p.status)),
        needs_participant_in_form=True,
    ),
    "phase": Action(
        _("Change phase"),
        "participants.change_status",
        forms.PhaseForm,
        _phase,
        applies=lambda p: p.status in IN_PROGRAM_STATUSES,
        needs_participant_in_form=True,
    ),
    "disposition": Action(
        _("Record the legal disposition"),
        "participants.change_status",
        forms.DispositionForm,
        lambda *, user, participant, data, request, **_: services.disposition_record(
            acting_user=user, participant=participant, request=request, **data
        ),
        applies=lambda p: p.status in [*EXIT_STATUSES, Status.DECLINED],
    ),
    "consent": Action(
        _("Record a consent"),
        "participants.manage_consent",
        forms.ConsentForm,
        _consent,
        files=True,
        needs_participant_in_form=True,
    ),
    "consent-revoke": Action(
        _("Revoke consent"),
        "participants.manage_consent",
        forms.RevokeForm,
        lambda *, user, target, data, request, **_: services.consent_revoke(
            acting_user=user, consent=target, revoked_on=data["revoked_on"], request=request
        ),
        target=lambda p: p.consents.all(),
    ),
    "case": Action(
        _("Add a criminal case"),
        "participants.change_participant",
        forms.CaseForm,
        lambda *, user, participant, data, request, **_: services.case_add(
            acting_user=user, participant=participant, request=request, **data
        ),
    ),
    "document": Action(
        _("Upload a document"),
        "participants.manage_case_plan",
        forms.DocumentForm,
        lambda *, user, participant, data, request, **_: services.document_upload(
            acting_user=user,
            participant=participant,
            kind=data["kind"],
            title=data["title"],
            uploaded_file=data["file"],
            request=request,
        ),
        files=True,
    ),
    "goal": Action(
        _("Add a case plan goal"),
        "participants.manage_case_plan",
        forms.GoalForm,
        lambda *, user, participant, data, request, **_: services.goal_add(
            acting_user=user, participant=participant, request=request, **data
        ),
    ),
    "goal-close": Action(
        _("Close goal"),
        "participants.manage_case_plan",
        forms.GoalCloseForm,
        lambda *, user, target, data, request, **_: services.goal_close(
            acting_user=user, goal=target, request=request, **data
        ),
        target=lambda p: p.goals.all(),
    ),
    "service": Action(
        _("Refer to a service"),
        "participants.manage_case_plan",
        forms.ServiceReferralForm,
        lambda *, user, participant, data, request, **_: services.service_referral_add(
            acting_user=user, participant=participant, request=request, **data
        ),
    ),
    "service-outcome": Action(
        _("Record the service outcome"),
        "participants.manage_case_plan",
        forms.ServiceOutcomeForm,
        lambda *, user, target, data, request, **_: services.service_referral_outcome(
            acting_user=user, referral=target, request=request, **data
        ),
        target=lambda p: p.service_referrals.all(),
    ),
    "arrest": Action(
        _("Record a new arrest"),
        "participants.manage_case_plan",
        forms.ArrestForm,
        lambda *, user, participant, data, request, **_: services.arrest_record(
            acting_user=user, participant=participant, request=request, **data
        ),
        applies=_enrolled_or_exited,
    ),
    "term": Action(
        _("Set the legal term"),
        "participants.manage_legal_clock",
        forms.TermForm,
        lambda *, user, participant, data, request, **_: services.legal_term_set(
            acting_user=user, participant=participant, request=request, **data
        ),
        applies=lambda p: _mx(p) and p.entry_date is not None,
    ),
    "term-extend": Action(
        _("Extend the term"),
        "participants.manage_legal_clock",
        forms.ExtensionForm,
        lambda *, user, participant, data, request, **_: services.legal_term_extend(
            acting_user=user, term=participant.legal_term, request=request, **data
        ),
        applies=lambda p: _has_term(p) and not p.legal_term.extension_days,
    ),
    "interruption": Action(
        _("Record a detention on another case"),
        "participants.manage_legal_clock",
        forms.InterruptionForm,
        lambda *, user, participant, data, request, **_: services.term_interruption_add(
            acting_user=user, term=participant.legal_term, request=request, **data
        ),
        applies=_has_term,
    ),
    "interruption-close": Action(
        _("Record the release"),
        "participants.manage_legal_clock",
        forms.InterruptionCloseForm,
        lambda *, user, target, data, request, **_: services.term_interruption_close(
            acting_user=user, interruption=target, request=request, **data
        ),
        applies=_has_term,
        target=lambda p: TermInterruption.objects.filter(term__participant=p),
    ),
    "restitution": Action(
        _("Set the restitution plan"),
        "participants.manage_legal_clock",
        forms.RestitutionPlanForm,
        lambda *, user, participant, data, request, **_: services.restitution_plan_set(
            acting_user=user, participant=participant, request=request, **data
        ),
        applies=_mx,
    ),
    "payment": Action(
        _("Record a restitution payment"),
        "participants.manage_legal_clock",
        forms.PaymentForm,
        lambda *, user, participant, data, request, **_: services.restitution_payment_add(
            acting_user=user, plan=participant.restitution_plan, request=request, **data
        ),
        applies=lambda p: _mx(p) and hasattr(p, "restitution_plan"),
    ),
}


def available(user, participant: Participant) -> list[tuple[str, Action]]:
    """The top-level actions (those without a sub-record) this user may take now."""
    return [
        (name, action)
        for name, action in ACTIONS.items()
        if action.target is None and user.has_perm(action.perm) and action.applies(participant)
    ]


# --- the one view behind every action ---------------------------------------------------------
def run_action(
    request: HttpRequest,
    participant_uuid: str,
    action: str,
    *,
    registry: dict[str, Action],
    back: str,
    template: str,
) -> HttpResponse:
    """The one view behind every action on a participant (participants and treatment): access
    check with the action's permission, its form, its service, then back to `back`."""
    if action not in registry:
        raise Http404
    spec = registry[action]
    participant = get_participant_for_user(request.user, participant_uuid, perm=spec.perm)
    target = None
    if spec.target is not None:
        try:
            target = get_object_or_404(spec.target(participant), uuid=request.GET.get("target", ""))
        except ValidationError as exc:
            raise Http404 from exc
    if not spec.applies(participant):
        messages.error(
            request, gettext("This action is not possible in the participant's current situation.")
        )
        return redirect(back, participant_uuid=participant.uuid)
    kwargs = {"participant": participant} if spec.needs_participant_in_form else {}
    data = request.POST if request.method == "POST" else None
    form = spec.form(data, request.FILES if spec.files and data else None, **kwargs)
    if data and form.is_valid():
        try:
            spec.run(
                user=request.user,
                participant=participant,
                target=target,
                data=form.cleaned_data,
                request=request,
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect(back, participant_uuid=participant.uuid)
    context = {"participant": participant, "spec": spec, "form": form, "target": target}
    return render(request, template, context, status=400 if data else 200)
