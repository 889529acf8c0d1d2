"""Everything that happened to a participant, newest first, from the recorded facts."""

from dataclasses import dataclass
from datetime import date, datetime

from django.utils.translation import gettext as _

from participants.models import Participant


@dataclass
class Event:
    on: date  # when it happened in the world
    entered_at: datetime | None  # when it was recorded
    by: str
    kind: str
    text: str


def _by(entry) -> str:
    return str(entry.created_by) if getattr(entry, "created_by", None) else ""


def timeline(participant: Participant, *, prefetched: dict) -> list[Event]:
    """Build from the lists the page already fetched (no extra queries)."""
    events = [
        Event(
            participant.referred_on,
            participant.created_at,
            "",
            _("Referral"),
            participant.get_referral_source_display(),
        )
    ]
    for change in prefetched["status_changes"]:
        events.append(
            Event(
                change.effective_on,
                change.created_at,
                _by(change),
                _("Status"),
                f"{change} — {change.reason}",
            )
        )
    for change in prefetched["phase_changes"]:
        events.append(
            Event(
                change.effective_on,
                change.created_at,
                _by(change),
                _("Phase"),
                f"{change} — {change.reason}",
            )
        )
    for decision in prefetched["decisions"]:
        events.append(
            Event(
                decision.decided_on,
                decision.created_at,
                _by(decision),
                decision.get_kind_display(),
                f"{decision.get_outcome_display()} — {decision.reasons}",
            )
        )
    for assessment in prefetched["assessments"]:
        events.append(
            Event(
                assessment.assessed_on,
                assessment.created_at,
                _by(assessment),
                _("Assessment"),
                str(assessment),
            )
        )
    for consent in prefetched["consents"]:
        events.append(
            Event(
                consent.signed_on,
                consent.created_at,
                _by(consent),
                _("Consent signed"),
                consent.purpose,
            )
        )
        if consent.revoked_on:
            events.append(
                Event(consent.revoked_on, None, "", _("Consent revoked"), consent.purpose)
            )
    for document in prefetched["documents"]:
        events.append(
            Event(
                document.created_at.date(),
                document.created_at,
                _by(document),
                _("Document"),
                document.title,
            )
        )
    for goal in prefetched["goals"]:
        events.append(
            Event(
                goal.created_at.date(), goal.created_at, _by(goal), _("Goal set"), goal.description
            )
        )
        if goal.closed_on:
            events.append(
                Event(
                    goal.closed_on,
                    None,
                    "",
                    _("Goal closed"),
                    f"{goal.description}: {goal.get_status_display()}",
                )
            )
    for referral in prefetched["services"]:
        events.append(
            Event(
                referral.referred_on,
                referral.created_at,
                _by(referral),
                _("Service referral"),
                str(referral),
            )
        )
        if referral.outcome_on:
            events.append(
                Event(
                    referral.outcome_on,
                    None,
                    "",
                    _("Service outcome"),
                    f"{referral}: {referral.get_outcome_display()}",
                )
            )
    for arrest in prefetched["arrests"]:
        events.append(
            Event(
                arrest.arrested_on, arrest.created_at, _by(arrest), _("New arrest"), arrest.charge
            )
        )
    if participant.exit_date:
        events.append(
            Event(participant.exit_date, None, "", _("Exit"), participant.get_status_display())
        )
    if participant.disposition_date:
        events.append(
            Event(
                participant.disposition_date,
                None,
                "",
                _("Legal disposition"),
                participant.get_disposition_display(),
            )
        )
    return sorted(
        events, key=lambda e: (e.on, e.entered_at is not None, e.entered_at or 0), reverse=True
    )
