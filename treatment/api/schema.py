"""The OpenAPI documentation of the provider and lab endpoints: descriptions, examples of every
request and response, and the error shape."""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from tjp.api_errors import error_response, error_responses
from treatment.api.serializers import (
    BulkRequestSerializer,
    BulkResponseSerializer,
    DrugTestInSerializer,
    DrugTestSerializer,
    DrugTestSubmittedSerializer,
    ProgressUpdateInSerializer,
    ProgressUpdateSerializer,
    ProgressUpdateSubmittedSerializer,
    TreatmentSessionInSerializer,
    TreatmentSessionSerializer,
    TreatmentSessionSubmittedSerializer,
)

TAG = "Providers and labs"
PARTICIPANT_UUID = "3f0c1a52-8c1e-4d43-9a57-2f6b3b7f1d10"
LIST_DESCRIPTION = _(
    "Clinicians: the records of the participants assigned to their organisation, optionally "
    "for one participant. Court roles: `participant` is required, and provider information "
    "is listed only while the participant's consent covers it for the caller's role (each "
    "such read is logged as a disclosure, and `redisclosure_notice` is set)."
)
CREATE_DESCRIPTION = _(
    "Idempotent on `external_id`: 201 when created; 200 with status duplicate when you "
    "already sent this external id with the same content (nothing new is saved); 409 when you "
    "sent it with other content. 404 when the participant is outside your scope; 403 when you "
    "may see the participant but not record this for them."
)
PROGRESS_IN = {
    "participant": PARTICIPANT_UUID,
    "external_id": "clinic-42-pu-2025-03-14",
    "period_start": "2025-03-01",
    "period_end": "2025-03-14",
    "engagement": "good",
    "summary": "Attended every group session; engaged in individual counselling.",
    "recommendations": "Continue intensive outpatient for two more weeks.",
}
SESSION_IN = {
    "participant": PARTICIPANT_UUID,
    "external_id": "clinic-42-s-98812",
    "session_date": "2025-03-12",
    "kind": "group",
    "attendance": "attended",
    "hours": "1.50",
}
DRUG_TEST_IN = {
    "participant": PARTICIPANT_UUID,
    "external_id": "LAB-2025-000123",
    "collected_at": "2025-03-12T08:15:00-06:00",
    "method": "urine",
    "observed": True,
    "results": [
        {"substance": "cocaine", "result": "negative"},
        {"substance": "fentanyl", "result": "positive"},
    ],
    "resulted_at": "2025-03-13T14:02:00-06:00",
    "confirmation": "pending",
    "lab": "Central Toxicology",
}
MISSED_IN = {
    "participant": PARTICIPANT_UUID,
    "external_id": "LAB-2025-000124",
    "collected_at": "2025-03-13T17:00:00-06:00",
    "method": "urine",
    "missed": True,
}


def _out(example: dict, **extra) -> dict:
    body = {k: v for k, v in example.items() if k != "participant"}
    return {
        "status": "created",
        "uuid": "9b2e4c1a-7f3d-4e8b-a1c2-5d6e7f8a9b0c",
        "participant": PARTICIPANT_UUID,
        "provider": "Recovery Clinic",
        "source": "provider",
        "created_at": "2025-03-14T16:20:11.402Z",
        **body,
        **extra,
    }


PROGRESS_OUT = _out(PROGRESS_IN)
SESSION_OUT = _out(SESSION_IN)
DRUG_TEST_OUT = _out(
    DRUG_TEST_IN,
    collected_at="2025-03-12T14:15:00Z",
    resulted_at="2025-03-13T20:02:00Z",
    dilute=False,
    adulterated=False,
    missed=False,
    refused=False,
    random=False,
    counts_as_positive=True,
    turnaround_hours=29.78,
)


def _listed(item: dict) -> dict:
    """A created record as it appears in a list (drf-spectacular wraps it in a page)."""
    return {k: v for k, v in item.items() if k != "status"}


def _create_examples(name: str, request: dict, response: dict) -> list[OpenApiExample]:
    return [
        OpenApiExample(name, value=request, request_only=True),
        OpenApiExample(_("Created"), value=response, response_only=True, status_codes=["201"]),
        OpenApiExample(
            _("Already sent (nothing new saved)"),
            value={**response, "status": "duplicate"},
            response_only=True,
            status_codes=["200"],
        ),
    ]


def _invalid(details: dict) -> OpenApiResponse:
    return error_response(400, "invalid", "The request is not valid. See the details.", details)


def _list_schema(summary, item_serializer, filter_help, example: dict):
    return extend_schema(
        tags=[TAG],
        summary=summary,
        description=format_lazy("{} {}", LIST_DESCRIPTION, filter_help),
        responses={
            200: item_serializer(many=True),
            **error_responses(
                400,
                401,
                404,
                429,
                invalid=_(
                    "A filter value is not valid, or a court role did not give `participant`."
                ),
                not_found=_("No such participant within your scope, or no such page."),
            ),
        },
        examples=[OpenApiExample(_("A record"), value=_listed(example), response_only=True)],
    )


def _create_schema(summary, in_serializer, out_serializer, examples, invalid: dict):
    return extend_schema(
        tags=[TAG],
        summary=summary,
        description=CREATE_DESCRIPTION,
        request=in_serializer,
        responses={
            201: out_serializer,
            200: out_serializer,
            400: _invalid(invalid),
            **error_responses(401, 403, 404, 409, 415, 429),
        },
        examples=examples,
    )


