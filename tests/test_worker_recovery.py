"""A real worker killed mid-work: its import and SLA run end as failed within a minute.

Nothing here runs in the test process's database: a private data directory gets its own
SQLite file, ``tandem migrate`` builds it, small scripts run through ``tandem shell`` set up
the world and queue the work, and a real ``tandem db_worker`` process (the django-tasks-db
worker, as the embedded default and production run it) picks it up. The worker is killed
with SIGKILL in the middle of an import, then of an SLA run; ``tandem reap_tasks`` (what
every page poll and every new piece of work also runs) must find each dead within the lease
- three seconds here - and end it: the progress failed with the reason, the import recorded
as failed with its staged files removed, the SLA run failed and the engagement free for the
next run. A worker sent SIGTERM instead ends its task as failed at once, and exits. And a
``tandem run_sla`` process (which runs its run itself, heartbeat included) killed mid-run
has its run failed within the lease too, so that a new run can be created seconds later.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from string import Template

import pytest

LEASE = 3
#: Rows of the export killed mid-import: its read and write take several seconds.
IMPORT_ROWS = 300_000
#: Tickets the SLA run measures: enough for it to take a few seconds.
RUN_TICKETS = 120_000

SETUP = """
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.core.files.uploadedfile import TemporaryUploadedFile

from tandem.core.tasks import start_with_progress
from tandem.core.testing.world import build_world
from tandem.service import services, sla_runs
from tandem.service.imports import read_files, stage_upload
from tandem.service.tasks import import_staged
from tandem.service.tests.factories import POLICY_TOML, SlaPolicyFactory


def export(prefix, rows):
    upload = TemporaryUploadedFile(f"{prefix}.csv", "text/csv", 0, "utf-8")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    upload.write(b"ticket_id,priority,opened_at,responded_at,resolved_at\\n")
    lines = []
    for i in range(rows):
        opened = start + timedelta(minutes=i % 80_000)
        lines.append(
            f"{prefix}-{i},P{1 + i % 4},{opened:%Y-%m-%dT%H:%M:%SZ},"
            f"{opened + timedelta(minutes=10 + i % 20):%Y-%m-%dT%H:%M:%SZ},"
            f"{opened + timedelta(hours=1 + i % 9):%Y-%m-%dT%H:%M:%SZ}\\n"
        )
        if len(lines) == 10_000:
            upload.write("".join(lines).encode())
            lines = []
    upload.write("".join(lines).encode())
    upload.size = upload.tell()
    upload.seek(0)
    return upload


world = build_world()
engagement, lead = world.e1, world.it_lead
SlaPolicyFactory(engagement=engagement, source=POLICY_TOML)
measured = stage_upload(
    export("RUN", $run_tickets), engagement_id=engagement.pk, owner_id=lead.pk,
    format="generic", time_zone="UTC", keep_text=False,
)
read = read_files(
    measured.path, file_name="RUN.csv", format="generic", time_zone="UTC", keep_text=False
)
services.import_tickets(
    engagement=engagement, actor=lead, tickets=read.tickets, holds=read.holds,
    file_name="RUN.csv", format="generic", time_zone="UTC",
)
measured.discard()

staged = stage_upload(
    export("BIG", $import_rows), engagement_id=engagement.pk, owner_id=lead.pk,
    format="generic", time_zone="UTC", keep_text=False,
)
importing = start_with_progress(
    import_staged, owner=lead, label="Import of BIG.csv", kind="import_tickets",
    engagement=engagement, staged_id=staged.id,
)
staged.import_progress_id = str(importing.pk)
staged.save()
run, running = sla_runs.start_run(engagement=engagement, user=lead)
print(json.dumps({
    "import": importing.pk.hex, "staged": str(staged.directory),
    "run": run.pk, "run_progress": running.pk.hex, "engagement": engagement.pk,
    "user": lead.pk,
}))
"""

CHECK = """
import json
from pathlib import Path

