"""The status transition table: the only place that says which status may follow which.

Referral outcomes (referred → active / declined) are made by the admission decision; every
other move goes through `participants.services.status_change`. The UI asks `allowed_moves`
which buttons to show.
"""

from participants.models import Status

S = Status

TRANSITIONS: dict[str, set[str]] = {
    S.REFERRED: {S.ACTIVE, S.DECLINED},
    S.ACTIVE: {
        S.WARRANT,
        S.IN_CUSTODY,
        S.MEDICAL_LEAVE,
        S.PENDING_TERMINATION,
        S.GRADUATED,
        S.VOLUNTARY_WITHDRAWAL,
        S.ADMINISTRATIVE_DISCHARGE,
        S.DECEASED,
        S.TRANSFERRED,
    },
    S.WARRANT: {S.ACTIVE, S.IN_CUSTODY, S.PENDING_TERMINATION, S.TERMINATED, S.DECEASED},
    S.IN_CUSTODY: {
        S.ACTIVE,
        S.PENDING_TERMINATION,
        S.TERMINATED,
        S.VOLUNTARY_WITHDRAWAL,
        S.ADMINISTRATIVE_DISCHARGE,
        S.DECEASED,
        S.TRANSFERRED,
    },
    S.MEDICAL_LEAVE: {
        S.ACTIVE,
        S.VOLUNTARY_WITHDRAWAL,
        S.ADMINISTRATIVE_DISCHARGE,
        S.DECEASED,
        S.TRANSFERRED,
    },
    S.PENDING_TERMINATION: {S.ACTIVE, S.TERMINATED, S.VOLUNTARY_WITHDRAWAL, S.DECEASED},
    # Ends of an episode: nothing follows. A person who returns starts a new episode.
    S.DECLINED: set(),
    S.GRADUATED: set(),
    S.TERMINATED: set(),
    S.VOLUNTARY_WITHDRAWAL: set(),
    S.ADMINISTRATIVE_DISCHARGE: set(),
    S.DECEASED: set(),
    S.TRANSFERRED: set(),
}

# Moves made only by the admission decision, never by a plain status change.
ADMISSION_MOVES = {(S.REFERRED, S.ACTIVE), (S.REFERRED, S.DECLINED)}


def is_allowed(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS[from_status]


def allowed_moves(from_status: str) -> list[Status]:
    """Status changes the status-change form may offer (admission moves excluded)."""
    return [
        Status(s)
        for s in Status.values
        if is_allowed(from_status, s) and (from_status, s) not in ADMISSION_MOVES
    ]
