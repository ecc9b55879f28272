"""The ticket import wizard: upload, preview, confirm, then a progress bar until it is stored.

Who may do what: uploading and confirming need ``can_add(user, ImportBatch, engagement)``
(403 otherwise, 404 outside the user's engagements); a staged upload and its preview are
seen only by the person who uploaded it (404 for anyone else). The staging itself - where
files live between the steps and how they are read - is ``tandem.service.imports``.

Nothing here reads the file: the upload stages it and starts the preview as background
work with a time budget (``tandem.service.tasks_preview``); the preview page polls that
work with htmx and shows the preview once it is kept. A generic CSV (or a file no format
fits) gets a column-mapping form on its preview page; it posts to the preview URL itself,
and a valid mapping is kept with the staged upload and read again in the background, like
the first preview. A file whose timestamps did not read (or read two ways: day or month
first) gets a date-format form the same way: a valid choice is kept and the file previewed
again with it. A preview that failed (its time budget, a worker that died) can be started
again from its page.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tandem.core.access import can_add
from tandem.core.choices import Action, ProgressState
from tandem.core.models import Engagement, Progress
from tandem.core.tasks import start_with_progress
from tandem.core.tasks_recovery import reap_dead_work
from tandem.core.views.generic import EngagementMixin
from tandem.service.choices import ImportFormat
from tandem.service.forms_import import ColumnMappingForm, DateFormatForm, ImportUploadForm
from tandem.service.import_mapping import fields_for
from tandem.service.imports import (
    Staged,
    StagedMissing,
    UploadRefused,
    human_size,
    max_import_bytes,
    stage_upload,
)
from tandem.service.models import ImportBatch
from tandem.service.tasks import import_staged
from tandem.service.tasks_preview import PREVIEW_KIND, preview_seconds, start_preview

IMPORT_KIND = "import_tickets"
STEPS = ("Upload", "Preview", "Import")
# Room for the form fields and multipart framing around the two files.
_REQUEST_SLACK = 1024 * 1024


def _steps(current: int) -> list[dict[str, Any]]:
    return [
        {
            "number": number,
            "label": label,
            "state": "done" if number < current else "current" if number == current else "todo",
        }
        for number, label in enumerate(STEPS, start=1)
    ]


def _require_add(user: Any, engagement: Engagement) -> None:
    if not can_add(user, ImportBatch, engagement):
        raise PermissionDenied("Your role in this engagement may not import tickets.")


class ImportUploadView(LoginRequiredMixin, EngagementMixin, View):
    """Step 1: the file, an optional holds file, and how to read them."""

    template_name = "service/import_upload.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        engagement = self.get_engagement()
        assert engagement is not None
        _require_add(request.user, engagement)
        return super().dispatch(request, *args, **kwargs)

    def render_form(self, form: ImportUploadForm, *, refused: str = "", status: int = 200) -> Any:
        context = {
            "engagement": self.get_engagement(),
            "form": form,
            "refused": refused,
            "limit": human_size(max_import_bytes()),
            "steps": _steps(1),
        }
        return render(self.request, self.template_name, context, status=status)

    def initial(self) -> dict[str, Any]:
        engagement = self.get_engagement()
        return {"time_zone": engagement.time_zone if engagement else "UTC", "keep_text": False}

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self.render_form(ImportUploadForm(initial=self.initial()))

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        # Refuse an obviously oversized request before Django spools it to disk: reading
        # request.FILES would first write the whole body to a temporary file.
        limit = max_import_bytes()
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > 2 * limit + _REQUEST_SLACK:
            refused = (
                f"This upload is {human_size(length)}, over the limit of {human_size(limit)} "
                "per file. Split the export (for example by month) and import the parts."
            )
            return self.render_form(
                ImportUploadForm(initial=self.initial()), refused=refused, status=413
            )
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_form(form, status=422)
        engagement = self.get_engagement()
        assert engagement is not None
        try:
            staged = stage_upload(
                form.cleaned_data["file"],
                holds=form.cleaned_data.get("holds"),
                engagement_id=engagement.pk,
                owner_id=request.user.pk,
                format=form.cleaned_data["format"] or None,
                time_zone=form.cleaned_data["time_zone"],
                keep_text=form.cleaned_data["keep_text"],
            )
        except UploadRefused as exc:
            form.add_error("file", str(exc))
            return self.render_form(form, status=422)
        start_preview(staged, owner=request.user, engagement=engagement)
        return redirect("service:import_preview", staged.id)


def _staged_for(request: HttpRequest, staged_id: Any) -> tuple[Staged, Engagement]:
    """The staged upload, for its uploader only, in an engagement they still see (or 404)."""
    try:
        staged = Staged.load(staged_id)
    except StagedMissing:
        raise Http404("No staged import matches the given query.") from None
    if staged.owner_id != request.user.pk:
        raise Http404("No staged import matches the given query.")
    engagement = get_object_or_404(
        Engagement.objects.restrict(request.user, Action.VIEW), pk=staged.engagement_id
    )
    return staged, engagement


@login_required
@require_http_methods(["GET", "POST"])
def import_preview(request: HttpRequest, staged_id: Any) -> HttpResponse:
    """Step 2: what the file holds, or why it cannot be imported. Nothing is stored, and
    nothing is read here: the background preview's bar until it is kept, then the preview.

    POST: a column mapping for a generic CSV; valid, the file is previewed again with it.
    POST ``date_format``: how the timestamps are written, likewise.
    POST ``retry``: start again a preview that failed.
    """
    staged, engagement = _staged_for(request, staged_id)
    if request.method == "POST" and "retry" in request.POST:
        return _retry_preview(request, staged, engagement)
    if request.method == "POST" and "date_format" in request.POST:
        return _apply_date_format(request, staged, engagement)
    if request.method == "POST":
        return _apply_mapping(request, staged, engagement)
    preview = staged.load_preview()
    progress = None
    if preview is None:
        progress = _preview_progress(request, staged, engagement)
        preview = staged.load_preview()  # the immediate backend has finished already
    if getattr(request, "htmx", False):
        if preview is not None:  # the background read is done: show the whole page
            return HttpResponse(headers={"HX-Refresh": "true"})
        context = {**_bar(request, progress), **_preview_links(staged, engagement)}
        return render(request, "service/import_progress_bar.html", context)
    return _render_preview(request, staged, engagement, preview, progress)


def _render_preview(
    request: HttpRequest,
    staged: Staged,
    engagement: Engagement,
    preview: dict[str, Any] | None,
    progress: Progress | None = None,
    *,
    form: ColumnMappingForm | None = None,
    date_form: DateFormatForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "engagement": engagement,
        "staged": staged,
        "steps": _steps(2),
        "can_import": can_add(request.user, ImportBatch, engagement),
        "sizes": human_size(staged.size),
        "holds_size": human_size(staged.holds_size),
    }
    if preview is None:
        context.update(_bar(request, progress), **_preview_links(staged, engagement))
    else:
        context["preview"] = _displayed(preview, engagement)
        if form is None:
            form = _mapping_form(staged, preview)
        if form is not None:
            context.update(_mapping_context(staged, preview, form))
        if date_form is None:
            date_form = _date_form(staged, preview)
        if date_form is not None:
            context["date_form"] = date_form
            context["date_hint"] = preview.get("dates") or {}
    return render(request, "service/import_preview.html", context, status=status)


def _date_form(staged: Staged, preview: dict[str, Any]) -> DateFormatForm | None:
    """The date-format form, when the timestamps did not read (or read two ways) or a
    format was chosen already (to change it back)."""
    hint = preview.get("dates")
    if not hint and not staged.date_format:
        return None
    if preview.get("revision", 0) != staged.revision:
        return None
    return DateFormatForm(
        readable=(hint or {}).get("readable", ()),
        current=staged.date_format,
        revision=staged.revision,
    )


def _apply_date_format(
    request: HttpRequest, staged: Staged, engagement: Engagement
) -> HttpResponse:
    """Keep a valid date format and preview again with it; a bad one changes nothing (422)."""
    _require_add(request.user, engagement)
    if staged.import_progress_id:
        raise Http404("This upload is being imported.")
    preview = staged.load_preview()
    if preview is None or preview.get("revision", 0) != staged.revision:
        messages.error(request, "Wait for the preview to finish, then choose the date format.")
        return redirect("service:import_preview", staged.id)
    form = DateFormatForm(
        request.POST,
        readable=(preview.get("dates") or {}).get("readable", ()),
        current=staged.date_format,
        revision=staged.revision,
    )
    if not form.is_valid():
        return _render_preview(request, staged, engagement, preview, date_form=form, status=422)
    chosen = form.chosen()
    staged.apply_date_format(chosen)
    start_preview(staged, owner=request.user, engagement=engagement)
    shown = f"as {chosen}" if chosen else "with the formats Tandem detects"
    messages.success(request, f"Tandem reads the dates again, {shown}.")
    return redirect("service:import_preview", staged.id)


def _mapping_form(
    staged: Staged, preview: dict[str, Any], data: Any = None
) -> ColumnMappingForm | None:
    source = preview.get("mapping")
    if not source or preview.get("revision", 0) != staged.revision:
        return None
    return ColumnMappingForm(
        data,
        source=source,
        mapped_fields=fields_for(keep_text=staged.keep_text),
        file_name=staged.file_name,
        revision=staged.revision,
    )


def _mapping_context(
    staged: Staged, preview: dict[str, Any], form: ColumnMappingForm
) -> dict[str, Any]:
    """The form, whether it opens by itself, and a sentence on why it is there."""
    source = form.source
    fmt = preview.get("format")
    labels = {f.name: f.label for f in form.mapped_fields}
    if source.get("applied"):
        needed = not preview.get("ok")
        note = "Read with the columns you chose." + (
            " The problems above come from that reading: change the columns or the priority "
            "values here, or fix the file and upload it again."
            if needed
            else ""
        )
    elif fmt is None:
        note = (
            "Tandem cannot tell which export this is. If it is a CSV of tickets, say which "
            "column holds what and Tandem reads it as a generic CSV. Its guesses are filled in."
        )
        needed = True
    elif fmt != "generic":
        name = ImportFormat(fmt).label if fmt in ImportFormat.values else fmt
        note = (
            f"The {name} reader did not find the columns it needs. You can read the file "
            "as a generic CSV instead: say which column holds what."
        )
        needed = True
    elif not preview.get("ok") and preview.get("dates") and not source.get("guess_adds"):
        note = "The columns are named as Tandem's own fields: the dates are the trouble."
        needed = False
    elif not preview.get("ok"):
        note = (
            "Some columns Tandem needs are not named as it expects. Say which column holds "
            "what; Tandem's guesses are filled in."
        )
        needed = True
    elif source.get("guess_adds"):
        found = ", ".join(labels.get(name, name) for name in source["guess_adds"])
        note = (
            "Tandem read the columns named as its own fields. Other columns look like "
            f"{found}: check the choices below and apply them to use them."
        )
        needed = True
    else:
        note, needed = "Every column is named as Tandem's own fields.", False
    return {
        "mapping_form": form,
        "mapping_note": note,
        "mapping_open": needed or form.is_bound,
    }


def _apply_mapping(request: HttpRequest, staged: Staged, engagement: Engagement) -> HttpResponse:
    """Keep a valid mapping and preview again with it; a bad one changes nothing (422)."""
    _require_add(request.user, engagement)
    if staged.import_progress_id:
        raise Http404("This upload is being imported.")
    preview = staged.load_preview()
    form = _mapping_form(staged, preview, request.POST) if preview else None
    if form is None:
        messages.error(request, "Wait for the preview to finish, then choose the columns.")
        return redirect("service:import_preview", staged.id)
    if not form.is_valid():
        return _render_preview(request, staged, engagement, preview, form=form, status=422)
    staged.apply_mapping(form.mapping(), form.priority_map())
    start_preview(staged, owner=request.user, engagement=engagement)
    messages.success(request, "Columns applied: Tandem reads the file again with them.")
    return redirect("service:import_preview", staged.id)


def _retry_preview(request: HttpRequest, staged: Staged, engagement: Engagement) -> HttpResponse:
    """Read the file again after a failed preview; any other state changes nothing."""
    if staged.import_progress_id:
        raise Http404("This upload is being imported.")
    progress = _preview_progress(request, staged, engagement, start=False)
    failed = progress is None or progress.state == ProgressState.FAILED
    if failed and staged.load_preview() is None:
        start_preview(staged, owner=request.user, engagement=engagement)
        messages.info(request, f"Reading {staged.file_name} again.")
    return redirect("service:import_preview", staged.id)


def _preview_progress(
    request: HttpRequest, staged: Staged, engagement: Engagement, *, start: bool = True
) -> Progress | None:
    """The background preview of the current revision; started if it never was (an upload
    staged before previews ran in the background, or its row is gone)."""
    if staged.preview_progress_id:
        progress = (
            Progress.objects.restrict(request.user)
            .filter(pk=staged.preview_progress_id, kind=PREVIEW_KIND)
            .first()
        )
        if progress is not None:
            return progress
    if not start:
        return None
    return start_preview(staged, owner=request.user, engagement=engagement)


def _bar(request: HttpRequest, progress: Progress | None) -> dict[str, Any]:
    return {"progress": progress, "poll_url": request.path}


def _preview_links(staged: Staged, engagement: Engagement) -> dict[str, str]:
    """The preview's card: its time budget; failed, read it again or upload another file."""
    return {
        "budget": f"{preview_seconds():g}",
        "retry_url": reverse("service:import_preview", args=[staged.id]),
        "upload_url": reverse("service:import_upload", args=[engagement.pk]),
    }


