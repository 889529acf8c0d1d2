"""What text TJP accepts from anyone: no control characters.

PostgreSQL cannot store NUL at all, and the other controls are never part of a name, a note,
an accession number or a search, but break the pages, PDFs and exports that carry them. Tab and
line breaks are ordinary text. The rule is enforced for every request's query string and form
body (tjp.middleware) and for every JSON text field of the API (tjp.api_fields).
"""

import re

# C0 controls other than tab, line feed and carriage return; DEL; C1 controls. Written for both
# Python's `re` and the ECMA-262 regular expressions of JSON Schema.
CONTROL_CHARACTERS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
HAS_CONTROL_CHARACTER = re.compile(f"[{CONTROL_CHARACTERS}]")
