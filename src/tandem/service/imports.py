"""Reading exports for import, and the staging area the web import wizard works in.

The wizard has three steps, and a file has to survive between them without living in a
session or in memory:

1. **Upload**: Django's upload handlers stream the file to a temporary file (above
   ``FILE_UPLOAD_MAX_MEMORY_SIZE``); ``stage_upload`` *moves* it - no copy - to
   ``MEDIA_ROOT/imports/<uuid>/`` beside a small ``staged.json`` that says who uploaded it,
   for which engagement, and how to read it.
2. **Preview**: a background task with a time budget (``tandem.service.tasks_preview``;
   never the request) has ``Staged.build_preview`` read it with ``tandem.ingest``, and
   ``summarise`` turn the result (or the problems found) into ``preview-<revision>.json``:
   counts, priority mix, date range, the first tickets, warnings. Nothing is stored in the
   database.
   A generic CSV (or a file whose format cannot be told) also gets what the column-mapping
   form needs (``tandem.service.import_mapping``); a mapping submitted there is kept in
   ``staged.json`` and bumps the revision, so a preview read with an older mapping is
   never shown for the new one.
3. **Confirm**: the ``import_staged`` task (``tandem.service.tasks``) reads the file again
   and calls ``services.import_tickets``; the staging folder is deleted whatever happens.

``read_files`` is also what ``tandem import-tickets`` reads with, so the command and the
wizard refuse the same files with the same messages. Folders left behind (a preview never
confirmed) are removed after ``STAGED_MAX_AGE`` by the next upload, or by
``tandem clean_staged_imports``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import struct
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.core.files.move import file_move_safe
from django.core.files.uploadedfile import UploadedFile

from tandem.core.errors import redact_paths
from tandem.ingest import (
    Imported,
    IngestError,
    Problem,
    check_size,
    detect_format,
    read_export,
    read_holds_csv,
)
from tandem.ingest.limits import Limits
from tandem.service.import_limits import import_limits
from tandem.service.import_mapping import batch_mapping, mapping_source, offers_mapping

STAGING_DIR_NAME = "imports"
#: How many tickets the preview lists.
PREVIEW_TICKETS = 20
#: A zipped export is unpacked in chunks of this size, its progress reported every so many
#: bytes (where the preview's time budget can stop it).
UNPACK_CHUNK = 1024 * 1024
UNPACK_REPORT = 32 * UNPACK_CHUNK
#: An uploaded ZIP archive (or XLSX workbook) listing more files than this, or a larger
#: directory, is refused before its directory is parsed.
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_DIRECTORY_BYTES = 4 * 1024 * 1024
#: Staged uploads older than this are removed by ``clean_staged_imports``.
STAGED_MAX_AGE = timedelta(days=1)
#: Extensions kept on the staged copy (the readers recognise XLSX by its bytes anyway).
_SUFFIXES = {".csv", ".txt", ".xlsx", ".tsv"}

Progress = Callable[[int, str], None]


def max_import_bytes() -> int:
    return int(getattr(settings, "TANDEM_MAX_IMPORT_BYTES", 2 * 1024**3))


def human_size(size: int) -> str:
    """``2.0 GiB``, ``300.0 KiB``, ``12 bytes``: sizes as people read them (1 KiB = 1,024)."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value):,} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


# Reading -----------------------------------------------------------------------------------


