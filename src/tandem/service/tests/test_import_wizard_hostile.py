"""The hostile corpus (``tandem.ingest.testing.hostile``) through the import wizard: each
file is uploaded, read by the background preview (never the request), and refused on the
preview page with the file and the limit - or the row and column - named, in seconds and
with bounded memory; nothing can be confirmed and nothing is written."""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse

from tandem.core.models import Progress
from tandem.ingest import Problem
from tandem.ingest.testing.hostile import EXPECTED, HOSTILE_FILES
from tandem.service import imports
from tandem.service.models import ImportBatch, Ticket
from tandem.service.tasks_preview import start_preview

pytestmark = pytest.mark.django_db

#: Files above this go to the staging area as Django's upload handlers leave them (moved
#: from disk) instead of through the test client, which would build the request in memory.
CLIENT_BYTES = 64 * 1024 * 1024


class OnDisk(UploadedFile):
    """An upload already on disk, as Django's handlers leave a large one."""

    def __init__(self, path: Path) -> None:
        super().__init__(path.open("rb"), name=path.name, size=path.stat().st_size)
        self.path = path

    def temporary_file_path(self) -> str:
        return str(self.path)


@pytest.fixture(autouse=True)
def media(tmp_path, settings) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(client: Any, world: Any, path: Path) -> str:
    """Upload ``path`` through the wizard; return the staged upload's id."""
    if path.stat().st_size <= CLIENT_BYTES:
        url = reverse("service:import_upload", args=[world.e1.pk])
        with path.open("rb") as f:
            response = client.post(url, {"file": f, "time_zone": "UTC"})
        assert response.status_code == 302, response.content.decode()[:2000]
        return str(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    staged = imports.stage_upload(
        OnDisk(path),
        engagement_id=world.e1.pk,
        owner_id=world.it_lead.pk,
        format=None,
        time_zone="UTC",
        keep_text=False,
    )
    start_preview(staged, owner=world.it_lead, engagement=world.e1)
    return staged.id


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_every_hostile_file_is_refused_by_the_wizard(
    name: str, world, client_for, tmp_path: Path
) -> None:
    path = HOSTILE_FILES[name](tmp_path)
    client = client_for(world.it_lead)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    key = upload(client, world, path)
    seconds = time.perf_counter() - began
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024

    preview = imports.Staged.load(key).load_preview()
    assert preview is not None and preview["ok"] is False, preview
    found = [str(Problem(**problem)) for problem in preview["problems"]]
    assert any(EXPECTED[name] in problem for problem in found), found
    assert seconds < 20, f"{name}: {seconds:.1f} s"
    assert grown_mb < 1024, f"{name}: {grown_mb:.0f} MB more"
    assert Progress.objects.get(kind="preview_import").state == "succeeded"

    url = reverse("service:import_preview", args=[key])
    began = time.perf_counter()
    body = client.get(url).content.decode()
    assert time.perf_counter() - began < 5  # e.g. no mapping form of 100,000 columns
    assert "nothing can be imported" in body and "/confirm/" not in body
    assert client.post(reverse("service:import_confirm", args=[key]))["Location"] == url
    assert not ImportBatch.objects.exists() and not Ticket.objects.exists()
