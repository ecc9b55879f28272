"""``tandem sla measure`` and ``tandem sla report``: service levels from files, no database.

    tandem sla measure --tickets T.csv [--holds H.csv] --policy P.toml --out M.csv
                       [--as-of ISO8601] [--format generic|servicenow|...] [--timezone TZ]
                       [--date-format dd/mm/yyyy|mm/dd/yyyy|...|'%d/%m/%Y %H:%M']
    tandem sla report  --tickets T.csv [--holds H.csv] --policy P.toml
                       [--as-of ISO8601] [--format ...] [--timezone TZ] [--by-month TZ]
    tandem sla init-policy [--output FILE] [--country US] [--timezone TZ] [--force]

Both read the tickets with the ``ingest`` reader for the format (detected when not given),
measure them with the ``analytics`` engine and either write one CSV row per ticket and
target (a ticket id a spreadsheet would run as a formula quoted, as in every export) or
print the attainment table. Bad input exits non-zero with the file, row, column
and reason (or the policy key) and writes nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tandem.analytics.attainment import attainment_of_tickets
from tandem.analytics.measure import measure
from tandem.analytics.policy import Policy, PolicyError, load_policy
from tandem.core.formulas import FORMULA_PATTERN, QUOTE
from tandem.ingest import FORMATS, IngestError, read_export, read_holds_csv
from tandem.ingest.dates import DATE_FORMAT_HELP, date_format_argument
from tandem.service import policy_template
from tandem.service.import_limits import import_limits

OUTPUT_COLUMNS = ("ticket_id", "metric", "elapsed_seconds", "target_seconds", "met")


class Command(BaseCommand):
    help = "Measure service levels from a ticket export and a policy (no database needed)."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{measure,report,init-policy}"
        )
        measure_parser = actions.add_parser(
            "measure", help="write one row per ticket and target", description=__doc__
        )
        report_parser = actions.add_parser(
            "report", help="print attainment per metric and priority", description=__doc__
        )
        for sub in (measure_parser, report_parser):
            sub.add_argument("--tickets", required=True, type=Path, help="the ticket export")
            sub.add_argument("--holds", type=Path, help="holds CSV: ticket_id,start,end")
            sub.add_argument("--policy", required=True, type=Path, help="the policy TOML")
            sub.add_argument("--as-of", type=_instant, help="measure open tickets up to this")
            sub.add_argument("--format", choices=sorted(FORMATS), help="default: detected")
            sub.add_argument(
                "--timezone",
                default="UTC",
                help="how to read timestamps that carry no offset (default UTC)",
            )
            sub.add_argument("--date-format", type=date_format_argument, help=DATE_FORMAT_HELP)
        measure_parser.add_argument("--out", required=True, type=Path, help="the output CSV")
        report_parser.add_argument(
            "--by-month", metavar="TZ", type=_zone, help="also split by month in this time zone"
        )
        policy_template.add_arguments(
            actions.add_parser("init-policy", help="write a commented example policy TOML")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "init-policy":
            policy_template.init_policy(options, self.stdout.write)
            return
        policy = _policy(options["policy"])
        tickets, holds = _read(options)
        try:
            if options["action"] == "measure":
                measured = measure(tickets, holds, policy, options["as_of"])
            else:  # the same counts as attainment(measure(...)), without the rows
                table = attainment_of_tickets(
                    tickets, holds, policy, timezone=options["by_month"], as_of=options["as_of"]
                )
        except ValueError as exc:
            raise CommandError(f"{options['tickets']}: {exc}") from None
        if options["action"] == "measure":
            _write(measured, options["out"])
            met = int(measured["met"].sum()) if len(measured) else 0
            self.stdout.write(
                f"{len(measured):,} measurements for {len(tickets):,} tickets "
                f"({met:,} met) written to {options['out']}"
            )
        else:
            self._report(table)

    def _report(self, table: pl.DataFrame) -> None:
        if table.is_empty():
            self.stdout.write("No stopped clocks to report.")
            return
        columns = [c for c in ("month", "metric", "priority") if c in table.columns]
        header = [*columns, "count", "met", "attainment", "goal", "verdict"]
        rows = []
        for row in table.iter_rows(named=True):
            goal = row.get("goal")
            share = row["attainment"]
            verdict = "" if goal is None else ("meets goal" if share >= goal else "BELOW GOAL")
            rows.append(
                [
                    *(str(row[c]) for c in columns),
                    f"{row['count']:,}",
                    f"{row['met']:,}",
                    f"{share:.2%}",
                    "" if goal is None else f"{goal:.2%}",
                    verdict,
                ]
            )
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
        for line in [header, ["-" * w for w in widths], *rows]:
            cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a time zone (an IANA name, e.g. America/Chicago)"
        ) from None
    return value


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO 8601 instant (e.g. 2026-01-31T23:59:59Z)"
        ) from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} has no offset: add Z or +HH:MM")
    return parsed.astimezone(UTC)


def _policy(path: Path) -> Policy:
    try:
        return load_policy(path)
    except FileNotFoundError:
        raise CommandError(f"{path}: no such policy file") from None
    except PolicyError as exc:
        raise CommandError(f"{path}: {exc}") from None


def _read(options: dict[str, Any]) -> tuple[pl.DataFrame, pl.DataFrame]:
    path: Path = options["tickets"]
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    limits = import_limits()  # the import wizard's and import-tickets' limits
    dates = {"date_format": options["date_format"]} if options.get("date_format") else {}
    try:
        imported = read_export(
            path, options["format"], timezone=options["timezone"], limits=limits, **dates
        )
        tickets = imported.tickets
        holds = imported.holds
        if options["holds"] is not None:
            if not options["holds"].is_file():
                raise CommandError(f"{options['holds']}: no such file")
            extra = read_holds_csv(
                options["holds"],
                timezone=options["timezone"],
                tickets=tickets,
                limits=limits,
                **dates,
            ).holds
            holds = pl.concat([holds, extra]) if len(holds) else extra
    except IngestError as exc:
        raise CommandError(str(exc)) from None
    return tickets, holds


def _write(measured: pl.DataFrame, out: Path) -> None:
    """Write atomically: a failed run leaves no half-written file behind.

    The bytes are those ``csv.writer`` writes: CRLF line ends, fields quoted only when they
    need it, ``true``/``false`` (a null ``met`` as ``false``), an empty ticket id as nothing
    (not ``""``) - of the ticket ids with the exports' formula rule applied: an id starting
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``
    (``tandem.core.formulas``, as every export; done by Polars, not row by row)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    ticket = pl.col("ticket_id")
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            measured.select(
                pl.when(ticket == "")
                .then(None)
                .when(ticket.str.contains(FORMULA_PATTERN))
                .then(QUOTE + ticket)
                .otherwise(ticket)
                .alias("ticket_id"),
                "metric",
                "elapsed_seconds",
                "target_seconds",
                pl.col("met").fill_null(False),
            ).write_csv(stream, line_terminator="\r\n")
        Path(temporary).replace(out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