from django_tasks_db.models import DBTaskResult

from tandem.core.models import ChangeLog, Progress
from tandem.service.models import ImportBatch, SlaRun

importing = Progress.objects.get(pk="$import_")
running = Progress.objects.get(pk="$run_progress")
run = SlaRun.objects.get(pk=$run)
batches = list(ImportBatch.objects.filter(file_name="BIG.csv"))
print(json.dumps({
    "import": [importing.state, importing.error],
    "import_task": DBTaskResult.objects.get(id=importing.task_id).status,
    "batches": [[b.status, b.error] for b in batches],
    "batch_audit": [
        [c.action, c.source, c.user_name]
        for b in batches
        for c in ChangeLog.objects.filter(object_repr=str(b))
    ],
    "staged_exists": Path("$staged").exists(),
    "run_progress": [running.state, running.error],
    "run": [run.status, run.error],
}))
"""

NEW_RUN = """
import json
from tandem.core.models import Engagement, User
from tandem.service import sla_runs

engagement = Engagement.objects.get(pk=$engagement)
run, progress = sla_runs.start_run(engagement=engagement, user=User.objects.get(pk=$user))
print(json.dumps({"run": run.pk, "status": run.status, "progress": progress.pk.hex}))
"""

STOPPED = """
import json
from tandem.core.models import Progress
from tandem.service.models import SlaRun

