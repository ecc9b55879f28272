"""``tandem import-tickets``: fixtures in, tickets, holds and one audit record out; a dry run
and every kind of bad input store nothing and exit non-zero with the reason."""

from __future__ import annotations

import resource
import time
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command

from tandem.core.choices import AuditAction, AuditSource
from tandem.core.models import ChangeLog
from tandem.ingest.testing.hostile import HOSTILE_NAMES
from tandem.service.models import ImportBatch, Ticket, TicketHold

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "ingest" / "tests" / "fixtures"


def run(*args: str) -> str:
    out = StringIO()
    call_command("import-tickets", *args, stdout=out)
    return out.getvalue()


def nothing_stored() -> None:
    assert not ImportBatch.objects.exists()
    assert not Ticket.objects.exists()
    assert not TicketHold.objects.exists()
    assert not ChangeLog.objects.filter(
        content_type=ContentType.objects.get_for_model(ImportBatch)
    ).exists()


def test_imports_generic_tickets_with_holds_as_the_actor(world) -> None:
    out = run(
        str(FIXTURES / "generic_tickets.csv"),
        "--engagement",
        str(world.e1.pk),
        "--format",
        "generic",
        "--holds",
        str(FIXTURES / "generic_holds.csv"),
        "--as",
        world.it_lead.email,
    )
    batch = ImportBatch.objects.get()
    assert (batch.engagement, batch.imported_by) == (world.e1, world.it_lead)
    assert batch.format == "generic"
    assert batch.time_zone == world.e1.time_zone
    assert (batch.rows_read, batch.tickets_created, batch.tickets_updated) == (4, 4, 0)
    assert batch.holds_imported == TicketHold.objects.count() == 3
    assert set(Ticket.objects.values_list("ticket_id", flat=True)) == {"T-1", "T-2", "T-3", "T-4"}
    # Free text is dropped unless asked for.
    assert set(Ticket.objects.values_list("short_description", flat=True)) == {""}
    record = ChangeLog.objects.get(content_type=ContentType.objects.get_for_model(ImportBatch))
    assert (record.source, record.action, record.user) == (
        AuditSource.IMPORT,
        AuditAction.CREATE,
        world.it_lead,
    )
    assert "[  0%] Detecting" not in out  # the format was given
    assert "Reading generic_tickets.csv (generic)" in out
    assert "tickets stored" in out
    assert f"Import {batch.pk}: imported 4 tickets (4 new, 0 updated), 3 holds" in out


def test_detects_the_format_and_keeps_text_when_asked(world) -> None:
    out = run(
        str(FIXTURES / "servicenow_list.csv"),
        f"--engagement={world.e1.pk}",
        f"--as={world.it_lead.email}",
        "--timezone=America/Chicago",
        "--keep-text",
    )
    batch = ImportBatch.objects.get()
    assert (batch.format, batch.time_zone, batch.keep_text) == (
        "servicenow",
        "America/Chicago",
        True,
    )
    assert Ticket.objects.get(ticket_id="INC0010002").short_description == "VPN drops"
    assert "Detecting the format" in out


def test_event_log_reimport_updates(world) -> None:
    args = [str(FIXTURES / "servicenow_events.csv"), f"--engagement={world.e1.pk}"]
    run(*args, f"--as={world.it_lead.email}", "--format=servicenow-events")
    count = Ticket.objects.count()
    out = run(*args, f"--as={world.vendor_lead.email}")
    assert Ticket.objects.count() == count
    assert f"({0} new, {count} updated)" in out
    assert ImportBatch.objects.count() == 2


def test_dry_run_previews_and_stores_nothing(world) -> None:
    out = run(
        str(FIXTURES / "generic_tickets.csv"),
        f"--engagement={world.e1.pk}",
        f"--as={world.it_lead.email}",
        "--dry-run",
    )
    assert "Tickets:  4 (2 open)" in out
    assert "Priority: P1: 1 (25.0%)" in out
    assert "none: 1" in out
    assert "Opened:   2025-03-03T08:00:00+00:00 to 2025-03-06T10:00:00+00:00" in out
    assert "Dry run: nothing was stored." in out
    nothing_stored()


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "empty.csv": "",
        "bad_time.csv": "ticket_id,priority,opened_at\nX-1,P1,yesterday-ish\n",
        "backwards.csv": (
            "ticket_id,priority,opened_at,resolved_at\nX-1,P1,2025-03-03T10:00Z,2025-03-03T09:00Z\n"
        ),
        "duplicate.csv": (
            "ticket_id,priority,opened_at\nX-1,P1,2025-03-03T10:00Z\nX-1,P2,2025-03-03T11:00Z\n"
        ),
        "priority.csv": "ticket_id,priority,opened_at\nX-1,urgent-ish,2025-03-03T10:00Z\n",
        "orphan_holds.csv": "ticket_id,start,end\nNOPE,2025-03-03T09:00Z,2025-03-03T10:00Z\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return {name: tmp_path / name for name in files}