def read_files(
    path: Path,
    *,
    file_name: str,
    format: str | None,
    time_zone: str,
    keep_text: bool,
    holds_path: Path | None = None,
    holds_name: str | None = None,
    limit_bytes: int | None = None,
    progress: Progress | None = None,
    mapping: dict[str, str] | None = None,
    priority_map: dict[str, str | None] | None = None,
    limits: Limits | None = None,
    date_format: str | None = None,
) -> Imported:
    """Read an export and, optionally, a holds CSV; raise ``IngestError`` on any problem.

    ``limits`` (default: ``import_limits()``, from settings) bound what is read: size,
    decompressed size, rows, columns, cell length; the readers also refuse any value
    storing would refuse (``tandem.ingest.validation``), naming file, row and column.

    ``format=None`` detects it from the file. The holds file's holds are added to those the
    export itself carries (a ServiceNow event log has its own). ``mapping`` (canonical name
    -> file column) and ``priority_map`` (raw value -> P1..P4 or None) go to the reader;
    ``date_format`` (a name or strftime pattern, ``tandem.ingest.dates``; None: the
    reader's own) to both readers.
    """
    report = progress or _silent
    limits = limits or import_limits()
    limit = max_import_bytes() if limit_bytes is None else limit_bytes
    check_size(path, limit, file_name=file_name)
    if holds_path is not None:
        check_size(holds_path, limit, file_name=holds_name)
    if format is None:
        report(2, f"Detecting the format of {file_name}")
        format = detect_format(path, file_name, limits)
    report(5, f"Reading {file_name} ({format})")
    options: dict[str, Any] = {}
    if mapping:
        options["mapping"] = dict(mapping)
    if priority_map:
        options["priority_map"] = dict(priority_map)
    if date_format:
        options["date_format"] = date_format
    imported = read_export(
        path,
        format,
        file_name=file_name,
        timezone=time_zone,
        keep_text=keep_text,
        limits=limits,
        **options,
    )
    if holds_path is not None:
        report(50, f"Reading holds from {holds_name or holds_path.name}")
        extra = read_holds_csv(
            holds_path,
            timezone=time_zone,
            file_name=holds_name or holds_path.name,
            tickets=imported.tickets,
            limits=limits,
            date_format=date_format or None,
        ).holds
        holds = pl.concat([imported.holds, extra]) if imported.holds.height else extra
        imported = dataclasses.replace(imported, holds=holds)
    return imported


def summarise(imported: Imported) -> dict[str, Any]:
    """What the preview shows of a readable export, as JSON-able data (instants in UTC)."""
    tickets = imported.tickets
    mix = {key: 0 for key in ("P1", "P2", "P3", "P4", "none")}
    for priority, count in tickets.group_by("priority").len().iter_rows():
        mix[priority or "none"] = count
    opened = tickets["opened_at"]
    first = tickets.head(PREVIEW_TICKETS).select(
        "ticket_id",
        "kind",
        "priority",
        "priority_raw",
        "opened_at",
        "responded_at",
        "resolved_at",
        "assignment_group",
    )
    rows = [
        {name: _json_value(value) for name, value in row.items()}
        for row in first.iter_rows(named=True)
    ]
    return {
        "ok": True,
        "format": imported.format,
        "rows_read": imported.rows_read,
        "tickets": tickets.height,
        "holds": imported.holds.height,
        "open": int(tickets["resolved_at"].is_null().sum()),
        "priority_mix": mix,
        "first_opened": _json_value(opened.min()) if tickets.height else None,
        "last_opened": _json_value(opened.max()) if tickets.height else None,
        "first_tickets": rows,
        "warnings": list(imported.warnings),
    }


def problems_of(exc: IngestError) -> dict[str, Any]:
    """The preview of an export that cannot be imported: its problems, one per row."""
    preview: dict[str, Any] = {
        "ok": False,
        "problems": [
            # A reader's own message (Polars') may name a temporary file: never shown.
            {"file": p.file, "row": p.row, "column": p.column, "reason": redact_paths(p.reason)}
            for p in exc.problems
        ],
        "truncated": exc.truncated,
    }
    if exc.dates is not None:  # the timestamps did not read: the wizard offers a format
        preview["dates"] = {
            "columns": list(exc.dates.columns),
            "readable": list(exc.dates.readable),
            "ambiguous": exc.dates.ambiguous,
        }
    return preview


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    return value


def _silent(percent: int, message: str) -> None:
    return None


# Staging -----------------------------------------------------------------------------------


def staging_root() -> Path:
    return Path(settings.MEDIA_ROOT) / STAGING_DIR_NAME


class StagedMissing(LookupError):
    """No staged upload by that id (never made, already imported, or cleaned up)."""


