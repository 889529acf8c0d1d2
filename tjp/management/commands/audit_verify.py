"""`manage.py audit_verify`: recompute the audit trail's hash chain (see docs/audit.md).

Exits 0 when the chain is intact, every event is sealed and the protecting triggers are on;
otherwise 1, naming the first broken event. The last line of a good run is the head
(`head <seq> <hash>`): log it somewhere the database's owner cannot rewrite, and pass earlier
heads back with `--anchor SEQ:HASH` to prove the chain was neither rewritten nor cut short.
"""

import argparse

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from tjp.audit_chain import GENESIS_HASH, chain_verify


def _anchor(value: str) -> tuple[int, str]:
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise ValueError(value)
    return int(seq), digest.lower()


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit 1 naming the first broken event."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchor",
            action="append",
            type=_anchor,
            default=[],
            metavar="SEQ:HASH",
            help="a head recorded earlier (repeatable): the event at SEQ must still have HASH",
        )
        parser.add_argument(
            "--start",
            type=_anchor,
            default=(0, GENESIS_HASH),
            metavar="SEQ:HASH",
            help="begin after this event (the last of an archived, verified stretch)",
        )
        parser.add_argument("--batch-size", type=int, default=10_000, help=argparse.SUPPRESS)

    def handle(
        self,
        *args,
        anchor: list[tuple[int, str]],
        start: tuple[int, str],
        batch_size: int,
        **options,
    ) -> None:
        self._warn_about_ownership()
        report = chain_verify(anchors=anchor, start=start, batch_size=batch_size)
        for name in report.triggers_off:
            self.stderr.write(f"protection off: trigger {name} is missing or disabled")
        for grant in report.excess_privileges:
            self.stderr.write(
                f"protection off: {grant} (run SELECT tjp_auditevent_restrict_privileges() "
                "as the owner)"
            )
        if report.unsealed_count:
            self.stderr.write(
                f"{report.unsealed_count} unsealed event(s), first {report.first_unsealed}: "
                "written while the sealing trigger was off"
            )
        if not report.intact:
            for found in report.breaks:
                self.stderr.write(f"broken: {found}")
            more = report.break_count - len(report.breaks)
            if more:
                self.stderr.write(f"… and {more} more break(s)")
        self.stdout.write(f"{report.count} sealed events checked")
        self.stdout.write(f"head {report.head_seq} {report.head_hash}")
        if not report.intact:
            raise CommandError(f"audit chain broken at {report.breaks[0]}", returncode=1)
        if not report.ok:
            raise CommandError("audit chain intact but not protected (see above)", returncode=1)

    def _warn_about_ownership(self) -> None:
        """The chain proves changes; only a non-owner app role prevents them (docs/audit.md)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class "
                "WHERE oid = 'tjp_auditevent'::regclass"
            )
            (owns,) = cursor.fetchone()
        if owns:
            self.stderr.write(
                "note: this role owns tjp_auditevent (or is a member of its owner); the "
                "application must run as a role that does not"
            )
