"""Who may see which rows outside a standard.

`outside_lists` turns the rows outside into what one reader may see: only participants
visible to them (participants.access), and a figure drawn from provider-reported records only
under a live consent covering it (treatment.access), each such showing logged as a disclosure.
"""

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from participants.access import participants_visible_to
from participants.models import Participant
from reporting.params import ReportParams
from reporting.standards.declare import Standard
from tjp import audit
from tjp.models import AuditEvent, Program
from treatment.access import SECTIONS, provider_gate


# --- who may see which rows outside ----------------------------------------------------------
@dataclass
class ShownRow:
    program: Program
    values: list
    participant: Participant | None = None  # None: a staff member or provider
    name: str = ""


@dataclass
class OutsideList:
    rows: list[ShownRow]
    # Of the rows fetched (Standard.outside, at most its `limit`):
    not_visible: int = 0  # participants outside the reader may not see
    withheld: int = 0  # participants whose figure needs a consent the reader lacks
    fetched: int = 0  # the rows outside fetched (len(Standard.outside))
    total: int = 0  # the rows outside in all (Standard.outside_total)

    @property
    def truncated(self) -> bool:
        """Whether more rows are outside than were fetched (the page then says so)."""
        return self.total > self.fetched


def outside_lists(
    user,
    params: ReportParams,
    standards: list[Standard],
    *,
    request: HttpRequest | None = None,
) -> tuple[dict[str, OutsideList], bool]:
    """What of each standard's rows outside `user` may see ({key: OutsideList}), and whether
    any row was shown under a consent (the redisclosure notice then goes with the page).

    Participants only as participants.access lets the user see them. A row whose figure was
    drawn from provider-reported records only under a live consent covering that category
    (treatment.access.provider_gate: no query per row); every such row shown is logged as a
    disclosure under its consent, one audit row per participant and consent. A constant number
    of queries whatever the number of rows.

    Participants are listed by name when every row outside was fetched; when the standard's
    `limit` cut the list short they keep the standard's order (the most recent or the
    furthest outside first), so that the rows shown are visibly the first of that order."""
    programs = {p.pk: p for p in params.programs}
    ids = {r.participant_id for s in standards for r in s.outside if r.participant_id}
    visible = {}
    if ids:
        visible = {
            p.pk: p
            for p in participants_visible_to(user)
            .filter(pk__in=ids)
            .select_related("person", "program")
        }
    gate = provider_gate(user, visible.values())
    disclosed: dict[tuple[int, Any], dict] = {}
    lists = {}
    for s in standards:
        shown, hidden, withheld = [], set(), set()
        for row in s.outside:
            if row.participant_id is None:
                program = programs.get(row.program_id)
                shown.append(ShownRow(program=program, values=row.values, name=row.name))
                continue
            p = visible.get(row.participant_id)
            if p is None:
                hidden.add(row.participant_id)
                continue
            if row.category is not None:
                consent = gate.consent(p.pk, row.category)
                if consent is None:
                    withheld.add(p.pk)
                    continue
                entry = disclosed.setdefault((p.pk, consent), {"categories": [], "keys": []})
                category = str(SECTIONS[row.category].category)
                if category not in entry["categories"]:
                    entry["categories"].append(category)
                if s.key not in entry["keys"]:
                    entry["keys"].append(s.key)
            shown.append(ShownRow(program=p.program, values=row.values, participant=p))
        fetched, total = len(s.outside), s.outside_total
        if not s.names_staff and total <= fetched:
            shown.sort(
                key=lambda r: (r.participant.person.last_name, r.participant.person.first_name)
            )
        lists[s.key] = OutsideList(
            rows=shown,
            not_visible=len(hidden),
            withheld=len(withheld),
            fetched=fetched,
            total=total,
        )
    if disclosed:
        audit.record_many(
            actor=user,
            action=AuditEvent.Action.DISCLOSE,
            rows=[
                {
                    "obj": visible[pk],
                    "program": visible[pk].program,
                    "participant_uuid": visible[pk].uuid,
                    "consent_uuid": consent.uuid,
                    "detail": {
                        "categories": entry["categories"],
                        "export": False,
                        "standards": entry["keys"],
                    },
                }
                for (pk, consent), entry in disclosed.items()
            ],
            request=request,
        )
    return lists, bool(disclosed)
