"""What a contract document may be: a PDF or a Word (DOCX) file under the size limit.

The declared content type and the bytes must agree. A PDF starts with ``%PDF-``; a DOCX is a
ZIP archive holding ``[Content_Types].xml`` and a ``word/`` part. The archive is read
through its central directory only (no member is extracted or decompressed), with a bound on
the number of entries and on the declared uncompressed size, so a ZIP bomb is refused
without ever being inflated. Nothing here writes anything: the caller stores the file only
once it passed.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ALLOWED = {PDF: ".pdf", DOCX: ".docx"}
# A generic type some browsers send for any file: then the bytes alone decide.
GENERIC = {"application/octet-stream", ""}

MAX_ZIP_ENTRIES = 2_000
# A Word document expands a few times when unzipped; far beyond that is a bomb.
MAX_ZIP_RATIO = 100
MAX_ZIP_UNCOMPRESSED = 512 * 1024 * 1024


@dataclass(frozen=True)
class CheckedDocument:
    content_type: str
    size: int
    sha256: str
    extension: str


def max_bytes() -> int:
    return int(getattr(settings, "TANDEM_CONTRACT_DOCUMENT_MAX_BYTES", 25 * 1024 * 1024))


def _human(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB" if size >= 1024 * 1024 else f"{size:,} bytes"


def check_document(upload: Any) -> CheckedDocument:
    """Check an uploaded file (Django ``UploadedFile``); raise ``ValidationError`` saying
    what is wrong with it, or return its type, size and SHA-256."""
    limit = max_bytes()
    size = int(upload.size or 0)
    if size == 0:
        raise ValidationError("The file is empty.", code="empty")
    if size > limit:
        raise ValidationError(
            f"The file is {_human(size)}; a contract document may be at most {_human(limit)} "
            "(TANDEM_CONTRACT_DOCUMENT_MAX_BYTES).",
            code="too_large",
        )
    declared = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    if declared not in ALLOWED and declared not in GENERIC:
        raise ValidationError(
            f"A contract document is a PDF or a Word (DOCX) file, not {declared[:80]}.",
            code="forbidden_type",
        )
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        found = PDF
    elif head.startswith(b"PK\x03\x04"):
        _check_docx(upload, size)
        found = DOCX
    else:
        raise ValidationError(
            "The file is neither a PDF nor a Word (DOCX) document, whatever its name says.",
            code="forbidden_type",
        )
    if declared in ALLOWED and declared != found:
        raise ValidationError(
            f"The file says it is {ALLOWED[declared][1:].upper()} but its content is "
            f"{ALLOWED[found][1:].upper()}.",
            code="type_mismatch",
        )
    return CheckedDocument(found, size, _sha256(upload), ALLOWED[found])


def _check_docx(upload: IO[bytes], size: int) -> None:
    not_docx = ValidationError(
        "The file is a ZIP archive but not a Word (DOCX) document.", code="forbidden_type"
    )
    try:
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            entries = archive.infolist()  # the central directory only: nothing inflated
            if len(entries) > MAX_ZIP_ENTRIES:
                raise ValidationError(
                    f"The archive holds {len(entries):,} entries; a Word document holds far fewer.",
                    code="zip_bomb",
                )
            declared = sum(max(0, entry.file_size) for entry in entries)
            if declared > MAX_ZIP_UNCOMPRESSED or declared > MAX_ZIP_RATIO * max(size, 1):
                raise ValidationError(
                    "The archive would expand far beyond its size (a ZIP bomb?): refused.",
                    code="zip_bomb",
                )
            names = {entry.filename for entry in entries}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise not_docx from None
    finally:
        upload.seek(0)
    if "[Content_Types].xml" not in names or not any(n.startswith("word/") for n in names):
        raise not_docx


def _sha256(upload: Any) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in (
        upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(65536), b"")
    ):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()
