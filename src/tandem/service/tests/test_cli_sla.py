"""``tandem sla measure`` / ``report``: exact to the second against the slow oracle, and every
kind of bad input a clear non-zero exit that writes nothing."""

from __future__ import annotations

import csv
import io
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from django.core.management import CommandError, call_command

from tandem.analytics.policy import load_policy
from tandem.analytics.tests import oracle
from tandem.core.formulas import neutralize
from tandem.ingest.testing.hostile import HOSTILE_NAMES
from tandem.service.management.commands.sla import OUTPUT_COLUMNS, _write

POLICY = """
[calendars.business]
timezone = "America/Chicago"
holidays = ["2025-11-27", "2025-12-25"]
holiday_country = "US"
[calendars.business.weekly]
mon = ["07:00-12:00", "13:00-19:00"]
tue = ["07:00-12:00", "13:00-19:00"]
wed = ["07:00-12:00", "13:00-19:00"]
thu = ["07:00-12:00", "13:00-19:00"]
fri = ["08:00-17:00"]
sat = ["00:00-02:30"]
[calendars.always]
timezone = "America/New_York"
weekly = "24x7"
{targets}
"""
TARGETS = [
    ("P1", "response", "always", "15m", False),
    ("P1", "resolution", "always", "4h", True),
    ("P2", "response", "business", "1h", False),
    ("P2", "resolution", "business", "8h", True),
    ("P3", "resolution", "business", "24h", True),
    ("P4", "resolution", "always", "72h", True),
]


def policy_text() -> str:
    blocks = [
        f'[[targets]]\npriority = "{p}"\nmetric = "{m}"\ncalendar = "{c}"\nwithin = "{w}"\n'
        f"pause_on_hold = {str(h).lower()}\n"
        for p, m, c, w, h in TARGETS
    ]
    return POLICY.format(targets="\n".join(blocks))


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def epoch(text: str) -> int:
    return int(datetime(*map(int, text.split("-")), tzinfo=UTC).timestamp())


def tricky_tickets(count: int, seed: int = 7) -> tuple[list[dict[str, str]], list[list[str]]]:
    """Tickets clustered on the DST weeks, Thanksgiving and Christmas, with overlapping holds,
    zero-length and closed-hours tickets, and some still open."""
    rng = random.Random(seed)
    anchors = [epoch(d) for d in ("2025-03-07", "2025-10-31", "2025-11-25", "2025-12-23")]
    tickets, holds = [], []
    for n in range(count):
        opened = rng.choice(anchors) + rng.randrange(0, 6 * 86400)
        duration = rng.choice([0, 1, 59, 3600, rng.randrange(0, 9 * 86400)])
        responded = opened + rng.randrange(0, max(1, duration + 1))
        resolved = opened + duration
        open_ticket = rng.random() < 0.1
        tid = f"INC{n:06d}"
        tickets.append(
            {
                "ticket_id": tid,
                "priority": rng.choice(["P1", "P2", "P3", "P4"]),
                "opened_at": iso(opened),
                "responded_at": iso(responded) if rng.random() < 0.9 else "",
                "resolved_at": "" if open_ticket else iso(resolved),
                "assignment_group": rng.choice(["Northwind Desk", "Riverside Apps"]),
            }
        )
        if duration > 0 and rng.random() < 0.4:
            last = opened + duration if not open_ticket else opened + 9 * 86400
            for _ in range(rng.randint(1, 3)):
                start = rng.randrange(opened, last + 1)
                end = rng.randrange(start, last + 1)
                if open_ticket or end <= resolved:
                    holds.append([tid, iso(start), iso(end)])
    return tickets, holds


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def files(tmp_path: Path):
    def make(tickets, holds=(), policy=None):
        header = list(tickets[0]) if tickets else ["ticket_id", "priority", "opened_at"]
        t = write_csv(tmp_path / "tickets.csv", header, [list(r.values()) for r in tickets])
        h = write_csv(tmp_path / "holds.csv", ["ticket_id", "start", "end"], list(holds))
        p = tmp_path / "policy.toml"
        p.write_text(policy or policy_text())
        return t, h, p, tmp_path / "out.csv"

    return make


