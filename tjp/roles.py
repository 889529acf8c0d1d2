"""The roles and what kind of thing each may do: one table, synced to Django Groups.

A role says *what* a person may do (model permissions on the Group). *Which* records they may
do it to comes from scope: guardian grants on programs and participants (see tjp.access).
Later apps add their permissions to this table.
"""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    JUDGE = "judge", _("Judge")
    PROSECUTOR = "prosecutor", _("Prosecutor")
    DEFENDER = "defender", _("Defense attorney")
    CLINICIAN = "clinician", _("Clinician")
    COORDINATOR = "coordinator", _("Coordinator")
    MANAGER = "manager", _("Program manager")
    ADMINISTRATOR = "administrator", _("Administrator")


_SEE_PROGRAM = {"tjp.view_program", "tjp.view_phase"}
_SEE_PARTICIPANTS = _SEE_PROGRAM | {
    "participants.view_participant",
    "hearings.view_hearingsession",
}
_COURT_OVERSIGHT = {"hearings.view_compliance", "reporting.view_dashboard"}
# The team that staffs cases before the hearing (the program manager does not).
_TEAM = _SEE_PARTICIPANTS | {"hearings.add_staffingnote"}

ROLE_PERMISSIONS: dict[Role, set[str]] = {
    Role.JUDGE: _TEAM
    | _COURT_OVERSIGHT
    | {
        "participants.decide_admission",
        "participants.change_status",
        "hearings.record_outcome",
    },
    Role.PROSECUTOR: _TEAM | _COURT_OVERSIGHT | {"participants.record_legal_screening"},
    Role.DEFENDER: _TEAM,
    Role.CLINICIAN: _TEAM
    | {
        "participants.record_clinical_screening",
        "tjp.use_api_tokens",
        "treatment.add_treatmentepisode",
        "treatment.add_treatmentsession",
        "treatment.add_medication",
        "treatment.add_progressupdate",
        "treatment.add_clinicalnote",
        "treatment.add_drugtest",
    },
    Role.COORDINATOR: _TEAM
    | {
        "participants.add_participant",
        "participants.change_participant",
        "participants.change_status",
        "participants.manage_case_plan",
        "participants.manage_consent",
        "participants.manage_legal_clock",
        "participants.view_disclosures",
        "tjp.use_api_tokens",
        "treatment.add_providerassignment",
        "treatment.change_providerassignment",
        "treatment.add_drugtest",
        "treatment.view_testselection",
        "hearings.add_hearingsession",
        "hearings.change_hearingsession",
        "hearings.schedule_docket",
        "hearings.record_outcome",
    }
    | _COURT_OVERSIGHT,
    Role.MANAGER: _SEE_PARTICIPANTS
    | _COURT_OVERSIGHT
    | {
        "tjp.change_program",
        "tjp.view_auditevent",
        "participants.view_disclosures",
        "hearings.add_responsetype",
        "hearings.change_responsetype",
        "reporting.export_reports",
        "reporting.export_evaluation",
    },
    Role.ADMINISTRATOR: _SEE_PROGRAM
    | {
        "tjp.administer_all_programs",
        "tjp.add_program",
        "tjp.change_program",
        "tjp.add_phase",
        "tjp.change_phase",
        "tjp.delete_phase",
        "tjp.view_user",
        "tjp.add_user",
        "tjp.change_user",
        "tjp.view_auditevent",
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
    },
}


def role_of(user) -> Role | None:
    """The user's role (a user holds one), or None."""
    if not user.is_authenticated:
        return None
    if not hasattr(user, "_tjp_role"):
        names = [g.name for g in user.groups.all() if g.name in Role.values]
        user._tjp_role = Role(names[0]) if names else None
    return user._tjp_role


@transaction.atomic
def sync_roles() -> None:
    """Make the role Groups hold exactly the permissions in ROLE_PERMISSIONS."""
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        perms = []
        for dotted in sorted(codenames):
            app_label, codename = dotted.split(".")
            perms.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(perms)