@dataclass
class Staged:
    """One uploaded export waiting for its preview and confirmation (``staged.json``)."""

    id: str
    engagement_id: int
    owner_id: int
    file_name: str
    stored_name: str
    size: int
    format: str | None  # chosen by the uploader; None: detect
    time_zone: str
    keep_text: bool
    holds_name: str | None = None
    holds_stored_name: str | None = None
    holds_size: int = 0
    created: str = ""
    preview_progress_id: str | None = None
    import_progress_id: str | None = None
    #: Chosen on the preview page for a generic CSV: canonical name -> file column, and
    #: raw priority -> P1..P4 or None. Each new mapping is a new revision of the preview.
    mapping: dict[str, str] = dataclasses.field(default_factory=dict)
    priority_map: dict[str, str | None] = dataclasses.field(default_factory=dict)
    revision: int = 0
    #: Chosen on the preview page when the timestamps did not read (or read two ways): a
    #: name or strftime pattern (``tandem.ingest.dates``); None: the reader's own.
    date_format: str | None = None
    #: A ZIP archive as uploaded (its stored name) and the one export inside it, until the
    #: preview unpacks that to ``stored_name`` in the background; ``size`` is what it unpacks to.
    packed_name: str | None = None
    packed_member: str | None = None

    @property
    def directory(self) -> Path:
        return staging_root() / self.id

    @property
    def path(self) -> Path:
        return self.directory / self.stored_name

    @property
    def holds_path(self) -> Path | None:
        return self.directory / self.holds_stored_name if self.holds_stored_name else None

    @property
    def total_size(self) -> int:
        return self.size + self.holds_size

    def save(self) -> None:
        """Write ``staged.json`` atomically (a reader never sees half of it)."""
        _write_json(self.directory / "staged.json", dataclasses.asdict(self))

    @classmethod
    def load(cls, staged_id: str | uuid.UUID) -> Staged:
        try:
            key = str(uuid.UUID(str(staged_id)))
        except ValueError:
            raise StagedMissing(staged_id) from None
        try:
            data = json.loads((staging_root() / key / "staged.json").read_text("utf-8"))
        except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
            raise StagedMissing(key) from None
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    # The preview, once read ------------------------------------------------------------

    @property
    def preview_path(self) -> Path:
        return self.directory / f"preview-{self.revision}.json"

    def load_preview(self) -> dict[str, Any] | None:
        """The preview read with the current mapping, or None (not read yet)."""
        try:
            return json.loads(self.preview_path.read_text("utf-8"))  # type: ignore[no-any-return]
        except FileNotFoundError:
            return None

    def unpack(self, progress: Progress | None = None) -> None:
        """Unpack the export from the uploaded ZIP archive (once: then the archive goes).
        ``IngestError`` for a damaged archive."""
        if not self.packed_name or not self.packed_member or self.path.exists():
            return
        archive = self.directory / self.packed_name
        report = progress or _silent
        report(1, f"Unpacking {self.file_name}")
        try:
            _unpack(archive, self.packed_member, self.path, report)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, KeyError) as e:
            detail = redact_paths(str(e))  # an OSError names the staged file: not shown
            reason = f"the ZIP archive it came in is damaged ({detail}); upload it again"
            raise IngestError([Problem(self.file_name, None, None, reason)]) from None
        archive.unlink(missing_ok=True)

    def read(
        self,
        progress: Progress | None = None,
        *,
        format: str | None = None,
        limits: Limits | None = None,
    ) -> Imported:
        self.unpack(progress)
        return read_files(
            self.path,
            file_name=self.file_name,
            format=format or self.format,
            time_zone=self.time_zone,
            keep_text=self.keep_text,
            holds_path=self.holds_path,
            holds_name=self.holds_name,
            progress=progress,
            mapping=self.mapping,
            priority_map=self.priority_map,
            limits=limits,
            date_format=self.date_format,
        )

    def make_preview(self, progress: Progress | None = None) -> dict[str, Any]:
        """Read the staged file and write its preview (``build_preview``, then ``keep_preview``)."""
        preview = self.build_preview(progress)
        self.keep_preview(preview)
        return preview

    def build_preview(
        self, progress: Progress | None = None, *, limits: Limits | None = None
    ) -> dict[str, Any]:
        """Read the staged file into its preview, written nowhere: the summary or the
        problems, and for a generic CSV (or one no format fits) what the column-mapping form
        needs. ``progress`` is called between the phases (the preview task's time budget
        stops the work there by raising from it); ``limits`` (default ``import_limits()``)
        may carry a deadline, past which the readers raise ``ReadingStopped``."""
        report = progress or _silent
        revision = self.revision
        format = self.format
        try:
            self.unpack(progress)
            if format is None:
                report(2, f"Detecting the format of {self.file_name}")
                check_size(self.path, max_import_bytes(), file_name=self.file_name)
                format = detect_format(self.path, self.file_name, limits or import_limits())
            preview = summarise(self.read(progress, format=format, limits=limits))
        except IngestError as exc:
            preview = problems_of(exc)
        preview.update(format=format, revision=revision)
        readable = self.path.exists()  # not when its archive could not be unpacked
        if readable and offers_mapping(format, preview) and self.total_size <= max_import_bytes():
            report(97, "Reading the column names")
            # A file refused as a whole (a limit, an unreadable file) is not scanned again
            # for its priority values: the columns are still offered, from the header.
            whole = any(p["row"] is None for p in preview.get("problems", ()))
            preview["mapping"] = mapping_source(
                self.path,
                keep_text=self.keep_text,
                mapping=self.mapping,
                priority_map=self.priority_map,
                read_values=not whole,
            )
        return preview

    def keep_preview(self, preview: dict[str, Any]) -> None:
        """Write ``preview`` for the revision it was read with (an older revision's preview
        lands where nobody looks: the page shows the current revision's only)."""
        _write_json(self.directory / f"preview-{preview['revision']}.json", preview)

    def apply_mapping(self, mapping: dict[str, str], priority_map: dict[str, str | None]) -> None:
        """Read the file as a generic CSV with ``mapping`` from now on: a new revision,
        whose preview is read afresh (the older previews are removed)."""
        self.format = "generic"
        self.mapping = dict(mapping)
        self.priority_map = dict(priority_map)
        self._new_revision()

    def apply_date_format(self, date_format: str | None) -> None:
        """Read the timestamps with ``date_format`` (None: the reader's own) from now on:
        a new revision, previewed afresh."""
        self.date_format = date_format or None
        self._new_revision()

    def _new_revision(self) -> None:
        self.revision += 1
        self.preview_progress_id = None
        self.save()
        for old in self.directory.glob("preview-*.json"):
            if old.name != self.preview_path.name:
                old.unlink(missing_ok=True)

    @property
    def batch_mapping(self) -> dict[str, Any]:
        """What the import records in ``ImportBatch.mapping`` (with the date format chosen)."""
        record = batch_mapping(self.mapping, self.priority_map)
        if self.date_format:
            record["date_format"] = self.date_format
        return record

    def discard(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def stage_upload(
    upload: UploadedFile,
    *,
    engagement_id: int,
    owner_id: int,
    format: str | None,
    time_zone: str,
    keep_text: bool,
    holds: UploadedFile | None = None,
) -> Staged:
    """Put an uploaded export (and holds file) in a fresh staging folder; return its record.
    Uploads abandoned more than :data:`STAGED_MAX_AGE` ago go first, so the staging area
    keeps itself clean wherever no one schedules ``tandem clean_staged_imports``."""
    with contextlib.suppress(OSError):  # housekeeping never stops an upload
        clean_staged()
    staged_id = str(uuid.uuid4())
    directory = staging_root() / staged_id
    directory.mkdir(parents=True, exist_ok=False)
    try:
        stored = _store(upload, directory, "export")
        file_name = _display_name(upload.name)
        size = (directory / stored).stat().st_size
        packed_name = packed_member = None
        member = _zip_member(directory / stored, file_name)
        if member is not None:  # unpacked by the preview, in the background
            packed_name, packed_member = stored, member.filename
            stored = "export" + Path(member.filename).suffix.lower()
            file_name, size = _display_name(member.filename), member.file_size
        staged = Staged(
            id=staged_id,
            engagement_id=engagement_id,
            owner_id=owner_id,
            file_name=file_name,
            stored_name=stored,
            size=size,
            format=format or None,
            time_zone=time_zone,
            keep_text=keep_text,
            created=datetime.now(UTC).isoformat(),
            packed_name=packed_name,
            packed_member=packed_member,
        )
        if holds is not None:
            staged.holds_name = _display_name(holds.name)
            staged.holds_stored_name = _store(holds, directory, "holds")
            staged.holds_size = int(holds.size or 0)
        staged.save()
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return staged


def clean_staged(
    max_age: timedelta = STAGED_MAX_AGE, *, now: float | None = None, dry_run: bool = False
) -> list[Path]:
    """Remove staging folders older than ``max_age``; return what was (or would be) removed."""
    root = staging_root()
    if not root.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - max_age.total_seconds()
    removed = []
    for directory in root.iterdir():
        if directory.is_dir() and directory.stat().st_mtime < cutoff:
            if not dry_run:
                shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory)
    return removed