progress = Progress.objects.get(pk="$progress")
run = SlaRun.objects.get(pk=$run)
print(json.dumps({"progress": [progress.state, progress.error], "run": [run.status, run.error]}))
"""


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TANDEM_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env |= {
        "TANDEM_DATA_DIR": str(data_dir),
        "TANDEM_TESTING": "1",  # quick password hashing for the world's people
        "TANDEM_TASKS_DB": "1",  # ...and the real task queue all the same
        "TANDEM_TASK_LEASE_SECONDS": str(LEASE),
        "TANDEM_LOG_LEVEL": "WARNING",
    }
    return env


def _tandem(args: list[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tandem", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"tandem {args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _script(code: str, env: dict[str, str], cwd: Path) -> dict:
    output = _tandem(["shell", "-c", textwrap.dedent(code)], env, cwd)
    return json.loads(output.strip().splitlines()[-1])


def _state(database: Path, progress_id: str) -> tuple[str, int]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=20) as db:
        row = db.execute(
            "SELECT state, percent FROM core_progress WHERE id = ?", [progress_id]
        ).fetchone()
    return row[0], row[1]


def _start_worker(env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "tandem", "db_worker"),
            *("--no-reload", "--no-startup-delay", "--interval", "0.2"),
        ],
        env=env,
        cwd=cwd,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _kill_when(
    worker: subprocess.Popen[bytes],
    database: Path,
    progress_id: str,
    *,
    percent: int,
    signum: int = signal.SIGKILL,
) -> tuple[str, int]:
    """Signal the worker (SIGKILL) once the progress runs at ``percent`` or more; the state
    seen then."""
    deadline = time.monotonic() + 240
    state, done = "queued", 0
    while time.monotonic() < deadline:
        state, done = _state(database, progress_id)
        if state == "running" and done >= percent:
            break
        assert state in {"queued", "running"}, f"the work ended before it was killed: {state}"
        assert worker.poll() is None, "the worker exited by itself"
        time.sleep(0.05)
    else:
        pytest.fail(f"the work never reached {percent}% ({state}, {done}%)")
    os.kill(worker.pid, signum)
    worker.wait(timeout=30)
    return state, done


def _reap_until_failed(env: dict[str, str], cwd: Path, database: Path, progress_id: str) -> float:
    """Run ``tandem reap_tasks`` until the progress has failed; the seconds it took."""
    killed = time.monotonic()
    while time.monotonic() - killed < 60:
        _tandem(["reap_tasks"], env, cwd)
        if _state(database, progress_id)[0] == "failed":
            return time.monotonic() - killed
        time.sleep(0.5)
    pytest.fail("the killed worker's work was not marked failed within a minute")


def test_a_killed_worker_s_import_and_sla_run_fail_and_a_new_run_can_start(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    env = _env(data_dir)
    database = data_dir / "tandem.sqlite3"
    log = tmp_path / "worker.log"
    _tandem(["migrate", "--noinput"], env, tmp_path)
    ids = _script(
        Template(SETUP).substitute(run_tickets=RUN_TICKETS, import_rows=IMPORT_ROWS), env, tmp_path
    )
    staged = Path(ids["staged"])
    assert staged.is_dir() and sum(f.stat().st_size for f in staged.iterdir()) > 10_000_000

    # The import: killed while it checks and writes the tickets ("running 30%").
    worker = _start_worker(env, tmp_path, log)
    try:
        state, percent = _kill_when(worker, database, ids["import"], percent=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert state == "running" and 30 <= percent < 100
    assert _state(database, ids["run_progress"])[0] == "queued"  # not claimed yet
    took = _reap_until_failed(env, tmp_path, database, ids["import"])
    assert took < 60

    # The SLA run: killed as soon as the next worker has started it.
    worker = _start_worker(env, tmp_path, log)
    try:
        state, percent = _kill_when(worker, database, ids["run_progress"], percent=0)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert state == "running" and percent < 100
    took = _reap_until_failed(env, tmp_path, database, ids["run_progress"])
    assert took < 60

    found = _script(
        Template(CHECK).substitute(
            import_=ids["import"],
            run_progress=ids["run_progress"],
            run=ids["run"],
            staged=ids["staged"],
        ),
        env,
        tmp_path,
    )
    dead = "The worker running this stopped (no sign of life since "
    state, error = found["import"]
    assert state == "failed" and error.startswith(dead), error
    assert "nothing was saved" in error and "upload it again" in error
    assert found["import_task"] == "FAILED"
    [[status, batch_error]] = found["batches"]
    assert status == "failed" and batch_error.startswith(dead)
    assert found["batch_audit"] == [["create", "system", "system"]]
    assert found["staged_exists"] is False
    state, error = found["run_progress"]
    assert state == "failed" and error.startswith(dead)
    status, run_error = found["run"]
    assert status == "failed" and run_error == error

    # The engagement is free at once: a new run is queued, not refused for an hour.
    new = _script(
        Template(NEW_RUN).substitute(engagement=ids["engagement"], user=ids["user"]), env, tmp_path
    )
    assert new["status"] == "queued" and new["run"] != ids["run"]

    # A worker asked to stop (SIGTERM) ends its task at once as failed, then exits by itself.
    worker = _start_worker(env, tmp_path, log)
    try:
        state, percent = _kill_when(
            worker, database, new["progress"], percent=0, signum=signal.SIGTERM
        )
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert state == "running" and percent < 100
    assert worker.returncode == 0, log.read_text()[-2000:]
    stopped = _script(
        Template(STOPPED).substitute(progress=new["progress"], run=new["run"]), env, tmp_path
    )
    state, error = stopped["progress"]
    assert state == "failed"
    assert error == (
        "The worker was stopped (SIGTERM) before this work finished; nothing was saved."
    )
    assert stopped["run"] == ["failed", error]


# --- tandem run_sla killed mid-run --------------------------------------------------------------

#: Tickets of the run killed in the foreground: enough for a second or two of work.
COMMAND_TICKETS = 40_000

COMMAND_SETUP = """
import json
from datetime import UTC, datetime, timedelta

from pathlib import Path

from tandem.core.testing.world import build_world
from tandem.ingest import read_export
from tandem.service import services
from tandem.service.tests.factories import POLICY_TOML, SlaPolicyFactory

