"""Input fields for JSON APIs that take exactly what the OpenAPI schema says they take.

Django REST framework's fields are lenient in ways a schema cannot state: a CharField turns the
number 12 into "12", a BooleanField reads "yes", "on" and 1 as true, a UUIDField reads an integer
as a uuid, and the length of a text is checked after its surrounding spaces are trimmed. An
integrator who follows the schema never notices; one who does not gets a record that is not what
they meant. These fields refuse anything but the JSON type the schema names, and their schema
carries every rule they check (schemathesis holds the API to it: tests/api).

Text refuses control characters (NUL and the like, other than tab and line breaks): PostgreSQL
cannot store NUL, and the others are never part of an accession number, a lab's name or a
summary, but break the exports that carry them.
"""

import re
import uuid
from decimal import Decimal

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tjp.text import CONTROL_CHARACTERS

_C = CONTROL_CHARACTERS
TEXT_PATTERN = rf"^[^{_C}]*$"
SOME_TEXT_PATTERN = rf"^[^{_C}]+$"
# ...and at least one character that is not a space: what stays after trimming is not blank.
# Python's str.strip() also trims \x1c-\x1f and \x85 (excluded above as controls); ECMA-262's
# \s also takes U+FEFF, so it counts as a space here too.
NON_BLANK_TEXT_PATTERN = rf"^[^{_C}]*[^\s\ufeff{_C}][^{_C}]*$"

no_control_characters = RegexValidator(
    TEXT_PATTERN,
    message=_("Remove the control characters (such as NUL) from this text."),
    code="control_characters",
)


class TextField(serializers.CharField):
    """A JSON string, without control characters; `max_length` counts the text as sent."""

    default_error_messages = {"invalid": _("Must be a string.")}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # The pattern below covers NUL with the other controls: one message, not two.
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]
        # A text that may be blank takes "" as drf-spectacular states it: a second, empty
        # alternative (oneOf); the pattern then must not match "" as well.
        pattern = SOME_TEXT_PATTERN if self.allow_blank else NON_BLANK_TEXT_PATTERN
        self.validators.append(
            RegexValidator(
                pattern,
                message=no_control_characters.message,
                code=no_control_characters.code,
            )
        )

    def run_validation(self, data=serializers.empty):
        # The schema's maxLength counts the characters sent; DRF would count them after trimming.
        if isinstance(data, str) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().run_validation(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false: not "yes", "on", 1 or "true"."""

    default_error_messages = {"invalid": _("Must be true or false.")}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictUUIDField(serializers.UUIDField):
    """A uuid written as a JSON string (DRF would also read an integer as one)."""

    def to_internal_value(self, data):
        if not isinstance(data, str | uuid.UUID):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


# 0 to 24, at most two decimals: "1.5", "1.50", "24", "0.25".
HOURS_PATTERN = r"^(?:(?:[01]?[0-9]|2[0-3])(?:\.[0-9]{1,2})?|24(?:\.0{1,2})?)$"


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": HOURS_PATTERN, "example": "1.50"}
)
class HoursField(serializers.Field):
    """Hours of service as a decimal string, 0 to 24 with at most two decimals. A JSON number is
    refused: 0.1 + 0.2 is not 0.3 in binary floating point, and a schema cannot say "two
    decimals" about one."""

    default_error_messages = {
        "invalid": _('Give the hours as a string from "0" to "24", e.g. "1.50".'),
    }

    def to_internal_value(self, data) -> Decimal:
        if not isinstance(data, str) or not re.fullmatch(HOURS_PATTERN, data):
            self.fail("invalid")
        return Decimal(data)

    def to_representation(self, value) -> str:
        return f"{Decimal(value):.2f}"