def _displayed(preview: dict[str, Any], engagement: Engagement) -> dict[str, Any]:
    """The preview with instants in the engagement's time zone and labels for codes."""
    if not preview.get("ok"):
        return preview
    zone = ZoneInfo(engagement.time_zone)
    shown = dict(preview)
    fmt = preview.get("format") or ""
    shown["format_label"] = (
        ImportFormat(fmt).label if fmt in ImportFormat.values else fmt or "unknown"
    )
    total = max(int(preview["tickets"]), 1)
    shown["priority_rows"] = [
        {
            "priority": "No priority" if key == "none" else key,
            "count": count,
            "share": 100 * count / total,
        }
        for key, count in preview["priority_mix"].items()
    ]
    shown["first_opened"] = _local(preview.get("first_opened"), zone)
    shown["last_opened"] = _local(preview.get("last_opened"), zone)
    shown["first_tickets"] = [
        {
            **row,
            **{
                name: _local(row.get(name), zone)
                for name in ("opened_at", "responded_at", "resolved_at")
            },
        }
        for row in preview["first_tickets"]
    ]
    return shown


def _local(value: str | None, zone: ZoneInfo) -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


@login_required
@require_POST
def import_confirm(request: HttpRequest, staged_id: Any) -> HttpResponse:
    """Step 3: import the staged file in the background and show its progress."""
    staged, engagement = _staged_for(request, staged_id)
    _require_add(request.user, engagement)
    if staged.import_progress_id:
        return redirect("service:import_progress", staged.import_progress_id)
    preview = staged.load_preview()
    if preview is None or not preview.get("ok"):
        messages.error(request, "This file cannot be imported as it is: see its problems.")
        return redirect("service:import_preview", staged.id)
    progress = start_with_progress(
        import_staged,
        owner=request.user,
        label=f"Import of {staged.file_name}",
        kind=IMPORT_KIND,
        engagement=engagement,
        staged_id=staged.id,
    )
    staged.import_progress_id = str(progress.pk)
    if staged.directory.exists():  # the worker removes it when done: may be gone already
        with contextlib.suppress(FileNotFoundError):
            staged.save()
    return redirect("service:import_progress", progress.pk)