world = build_world()
engagement, lead = world.e1, world.it_lead
SlaPolicyFactory(engagement=engagement, source=POLICY_TOML)
start, lines = datetime(2025, 1, 1, tzinfo=UTC), []
for i in range($tickets):
    opened = start + timedelta(minutes=i % 80_000)
    lines.append(
        f"CMD-{i},P{1 + i % 4},{opened:%Y-%m-%dT%H:%M:%SZ},"
        f"{opened + timedelta(minutes=10 + i % 20):%Y-%m-%dT%H:%M:%SZ},"
        f"{opened + timedelta(hours=1 + i % 9):%Y-%m-%dT%H:%M:%SZ}"
    )
export = Path("CMD.csv")
export.write_text(
    "ticket_id,priority,opened_at,responded_at,resolved_at\\n" + "\\n".join(lines) + "\\n"
)
read = read_export(export, "generic", timezone="UTC")
services.import_tickets(
    engagement=engagement, actor=lead, tickets=read.tickets, holds=read.holds,
    file_name="CMD.csv", format="generic", time_zone="UTC",
)
print(json.dumps({"engagement": engagement.pk, "user": lead.pk, "email": lead.email}))
"""

NEW_RUN_SOON = """
import json, time
from tandem.core.models import Engagement, User
from tandem.service import sla_runs
from tandem.service.models import SlaRun

engagement = Engagement.objects.get(pk=$engagement)
began, refused = time.monotonic(), []
while True:
    try:
        run = sla_runs.create_run(engagement=engagement, user=User.objects.get(pk=$user))
        break
    except sla_runs.RunRefused as exc:
        refused.append(str(exc))
        assert time.monotonic() - began < 30, refused[-1]
        time.sleep(0.2)
killed = SlaRun.objects.get(pk=$killed)
progress = killed.progress
print(json.dumps({
    "waited": time.monotonic() - began, "refused": refused[:1], "run": run.pk,
    "status": run.status, "killed": [killed.status, killed.error],
    "progress": [progress.state, progress.error, progress.kind, progress.owner_id],
}))
"""


def test_a_killed_run_sla_command_s_run_fails_within_the_lease(tmp_path: Path) -> None:
    """``tandem run_sla`` runs its run as a worker does, heartbeat included: killed with
    SIGKILL mid-run, its run is failed with the reason within the lease, not after an hour."""
    data_dir = tmp_path / "data"
    env = _env(data_dir) | {"PYTHONUNBUFFERED": "1"}
    _tandem(["migrate", "--noinput"], env, tmp_path)
    ids = _script(Template(COMMAND_SETUP).substitute(tickets=COMMAND_TICKETS), env, tmp_path)
    command = subprocess.Popen(
        [
            *(sys.executable, "-m", "tandem", "run_sla"),
            *("--engagement", str(ids["engagement"]), "--as", ids["email"]),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert command.stdout is not None
        for line in command.stdout:  # "SLA Run #1 (id N) of ...", then "[  2%] Reading tickets"
            lines.append(line)
            if line.startswith("[") and "%]" in line:
                break
        os.kill(command.pid, signal.SIGKILL)
        command.wait(timeout=30)
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()
    assert command.returncode == -signal.SIGKILL, "".join(lines)
    started = [line for line in lines if line.startswith("SLA Run #")]
    assert started and "%]" in lines[-1], lines
    killed = int(started[0].split("(id ")[1].split(")")[0])

    found = _script(
        Template(NEW_RUN_SOON).substitute(killed=killed, **ids),
        env,
        tmp_path,
    )
    assert found["status"] == "queued" and found["run"] != killed
    assert found["waited"] < LEASE + 10, found  # within the lease, not an hour as before
    dead = "The worker running this stopped (no sign of life since "
    status, error = found["killed"]
    assert status == "failed" and error.startswith(dead) and "nothing was saved" in error
    state, progress_error, kind, owner = found["progress"]
    assert (state, progress_error, kind, owner) == ("failed", error, "sla_run", ids["user"])
