"""What the OpenAPI schema says about every operation at once (drf-spectacular postprocessing
hooks, listed in SPECTACULAR_SETTINGS)."""

from typing import Any


def empty_query_values_are_absent(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every optional query parameter may be sent empty, and then it is as if it were not sent:
    django-filter skips an empty filter, Django REST framework reads `page=` as the first page,
    and the treatment lists read `participant=` as no participant. An HTML form sends its empty
    fields that way, so the API keeps the convention; the schema says so, or an empty `date_to`
    would look like a malformed date that the API fails to refuse."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result


# Refusals that any operation may give, whatever its own serializers say: a query string with
# control characters (tjp.middleware), and a browser session that has not passed the second
# factor (tjp.signin).
ANY_OPERATION = {
    "400": "The query string holds control characters (such as NUL), or the request is invalid.",
    "403": "The browser session has not passed the second factor, or the role may not do this.",
}


def any_operation_may_refuse(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Document, on every operation, the refusals the middleware gives before any view runs."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in ANY_OPERATION.items():
                responses.setdefault(status, {"content": error, "description": description})
    return result
