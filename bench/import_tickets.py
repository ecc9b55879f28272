"""Benchmark ``import_tickets`` on PostgreSQL against a plain COPY of the same rows (issue 3).

    .venv/bin/python bench/import_tickets.py [--n 1000000] [--seed 1] [--numbering random|opening]
        [--database NAME]

The goal: importing N tickets takes at most 3x a plain COPY of the same rows. It runs on the
server of ``DATABASE_URL`` (default: the local PostgreSQL, user postgres), in a database of
its own (``--database``, default ``tandem_bench``), created and migrated at the start and
dropped at the end. In the same run it generates N synthetic canonical tickets (a third
with 1-3 holds) and times:

* ``floor``: one COPY of the same ticket and hold rows into unindexed, unconstrained copies
  of the two tables (``LIKE service_ticket``, ``LIKE service_tickethold``: their columns,
  defaults and identity only), serialized the same way the import does, in one
  transaction: what storing the rows an import stores costs with nothing else to do;
* ``first import``: ``import_tickets`` of the frames into an empty engagement (checks,
  tickets, holds, audit record, commit, statistics);
* ``re-import``: the same frames again: every ticket updated (it points to the new
  import), every hold compared with the stored ones and, being the same, left as it is.

The COPY of the ticket rows alone is printed too, with the ratios against it: a stricter
yardstick, since the import writes the holds as well.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import polars as pl
import psycopg
import psycopg.sql

BENCH_DB = "tandem_bench"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="tickets (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--numbering",
        choices=["random", "opening"],
        default="random",
        help="ticket numbers unrelated to opening time (default), or in order of opening, "
        "as service desks assign them",
    )
    parser.add_argument(
        "--database", default=BENCH_DB, help=f"scratch database, dropped at the end ({BENCH_DB})"
    )
    args = parser.parse_args()

    server = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_URL)
    admin = urlunsplit(server._replace(path="/postgres"))
    name = psycopg.sql.Identifier(args.database)
    bench = urlunsplit(server._replace(path=f"/{args.database}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(name))
    try:
        run(bench, args.n, args.seed, args.numbering)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def run(url: str, n: int, seed: int, numbering: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from tandem.core.testing.factories import EngagementFactory
    from tandem.service import bulk_postgres
    from tandem.service.bulk import TICKET_FIELDS
    from tandem.service.services import checked_frames, import_tickets

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    tickets, holds = synthetic(n, seed, numbering)
    print(
        f"{n:,} tickets, {holds.height:,} holds generated in "
        f"{time.perf_counter() - started:.1f} s; PostgreSQL "
        f"{connection.cursor().connection.info.server_version}, COPY chunks of "
        f"{bulk_postgres.COPY_CHUNK:,}"
    )
    engagement = EngagementFactory()

    # The floor: the same ticket rows, serialized as the import does, COPYed into a table
    # with no index, no constraint and no foreign key.
    rows, _ = checked_frames(tickets, holds, keep_text=False)
    rows = rows.select(TICKET_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_floor (LIKE service_ticket INCLUDING DEFAULTS INCLUDING IDENTITY)"
        )
        cursor.execute(
            "CREATE TABLE bench_floor_holds "
            "(LIKE service_tickethold INCLUDING DEFAULTS INCLUDING IDENTITY)"
        )
    columns = ", ".join(f'"{name}"' for name in ("engagement_id", "batch_id", *TICKET_FIELDS))
    floor_rows = rows.select(pl.lit(engagement.pk).alias("e"), pl.lit(1).alias("b"), pl.all())
    floor_holds = holds.select(
        pl.lit(engagement.pk).alias("e"), pl.int_range(pl.len()).alias("t"), "start", "end"
    )

    def floor(with_holds: bool) -> None:
        with connection.cursor() as cursor:  # each floor into empty tables
            cursor.execute("TRUNCATE bench_floor, bench_floor_holds")
        with transaction.atomic(), connection.cursor() as cursor:
            for chunk in floor_rows.iter_slices(bulk_postgres.COPY_CHUNK):
                bulk_postgres._copy(cursor, "bench_floor", [columns], chunk)
            if with_holds:
                for chunk in floor_holds.iter_slices(bulk_postgres.COPY_CHUNK):
                    hold_columns = '"engagement_id", "ticket_id", "start", "end"'
                    bulk_postgres._copy(cursor, "bench_floor_holds", [hold_columns], chunk)

    def first() -> None:
        import_tickets(engagement=engagement, actor=None, tickets=tickets, holds=holds,
                       file_name="bench.csv", format="generic", time_zone="UTC")  # fmt: skip

    timings = {
        "COPY tickets only, unindexed": timed(lambda: floor(False)),
        "floor: COPY tickets + holds": timed(lambda: floor(True)),
        "import_tickets, first import": timed(first),
        "import_tickets, re-import": timed(first),
    }
    base = timings["floor: COPY tickets + holds"]
    tickets_only = timings["COPY tickets only, unindexed"]
    print(f"{'':32} {'seconds':>8} {'tickets/s':>11} {'x floor':>8} {'x tickets only':>15}")
    for label, seconds in timings.items():
        print(
            f"{label:32} {seconds:8.2f} {n / seconds:11,.0f} {seconds / base:8.2f} "
            f"{seconds / tickets_only:15.2f}"
        )


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def synthetic(n: int, seed: int, numbering: str = "random") -> tuple[pl.DataFrame, pl.DataFrame]:
    """N canonical tickets over 18 months (lognormal response and resolution times, some
    open, a few text columns empty) and holds for a third of them (1-3 each), in file order
    INC00000000, INC00000001...; ``numbering="opening"`` numbers them in order of opening
    time, as a service desk does, instead of at random."""
    from tandem.analytics.frames import HOLDS, TICKETS

    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64)
    opened = start + rng.integers(0, 548 * 86_400, n) * 1_000_000
    respond = (rng.lognormal(7, 1.2, n) * 1e6).astype(np.int64)
    resolve = respond + (rng.lognormal(10, 1.3, n) * 1e6).astype(np.int64)
    open_ = rng.random(n) < 0.05
    priorities = np.array(["P1", "P2", "P3", "P4"])[rng.choice(4, n, p=[0.03, 0.17, 0.5, 0.3])]
    raw = np.char.add(np.char.add(np.char.lstrip(priorities, "P"), " - "), "Priority")
    numbers = np.arange(n)
    if numbering == "opening":
        numbers = np.argsort(np.argsort(opened, kind="stable"), kind="stable")
    groups = np.array(["Service Desk", "Northwind L2", "Network", "Clinical Apps", "EHR"])
    instant = pl.Datetime("us", "UTC")
    tickets = pl.DataFrame(
        {
            "ticket_id": [f"INC{i:08d}" for i in numbers],
            "kind": np.array(["incident", "request"])[(rng.random(n) < 0.3).astype(int)],
            "priority": priorities,
            "priority_raw": raw,
            "opened_at": pl.Series(opened).cast(instant),
            "responded_at": pl.Series(opened + respond).cast(instant),
            "resolved_at": pl.Series(np.where(open_, 0, opened + resolve)).cast(instant),
            "closed_at": pl.Series(opened + resolve + 3 * 86_400 * 1_000_000).cast(instant),
            "assignment_group": groups[rng.integers(0, 5, n)],
            "category": np.where(rng.random(n) < 0.1, "", "Software"),
            "reassignment_count": rng.poisson(0.7, n).astype(np.int32),
            "reopen_count": rng.poisson(0.05, n).astype(np.int32),
        }
    ).with_columns(
        resolved_at=pl.when(pl.Series(open_)).then(None).otherwise(pl.col("resolved_at")),
        closed_at=pl.when(pl.Series(open_)).then(None).otherwise(pl.col("closed_at")),
    )
    held = np.flatnonzero(rng.random(n) < 1 / 3)
    repeat = rng.integers(1, 4, held.size)
    which = np.repeat(held, repeat)
    offset = (rng.random(which.size) * respond[which]).astype(np.int64)
    length = (rng.lognormal(8, 1, which.size) * 1e6).astype(np.int64)
    hold_start = opened[which] + offset
    holds = pl.DataFrame(
        {
            "ticket_id": tickets["ticket_id"].gather(which),
            "start": pl.Series(hold_start).cast(instant),
            "end": pl.Series(hold_start + length).cast(instant),
        }
    )
    return tickets.select(TICKETS.keys()), holds.select(HOLDS.keys())


if __name__ == "__main__":
    main()
