"""The evaluation extract for independent evaluators: /reports/evaluation/ (managers only).

GET shows the form; POST streams the de-identified CSV (and records the export). The data
dictionary downloads as Markdown (docs/evaluation.md) or CSV (from reporting.evaluation).
"""

import csv
import io
import re

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import RegexValidator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from reporting.evaluation import (
    MIN_CELL_DEFAULT,
    MIN_CELL_FLOOR,
    dictionary_header,
    dictionary_rows,
    evaluation_extract,
    normalise_evaluator,
)
from reporting.params import check_period, period_field
from tjp.access import can, get_program_for_user, programs_visible_to
from tjp.db_routers import reading_from_replica
from tjp.forms import StyledForm, attach_errors

PERM = "reporting.export_evaluation"
DICTIONARY_MD = settings.BASE_DIR / "docs" / "evaluation.md"


class EvaluationForm(StyledForm):
    programs = forms.MultipleChoiceField(label=_("Programs"), widget=forms.CheckboxSelectMultiple)
    evaluator = forms.CharField(
        label=_("Evaluator label"),
        max_length=60,
        validators=[
            RegexValidator(
                r"^[a-z0-9][a-z0-9._-]*$",
                _("Use letters, digits, dots, hyphens and underscores."),
                flags=re.IGNORECASE,  # lower-cased afterwards: "CCI" is "cci"
            )
        ],
        help_text=_(
            "Names the evaluator, e.g. “cci-2025”. The same label gives the same pseudonymous "
            "ids in every extract; another label gives other ids."
        ),
    )
    start = period_field(
        "start",
        label=pgettext_lazy("start of a period", "Admitted from"),
        help_text=_("Blank: from the first referral."),
    )
    end = period_field(
        "end",
        label=pgettext_lazy("end of a period", "Admitted until"),
        help_text=_("Blank: to today. Referrals never admitted count by their referral date."),
    )
    min_cell = forms.IntegerField(
        label=_("Smallest cell"),
        min_value=MIN_CELL_FLOOR,
        initial=MIN_CELL_DEFAULT,
        help_text=_(
            "A category held by fewer people than this in the extract is written as “suppressed”."
        ),
    )
    include_treatment = forms.BooleanField(
        label=_("Include treatment-provider counts"),
        required=False,
        help_text=_(
            "Treatment sessions and provider-reported tests are 42 CFR Part 2 information: tick "
            "only under the program's research decision (see the data dictionary)."
        ),
    )

    def __init__(self, data, *, programs):
        super().__init__(data, initial={"programs": [str(p.uuid) for p in programs]})
        self.fields["programs"].choices = [(str(p.uuid), p.name) for p in programs]

    def clean_evaluator(self):
        return normalise_evaluator(self.cleaned_data["evaluator"])

    def clean(self):
        data = super().clean()
        check_period(data.get("start"), data.get("end"))
        return data


@require_http_methods(["GET", "POST"])
def evaluation_extract_page(request):
    user = request.user
    if not can(user, PERM):
        raise PermissionDenied
    # Another program's id is a 404, as everywhere: never a form error that confirms it exists.
    chosen = {
        program.pk: program
        for program in (
            get_program_for_user(user, value, perm=PERM)
            for value in request.POST.getlist("programs")
        )
    }
    data = request.POST if request.method == "POST" else None
    form = EvaluationForm(data, programs=programs_visible_to(user))
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            with reading_from_replica():
                extract = evaluation_extract(
                    acting_user=user,
                    programs=list(chosen.values()),
                    evaluator=data["evaluator"],
                    start=data["start"],
                    end=data["end"],
                    min_cell=data["min_cell"],
                    include_treatment=data["include_treatment"],
                    request=request,
                )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            response = StreamingHttpResponse(
                extract.csv_chunks(), content_type="text/csv; charset=utf-8"
            )
            name = f"evaluation-{extract.evaluator}-{min(extract.as_of.values())}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    status = 400 if form.is_bound else 200
    return render(request, "reporting/evaluation.html", {"form": form}, status=status)


@require_GET
def evaluation_dictionary(request, fmt: str):
    if not can(request.user, PERM):
        raise PermissionDenied
    if fmt == "md":
        response = HttpResponse(
            DICTIONARY_MD.read_text(encoding="utf-8"), content_type="text/markdown; charset=utf-8"
        )
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(dictionary_header())
        writer.writerows(dictionary_rows())
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="evaluation-dictionary.{fmt}"'
    return response


urlpatterns = [
    path("evaluation/", evaluation_extract_page, name="evaluation_extract"),
    path(
        "evaluation/dictionary.md",
        evaluation_dictionary,
        {"fmt": "md"},
        name="evaluation_dictionary_md",
    ),
    path(
        "evaluation/dictionary.csv",
        evaluation_dictionary,
        {"fmt": "csv"},
        name="evaluation_dictionary_csv",
    ),
]
