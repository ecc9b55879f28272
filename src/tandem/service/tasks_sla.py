"""The SLA run as background work: ``sla_runs.execute_run`` behind a progress bar.

It runs with ``atomic=False``: reading and measuring the tickets takes most of the time and
writes nothing, so the bar moves live; ``execute_run`` opens its own transaction for the
writes and records a failure outside it (a failed run stays visible as failed).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tandem.core.models import Progress
from tandem.core.tasks import TaskFailure, run_with_progress
from tandem.core.tasks_compat import task
from tandem.service import sla_runs
from tandem.service.choices import RunStatus
from tandem.service.models import SlaRun

#: ``Progress.kind`` of SLA runs (the run pages look their bar up by it).
SLA_RUN_KIND = "sla_run"


@task()
def run_sla(progress_id: str, run_id: int) -> Any:
    """Execute the queued SLA run ``run_id``, reporting on the progress row."""
    return run_with_progress(progress_id, lambda progress: _run(progress, run_id), atomic=False)


def _run(progress: Progress, run_id: int) -> dict[str, Any]:

    run = SlaRun.objects.select_related("engagement").filter(pk=run_id).first()
    if run is None:
        raise TaskFailure("This SLA run no longer exists (its engagement was deleted?).")
    if run.progress_id is None:
        SlaRun.objects.filter(pk=run.pk).update(progress=progress)
        run.progress = progress
    try:
        run = sla_runs.execute_run(
            run, report=lambda percent, message: progress.update(percent=percent, message=message)
        )
    except sla_runs.RunRefused as exc:
        raise TaskFailure(str(exc)) from exc
    if run.status != RunStatus.DONE:
        raise TaskFailure(f"Nothing was stored. {run.error}")
    return {
        "run_id": run.pk,
        "run_url": reverse("service:slarun_detail", args=[run.pk]),
        "summary": sla_runs.summary(run),
    }
