"""Hearing-frequency compliance of a program: /hearings/compliance/?program=&from=&to=."""

from datetime import timedelta

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET

from hearings.compliance import hearing_compliance
from participants.access import participants_visible_to
from tjp import audit
from tjp.access import can, get_program_for_user, programs_visible_to
from tjp.clock import program_today
from tjp.forms import StyledForm
from tjp.models import AuditEvent

PERM = "hearings.view_compliance"
DEFAULT_DAYS = 90


class PeriodForm(StyledForm):
    """The program and the period, in the program's own days (both ends inclusive)."""

    program = forms.ChoiceField(label=gettext_lazy("Program"), required=False)
    start = forms.DateField(
        label=pgettext_lazy("start of a period", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Default: 90 days before the end."),
    )
    end = forms.DateField(
        label=pgettext_lazy("end of a period", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Default: today."),
    )
    # The query string says ?from=&to= (Python keywords, so not attribute names).
    PARAMETERS = {"start": "from", "end": "to"}

    def __init__(self, data, *, programs, today):
        super().__init__(data)
        self.fields["program"].choices = [(str(p.uuid), p.name) for p in programs]
        self.today = today

    def add_prefix(self, field_name: str) -> str:
        return self.PARAMETERS.get(field_name, field_name)

    def clean(self):
        data = super().clean()
        data["end"] = data.get("end") or self.today
        data["start"] = data.get("start") or data["end"] - timedelta(days=DEFAULT_DAYS - 1)
        if data["start"] > data["end"]:
            raise ValidationError(_("The start of the period cannot follow its end."))
        return data


@require_GET
def compliance(request):
    user = request.user
    if not can(user, PERM):
        raise PermissionDenied
    chosen = request.GET.get("program") or next(
        (str(p.uuid) for p in programs_visible_to(user)), None
    )
    if chosen is None:
        raise Http404
    program = get_program_for_user(user, chosen, perm=PERM)
    today = program_today(program)
    form = PeriodForm(
        {**request.GET.dict(), "program": str(program.uuid)},
        programs=programs_visible_to(user),
        today=today,
    )
    if not form.is_valid():
        context = {"program": program, "form": form, "report": None}
        return render(request, "hearings/compliance.html", context, status=400)
    report = hearing_compliance(
        program, start=form.cleaned_data["start"], end=form.cleaned_data["end"], today=today
    )
    visible = set(
        participants_visible_to(user)
        .filter(pk__in=[d.participant.pk for d in report.overdue])
        .values_list("pk", flat=True)
    )
    overdue = [(d, report.days_overdue(d)) for d in report.overdue if d.participant.pk in visible]
    audit.record(
        actor=user,
        action=AuditEvent.Action.VIEW,
        program=program,
        request=request,
        detail={
            "hearing_compliance": [str(report.start), str(report.end)],
            "participants": [str(d.participant.uuid) for d, _days in overdue],
        },
    )
    context = {"program": program, "form": form, "report": report, "overdue": overdue}
    return render(request, "hearings/compliance.html", context)


urlpatterns = [path("compliance/", compliance, name="hearing_compliance")]
