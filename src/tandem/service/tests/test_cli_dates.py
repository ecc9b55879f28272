"""``--date-format`` on ``tandem sla measure`` / ``report`` and ``tandem import-tickets``
(issue 12, point 6): an ambiguous file is refused naming rows and column, read with the
format given; a bad format is refused by its option name, before anything is read."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import polars as pl
import pytest
from django.core.management import CommandError, call_command

from tandem.service.models import ImportBatch, Ticket
from tandem.service.tests.test_cli_sla import policy_text

HEADER = "ticket_id,priority,opened_at,responded_at,resolved_at,assignment_group\n"
#: 5 March or 3 May? No day is over 12.
AMBIGUOUS = (
    HEADER
    + "INC1,P1,05/03/2025 10:00,05/03/2025 10:05,05/03/2025 12:00,Desk\n"
    + "INC2,P4,06/03/2025 09:00,,,Desk\n"
)
HOLDS = "ticket_id,start,end\nINC1,05/03/2025 10:30,05/03/2025 11:00\n"
BAD = [
    ("%Q", "is not a directive"),
    ("%", "lone"),
    ("%" * 10_000, "over the limit"),
    ("day first", "unknown date format"),
]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    tickets, holds, policy = tmp_path / "t.csv", tmp_path / "h.csv", tmp_path / "p.toml"
    tickets.write_text(AMBIGUOUS)
    holds.write_text(HOLDS)
    policy.write_text(policy_text())
    return tickets, holds, policy, tmp_path / "out.csv"


def measure(files, *extra: str) -> pl.DataFrame:
    t, h, p, out = files
    call_command(
        "sla", "measure", "--tickets", t, "--holds", h, "--policy", p, "--out", out, *extra
    )
    return pl.read_csv(out)


def test_sla_measure_refuses_an_ambiguous_file_naming_rows_and_column(files) -> None:
    with pytest.raises(CommandError) as e:
        measure(files)
    message = str(e.value)
    assert "t.csv, row 2, column 'opened_at': the dates are ambiguous" in message
    assert "'dd/mm/yyyy' or 'mm/dd/yyyy'" in message
    assert not files[3].exists()


@pytest.mark.parametrize("choice", ["dd/mm/yyyy", "%d/%m/%Y %H:%M"])
def test_sla_measure_reads_with_the_date_format_given(files, choice) -> None:
    got = measure(files, "--date-format", choice)
    p1 = got.filter(pl.col("ticket_id") == "INC1").sort("metric")
    # 10:00 -> 12:00 on 5 March with a 30-minute hold paused: 90 minutes
    assert p1["metric"].to_list() == ["resolution", "response"]
    assert p1["elapsed_seconds"].to_list() == [90 * 60, 5 * 60]
    month_first = measure(files, "--date-format", "mm/dd/yyyy")
    assert month_first.height == got.height  # read too, as 3 May: the person's choice


def test_sla_report_takes_the_date_format_too(files, capsys) -> None:
    t, h, p, _ = files
    call_command(
        "sla", "report", "--tickets", t, "--holds", h, "--policy", p, "--date-format", "dd/mm/yyyy"
    )
    assert "resolution" in capsys.readouterr().out


@pytest.mark.parametrize(("choice", "message"), BAD)
def test_sla_measure_refuses_a_bad_date_format_by_name(files, choice, message) -> None:
    with pytest.raises(CommandError, match=r"--date-format") as e:
        measure(files, "--date-format", choice)
    assert message in str(e.value)
    assert not files[3].exists()


@pytest.mark.django_db
def test_import_tickets_with_a_date_format(world, files) -> None:
    t, h, _, _ = files
    args = [str(t), "--engagement", str(world.e1.pk), "--as", world.it_lead.email]
    with pytest.raises(CommandError, match="the dates are ambiguous"):
        call_command("import-tickets", *args, "--format", "generic", stdout=StringIO())
    assert not Ticket.objects.exists()
    out = StringIO()
    call_command(
        "import-tickets", *args, "--holds", str(h), "--date-format", "dd/mm/yyyy", stdout=out
    )
    opened = Ticket.objects.get(ticket_id="INC1").opened_at
    assert (opened.month, opened.day) == (3, 5)
    batch = ImportBatch.objects.get()
    assert batch.holds_imported == 1 and batch.mapping == {"date_format": "dd/mm/yyyy"}


@pytest.mark.django_db
@pytest.mark.parametrize(("choice", "message"), BAD)
def test_import_tickets_refuses_a_bad_date_format_by_name(world, files, choice, message) -> None:
    args = [str(files[0]), "--engagement", str(world.e1.pk), "--as", world.it_lead.email]
    with pytest.raises(CommandError, match=r"--date-format") as e:
        call_command("import-tickets", *args, "--date-format", choice, stdout=StringIO())
    assert message in str(e.value)
    assert not ImportBatch.objects.exists()
