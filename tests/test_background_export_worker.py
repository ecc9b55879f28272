"""A large list export written by a real worker on SQLite, its heartbeat beating all along.

As in ``test_worker_recovery``: a private data directory with its own SQLite file, ``tandem
shell`` scripts to set up and to check, and a real ``tandem db_worker`` process. The lease is
three seconds, so the heartbeat commits several times while the worker reads the tickets
through one open cursor: a progress write on that cursor's connection then failed with
"database is locked" and took the worker down. The export must finish, its bar having moved,
and the file must hold every ticket.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from string import Template

from tests.test_worker_recovery import _env, _script, _start_worker, _tandem

TICKETS = 20_000

SETUP = """
import json
from datetime import UTC, datetime, timedelta

from django.urls import reverse

from tandem.core.exports_background import KIND, export_list
from tandem.core.tasks import start_with_progress
from tandem.core.testing.world import build_world
from tandem.service.models import Ticket
from tandem.service.tests.factories import ImportBatchFactory

world = build_world()
engagement, lead = world.e1, world.it_lead
batch = ImportBatchFactory(engagement=engagement)
start = datetime(2025, 1, 1, tzinfo=UTC)
Ticket.objects.bulk_create(
    [
        Ticket(
            engagement=engagement, batch=batch, ticket_id=f"INC{i:07d}", priority="P3",
            opened_at=start + timedelta(minutes=i), assignment_group="Service Desk",
        )
        for i in range($tickets)
    ],
    batch_size=2000,
)
progress = start_with_progress(
    export_list, owner=lead, label="Tickets as CSV", kind=KIND, engagement=engagement,
    path=reverse("service:ticket_list", args=[engagement.pk]), query="export=csv",
)
print(json.dumps({"progress": progress.pk.hex}))
"""

CHECK = """
import json

from tandem.core.models import Progress
from tandem.core.tasks import export_path

progress = Progress.objects.get(pk="$progress")
result = progress.result or {}
lines = 0
if result.get("file_name"):
    with export_path(result["file_name"]).open(encoding="utf-8") as stream:
        lines = sum(1 for _ in stream)
print(json.dumps({"state": progress.state, "error": progress.error, "rows": result.get("rows"),
                  "lines": lines}))
"""


def test_a_worker_writes_a_large_export_while_its_heartbeat_beats(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = _env(data_dir)
    database = data_dir / "tandem.sqlite3"
    _tandem(["migrate", "--noinput"], env, tmp_path)
    ids = _script(Template(SETUP).substitute(tickets=TICKETS), env, tmp_path)
    worker = _start_worker(env, tmp_path, tmp_path / "worker.log")
    messages: set[str] = set()
    try:
        deadline = time.monotonic() + 300
        state = "queued"
        while time.monotonic() < deadline:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=20) as db:
                state, message = db.execute(
                    "SELECT state, message FROM core_progress WHERE id = ?", [ids["progress"]]
                ).fetchone()
            messages.add(message)
            if state in {"succeeded", "failed"}:
                break
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    checked = _script(Template(CHECK).substitute(progress=ids["progress"]), env, tmp_path)
    assert checked["state"] == "succeeded", (checked, (tmp_path / "worker.log").read_text())
    assert checked["rows"] == TICKETS
    assert checked["lines"] == 1 + TICKETS
    assert any(m.endswith(f"of {TICKETS:,} rows written") for m in messages), messages
