"""The provider and lab API: progress updates, session attendance and drug test results, one at a
time or in bulk, scoped exactly like the UI.

Reads: a clinician lists the records of the participants their organisation treats; a court
role lists one participant at a time. Both read through the consent gate
(treatment.access.provider_gate): another organisation's records, and any provider's for the
court team, only under a consent, each page's disclosures logged. Clinical notes have no
endpoint at all.

Writes go through the treatment services (never `serializer.save()`), which make a submission
idempotent on the client's external id. A participant outside the caller's scope is a 404; one
the caller may see but not record for is a 403.
"""

from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle

from participants.access import get_participant_for_user
from participants.disclosures import REDISCLOSURE_NOTICE_EN
from participants.models import Participant
from tjp import audit
from tjp.models import AuditEvent
from treatment import services
from treatment.access import (
    get_treatment_participant_for_user,
    is_clinician,
    provider_gate,
    treatment_participants_visible_to,
)

# Importing a submodule binds its name in this package: never use `serializers` or `filters`
# here for DRF's or django-filter's modules (treatment.api.serializers and .filters win).
from treatment.api import schema
from treatment.api.bulk import respond as bulk_respond
from treatment.api.errors import submit
from treatment.api.filters import DrugTestFilter, ProgressUpdateFilter, TreatmentSessionFilter
from treatment.api.serializers import (
    DrugTestInSerializer,
    DrugTestSerializer,
    ProgressUpdateInSerializer,
    ProgressUpdateSerializer,
    TreatmentSessionInSerializer,
    TreatmentSessionSerializer,
    drug_test_arguments,
)
from treatment.models import DrugTest, ProgressUpdate, TreatmentSession


# --- access ----------------------------------------------------------------------------------
def _participant_for_recording(user, participant_uuid: UUID, perm: str) -> Participant:
    """404 outside the caller's scope; 403 when the caller may see the participant but not
    record for them: their role lacks `perm`, or they are a clinician whose organisation does
    not treat the participant."""
    participant = get_participant_for_user(user, participant_uuid, perm=perm)
    if is_clinician(user):
        try:
            services.provider_for(user, participant)
        except DjangoValidationError as exc:
            raise exceptions.PermissionDenied(" ".join(exc.messages)) from exc
    return participant


# --- lists and submissions -------------------------------------------------------------------
class RecordPagination(PageNumberPagination):
    """Django REST framework's pages, plus the 42 CFR 2.32 notice when the page carries
    provider information disclosed to a court role under a consent."""

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["redisclosure_notice"] = {
            "type": "string",
            "nullable": True,
            "example": None,
            "description": str(
                _(
                    "Set when the page carries provider information disclosed to a court role "
                    "under the participant's consent: it must accompany any further use."
                )
            ),
        }
        return schema