def _store(upload: UploadedFile, directory: Path, stem: str) -> str:
    """Move (large, already on disk) or write (small, in memory) one upload into place."""
    suffix = Path(upload.name or "").suffix.lower()
    name = stem + (suffix if suffix in _SUFFIXES else ".bin")
    target = directory / name
    temporary = getattr(upload, "temporary_file_path", None)
    if temporary is not None:
        upload.file.flush()
        file_move_safe(temporary(), str(target), allow_overwrite=False)
    else:
        with target.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
    return name


class UploadRefused(ValueError):
    """An upload that cannot be staged (e.g. a ZIP archive without exactly one CSV inside)."""


def _check_zip_directory(f: Any, file_name: str) -> None:
    """Refuse an archive whose directory lists more files than any export (an XLSX workbook
    has tens of parts): reading it would cost the request time and memory per entry. Its
    size is read from the archive's end record, before Python's zipfile parses anything."""
    try:
        end = zipfile._EndRecData(f)  # type: ignore[attr-defined]
    except (OSError, ValueError, struct.error):
        return  # not a readable archive: the reader says what is wrong with it
    if not end:
        return
    entries, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
    if entries > MAX_ZIP_ENTRIES or size > MAX_ZIP_DIRECTORY_BYTES:
        raise UploadRefused(
            f"{file_name}: the archive lists {entries:,} files ({human_size(size)} of "
            f"directory), over the limit of {MAX_ZIP_ENTRIES:,}; a ticket export is one CSV, "
            "zipped or not, or an XLSX workbook."
        )