def test_the_cli_matches_the_oracle_to_the_second(files) -> None:
    tickets, holds = tricky_tickets(2500)
    # Some ids a spreadsheet would run as formulas: the output quotes them (as every export).
    renamed = {}
    for n, start in enumerate(("=", "+", "-", "@", "=HYPERLINK(", "-1")):
        ticket = tickets[n * 97]
        renamed[ticket["ticket_id"]] = ticket["ticket_id"] = f"{start}{ticket['ticket_id']}"
    holds = [[renamed.get(tid, tid), *rest] for tid, *rest in holds]
    t, h, p, out = files(tickets, holds)
    as_of = "2026-01-10T00:00:00Z"
    call_command(
        "sla",
        "measure",
        "--tickets",
        t,
        "--holds",
        h,
        "--policy",
        p,
        "--out",
        out,
        "--as-of",
        as_of,
    )
    policy = load_policy(p)
    calendars = policy.calendars
    by_id = {neutralize(row["ticket_id"]): row for row in tickets}
    assert sum(tid.startswith("'") for tid in by_id) == len(renamed)
    held: dict[str, list[tuple[int, int | None]]] = {}
    for tid, start, end in holds:
        held.setdefault(tid, []).append((_seconds(start), _seconds(end)))
    targets = {(x.priority, x.metric): x for x in policy.targets}
    rows = list(csv.DictReader(out.open()))
    # With --as-of every applicable target is measured, open clocks up to that instant.
    expected = sum(
        (ticket["priority"], metric) in targets
        for ticket in tickets
        for metric in ("response", "resolution")
    )
    assert len(rows) == expected
    assert expected > 2000
    now = _seconds(as_of)
    for row in rows:
        ticket = by_id[row["ticket_id"]]
        target = targets[(ticket["priority"], row["metric"])]
        stop = ticket["responded_at" if row["metric"] == "response" else "resolved_at"]
        start = _seconds(ticket["opened_at"])
        end = _seconds(stop) if stop else max(now, start)
        pauses = held.get(ticket["ticket_id"], []) if target.pause_on_hold else []
        want = oracle.elapsed(calendars[target.calendar], start, end, pauses)
        assert int(row["elapsed_seconds"]) == want, (row, ticket)
        assert int(row["target_seconds"]) == target.within_seconds
        assert row["met"] == ("true" if want <= target.within_seconds else "false")


