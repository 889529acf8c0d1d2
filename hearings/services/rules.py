"""Small rules the hearings services share."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext as _

from participants.models import Status
from tjp import clock
from tjp.access import check_grantee
from tjp.models import AuditEvent, Program, User
from tjp.roles import Role

A = AuditEvent.Action
MAX_SERIES_SESSIONS = 156  # three years of weekly sessions
# Who can be put on a docket by "schedule everyone due": in the program and able to appear.
SCHEDULABLE_STATUSES = [Status.ACTIVE, Status.PENDING_TERMINATION, Status.IN_CUSTODY]


def _when(moment: datetime, program: Program) -> str:
    return formats.date_format(clock.local(moment, program), "SHORT_DATETIME_FORMAT")


def venue_of(program: Program, courtroom: str) -> str:
    """The courtroom as a place: the same room name in another courthouse is another room."""
    return f"{' '.join(program.jurisdiction.split()).casefold()}|{courtroom.casefold()}"


def _clean_courtroom(courtroom: str) -> str:
    courtroom = " ".join((courtroom or "").split())
    if not courtroom:
        raise ValidationError({"courtroom": _("This field is required.")})
    return courtroom


def _check_judge(judge: User, program: Program) -> None:
    check_grantee(judge, program, Role.JUDGE, "judge")
