"""List exports too large to write during a request: written by a background worker, with a
progress bar, and a download link for the person who asked.

Every list export (``?export=csv`` or ``?export=xlsx`` on any ``ObjectListView``: tickets,
measurements, the audit trail...) first counts its rows, cheaply: ``LIMIT threshold + 1``.
Up to ``TANDEM_EXPORT_BACKGROUND_ROWS`` rows (10,000 by default) the file is written in the
response, as before. Above, :func:`start_if_large` queues :func:`export_list` with the page's
path and query string, and the person lands on the progress page.

The worker does what the request would have done, as the person who asked: it resolves the
path to its list view, calls it with a request of its own (that person, that query string,
marked so that it writes instead of queueing again) and copies the file the view answers
into the export folder, ``$MEDIA_ROOT/exports``, under a temporary name renamed when whole.
The view applies ``restrict()`` and the filters again, so someone whose access ended between
the click and the worker gets nothing. The writer (``tandem.core.exports``) moves the bar as
it goes (``exports.reporting``).

The file is served by ``progress:download`` to its owner only (anyone else: 404), and removed
after :data:`MAX_AGE` by the next background export or by ``tandem clean_exports``. A worker
that dies mid-way leaves its temporary file, which the recovery removes; "Try again" queues
the same export anew.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from tandem.core import exports
from tandem.core.models import Engagement, Progress, User
from tandem.core.tasks import (
    TaskFailure,
    export_dir,
    export_path,
    run_with_progress,
    start_with_progress,
)
from tandem.core.tasks_compat import task
from tandem.core.tasks_recovery import Recovery, register_recovery

logger = logging.getLogger(__name__)

#: Without a setting: exports of more rows than this are written in the background.
DEFAULT_BACKGROUND_ROWS = 10_000
#: Finished export files older than this are removed.
MAX_AGE = timedelta(days=1)
#: The kind of the progress records of these exports.
KIND = "export_list"
#: What marks the worker's own request: write the file, do not queue again.
_WRITING = "_tandem_export_writing"
_TEMPORARY_PREFIX = ".export-"


def background_rows() -> int:
    """``TANDEM_EXPORT_BACKGROUND_ROWS``: exports of more rows run in the background."""
    value = getattr(settings, "TANDEM_EXPORT_BACKGROUND_ROWS", DEFAULT_BACKGROUND_ROWS)
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return DEFAULT_BACKGROUND_ROWS


class _Writing:
    """What the worker's request carries: the rows to write, once the view has counted them."""

    total = 0


def start_if_large(
    request: HttpRequest,
    queryset: Any,
    *,
    fmt: str,
    title: str,
    engagement: Engagement | None,
) -> HttpResponse | None:
    """The export of ``queryset`` (the list's rows, filtered) when it is too large for this
    request: queued, and the redirect to its progress page. ``None``: write it now.

    In the worker's own request this counts the rows for the progress bar and returns
    ``None``: the view writes the file, which the worker keeps."""
    writing = getattr(request, _WRITING, None)
    if isinstance(writing, _Writing):
        writing.total = queryset.count()
        return None
    limit = background_rows()
    if queryset[: limit + 1].count() <= limit:
        return None
    where = f" of {engagement.name}" if engagement is not None else ""
    progress = start_with_progress(
        export_list,
        owner=cast("User", request.user),  # list views require a signed-in person
        label=f"{title}{where} as {fmt.upper()}",
        kind=KIND,
        engagement=engagement,
        owner_only=True,
        path=request.path_info,
        query=request.GET.urlencode(),
    )
    return redirect(progress)


@task()
def export_list(progress_id: str, path: str, query: str) -> Any:
    """Write the export the list at ``path`` answers to ``?query``, as the progress owner."""
    try:
        clean_exports()
    except OSError:  # a file that cannot be removed must not stop the export
        logger.exception("Removing old export files failed")
    return run_with_progress(
        progress_id, lambda progress: write_export(progress, path, query), atomic=False
    )


