"""Disclosures of a participant's treatment information: the notice that goes with each one
(42 CFR 2.32) and the accounting the program must be able to give (42 CFR 2.24/2.25).

Each disclosure is an AuditEvent (action `disclose`) written where the information was shown or
exported (treatment.access.ProviderGate.disclose): who saw it, when, which categories, under
which consent, from where. The accounting reads them back; it never stores its own copy.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from participants.models import Consent, InformationCategory, Participant
from tjp.models import AuditEvent
from tjp.pdf import (
    H2,
    SMALL,
    TITLE,
    build_pdf,
    content_width,
    datetime_text,
    notice,
    page_size,
    paragraph,
    table,
)
from tjp.roles import role_of

# 42 CFR 2.32: the notice that goes with every disclosure, on screen, in the API and exports.
# gettext_noop marks the text for the catalogues; REDISCLOSURE_NOTICE shows it translated.
REDISCLOSURE_NOTICE_EN = gettext_noop(
    "This record which has been disclosed to you is protected by federal confidentiality rules "
    "(42 CFR part 2). These rules prohibit you from making any further disclosure of this record "
    "unless further disclosure is expressly permitted by the written consent of the individual "
    "whose information is being disclosed in this record or, is otherwise permitted by 42 CFR "
    "part 2. A general authorization for the release of medical or other information is NOT "
    "sufficient for this purpose (see §2.31). The federal rules restrict any use of the "
    "information to investigate or prosecute with regard to a crime any patient with a "
    "substance use disorder, except as provided at §§2.12(c)(5) and 2.65."
)
REDISCLOSURE_NOTICE = gettext_lazy(REDISCLOSURE_NOTICE_EN)

# 42 CFR 2.24: a list of the disclosures of the past three years.
ACCOUNTING_YEARS = 3
CATEGORY_LABELS = dict(InformationCategory.choices)


@dataclass
class Disclosure:
    at: datetime
    recipient: str  # name and email
    role: str
    categories: list[str]  # labels
    consent: Consent | None
    consent_uuid: UUID | None
    export: bool
    ip_address: str | None
    path: str


def disclosures_of(participant: Participant, *, now: datetime | None = None) -> list[Disclosure]:
    """Every disclosure of `participant`'s information in the past three years, newest first.
    Four queries, whatever their number."""
    since = (now or timezone.now()) - relativedelta(years=ACCOUNTING_YEARS)
    events = list(
        AuditEvent.objects.filter(
            action=AuditEvent.Action.DISCLOSE,
            participant_uuid=participant.uuid,
            occurred_at__gte=since,
        )
        .select_related("actor")
        .prefetch_related("actor__groups")
        .order_by("-occurred_at", "-pk")
    )
    consents = {
        c.uuid: c
        for c in Consent.objects.filter(
            participant=participant, uuid__in={e.consent_uuid for e in events if e.consent_uuid}
        )
    }
    rows = []
    for event in events:
        actor = event.actor
        role = role_of(actor) if actor is not None else None
        name = f"{actor.get_full_name()} <{actor.email}>" if actor else event.actor_label
        rows.append(
            Disclosure(
                at=event.occurred_at,
                recipient=name,
                role=str(role.label) if role else "",
                categories=[
                    str(CATEGORY_LABELS.get(c, c)) for c in event.detail.get("categories", [])
                ],
                consent=consents.get(event.consent_uuid),
                consent_uuid=event.consent_uuid,
                export=bool(event.detail.get("export")),
                ip_address=event.ip_address,
                path=event.path,
            )
        )
    return rows


def disclosures_pdf(participant: Participant, rows: list[Disclosure]) -> bytes:
    """The accounting as a PDF, carrying the 42 CFR 2.32 notice (it names what was disclosed)."""
    program = participant.program
    pagesize = page_size(program)
    width = content_width(pagesize)
    story = [
        paragraph(_("Accounting of disclosures"), TITLE),
        paragraph(f"{participant.person.full_name} · {program.name}", H2),
        paragraph(
            _(
                "Every disclosure of this participant's treatment information in the past "
                "%(years)s years (42 CFR 2.24), newest first. Times in %(tz)s. Prepared %(at)s."
            )
            % {
                "years": ACCOUNTING_YEARS,
                "tz": program.time_zone,
                "at": datetime_text(timezone.now(), program),
            },
            SMALL,
        ),
        notice(_("Confidentiality notice (42 CFR 2.32)"), REDISCLOSURE_NOTICE),
    ]
    header = [_("When"), _("To whom"), _("What"), _("Under which consent"), _("From where")]
    body = [
        [
            datetime_text(row.at, program),
            f"{row.recipient} ({row.role})" if row.role else row.recipient,
            ", ".join(row.categories) + (f" · {_('export')}" if row.export else ""),
            _consent_text(row),
            f"{row.ip_address or '—'} {row.path}",
        ]
        for row in rows
    ]
    if body:
        story.append(table(header, body, [width * w for w in (0.15, 0.25, 0.2, 0.2, 0.2)]))
    else:
        story.append(paragraph(_("No disclosure in this period.")))
    title = _("Accounting of disclosures")
    return build_pdf(story, pagesize=pagesize, title=title, header=f"{program.name} · {title}")


def _consent_text(row: Disclosure) -> str:
    if row.consent is None:
        return str(row.consent_uuid or "—")
    return _("signed %(date)s: %(purpose)s") % {
        "date": row.consent.signed_on,
        "purpose": row.consent.purpose[:80],
    }
