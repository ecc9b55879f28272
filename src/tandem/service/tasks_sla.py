"""The SLA run as background work: ``sla_runs.execute_run`` behind a progress bar.

It runs with ``atomic=False``: reading and measuring the tickets takes most of the time and
writes nothing, so the bar moves live; ``execute_run`` opens its own transaction for the
writes and records a failure outside it (a failed run stays visible as failed).

How it recovers (``tandem.core.tasks_recovery``): a run whose worker died, or that was
stopped, is marked failed with the reason (audited, by the system), which frees the
engagement for the next run at once; "Try again" starts a new run as of the same instant,
for anyone who may start runs in the engagement.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tandem.core.access import can_add
from tandem.core.models import Progress
from tandem.core.tasks import TaskFailure, run_with_progress
from tandem.core.tasks_compat import task
from tandem.core.tasks_recovery import Recovery, Refusal, RetryRefused, register_recovery
from tandem.service import sla_runs
from tandem.service.choices import RunStatus
from tandem.service.models import SlaRun

#: ``Progress.kind`` of SLA runs (the run pages look their bar up by it).
SLA_RUN_KIND = "sla_run"


@task()
def run_sla(progress_id: str, run_id: int) -> Any:
    """Execute the queued SLA run ``run_id``, reporting on the progress row."""
    return run_with_progress(progress_id, lambda progress: execute(progress, run_id), atomic=False)


def execute(
    progress: Progress, run_id: int, *, echo: sla_runs.Report | None = None
) -> dict[str, Any]:
    """The work of ``run_sla`` (and of ``tandem run_sla``, which runs it in the foreground):
    execute the run, reporting on ``progress`` and to ``echo``; ``TaskFailure`` unless done."""

    def report(percent: int, message: str) -> None:
        progress.update(percent=percent, message=message)
        if echo is not None:
            echo(percent, message)

    run = SlaRun.objects.select_related("engagement").filter(pk=run_id).first()
    if run is None:
        raise TaskFailure("This SLA run no longer exists (its engagement was deleted?).")
    if run.progress_id is None:
        SlaRun.objects.filter(pk=run.pk).update(progress=progress)
        run.progress = progress
    try:
        run = sla_runs.execute_run(run, report=report)
    except sla_runs.RunRefused as exc:
        raise TaskFailure(str(exc)) from exc
    if run.status != RunStatus.DONE:
        raise TaskFailure(f"Nothing was stored. {run.error}")
    return {
        "run_id": run.pk,
        "run_url": reverse("service:slarun_detail", args=[run.pk]),
        "summary": sla_runs.summary(run),
    }


# Recovery ------------------------------------------------------------------------------------


def _run_of(progress: Progress) -> SlaRun | None:
    run_id = (progress.arguments or {}).get("run_id")
    if run_id is None:
        return SlaRun.objects.filter(progress=progress).first()
    return SlaRun.objects.filter(pk=run_id).first()


def run_abandoned(progress: Progress, reason: str) -> str | None:
    """A run whose worker died or was stopped: failed, with the reason, audited once."""
    run = _run_of(progress)
    if run is None:
        return None
    if run.status == RunStatus.DONE:
        return f"The worker stopped after SLA {run.label} was stored: its results stand."
    sla_runs.fail_run(run, reason)
    return None


def run_may_retry(progress: Progress, user: Any) -> bool:
    engagement = progress.engagement
    return engagement is not None and can_add(user, SlaRun, engagement)


def run_refusal(progress: Progress) -> Refusal | None:
    if progress.engagement_id is None:
        return Refusal("The engagement of this run no longer exists.")
    return None


def run_retry(progress: Progress, user: Any) -> str:
    """A new run of the same engagement, as of the same instant as the failed one (and for
    the same reason: "as of the last imported event" stays so)."""
    old = _run_of(progress)
    engagement = progress.engagement
    assert engagement is not None  # run_refusal
    try:
        run, _ = sla_runs.start_run(
            engagement=engagement,
            user=user,
            as_of=old.as_of if old else None,
            as_of_basis=old.as_of_basis if old else None,
        )
    except sla_runs.RunRefused as exc:
        url = reverse("service:slarun_list", args=[engagement.pk])
        raise RetryRefused(Refusal(str(exc), url=url, link_text="SLA runs")) from exc
    return run.get_absolute_url()


register_recovery(
    run_sla,
    Recovery(
        abandoned=run_abandoned, may_retry=run_may_retry, refusal=run_refusal, retry=run_retry
    ),
)
