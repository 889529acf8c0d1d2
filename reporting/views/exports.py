"""/reports/exports/: ask for an export, watch it being built, download it (managers only;
each person sees and downloads only their own)."""

from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from reporting import exports
from reporting.models import ReportExport
from reporting.params import check_period, period_field
from tjp.access import can, programs_visible_to
from tjp.forms import StyledForm, attach_errors

LISTED = 50  # the user's latest exports shown on the page


class ExportForm(StyledForm):
    kind = forms.ChoiceField(label=gettext_lazy("Report"))
    format = forms.ChoiceField(label=gettext_lazy("Format"), widget=forms.RadioSelect)
    program = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Programs"),
        queryset=None,
        to_field_name="uuid",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: all your programs."),
    )
    start = period_field("start")
    end = period_field(
        "end", help_text=gettext_lazy("Measure tables only. Default: the 12 months ending today.")
    )

    def __init__(self, data=None, *, user):
        # The params keep the query-string shape of reporting.params (program, from, to).
        super().__init__(data, initial={"kind": "roster", "format": "xlsx"})
        self.fields["kind"].choices = [(k.key, k.label) for k in exports.KINDS.values()]
        self.fields["format"].choices = [(f.key, f.label) for f in exports.FORMATS.values()]
        self.fields["program"].queryset = programs_visible_to(user).order_by("name")

    def clean(self):
        data = super().clean()
        check_period(data.get("start"), data.get("end"))
        return data

    def params(self) -> dict:
        data = self.cleaned_data
        params = {"program": [str(p.uuid) for p in data["program"]]}
        for key, field in (("from", "start"), ("to", "end")):
            if data.get(field):
                params[key] = data[field].isoformat()
        return params


def _check(user) -> None:
    if not can(user, exports.PERM):
        raise PermissionDenied


def _own_export(user, export_uuid: UUID) -> ReportExport:
    """The user's own export; anyone else's is not found."""
    try:
        export = ReportExport.objects.select_related("program").get(uuid=export_uuid, user=user)
    except ReportExport.DoesNotExist as exc:
        raise Http404 from exc
    return _labelled(user, [export])[0]


def _labelled(user, rows: list[ReportExport]) -> list[ReportExport]:
    names = {str(p.uuid): p.name for p in programs_visible_to(user)}
    for export in rows:
        kind = exports.KINDS.get(export.kind)
        fmt = exports.FORMATS.get(export.format)
        export.kind_label = kind.label if kind else export.kind
        export.format_label = fmt.label if fmt else export.format
        wanted = export.params.get("program") or []
        export.programs_label = (
            ", ".join(names.get(str(u), "?") for u in wanted) if wanted else _("All your programs")
        )
    return rows


def _time_zone(user) -> str:
    first = programs_visible_to(user).order_by("name").first()
    return first.time_zone if first else "UTC"


def report_exports(request):
    _check(request.user)
    form = ExportForm(request.POST if request.method == "POST" else None, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            exports.export_request(
                user=request.user,
                kind=data["kind"],
                format=data["format"],
                params=form.params(),
                request=request,
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("Export requested. It is listed below until it is ready."))
            return redirect("report_exports")
    mine = list(ReportExport.objects.filter(user=request.user).select_related("program")[:LISTED])
    return render(
        request,
        "reporting/exports.html",
        {
            "form": form,
            "exports": _labelled(request.user, mine),
            "time_zone": _time_zone(request.user),
            "retention_days": exports.RETENTION_DAYS,
        },
    )


@require_GET
def report_export_status(request, export_uuid):
    """One row of the list, polled by htmx while the export is queued or running."""
    _check(request.user)
    export = _own_export(request.user, export_uuid)
    context = {"export": export, "time_zone": _time_zone(request.user)}
    return render(request, "reporting/exports.html#export_row", context)


@require_GET
def report_export_download(request, export_uuid):
    _check(request.user)
    export = _own_export(request.user, export_uuid)
    if export.status != ReportExport.Status.READY or not export.file:
        raise Http404
    # Streamed from the storage through this view, never a redirect to the bucket: the file is
    # the owner's alone, and its download is recorded.
    try:
        stored = exports.export_open(export)
    except FileNotFoundError as exc:
        raise Http404 from exc
    exports.export_downloaded(export=export, request=request)
    return FileResponse(
        stored,
        as_attachment=True,
        filename=export.filename,
        content_type=exports.FORMATS[export.format].content_type,
    )


urlpatterns = [
    path("exports/", report_exports, name="report_exports"),
    path("exports/<uuid:export_uuid>/", report_export_status, name="report_export_status"),
    path(
        "exports/<uuid:export_uuid>/download/",
        report_export_download,
        name="report_export_download",
    ),
]