def write_export(progress: Progress, path: str, query: str) -> dict[str, Any]:
    """Call the list view as the owner, keep the file it answers; ``{"file_name", "rows"}``."""
    from tandem.core.views.generic import ObjectListView  # views import this module

    owner = progress.owner
    if owner is None or not owner.is_active:
        raise TaskFailure("The person who asked for this export can no longer sign in.")
    try:
        match = resolve(path)
    except Resolver404:
        raise TaskFailure("This list no longer exists.") from None
    view_class = getattr(match.func, "view_class", None)
    if view_class is None or not issubclass(view_class, ObjectListView):
        raise TaskFailure("Only lists can be exported.")

    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = path
    request.GET = QueryDict(query)
    request.user = owner
    request.META = {"SERVER_NAME": _host(), "SERVER_PORT": "443"}
    writing = _Writing()
    setattr(request, _WRITING, writing)

    def report(rows: int) -> None:
        total = max(writing.total, rows)
        progress.update(
            percent=min(99, rows * 100 // max(total, 1)),
            message=f"{rows:,} of {total:,} rows written",
        )

    heartbeat = getattr(progress, "_heartbeat", None)
    if heartbeat is not None:
        # The rows are read through one open cursor. On SQLite (WAL) a write on this
        # connection while it is open fails at once ("database is locked": the heartbeat's
        # commits have made its snapshot stale), so the bar moves through the heartbeat's own
        # connection, as it does on PostgreSQL; nothing else is written until the file is.
        heartbeat.side_channel = True
    started = time.monotonic()
    with exports.reporting(report):
        try:
            response = match.func(request, *match.args, **match.kwargs)
        except Http404:
            raise TaskFailure("You no longer have access to this list.") from None
        try:
            disposition = response.get("Content-Disposition", "")
            if response.status_code != 200 or not disposition.startswith("attachment"):
                raise TaskFailure("You no longer have access to this list.")
            file_name = _stored_name(disposition, progress)
            _keep(response, progress, file_name)
        finally:
            _close_quietly(response)
    logger.info(
        "Export %s: %s rows to %s in %.1f s",
        progress.pk,
        writing.total,
        file_name,
        time.monotonic() - started,
    )
    return {"file_name": file_name, "rows": writing.total}


def _close_quietly(response: HttpResponseBase) -> None:
    """Release what the response holds (its rows' cursor, its file) without closing this
    thread's database connection.

    ``close()`` ends a request: it sends ``request_finished``, whose ``close_old_connections``
    closes the connection when it is in a transaction or past its age - the worker's own, in the
    middle of its work (and, where work runs inside a transaction, everything after it fails
    with "the connection is closed"). A server does that after a request; this export is not
    one, so the receiver is held off while the response closes, as Django's test client does.
    """
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def _host() -> str:
    """A host name the settings allow, for a view that would ask for one."""
    for host in settings.ALLOWED_HOSTS:
        if host and not host.startswith((".", "*")):
            return str(host)
    return "localhost"


def _stored_name(disposition: str, progress: Progress) -> str:
    """The file's own name with the progress's first characters, unique in the folder:
    ``riverside-tickets-1a2b3c4d.xlsx``."""
    header = Message()
    header["Content-Disposition"] = disposition
    name = Path(header.get_filename() or "export.csv").name
    stem, dot, suffix = name.rpartition(".")
    suffix = suffix if suffix in exports.FORMATS else "csv"
    stem = exports.file_slug(stem if dot else name)
    return f"{stem}-{str(progress.pk)[:8]}.{suffix}"


def _keep(response: Any, progress: Progress, file_name: str) -> None:
    """Copy the response's body to the export folder: a temporary file renamed when whole."""
    directory = export_dir()
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=directory, prefix=f"{_TEMPORARY_PREFIX}{progress.pk}-", suffix=".part"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            for chunk in response.streaming_content:
                stream.write(chunk)
        Path(temporary).replace(export_path(file_name))
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def export_abandoned(progress: Progress, reason: str) -> str | None:
    """A dead worker's export: remove its half-written file (the next one starts afresh)."""
    directory = export_dir()
    if directory.is_dir():
        for path in directory.glob(f"{_TEMPORARY_PREFIX}{progress.pk}-*"):
            path.unlink(missing_ok=True)
    return None


register_recovery(export_list, Recovery(abandoned=export_abandoned))


def clean_exports(max_age: timedelta = MAX_AGE, *, dry_run: bool = False) -> list[Path]:
    """Remove export files (and temporary files left behind) older than ``max_age``;
    return what was (or, with ``dry_run``, would be) removed."""
    directory = export_dir()
    if not directory.is_dir():
        return []
    cutoff = time.time() - max_age.total_seconds()
    removed = []
    for path in sorted(directory.iterdir()):
        try:
            if not path.is_file() or path.stat().st_mtime >= cutoff:
                continue
            if not dry_run:
                path.unlink()
        except FileNotFoundError:  # removed meanwhile (another worker cleaning)
            continue
        removed.append(path)
    return removed
