"""Every write about treatment and testing. Services take the acting user, are atomic and
audited; submissions carrying a client's external id are idempotent (the same item sent twice
creates nothing new; the same id with different content is a conflict).

One module per subject; callers import from here (`from treatment import services`)."""

from treatment.services.drug_tests import (
    TEST_FIELDS,
    TestOutcome,
    drug_test_record,
    drug_tests_record,
)
from treatment.services.providers import (
    provider_add_clinician,
    provider_assign,
    provider_create,
    provider_for,
    provider_unassign,
)
from treatment.services.records import (
    clinical_note_record,
    episode_record,
    medication_record,
    progress_update_record,
    session_record,
)
from treatment.services.rules import (
    CONFLICT,
    EXCUSING_STATUSES,
    TESTED_STATUSES,
)
from treatment.services.selection import (
    in_program,
    missed_tests_convert,
    selection_call_in,
    selection_notify,
    selection_run,
)
from treatment.services.submission import (
    Submission,
)

__all__ = [
    "CONFLICT",
    "EXCUSING_STATUSES",
    "TESTED_STATUSES",
    "TEST_FIELDS",
    "Submission",
    "TestOutcome",
    "clinical_note_record",
    "drug_test_record",
    "drug_tests_record",
    "episode_record",
    "in_program",
    "medication_record",
    "missed_tests_convert",
    "progress_update_record",
    "provider_add_clinician",
    "provider_assign",
    "provider_create",
    "provider_for",
    "provider_unassign",
    "selection_call_in",
    "selection_notify",
    "selection_run",
    "session_record",
]
