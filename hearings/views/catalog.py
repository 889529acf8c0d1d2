"""A program's catalog of responses: everyone who sees the program's hearings reads it; program
managers add entries, edit them and take them out of use (through `response_type_save`)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hearings import services
from hearings.models import ResponseKind, ResponseType, Unit
from tjp.access import can, get_program_for_user
from tjp.forms import StyledForm, attach_errors

VIEW = "hearings.view_hearingsession"
ADD = "hearings.add_responsetype"
CHANGE = "hearings.change_responsetype"


class ResponseTypeForm(StyledForm):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=ResponseKind.choices)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    unit = forms.ChoiceField(
        label=gettext_lazy("Magnitude in"), choices=Unit.choices, required=False
    )


class ResponseTypeEditForm(ResponseTypeForm):
    active = forms.BooleanField(label=gettext_lazy("In use"), required=False)


def _response_type(program, type_uuid) -> ResponseType:
    try:
        return program.response_types.get(uuid=type_uuid)
    except (ResponseType.DoesNotExist, ValidationError) as exc:
        raise Http404 from exc


def _save(request, program, form, response_type=None) -> bool:
    """The form's values through the service; its refusals shown on the form."""
    data = form.cleaned_data
    try:
        services.response_type_save(
            acting_user=request.user,
            program=program,
            kind=data["kind"],
            name=data["name"],
            unit=data["unit"],
            active=data.get("active", True),
            response_type=response_type,
            request=request,
        )
    except ValidationError as exc:
        attach_errors(form, exc)
        return False
    return True


def response_catalog(request, program_uuid):
    program = get_program_for_user(request.user, program_uuid, perm=VIEW)
    can_add = can(request.user, ADD)
    if request.method == "POST" and not can_add:
        raise PermissionDenied
    form = ResponseTypeForm(request.POST or None) if can_add else None
    if request.method == "POST" and form.is_valid() and _save(request, program, form):
        messages.success(request, _("Added to the catalog."))
        return redirect("response_catalog", program_uuid=program.uuid)
    context = {
        "program": program,
        "types": program.response_types.all(),
        "form": form,
        "can_change": can(request.user, CHANGE),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "hearings/catalog.html", context, status=status)


def response_type_edit(request, program_uuid, type_uuid):
    program = get_program_for_user(request.user, program_uuid, perm=CHANGE)
    response_type = _response_type(program, type_uuid)
    initial = {f: getattr(response_type, f) for f in ("kind", "name", "unit", "active")}
    form = ResponseTypeEditForm(request.POST or None, initial=initial)
    if (
        request.method == "POST"
        and form.is_valid()
        and _save(request, program, form, response_type)
    ):
        messages.success(request, _("Catalog entry saved."))
        return redirect("response_catalog", program_uuid=program.uuid)
    context = {"program": program, "response_type": response_type, "form": form}
    status = 400 if request.method == "POST" else 200
    return render(request, "hearings/catalog_edit.html", context, status=status)


@require_POST
def response_type_toggle(request, program_uuid, type_uuid):
    """Take an entry out of use (it stays on the responses already given), or back in."""
    program = get_program_for_user(request.user, program_uuid, perm=CHANGE)
    response_type = _response_type(program, type_uuid)
    try:
        services.response_type_save(
            acting_user=request.user,
            program=program,
            kind=response_type.kind,
            name=response_type.name,
            unit=response_type.unit,
            active=not response_type.active,
            response_type=response_type,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if response_type.active:
            messages.success(request, _("“%(name)s” is back in use.") % {"name": response_type})
        else:
            messages.success(
                request, _("“%(name)s” is no longer in use.") % {"name": response_type}
            )
    return redirect("response_catalog", program_uuid=program.uuid)


urlpatterns = [
    path("programs/<uuid:program_uuid>/responses/", response_catalog, name="response_catalog"),
    path(
        "programs/<uuid:program_uuid>/responses/<uuid:type_uuid>/",
        response_type_edit,
        name="response_type_edit",
    ),
    path(
        "programs/<uuid:program_uuid>/responses/<uuid:type_uuid>/toggle/",
        response_type_toggle,
        name="response_type_toggle",
    ),
]