def _zip_member(path: Path, file_name: str) -> zipfile.ZipInfo | None:
    """The one CSV of a ZIP archive (how exports are often mailed), from the archive's
    directory only - nothing is decompressed here, in the request: ``Staged.unpack`` does
    that in the background. None for an XLSX workbook (also a ZIP) and any other file;
    ``UploadRefused`` for an archive without exactly one CSV, or one too large unpacked."""
    with path.open("rb") as f:
        if f.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):  # an archive, or an empty one
            return None
        _check_zip_directory(f, file_name)
    if file_name.lower().endswith(".xlsx"):
        return None  # named a workbook: read as one (the reader refuses a zipped CSV)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return None  # the reader will say what is wrong with it
    with archive:
        names = archive.namelist()
        if "[Content_Types].xml" in names:
            return None  # an XLSX workbook
        members = [m for m in archive.infolist() if not m.is_dir()]
        exports = [m for m in members if Path(m.filename).suffix.lower() in _SUFFIXES]
        if len(exports) != 1 or Path(exports[0].filename).suffix.lower() == ".xlsx":
            listed = ", ".join(m.filename for m in members[:5]) or "nothing"
            raise UploadRefused(
                f"{file_name}: a ZIP archive must hold exactly one CSV export; it holds {listed}."
            )
        member = exports[0]
        limit = max_import_bytes()
        if member.file_size > limit:
            raise UploadRefused(
                f"{file_name}: {member.filename} unpacks to {member.file_size:,} bytes, over "
                f"the limit of {human_size(limit)}; split the export and import the parts."
            )
    return member


def _unpack(archive_path: Path, member_name: str, target: Path, report: Progress) -> None:
    """Stream ``member_name`` out of the archive to ``target`` (under a temporary name until
    complete). Python's zipfile stops at the size the archive declares - checked against the
    limit when it was staged - and refuses a member whose bytes do not match it."""
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    written = 0
    try:
        with (
            zipfile.ZipFile(archive_path) as archive,
            archive.open(member_name) as source,
            temporary.open("wb") as out,
        ):
            while chunk := source.read(UNPACK_CHUNK):
                out.write(chunk)
                written += len(chunk)
                if written % UNPACK_REPORT < UNPACK_CHUNK:
                    report(1, f"Unpacking {member_name}: {human_size(written)}")
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)


def _display_name(name: str | None) -> str:
    """The uploaded file's own name, without any path a browser sent, for messages."""
    base = Path((name or "upload").replace("\\", "/")).name
    return base[:200] or "upload"


def _write_json(path: Path, data: Any) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_text(json.dumps(data, default=str), "utf-8")
    temporary.replace(path)