@pytest.mark.parametrize(
    ("file", "extra", "message"),
    [
        ("empty.csv", [], "empty.csv: the file is empty"),
        ("bad_time.csv", ["--format=generic"], "bad_time.csv, row 2, column 'opened_at'"),
        ("backwards.csv", ["--format=generic"], "backwards.csv, row 2"),
        ("duplicate.csv", ["--format=generic"], "duplicate.csv, row 3"),
        ("priority.csv", ["--format=generic"], "priority.csv, row 2, column 'priority'"),
        ("fixture:jira.csv", ["--format=glpi"], "jira.csv"),
        ("fixture:generic_tickets.csv", ["--holds=orphan_holds.csv"], "orphan_holds.csv, row 2"),
        ("missing.csv", [], "missing.csv: no such file"),
        ("fixture:generic_tickets.csv", ["--timezone=Mars/Olympus"], "Mars/Olympus"),
    ],
)
def test_bad_input_exits_non_zero_and_stores_nothing(
    world, bad_files, tmp_path, file, extra, message
) -> None:
    path = FIXTURES / file.split(":", 1)[1] if file.startswith("fixture:") else tmp_path / file
    extra = [
        f"--holds={bad_files[e.split('=', 1)[1]]}" if e.startswith("--holds=") else e for e in extra
    ]
    with pytest.raises(CommandError) as raised:
        run(str(path), f"--engagement={world.e1.pk}", f"--as={world.it_lead.email}", *extra)
    assert message in str(raised.value)
    nothing_stored()


@pytest.mark.parametrize(
    ("engagement", "actor", "message"),
    [
        ("999999", "itlead@alpha.test", "no engagement with id 999999"),
        ("e1", "nobody@alpha.test", "no user with email 'nobody@alpha.test'"),
        ("e1", "auditor@alpha.test", "may not import tickets"),  # an observer
        ("e1", "lead@bolt.test", "may not import tickets"),  # another engagement's vendor
    ],
)
def test_unknown_or_unauthorised_refused(world, engagement, actor, message) -> None:
    pk = str(world.e1.pk) if engagement == "e1" else engagement
    with pytest.raises(CommandError, match=message):
        run(str(FIXTURES / "generic_tickets.csv"), f"--engagement={pk}", f"--as={actor}")
    nothing_stored()


def test_file_over_the_size_limit_refused(world, settings) -> None:
    settings.TANDEM_MAX_IMPORT_BYTES = 10
    with pytest.raises(CommandError, match="over the limit of 10 bytes"):
        run(
            str(FIXTURES / "generic_tickets.csv"),
            f"--engagement={world.e1.pk}",
            f"--as={world.it_lead.email}",
        )
    nothing_stored()


def test_the_command_requires_an_actor(world) -> None:
    with pytest.raises(CommandError, match="--as"):
        run(str(FIXTURES / "generic_tickets.csv"), f"--engagement={world.e1.pk}")


# --- Hostile files: refused in seconds, nothing stored ---------------------------------------


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_every_hostile_file_is_refused_and_nothing_stored(world, hostile, name) -> None:
    """The same refusal ``tandem sla measure`` gives (one validator, one set of limits from
    settings), in seconds, with bounded memory, and not a row written."""
    from tandem.ingest.testing.hostile import EXPECTED

    path = hostile(name)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    with pytest.raises(CommandError) as raised:
        run(str(path), f"--engagement={world.e1.pk}", f"--as={world.it_lead.email}")
    assert time.perf_counter() - began < 20
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 1024
    assert EXPECTED[name] in str(raised.value)
    nothing_stored()


def test_the_limits_come_from_settings(world, settings) -> None:
    settings.TANDEM_IMPORT_MAX_ROWS = 3
    with pytest.raises(CommandError, match="generic_tickets.csv: more than 3 data rows"):
        run(
            str(FIXTURES / "generic_tickets.csv"),
            f"--engagement={world.e1.pk}",
            f"--as={world.it_lead.email}",
        )
    settings.TANDEM_IMPORT_MAX_ROWS = 4
    settings.TANDEM_IMPORT_MAX_COLUMNS = 2
    with pytest.raises(CommandError, match="row 1: the header has 9 columns, over the limit of 2"):
        run(
            str(FIXTURES / "generic_tickets.csv"),
            f"--engagement={world.e1.pk}",
            f"--as={world.it_lead.email}",
        )
    nothing_stored()


def test_the_text_lengths_the_readers_check_are_the_database_columns() -> None:
    from tandem.ingest.validation import TEXT_LENGTHS

    for name, length in TEXT_LENGTHS.items():
        assert Ticket._meta.get_field(name).max_length == length