def _seconds(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def report_by_month(t, h, p, capsys) -> str:
    """What ``tandem sla report ... --by-month America/Chicago`` prints."""
    capsys.readouterr()
    call_command(
        "sla",
        "report",
        "--tickets",
        t,
        "--holds",
        h,
        "--policy",
        p,
        "--by-month",
        "America/Chicago",
    )
    return capsys.readouterr().out


def test_report_prints_attainment_against_goal(files, capsys) -> None:
    tickets, holds = tricky_tickets(300, seed=3)
    t, h, p, _ = files(tickets, holds)
    out = report_by_month(t, h, p, capsys)
    assert "attainment" in out.splitlines()[0]
    assert "2025-03-01" in out and "resolution" in out


def test_report_equals_the_attainment_of_the_measurements(files, capsys) -> None:
    tickets, holds = tricky_tickets(300, seed=5)
    t, h, p, out = files(tickets, holds)
    call_command("sla", "measure", "--tickets", t, "--holds", h, "--policy", p, "--out", out)
    measured = pl.read_csv(out, schema_overrides={"met": pl.Boolean})
    stops = pl.read_csv(t).select(
        "ticket_id",
        "priority",
        pl.col("responded_at").str.to_datetime(time_zone="UTC").alias("response"),
        pl.col("resolved_at").str.to_datetime(time_zone="UTC").alias("resolution"),
    )
    stopped = (
        stops.unpivot(index=["ticket_id", "priority"], variable_name="metric", value_name="at")
        .filter(pl.col("at").is_not_null())
        .join(measured, on=["ticket_id", "metric"])
        .with_columns(
            pl.col("at")
            .dt.convert_time_zone("America/Chicago")
            .dt.replace_time_zone(None)
            .dt.strftime("%Y-%m-01")
            .alias("month")
        )
    )
    expected = {
        (r["month"], r["metric"], r["priority"]): (r["count"], r["met"])
        for r in stopped.group_by("month", "metric", "priority")
        .agg(pl.len().alias("count"), pl.col("met").sum())
        .iter_rows(named=True)
    }
    lines = report_by_month(t, h, p, capsys).splitlines()[2:]
    found = {
        (month, metric, priority): (int(count.replace(",", "")), int(met.replace(",", "")))
        for month, metric, priority, count, met, *_ in (line.split() for line in lines)
    }
    assert expected and found == expected


def test_a_report_by_month_in_no_time_zone_is_refused(files) -> None:
    t, _, p, _ = files([GOOD], [])
    with pytest.raises(CommandError, match="Mars/Olympus"):
        call_command("sla", "report", "--tickets", t, "--policy", p, "--by-month", "Mars/Olympus")


GOOD = {
    "ticket_id": "INC1",
    "priority": "P1",
    "opened_at": "2025-03-07T16:00:00-06:00",
    "responded_at": "",
    "resolved_at": "2025-03-07T17:00:00-06:00",
    "assignment_group": "Desk",
}


@pytest.mark.parametrize(
    ("tickets", "holds", "policy_edit", "message"),
    [
        ([{**GOOD, "opened_at": "yesterday"}], [], None, "opened_at"),
        ([{**GOOD, "resolved_at": "2025-03-07T15:00:00-06:00"}], [], None, "resolved"),
        ([{**GOOD, "priority": "urgent-ish"}], [], None, "priority"),
        ([GOOD, GOOD], [], None, "INC1"),
        ([GOOD], [["INC1", "2025-03-07T22:30:00Z", "2025-03-07T22:10:00Z"]], None, "before"),
        ([GOOD], [["INC9", "2025-03-07T22:10:00Z", "2025-03-07T22:20:00Z"]], None, "INC9"),
        ([GOOD], [], ('calendar = "always"', 'calendar = "alwayz"'), "alwayz"),
        ([GOOD], [], ('"08:00-17:00"', '"17:00-08:00"'), "17:00-08:00"),
        ([GOOD], [], ('within = "4h"', 'within = "2d"'), "within"),
    ],
    ids=[
        "unparseable timestamp",
        "resolved before opened",
        "unknown priority",
        "duplicate ticket id",
        "hold ends before it starts",
        "hold for no ticket",
        "unknown calendar",
        "inverted window",
        "days are ambiguous",
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    files, tickets, holds, policy_edit, message
) -> None:
    policy = policy_text()
    if policy_edit:
        assert policy_edit[0] in policy
        policy = policy.replace(policy_edit[0], policy_edit[1], 1)
    t, h, p, out = files(tickets, holds, policy)
    with pytest.raises(CommandError, match=message):
        call_command("sla", "measure", "--tickets", t, "--holds", h, "--policy", p, "--out", out)
    assert not out.exists()
    assert not list(out.parent.glob(".out.csv.*"))


def test_an_empty_or_foreign_file_is_refused(tmp_path: Path, files) -> None:
    _, _, p, out = files([GOOD])
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    jira = tmp_path / "jira.csv"
    jira.write_text("Issue key,Summary,Priority,Created,Resolved\nSD-1,x,High,12/Mar/24 3:04 PM,\n")
    for path, fmt in ((empty, None), (jira, "servicenow"), (tmp_path / "missing.csv", None)):
        args = ["sla", "measure", "--tickets", path, "--policy", p, "--out", out]
        if fmt:
            args += ["--format", fmt]
        with pytest.raises(CommandError):
            call_command(*args)
    assert not out.exists()


def test_the_command_line_exits_non_zero(files) -> None:
    t, h, p, out = files([GOOD], [], policy_text().replace('"always"', '"nowhere"', 1))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tandem",
            "sla",
            "measure",
            "--tickets",
            str(t),
            "--policy",
            str(p),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "nowhere" in result.stderr
    assert not out.exists()


def test_the_command_line_needs_no_apps_loaded(files) -> None:
    """``tandem sla`` reads files only: it skips ``django.setup()``, half its start-up."""
    t, h, p, out = files([GOOD], [], policy_text())
    argv = ["tandem", "sla", "measure", "--tickets", str(t), "--policy", str(p)]
    argv += ["--out", str(out)]
    code = (
        f"import sys; sys.argv = {argv!r}; from tandem.__main__ import main; main(); "
        "from django.apps import apps; print('apps ready:', apps.ready)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "measurements for 1 tickets" in result.stdout
    assert "apps ready: False" in result.stdout
    assert out.exists()


def test_a_formula_ticket_id_comes_out_quoted(files) -> None:
    """A ticket id typed as a formula is quoted in the output, as in every export; the rest
    of the row as measured."""
    hyperlink = '=HYPERLINK("http://evil.example","open")'
    t, _, p, out = files([{**GOOD, "ticket_id": hyperlink}, {**GOOD, "ticket_id": "-42"}])
    call_command("sla", "measure", "--tickets", t, "--policy", p, "--out", out)
    text = out.read_text()
    assert '"\'=HYPERLINK(""http://evil.example"",""open"")"' in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["ticket_id"] for row in rows} == {"'" + hyperlink, "'-42"}
    assert not any(row["ticket_id"].startswith(("=", "+", "-", "@")) for row in rows)
    assert all(row["metric"] and row["elapsed_seconds"].isdigit() for row in rows)


def test_the_output_has_the_bytes_csv_writer_writes(tmp_path: Path) -> None:
    ids = ["INC1", "a,b", 'a"b', "a\nb", "a\rb", "a\r\nb", "", None, " x ", "é", "#1", '"', "\\N"]
    # ...and ids a spreadsheet would run as formulas: quoted as every export quotes them.
    ids += ["=1+2", "+1", "-42", "@SUM(A1)", "\tx", "\rx", "=a,b", "'=x", "x=1", " =x"]
    count = len(ids)
    measured = pl.DataFrame(
        {
            "ticket_id": ids,
            "metric": [("response", "resolution")[n % 2] for n in range(count)],
            "elapsed_seconds": [0, 1, -1, 2**40, *range(count - 4)],
            "target_seconds": [None, *range(count - 1)],
            "met": [True, False, None, *[True] * (count - 3)],
        },
        schema_overrides={"elapsed_seconds": pl.Int64, "target_seconds": pl.Int64},
    )
    for frame in (measured, measured.clear()):
        expected = io.StringIO(newline="")
        writer = csv.writer(expected)
        writer.writerow(OUTPUT_COLUMNS)
        for ticket_id, metric, elapsed, target, met in frame.iter_rows():
            quoted = None if ticket_id is None else neutralize(ticket_id)
            writer.writerow([quoted, metric, elapsed, target, "true" if met else "false"])
        out = tmp_path / "sub" / "m.csv"
        _write(frame, out)
        assert out.read_bytes() == expected.getvalue().encode()


# --- Hostile files: refused in seconds, with bounded memory, nothing written ---------------


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_every_hostile_file_is_refused_by_sla_measure(name, hostile, files) -> None:
    from tandem.ingest.testing.hostile import EXPECTED

    _, _, p, out = files([GOOD])
    path = hostile(name)
    began = time.perf_counter()
    with pytest.raises(CommandError) as raised:
        call_command("sla", "measure", "--tickets", path, "--policy", p, "--out", out)
    assert time.perf_counter() - began < 20
    assert EXPECTED[name] in str(raised.value)
    assert not out.exists()


#: Run the real command in a child and report the child's peak memory (KiB) on stderr.
MEASURED = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "sys.stdout.write(done.stdout)\n"
    "sys.stderr.write(done.stderr)\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stderr.write(f'\\npeak-kib {peak}\\n')\n"
    "sys.exit(done.returncode)\n"
)


@pytest.mark.parametrize("name", ["xlsx_three_million_rows", "gzip_bomb_of_lines"])
def test_bombs_are_refused_by_the_real_command_in_seconds_and_bounded_memory(
    name, hostile, files
) -> None:
    """As a user runs it, with the default limits: exit status 1, the file and the limit
    named, under 20 s and 500 MB, and no output file."""
    from tandem.ingest.testing.hostile import EXPECTED

    _, _, p, out = files([GOOD])
    path = hostile(name)
    command = [sys.executable, "-m", "tandem", "sla", "measure", "--tickets", str(path)]
    command += ["--policy", str(p), "--out", str(out)]
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, *command], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - began
    assert done.returncode == 1, done.stderr
    assert EXPECTED[name] in done.stderr
    peak_mb = int(done.stderr.rsplit("peak-kib ", 1)[1]) / 1024
    assert seconds < 20, seconds
    assert peak_mb < 500, peak_mb
    assert not out.exists()
