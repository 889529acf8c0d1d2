from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from participants import services
from participants.access import (
    can_see_contact,
    get_participant_for_user,
    participants_visible_to,
    people_visible_to,
)
from participants.actions import ACTIONS, available, run_action
from participants.disclosures import (
    ACCOUNTING_YEARS,
    REDISCLOSURE_NOTICE,
    disclosures_of,
    disclosures_pdf,
)
from participants.filters import RosterFilter
from participants.forms import ChargeFormSet, PersonForm, ReferralForm
from participants.models import Case, InformationCategory, Person
from participants.search import people_matching, possible_duplicates
from participants.timeline import timeline
from tjp import audit, clock
from tjp.access import can, programs_visible_to
from tjp.clock import program_today
from tjp.forms import attach_errors
from tjp.models import AuditEvent

PAGE_SIZE = 25


DISCLOSURES_PERM = "participants.view_disclosures"


@require_GET
def participant_disclosures(request, participant_uuid):
    """The accounting of disclosures (42 CFR 2.24/2.25), for the program's coordinators and
    managers; the reading is itself audited."""
    participant = get_participant_for_user(request.user, participant_uuid, perm=DISCLOSURES_PERM)
    rows = disclosures_of(participant)
    audit.record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        obj=participant,
        program=participant.program,
        participant_uuid=participant.uuid,
        request=request,
        detail={"page": "disclosures", "count": len(rows)},
    )
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    context = {
        "participant": participant,
        "page": page,
        "years": ACCOUNTING_YEARS,
        "notice": REDISCLOSURE_NOTICE,
    }
    with clock.program_zone(participant.program):
        return render(request, "participants/disclosures.html", context)


@require_GET
def participant_disclosures_pdf(request, participant_uuid):
    participant = get_participant_for_user(request.user, participant_uuid, perm=DISCLOSURES_PERM)
    rows = disclosures_of(participant)
    audit.record(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        obj=participant,
        program=participant.program,
        participant_uuid=participant.uuid,
        request=request,
        detail={"report": "disclosures", "format": "pdf", "count": len(rows)},
    )
    response = HttpResponse(disclosures_pdf(participant, rows), content_type="application/pdf")
    today = program_today(participant.program)
    filename = f"disclosures-{participant.program.code}-{participant.uuid}-{today:%Y-%m-%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _ordered(filters: RosterFilter):
    """A name search comes ranked, best match first; otherwise the roster is by name."""
    qs = filters.qs  # validates the form
    if filters.form.cleaned_data.get("q"):
        return qs
    return qs.order_by("person__last_name", "person__first_name", "pk")


@require_GET
def roster(request):
    visible = participants_visible_to(request.user)
    filters = RosterFilter(
        request.GET,
        queryset=visible.select_related("person", "program", "phase", "judge", "defender"),
        visible=visible,
        user=request.user,
    )
    page = Paginator(
        _ordered(filters),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    audit.record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        request=request,
        detail={"roster": [str(p.uuid) for p in page]},
    )
    template = "participants/roster.html#results" if request.htmx else "participants/roster.html"
    return render(
        request,
        template,
        {
            "filters": filters,
            "page": page,
            "can_refer": can(request.user, "participants.add_participant"),
        },
    )


def referral_new(request):
    if not can(request.user, "participants.add_participant"):
        raise PermissionDenied
    query = request.GET.get("q", "").strip()
    known = people_visible_to(request.user)
    matches = people_matching(query, known)[:20] if query else []
    person = None
    if person_uuid := request.GET.get("person") or request.POST.get("person"):
        try:
            person = known.get(uuid=person_uuid)
        except (Person.DoesNotExist, ValidationError) as exc:
            raise Http404 from exc
    data = request.POST if request.method == "POST" else None
    person_form = None if person else PersonForm(data, prefix="person")
    form = ReferralForm(data)
    form.fields["program"] = _program_field(request.user)
    charges = ChargeFormSet(data, prefix="charges")
    duplicates = []
    if data and form.is_valid() and charges.is_valid() and (person or person_form.is_valid()):
        if person is None:
            duplicates = list(
                possible_duplicates(
                    first_name=person_form.cleaned_data["first_name"],
                    last_name=person_form.cleaned_data["last_name"],
                    date_of_birth=person_form.cleaned_data["date_of_birth"],
                    within=known,
                )
            )
        if duplicates and not form.cleaned_data["confirm_new_person"]:
            form.add_error(
                None,
                _(
                    "Possible duplicates found. Choose one of them, or confirm "
                    "that this is a different person."
                ),
            )
        else:
            try:
                participant = _create_referral(request, form, person, person_form, charges)
            except ValidationError as exc:
                attach_errors(person_form if _names_person_field(exc) else form, exc)
            else:
                messages.success(request, _("Referral registered."))
                return redirect("participant_detail", participant_uuid=participant.uuid)
    return render(
        request,
        "participants/referral_new.html",
        {
            "query": query,
            "matches": matches,
            "person": person,
            "person_form": person_form,
            "form": form,
            "charges": charges,
            "duplicates": duplicates,
        },
    )


