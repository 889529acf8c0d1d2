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