class _ReportedViewSet(viewsets.GenericViewSet):
    """List (scoped, consent-gated for court roles) and create (through a service)."""

    model: type
    section: str  # the TreatmentRecord attribute holding these records
    ordering: tuple[str, ...]
    add_perm: str  # the role permission to record one (scope still decides for whom)
    input_serializer_class: type[Serializer]
    parser_classes = [JSONParser]
    filter_backends = [DjangoFilterBackend]
    pagination_class = RecordPagination
    throttle_scope = None  # set by the bulk action
    participant: Participant | None = None  # the `participant` filter, once resolved
    _scoped: QuerySet | None = None

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        # Once per request: for a court role, reading is a disclosure (logged), and the
        # browsable API asks for the queryset a second time.
        if self._scoped is None:
            self._scoped = self._scope()
        return self._scoped.all()

    def _scope(self) -> QuerySet:
        user = self.request.user
        # An empty value is no filter, as for every filter of the API.
        participant_uuid = self.request.query_params.get("participant") or None
        if participant_uuid is not None:
            self.participant = get_treatment_participant_for_user(user, participant_uuid)
            participants = [self.participant]
        elif is_clinician(user):
            participants = treatment_participants_visible_to(user)
        else:
            raise exceptions.ValidationError(
                {"participant": [_("Court roles list one participant at a time.")]}
            )
        self.gate = provider_gate(user, participants, [self.section])
        return (
            self.gate.filter(self.section)
            .select_related("participant__program", "provider")
            .order_by(*self.ordering)
        )

    def list(self, request, *args, **kwargs) -> Response:
        # Bad filter values are refused before the record is read (and a disclosure logged).
        filterset = self.filterset_class(
            data=request.query_params, queryset=self.model.objects.none()
        )
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = self.get_serializer(page, many=True).data
        response = self.get_paginated_response(data)
        disclosed = self.gate.disclose(
            {self.section: page},
            participants={obj.participant_id: obj.participant for obj in page},
            request=request,
        )
        response.data["redisclosure_notice"] = REDISCLOSURE_NOTICE_EN if disclosed else None
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.VIEW,
            program=self.participant.program if self.participant else None,
            participant_uuid=self.participant.uuid if self.participant else None,
            request=request,
            detail={"list": len(data), "records": self.section},
        )
        return response

    def create(self, request, *args, **kwargs) -> Response:
        serializer = self.input_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        participant = _participant_for_recording(
            request.user, data.pop("participant"), self.add_perm
        )
        submission = submit(lambda: self.record(participant, data))
        body = {
            "status": "created" if submission.created else "duplicate",
            **self.get_serializer(submission.obj).data,
        }
        return Response(body, status=201 if submission.created else 200)

    def record(self, participant: Participant, data: dict[str, Any]) -> services.Submission:
        raise NotImplementedError


# --- the endpoints ---------------------------------------------------------------------------
@schema.progress_updates
class ProgressUpdateViewSet(_ReportedViewSet):
    """Progress updates: summaries a provider writes for the court team."""

    model = ProgressUpdate
    section = "progress_updates"
    ordering = ("-period_end", "-created_at", "-pk")
    add_perm = "treatment.add_progressupdate"
    serializer_class = ProgressUpdateSerializer
    input_serializer_class = ProgressUpdateInSerializer
    filterset_class = ProgressUpdateFilter

    def record(self, participant, data):
        return services.progress_update_record(
            acting_user=self.request.user, participant=participant, request=self.request, **data
        )


@schema.treatment_sessions
class TreatmentSessionViewSet(_ReportedViewSet):
    """Session attendance: the units of service."""

    model = TreatmentSession
    section = "sessions"
    ordering = ("-session_date", "-created_at", "-pk")
    add_perm = "treatment.add_treatmentsession"
    serializer_class = TreatmentSessionSerializer
    input_serializer_class = TreatmentSessionInSerializer
    filterset_class = TreatmentSessionFilter

    def record(self, participant, data):
        return services.session_record(
            acting_user=self.request.user, participant=participant, request=self.request, **data
        )


@schema.drug_tests
class DrugTestViewSet(_ReportedViewSet):
    """Drug and alcohol tests, one at a time or in bulk from a lab."""

    model = DrugTest
    section = "drug_tests"
    ordering = ("-collected_at", "-pk")
    add_perm = "treatment.add_drugtest"
    serializer_class = DrugTestSerializer
    input_serializer_class = DrugTestInSerializer
    filterset_class = DrugTestFilter

    def _scope(self) -> QuerySet:
        return super()._scope().prefetch_related("results")

    def record(self, participant, data):
        return services.drug_test_record(
            acting_user=self.request.user,
            participant=participant,
            request=self.request,
            **drug_test_arguments(data),
        )

    @action(
        detail=False,
        methods=["post"],
        throttle_classes=[UserRateThrottle, ScopedRateThrottle],
        throttle_scope="bulk",
    )
    def bulk(self, request) -> Response:
        if not request.user.has_perm(self.add_perm):
            raise exceptions.PermissionDenied
        return bulk_respond(request)
