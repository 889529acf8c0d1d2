"""The actions on a participant's treatment page: the permission each needs, its form, and the
one service call it makes. One generic view (`treatment.views.treatment_action`) runs them, as
participants.actions does for the participant's page."""

from django.utils.translation import gettext_lazy as _

from participants.actions import Action
from participants.models import Participant
from treatment import forms, services


def _provider_assign(*, user, participant, data, request, **_):
    return services.provider_assign(
        acting_user=user,
        participant=participant,
        provider=data["provider"],
        assigned_on=data["assigned_on"],
        request=request,
    )


def _provider_unassign(*, user, target, data, request, **_):
    return services.provider_unassign(
        acting_user=user, assignment=target, ended_on=data["ended_on"], request=request
    )


def _record_with(service):
    """A service that takes the form's cleaned data as its keyword arguments."""

    def run(*, user, participant, data, request, **_):
        return service(acting_user=user, participant=participant, request=request, **data)

    return run


ACTIONS: dict[str, Action] = {
    "episode": Action(
        _("Record a treatment episode"),
        "treatment.add_treatmentepisode",
        forms.EpisodeForm,
        _record_with(services.episode_record),
    ),
    "session": Action(
        _("Record session attendance"),
        "treatment.add_treatmentsession",
        forms.SessionForm,
        _record_with(services.session_record),
    ),
    "medication": Action(
        _("Record a medication"),
        "treatment.add_medication",
        forms.MedicationForm,
        _record_with(services.medication_record),
    ),
    "progress": Action(
        _("Write a progress update"),
        "treatment.add_progressupdate",
        forms.ProgressUpdateForm,
        _record_with(services.progress_update_record),
    ),
    "note": Action(
        _("Write a clinical note"),
        "treatment.add_clinicalnote",
        forms.ClinicalNoteForm,
        _record_with(services.clinical_note_record),
    ),
    "test": Action(
        _("Record a drug test"),
        "treatment.add_drugtest",
        forms.DrugTestForm,
        _record_with(services.drug_test_record),
        needs_participant_in_form=True,
    ),
    "provider-assign": Action(
        _("Assign a treatment provider"),
        "treatment.add_providerassignment",
        forms.AssignProviderForm,
        _provider_assign,
        needs_participant_in_form=True,
    ),
    "provider-end": Action(
        _("End the provider assignment"),
        "treatment.change_providerassignment",
        forms.EndAssignmentForm,
        _provider_unassign,
        target=lambda p: p.provider_assignments.filter(ended_on__isnull=True).select_related(
            "provider__group", "participant__program"
        ),
    ),
}


def available(user, participant: Participant) -> list[tuple[str, Action]]:
    """The top-level actions (those without a sub-record) this user may take now."""
    return [
        (name, action)
        for name, action in ACTIONS.items()
        if action.target is None and user.has_perm(action.perm) and action.applies(participant)
    ]
