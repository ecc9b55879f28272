"""``tandem import-tickets``: a service-desk export into an engagement's tickets.

    tandem import-tickets FILE --engagement ID --as USER_EMAIL
                          [--format generic|servicenow|servicenow-events|jira|glpi]
                          [--holds H.csv] [--timezone TZ] [--keep-text] [--dry-run]
                          [--date-format dd/mm/yyyy|mm/dd/yyyy|...|'%d/%m/%Y %H:%M']

Reads the file with ``tandem.ingest`` (the format is detected when not given; timestamps
without an offset are read in ``--timezone``, by default the engagement's; ``--date-format``
says how they are written when the reader cannot tell, e.g. day or month first), then stores the
tickets and holds with ``services.import_tickets``: all or nothing, one audit record,
attributed to ``--as``. ``--dry-run`` reads, checks and prints the preview, and stores
nothing. Any problem exits non-zero with the file, row, column and reason.
(``import_tickets`` is the same command under Django's usual name.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tandem.core.audit import audit_context
from tandem.core.choices import AuditSource
from tandem.core.models import Engagement, User
from tandem.core.services import NotAllowed
from tandem.ingest import FORMATS, IngestError
from tandem.ingest.dates import DATE_FORMAT_HELP, date_format_argument
from tandem.service import services
from tandem.service.imports import read_files, summarise


class Command(BaseCommand):
    help = "Import a ticket export (ServiceNow, Jira, GLPI, generic CSV) into an engagement."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the ticket export (CSV, or XLSX)")
        parser.add_argument("--engagement", required=True, type=int, help="the engagement's id")
        parser.add_argument(
            "--as",
            dest="actor",
            required=True,
            metavar="USER_EMAIL",
            help="who is importing (imports are attributed in the audit trail)",
        )
        parser.add_argument("--format", choices=sorted(FORMATS), help="default: detected")
        parser.add_argument("--holds", type=Path, help="holds CSV: ticket_id,start,end")
        parser.add_argument(
            "--timezone",
            help="how to read timestamps without an offset (default: the engagement's)",
        )
        parser.add_argument("--date-format", type=date_format_argument, help=DATE_FORMAT_HELP)
        parser.add_argument(
            "--keep-text",
            action="store_true",
            help="keep short descriptions (they may name patients; off by default)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="read, check and preview; store nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        engagement = Engagement.objects.filter(pk=options["engagement"]).first()
        if engagement is None:
            raise CommandError(f"no engagement with id {options['engagement']}")
        actor = User.objects.filter(email__iexact=options["actor"]).first()
        if actor is None:
            raise CommandError(f"no user with email {options['actor']!r} (--as)")
        if not actor.is_active:
            raise CommandError(f"{actor.email} is deactivated and may not import")
        path: Path = options["file"]
        holds: Path | None = options["holds"]
        for name in (path, holds):
            if name is not None and not name.is_file():
                raise CommandError(f"{name}: no such file")
        time_zone = options["timezone"] or engagement.time_zone
        with audit_context(source=AuditSource.IMPORT, user=actor):
            try:
                imported = read_files(
                    path,
                    file_name=path.name,
                    format=options["format"],
                    time_zone=time_zone,
                    keep_text=options["keep_text"],
                    holds_path=holds,
                    holds_name=holds.name if holds else None,
                    progress=self.report,
                    date_format=options["date_format"],
                )
                self.report(25, "validating")
                if options["dry_run"]:
                    services.checked_frames(
                        imported.tickets, imported.holds, keep_text=options["keep_text"]
                    )
                    self.preview(summarise(imported), time_zone)
                    self.stdout.write("Dry run: nothing was stored.")
                    return
                batch = services.import_tickets(
                    engagement=engagement,
                    actor=actor,
                    tickets=imported.tickets,
                    holds=imported.holds,
                    file_name=path.name,
                    format=imported.format,
                    time_zone=time_zone,
                    mapping=(
                        {"date_format": options["date_format"]} if options["date_format"] else None
                    ),
                    keep_text=options["keep_text"],
                    warnings=imported.warnings,
                    progress=lambda percent, message: self.report(
                        25 + percent * 75 // 100, message
                    ),
                )
            except IngestError as exc:
                raise CommandError(str(exc)) from None
            except (services.ImportRefused, NotAllowed) as exc:
                raise CommandError(f"nothing was imported: {exc}") from None
        for warning in imported.warnings:
            self.stdout.write(f"warning: {warning}")
        self.stdout.write(self.style.SUCCESS(f"Import {batch.pk}: {services.summary(batch)}"))

    def report(self, percent: int, message: str) -> None:
        self.stdout.write(f"[{percent:3d}%] {message}")

    def preview(self, preview: dict[str, Any], time_zone: str) -> None:
        out = self.stdout.write
        out(f"Format:   {preview['format']}")
        out(f"Rows:     {preview['rows_read']:,}")
        out(f"Tickets:  {preview['tickets']:,} ({preview['open']:,} open)")
        out(f"Holds:    {preview['holds']:,}")
        mix = preview["priority_mix"]
        total = max(preview["tickets"], 1)
        shares = ", ".join(
            f"{key}: {count:,} ({100 * count / total:.1f}%)" for key, count in mix.items()
        )
        out(f"Priority: {shares}")
        out(
            f"Opened:   {preview['first_opened'] or '-'} to {preview['last_opened'] or '-'} "
            f"(UTC; naive times read in {time_zone})"
        )
        for warning in preview["warnings"]:
            out(f"warning: {warning}")