def _program_field(user):
    from django import forms

    return forms.ModelChoiceField(
        label=_("Program"), queryset=programs_visible_to(user), to_field_name="uuid"
    )


def _names_person_field(exc: ValidationError) -> bool:
    return hasattr(exc, "error_dict") and "date_of_birth" in exc.error_dict


def _create_referral(request, form, person, person_form, charges):
    data = form.cleaned_data
    return services.referral_create(
        acting_user=request.user,
        program=data["program"],
        person=person,
        person_data=person_form.cleaned_data if person is None else None,
        referral={
            k: data[k]
            for k in ("referred_on", "referral_source", "arrest_date", "primary_substance")
        },
        cases=[
            {
                "case_number": data["case_number"],
                "court": data["court"],
                "charges": [c for c in charges.cleaned_data if c.get("description")],
            }
        ],
        request=request,
    )


@require_GET
def participant_detail(request, participant_uuid):
    participant = get_participant_for_user(request.user, participant_uuid)
    audit.record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        obj=participant,
        program=participant.program,
        participant_uuid=participant.uuid,
        request=request,
    )
    facts = _facts(participant)
    context = {
        "participant": participant,
        "person": participant.person,
        **facts,
        "timeline": timeline(participant, prefetched=facts),
        "actions": available(request.user, participant),
        "can_act": {name for name, a in ACTIONS.items() if request.user.has_perm(a.perm)},
        "show_contact": can_see_contact(request.user),
        "consent_coverage": _consent_coverage(facts["consents"], participant),
        "term": facts["term"],
        "term_warning": facts["term"] is not None and services.term_needs_warning(facts["term"]),
        "today": program_today(participant.program),
    }
    with clock.program_zone(participant.program):
        return render(request, "participants/detail.html", context)


def _facts(participant):
    """Everything the page shows, one query per kind of fact."""
    p = participant
    term = getattr(p, "legal_term", None) if hasattr(p, "legal_term") else None
    plan = getattr(p, "restitution_plan", None) if hasattr(p, "restitution_plan") else None
    decisions = list(p.screening_decisions.select_related("created_by"))
    assessments = list(p.assessments.select_related("created_by"))
    for a in assessments:
        a.fits_policy = services.assessment_fits_policy(a, p.program)
    return {
        "cases": list(Case.objects.filter(participant=p).prefetch_related("charges")),
        "decisions": decisions,
        "assessments": assessments,
        "status_changes": list(p.status_changes.select_related("created_by")),
        "phase_changes": list(
            p.phase_changes.select_related("created_by", "from_phase", "to_phase")
        ),
        "consents": list(
            p.consents.select_related("created_by", "document").prefetch_related(
                "recipient_organisations"
            )
        ),
        "documents": list(p.documents.select_related("created_by")),
        "goals": list(p.goals.select_related("created_by")),
        "services": list(p.service_referrals.select_related("created_by")),
        "arrests": list(p.new_arrests.select_related("created_by")),
        "term": term,
        "interruptions": list(term.interruptions.all()) if term else [],
        "plan": plan,
        "payments": list(plan.payments.all()) if plan else [],
    }


def _consent_coverage(consents, participant):
    today = program_today(participant.program)
    live = [c for c in consents if c.is_live(today)]
    return [
        (label, any(value in c.categories for c in live))
        for value, label in InformationCategory.choices
    ]


def participant_action(request, participant_uuid, action):
    return run_action(
        request,
        participant_uuid,
        action,
        registry=ACTIONS,
        back="participant_detail",
        template="participants/action.html",
    )


@require_GET
def document_download(request, participant_uuid, document_uuid):
    participant = get_participant_for_user(request.user, participant_uuid)
    try:
        document = get_object_or_404(participant.documents, uuid=document_uuid)
    except ValidationError as exc:
        raise Http404 from exc
    audit.record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        obj=document,
        program=participant.program,
        participant_uuid=participant.uuid,
        request=request,
    )
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
