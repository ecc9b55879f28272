"""Contract documents: only PDF and DOCX, checked by content type and magic bytes, under the
size limit; a refused file leaves no row, no stored file and no audit record, through the UI
and the API, never a 500; a download is an attachment, never rendered."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tandem.contracts import uploads
from tandem.contracts.models import ContractDocument
from tandem.contracts.tests.conftest import stored_files
from tandem.contracts.tests.factories import PDF_BYTES, ContractFactory
from tandem.core.models import ChangeLog

pytestmark = pytest.mark.django_db


def docx_bytes(entries: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in (
            entries
            or {
                "[Content_Types].xml": b"<Types/>",
                "word/document.xml": b"<w:document/>",
            }
        ).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_bomb() -> bytes:
    """A small archive declaring far more than it holds: 50 MB of zeros, a Word layout."""
    return docx_bytes(
        {
            "[Content_Types].xml": b"<Types/>",
            "word/document.xml": b"\0" * 50_000_000,
        }
    )


EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 200
HTML = b"<!doctype html><html><script>alert(1)</script></html>"

REFUSED = [
    ("html-as-pdf", "report.pdf", "application/pdf", HTML),
    ("html", "page.html", "text/html", HTML),
    ("exe-renamed-pdf", "contract.pdf", "application/pdf", EXE),
    ("exe-octet-stream", "contract.pdf", "application/octet-stream", EXE),
    ("zip-not-docx", "contract.docx", uploads.DOCX, docx_bytes({"a.txt": b"hello"})),
    ("zip-bomb", "contract.docx", uploads.DOCX, zip_bomb()),
    ("pdf-declared-docx", "contract.docx", uploads.DOCX, PDF_BYTES),
    ("truncated-zip", "contract.docx", uploads.DOCX, b"PK\x03\x04" + b"\0" * 50),
    ("empty", "contract.pdf", "application/pdf", b""),
]


@pytest.fixture
def contract(world):
    return ContractFactory(engagement=world.e1, vendor=world.acme)


def _state(media):
    return (
        ContractDocument.objects.count(),
        ChangeLog.objects.changes().count(),
        stored_files(media),
    )


def _upload(name: str, content_type: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.parametrize(
    ("name", "content_type", "data"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_a_forbidden_file_is_refused_and_nothing_is_stored(
    world, contract, client_for, api_for, media, name, content_type, data
) -> None:
    before = _state(media)
    add = reverse("contracts:contractdocument_add", args=[world.e1.pk])
    page = client_for(world.it_lead).post(
        add,
        {"contract": contract.pk, "title": "Signed", "upload": _upload(name, content_type, data)},
    )
    assert page.status_code == 422
    assert "upload" in page.context["form"].errors
    api = api_for(world.it_lead).post(
        reverse("contracts-api:contractdocument-list"),
        {
            "engagement": world.e1.pk,
            "contract": contract.pk,
            "title": "Signed",
            "upload": _upload(name, content_type, data),
        },
        format="multipart",
    )
    assert api.status_code == 400
    assert "upload" in api.json(), api.json()
    assert _state(media) == before


def test_a_file_over_the_limit_is_refused(world, contract, client_for, api_for, media, settings):
    settings.TANDEM_CONTRACT_DOCUMENT_MAX_BYTES = 1024
    big = PDF_BYTES + b"%" * 2048
    before = _state(media)
    page = client_for(world.it_lead).post(
        reverse("contracts:contractdocument_add", args=[world.e1.pk]),
        {"contract": contract.pk, "title": "Big", "upload": _upload("big.pdf", uploads.PDF, big)},
    )
    assert page.status_code == 422
    assert "at most" in str(page.context["form"].errors["upload"])
    api = api_for(world.it_lead).post(
        reverse("contracts-api:contractdocument-list"),
        {
            "engagement": world.e1.pk,
            "contract": contract.pk,
            "title": "Big",
            "upload": _upload("big.pdf", uploads.PDF, big),
        },
        format="multipart",
    )
    assert api.status_code == 400 and "at most" in str(api.json()["upload"])
    assert _state(media) == before


def test_a_pdf_and_a_docx_are_stored_versioned_and_hashed(
    world, contract, client_for, api_for, media
) -> None:
    add = reverse("contracts:contractdocument_add", args=[world.e1.pk])
    page = client_for(world.it_lead).post(
        add,
        {
            "contract": contract.pk,
            "title": "Master agreement",
            "upload": _upload("<script>.pdf", "application/pdf", PDF_BYTES),
        },
    )
    assert page.status_code == 302
    first = ContractDocument.objects.get()
    assert first.version == 1
    assert first.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert first.size == len(PDF_BYTES)
    assert (
        first.file.name.startswith(f"contracts/{world.e1.pk}/") and "script" not in first.file.name
    )
    assert first.uploaded_by == world.it_lead
    docx = docx_bytes()
    api = api_for(world.sponsor).post(
        reverse("contracts-api:contractdocument-list"),
        {
            "engagement": world.e1.pk,
            "contract": contract.pk,
            "title": "Master agreement",
            "upload": _upload("v2.docx", "application/octet-stream", docx),
        },
        format="multipart",
    )
    assert api.status_code == 201, api.json()
    body = api.json()
    assert body["version"] == 2 and body["content_type"] == uploads.DOCX
    assert body["sha256"] == hashlib.sha256(docx).hexdigest()
    assert len(stored_files(media)) == 2
    assert ChangeLog.objects.changes().filter(object_id=str(first.pk)).exists()


def test_the_download_is_an_attachment_never_rendered(world, contract, client_for) -> None:
    client_for(world.it_lead).post(
        reverse("contracts:contractdocument_add", args=[world.e1.pk]),
        {
            "contract": contract.pk,
            "title": "Signed",
            "upload": _upload("signed.pdf", "application/pdf", PDF_BYTES),
        },
    )
    document = ContractDocument.objects.get()
    url = reverse("contracts:contractdocument_download", args=[document.pk])
    response = client_for(world.vendor_staff).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF_BYTES
    # Another vendor, an outsider: 404.
    assert client_for(world.rival).get(url).status_code == 404
    assert client_for(world.outsider).get(url).status_code == 404


def test_deleting_a_document_deletes_its_file(
    world, contract, client_for, media, django_capture_on_commit_callbacks
) -> None:
    client_for(world.it_lead).post(
        reverse("contracts:contractdocument_add", args=[world.e1.pk]),
        {
            "contract": contract.pk,
            "title": "Signed",
            "upload": _upload("signed.pdf", "application/pdf", PDF_BYTES),
        },
    )
    document = ContractDocument.objects.get()
    assert len(stored_files(media)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.it_lead).post(
            reverse("contracts:contractdocument_delete", args=[document.pk])
        )
    assert response.status_code == 302
    assert stored_files(media) == []


def test_vendor_people_cannot_upload(world, contract, client_for, api_for, media) -> None:
    for user in (world.vendor_lead, world.vendor_staff):
        before = _state(media)
        page = client_for(user).post(
            reverse("contracts:contractdocument_add", args=[world.e1.pk]),
            {
                "contract": contract.pk,
                "title": "Ours",
                "upload": _upload("x.pdf", "application/pdf", PDF_BYTES),
            },
        )
        assert page.status_code == 403
        api = api_for(user).post(
            reverse("contracts-api:contractdocument-list"),
            {
                "engagement": world.e1.pk,
                "contract": contract.pk,
                "title": "Ours",
                "upload": _upload("x.pdf", "application/pdf", PDF_BYTES),
            },
            format="multipart",
        )
        assert api.status_code == 403
        assert _state(media) == before