@login_required
@require_POST
def import_discard(request: HttpRequest, staged_id: Any) -> HttpResponse:
    """Throw a staged upload away without importing it."""
    staged, engagement = _staged_for(request, staged_id)
    if staged.import_progress_id:
        raise Http404("This upload is being imported.")
    staged.discard()
    messages.success(request, f"Discarded {staged.file_name}; nothing was imported.")
    return redirect("service:importbatch_list", engagement.pk)


@login_required
@require_GET
def import_progress(request: HttpRequest, pk: Any) -> HttpResponse:
    """The import's progress bar (htmx polls this URL), then a link to what it stored."""
    # Worker recovery (tandem.core.tasks_recovery): an import whose worker died shows failed.
    reap_dead_work()
    progress = get_object_or_404(
        Progress.objects.restrict(request.user).select_related("engagement", "owner"),
        pk=pk,
        kind=IMPORT_KIND,
    )
    context: dict[str, Any] = {**_bar(request, progress), "steps": _steps(3)}
    result = progress.result if isinstance(progress.result, dict) else {}
    if progress.state == ProgressState.SUCCEEDED and result.get("batch_id"):
        context["batch_url"] = reverse("service:importbatch_detail", args=[result["batch_id"]])
        context["summary"] = result.get("summary", "")
    if progress.engagement_id:
        context["upload_url"] = reverse("service:import_upload", args=[progress.engagement_id])
    if getattr(request, "htmx", False):
        return render(request, "service/import_progress_bar.html", context)
    context["engagement"] = progress.engagement
    return render(request, "service/import_progress.html", context)
