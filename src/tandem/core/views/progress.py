"""Pages that show background work: a progress bar htmx polls, a JSON twin, the download,
and "Try again" for failed work.

One URL serves the whole page and, for htmx's polling requests, just the bar. Everything is
read through ``Progress.objects.restrict(user)``: someone else's work answers 404. Each poll
first reaps dead work (``tandem.core.tasks_recovery``), so work whose worker died shows as
failed, with the reason, within a lease of its last sign of life.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from tandem.core.access import engagement_ids_for, is_platform_admin
from tandem.core.choices import Action, ProgressState
from tandem.core.exports import CSV_TYPE, XLSX_TYPE
from tandem.core.models import Engagement, Progress
from tandem.core.services import NotAllowed
from tandem.core.tasks import export_audit_csv, export_path, start_with_progress
from tandem.core.tasks_recovery import RetryRefused, may_retry, reap_dead_work, retry_work

PAGE_TEMPLATE = "core/progress.html"
BAR_TEMPLATE = "core/progress_bar.html"
RETRY_REFUSED_TEMPLATE = "core/progress_retry_refused.html"


def _download_url(progress: Progress, user: Any) -> str | None:
    """The download link, for the owner of finished work that produced a file."""
    result = progress.result if isinstance(progress.result, dict) else {}
    if progress.state != ProgressState.SUCCEEDED or progress.owner_id != user.pk:
        return None
    if not result.get("file_name") or not _file_kept(progress):
        return None
    return reverse("progress:download", args=[progress.pk])


def _file_kept(progress: Progress) -> bool:
    """Whether the file the work produced is still there (old exports are removed)."""
    result = progress.result if isinstance(progress.result, dict) else {}
    try:
        return export_path(str(result.get("file_name", ""))).is_file()
    except ValueError:
        return False


def _retry(progress: Progress, user: Any) -> dict[str, Any] | None:
    """For failed work: whether this person may try it again, or why it cannot be."""
    if progress.state != ProgressState.FAILED or not may_retry(progress, user):
        return None
    refusal = progress.retry_refusal
    if refusal is not None:
        return {"refusal": refusal}
    return {"url": reverse("progress:retry", args=[progress.pk])}


@login_required
@require_GET
def progress_detail(request: HttpRequest, pk: str) -> HttpResponse:
    reap_dead_work()
    progress = get_object_or_404(
        Progress.objects.restrict(request.user).select_related("engagement"), pk=pk
    )
    result = progress.result if isinstance(progress.result, dict) else {}
    context = {
        "progress": progress,
        "download_url": _download_url(progress, request.user),
        "result_rows": result.get("rows"),
        "file_gone": bool(result.get("file_name")) and not _file_kept(progress),
        "retry": _retry(progress, request.user),
    }
    template = BAR_TEMPLATE if getattr(request, "htmx", False) else PAGE_TEMPLATE
    return render(request, template, context)


@require_GET
def progress_json(request: HttpRequest, pk: str) -> JsonResponse:
    """For scripts: the same record as data (session or anonymous: 404 when out of scope);
    ``retry_url`` is where to POST "Try again" when this person may."""
    reap_dead_work()
    progress = get_object_or_404(Progress.objects.restrict(request.user), pk=pk)
    return JsonResponse(
        {
            "id": str(progress.pk),
            "kind": progress.kind,
            "label": progress.label,
            "engagement": progress.engagement_id,
            "state": progress.state,
            "percent": progress.percent,
            "message": progress.message,
            "finished": progress.finished,
            "result": progress.result,
            "error": progress.error,
            "created": progress.created.isoformat(),
            "last_updated": progress.last_updated.isoformat(),
            "url": request.build_absolute_uri(progress.get_absolute_url()),
            "download_url": _download_url(progress, request.user),
            "retry_url": (_retry(progress, request.user) or {}).get("url"),
        }
    )


@login_required
@require_GET
def progress_download(request: HttpRequest, pk: str) -> FileResponse:
    """The file a finished task produced, for the person who started it and nobody else."""
    progress = get_object_or_404(
        Progress.objects.filter(owner_id=request.user.pk, state=ProgressState.SUCCEEDED), pk=pk
    )
    result = progress.result if isinstance(progress.result, dict) else {}
    try:
        path = export_path(str(result.get("file_name", "")))
    except ValueError:
        raise Http404("This work produced no file.") from None
    if not path.is_file():
        raise Http404("The file is no longer available.")
    content_type = XLSX_TYPE if path.suffix == ".xlsx" else CSV_TYPE
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=path.name, content_type=content_type
    )


@login_required
@require_POST
def progress_retry(request: HttpRequest, pk: str) -> HttpResponse:
    """ "Try again": start failed work anew under a new progress, and follow that.

    Out of scope: 404. Seen but not the owner's nor work this person may do: 403. Work that
    cannot be started again (not failed; its uploaded file removed...): 409 with a page that
    says why and where to go instead (e.g. the import wizard, to upload the file again).
    """
    progress = get_object_or_404(
        Progress.objects.restrict(request.user).select_related("engagement", "owner"), pk=pk
    )
    try:
        url = retry_work(progress, request.user)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except RetryRefused as exc:
        context = {"progress": progress, "refusal": exc.refusal}
        return render(request, RETRY_REFUSED_TEMPLATE, context, status=409)
    messages.success(request, f"Started again: {progress.label}.")
    return redirect(url)


@login_required
@require_POST
def export_audit(request: HttpRequest, engagement_pk: int) -> HttpResponse:
    """Start exporting an engagement's audit trail (as this person may see it) to CSV."""
    engagement = get_object_or_404(Engagement.objects.restrict(request.user), pk=engagement_pk)
    user = request.user
    if not is_platform_admin(user) and not (
        engagement_ids_for(user, "audit", Action.VIEW).filter(engagement_id=engagement.pk).exists()
    ):
        raise Http404("No engagement matches the given query.")
    progress = start_with_progress(
        export_audit_csv,
        owner=user,
        label=f"Audit trail of {engagement} as CSV",
        kind="export_audit",
        engagement=engagement,
        owner_only=True,
        engagement_id=engagement.pk,
    )
    return redirect(progress)