# --- per viewset ------------------------------------------------------------------------------
progress_updates = extend_schema_view(
    list=_list_schema(
        _("List progress updates"),
        ProgressUpdateSerializer,
        _("`date_from`/`date_to`: updates whose period overlaps the range."),
        PROGRESS_OUT,
    ),
    create=_create_schema(
        _("Post a progress update"),
        ProgressUpdateInSerializer,
        ProgressUpdateSubmittedSerializer,
        _create_examples(_("A progress update"), PROGRESS_IN, PROGRESS_OUT),
        {"period_end": ["The period cannot end before it starts."]},
    ),
)
treatment_sessions = extend_schema_view(
    list=_list_schema(
        _("List session attendance"),
        TreatmentSessionSerializer,
        _("`date_from`/`date_to`: by session date."),
        SESSION_OUT,
    ),
    create=_create_schema(
        _("Post a session's attendance"),
        TreatmentSessionInSerializer,
        TreatmentSessionSubmittedSerializer,
        _create_examples(_("A group session attended"), SESSION_IN, SESSION_OUT),
        {"session_date": ["This date is in the future."]},
    ),
)

BULK_OK_EXAMPLE = {
    "summary": {
        "received": 3,
        "created": 2,
        "duplicate": 0,
        "error": 1,
        "conflict": 0,
        "not_saved": 0,
        "saved": True,
    },
    "results": [
        {
            "index": 0,
            "external_id": "LAB-2025-000123",
            "status": "created",
            "uuid": "9b2e4c1a-7f3d-4e8b-a1c2-5d6e7f8a9b0c",
        },
        {
            "index": 1,
            "external_id": "LAB-2025-000124",
            "status": "created",
            "uuid": "4c7d9e2f-1a3b-4c5d-8e9f-0a1b2c3d4e5f",
        },
        {
            "index": 2,
            "external_id": "LAB-2025-000125",
            "status": "error",
            "errors": {"results": {"0": {"substance": ['"kratom" is not a valid choice.']}}},
        },
    ],
}
BULK_CONFLICT_DETAILS = {
    "summary": {
        "received": 2,
        "created": 0,
        "duplicate": 0,
        "error": 0,
        "conflict": 1,
        "not_saved": 1,
        "saved": False,
    },
    "results": [
        {
            "index": 0,
            "external_id": "LAB-2025-000123",
            "status": "conflict",
            "errors": {
                "external_id": [
                    "External id LAB-2025-000123 was already used for different content."
                ]
            },
        },
        {"index": 1, "external_id": "LAB-2025-000126", "status": "not_saved"},
    ],
}
BULK_REJECTED_DETAILS = {
    "summary": {**BULK_OK_EXAMPLE["summary"], "created": 0, "not_saved": 2, "saved": False},
    "results": [
        {"index": 0, "external_id": "LAB-2025-000123", "status": "not_saved"},
        {"index": 1, "external_id": "LAB-2025-000124", "status": "not_saved"},
        BULK_OK_EXAMPLE["results"][2],
    ],
}


drug_tests = extend_schema_view(
    list=_list_schema(
        _("List drug test results"),
        DrugTestSerializer,
        _(
            "`date_from`/`date_to`: by day of collection in the program's time zone. Court "
            "roles see tests entered by the court team or received from a court lab always, "
            "provider-reported ones only under consent."
        ),
        DRUG_TEST_OUT,
    ),
    create=_create_schema(
        _("Post a drug test result"),
        DrugTestInSerializer,
        DrugTestSubmittedSerializer,
        [
            *_create_examples(_("A urine test"), DRUG_TEST_IN, DRUG_TEST_OUT),
            OpenApiExample(_("A missed test"), value=MISSED_IN, request_only=True),
        ],
        {"resulted_at": ["The result cannot precede the collection."]},
    ),
    bulk=extend_schema(
        tags=[TAG],
        summary=_("Post many drug test results (labs)"),
        description=_(
            "Up to API_BULK_MAX_ITEMS items (5000 by default) in one request, each checked as "
            "in the single endpoint and idempotent on its external id. Without allow_partial, "
            "all or nothing: any invalid or conflicting item and nothing is saved (400, or 409 "
            "when every problem is a conflict), with every item's status in the error details. "
            "With allow_partial, the valid items are saved and 200 lists each item's status. "
            "Too many items: 413, nothing saved. Throttled separately (scope bulk)."
        ),
        request=BulkRequestSerializer,
        responses={
            200: BulkResponseSerializer,
            400: error_response(
                400,
                "invalid",
                "Nothing was saved: 1 of 3 items are not valid or conflict with stored data. "
                "See the details.",
                BULK_REJECTED_DETAILS,
            ),
            409: error_response(
                409,
                "conflict",
                "Nothing was saved: 1 of 2 items are not valid or conflict with stored data. "
                "See the details.",
                BULK_CONFLICT_DETAILS,
            ),
            413: error_response(
                413,
                "too_many_items",
                "At most 5000 items per batch; this one has 6000. Nothing was saved.",
                None,
            ),
            **error_responses(401, 403, 415, 429),
        },
        examples=[
            OpenApiExample(
                _("Two results, all or nothing"),
                value={"items": [DRUG_TEST_IN, MISSED_IN], "allow_partial": False},
                request_only=True,
            ),
            OpenApiExample(_("Partial batch saved"), value=BULK_OK_EXAMPLE, response_only=True),
        ],
    ),
)
