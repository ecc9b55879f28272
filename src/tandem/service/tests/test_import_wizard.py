"""The import wizard: upload -> preview -> confirm stores the tickets (tasks run at once in
tests); a bad file shows its problems and stores nothing; the access rules; the size limit;
staged uploads are their uploader's alone and go away after the import."""

from __future__ import annotations

import os
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from tandem.core.models import Progress
from tandem.service import imports
from tandem.service.models import ImportBatch, Ticket, TicketHold

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "ingest" / "tests" / "fixtures"


@pytest.fixture(autouse=True)
def media(tmp_path, settings) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def fixture_upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FIXTURES / name).read_bytes(), content_type="text/csv")


def upload(client, engagement, name: str = "generic_tickets.csv", **data):
    url = reverse("service:import_upload", args=[engagement.pk])
    form = {"file": fixture_upload(name), "time_zone": engagement.time_zone, **data}
    return client.post(url, form)


def staged_id(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"].rstrip("/").rsplit("/", 1)[-1]


def test_upload_preview_confirm_stores_the_tickets(world, client_for, media) -> None:
    client = client_for(world.it_lead)
    page = client.get(reverse("service:import_upload", args=[world.e1.pk]))
    assert page.status_code == 200
    assert f'value="{world.e1.time_zone}" selected' in page.content.decode()
    assert "patients" in page.content.decode()

    response = upload(client, world.e1, holds=fixture_upload("generic_holds.csv"))
    key = staged_id(response)
    assert (media / "imports" / key / "staged.json").is_file()

    preview = client.get(reverse("service:import_preview", args=[key]))
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "Generic CSV" in body and "detected" in body
    assert "T-1" in body and "T-4" in body
    assert "Priority mix" in body
    assert not Ticket.objects.exists()  # a preview stores nothing

    done = client.post(reverse("service:import_confirm", args=[key]))
    assert done.status_code == 302
    progress = Progress.objects.get(kind="import_tickets")
    assert done["Location"] == reverse("service:import_progress", args=[progress.pk])
    batch = ImportBatch.objects.get()
    assert (batch.imported_by, batch.tickets_created, batch.holds_imported) == (world.it_lead, 4, 3)
    assert (batch.file_name, batch.format, batch.keep_text) == (
        "generic_tickets.csv",
        "generic",
        False,
    )
    assert TicketHold.objects.count() == 3
    assert not (media / "imports" / key).exists()  # staged files go after the import

    page = client.get(done["Location"])
    assert reverse("service:importbatch_detail", args=[batch.pk]) in page.content.decode()
    assert "imported 4 tickets" in page.content.decode().lower()
    # The staged upload is gone: its preview is a 404 now.
    assert client.get(reverse("service:import_preview", args=[key])).status_code == 404


def test_format_override_and_keep_text(world, client_for) -> None:
    client = client_for(world.it_lead)
    key = staged_id(
        upload(client, world.e1, "servicenow_list.csv", format="servicenow", keep_text="on")
    )
    body = client.get(reverse("service:import_preview", args=[key])).content.decode()
    assert "ServiceNow incident list" in body
    assert "1 - Critical" in body
    client.post(reverse("service:import_confirm", args=[key]))
    assert Ticket.objects.get(ticket_id="INC0010002").short_description == "VPN drops"


def test_bad_file_shows_problems_and_stores_nothing(world, client_for, media) -> None:
    client = client_for(world.it_lead)
    bad = b"ticket_id,priority,opened_at\nX-1,P1,not a time\nX-1,P9,2025-03-03T10:00Z\n"
    url = reverse("service:import_upload", args=[world.e1.pk])
    key = staged_id(
        client.post(
            url,
            {
                "file": SimpleUploadedFile("bad.csv", bad),
                "format": "generic",
                "time_zone": "UTC",
            },
        )
    )
    body = client.get(reverse("service:import_preview", args=[key])).content.decode()
    assert "nothing can be imported" in body
    assert "<td>bad.csv</td><td>2</td><td>opened_at</td>" in body
    assert "import_confirm" not in body and "/confirm/" not in body
    # Confirming anyway does nothing but send the person back.
    response = client.post(reverse("service:import_confirm", args=[key]))
    assert response.status_code == 302
    assert response["Location"] == reverse("service:import_preview", args=[key])
    assert not ImportBatch.objects.exists() and not Ticket.objects.exists()


def test_observers_get_403_and_outsiders_404(world, client_for) -> None:
    url = reverse("service:import_upload", args=[world.e1.pk])
    observer = client_for(world.observer)
    assert observer.get(url).status_code == 403
    assert upload(observer, world.e1).status_code == 403
    outsider = client_for(world.outsider)
    assert outsider.get(url).status_code == 404
    assert upload(outsider, world.e1).status_code == 404
    assert not (Path(imports.staging_root())).exists()


def test_import_button_on_the_list_only_for_those_who_may(world, client_for) -> None:
    url = reverse("service:importbatch_list", args=[world.e1.pk])
    upload_url = reverse("service:import_upload", args=[world.e1.pk])
    assert upload_url in client_for(world.vendor_lead).get(url).content.decode()
    assert upload_url not in client_for(world.observer).get(url).content.decode()


def test_size_limit_refused_with_a_clear_message(world, client_for, settings) -> None:
    settings.TANDEM_MAX_IMPORT_BYTES = 20
    response = upload(client_for(world.it_lead), world.e1)
    assert response.status_code in (413, 422)
    assert "over the limit of 20 bytes" in response.content.decode()
    assert not imports.staging_root().exists() or not any(imports.staging_root().iterdir())


def test_size_limit_fits_but_file_does_not(world, client_for, settings) -> None:
    size = (FIXTURES / "generic_tickets.csv").stat().st_size
    settings.TANDEM_MAX_IMPORT_BYTES = size - 1  # the request itself is not refused early
    response = upload(client_for(world.it_lead), world.e1)
    assert response.status_code == 422
    assert f"{size:,} bytes), over the limit" in response.content.decode()


def test_another_user_cannot_see_or_confirm_your_upload(world, client_for) -> None:
    key = staged_id(upload(client_for(world.it_lead), world.e1))
    other = client_for(world.sponsor)  # same engagement, may import too: still not theirs
    assert other.get(reverse("service:import_preview", args=[key])).status_code == 404
    assert other.post(reverse("service:import_confirm", args=[key])).status_code == 404
    assert other.post(reverse("service:import_discard", args=[key])).status_code == 404
    assert not ImportBatch.objects.exists()
    mine = client_for(world.it_lead)
    assert mine.get(reverse("service:import_preview", args=[key])).status_code == 200


def test_discard_removes_the_staged_upload(world, client_for, media) -> None:
    client = client_for(world.it_lead)
    key = staged_id(upload(client, world.e1))
    response = client.post(reverse("service:import_discard", args=[key]))
    assert response.status_code == 302
    assert not (media / "imports" / key).exists()
    assert not ImportBatch.objects.exists()


def test_large_files_are_previewed_in_a_background_task(world, client_for, monkeypatch) -> None:
    monkeypatch.setattr(imports, "INLINE_PREVIEW_BYTES", 10)
    client = client_for(world.it_lead)
    key = staged_id(upload(client, world.e1))
    body = client.get(reverse("service:import_preview", args=[key])).content.decode()
    progress = Progress.objects.get(kind="preview_import")
    assert progress.state == "succeeded"
    assert "T-1" in body
    # htmx's poll of a finished preview reloads the page.
    poll = client.get(reverse("service:import_preview", args=[key]), headers={"HX-Request": "true"})
    assert poll["HX-Refresh"] == "true"


def test_a_failed_import_says_why_and_cleans_up(world, client_for, media) -> None:
    client = client_for(world.it_lead)
    key = staged_id(upload(client, world.e1))
    client.get(reverse("service:import_preview", args=[key]))
    # Between preview and confirm, the file changes under the staged record.
    staged = imports.Staged.load(key)
    staged.path.write_text("ticket_id,priority,opened_at\nX,P1,never\n")
    response = client.post(reverse("service:import_confirm", args=[key]))
    page = client.get(response["Location"]).content.decode()
    assert "Nothing was imported" in page and "column &#x27;opened_at&#x27;" in page
    assert not ImportBatch.objects.exists()
    assert not (media / "imports" / key).exists()


def test_clean_staged_imports_removes_old_uploads(world, client_for, media) -> None:
    client = client_for(world.it_lead)
    old = staged_id(upload(client, world.e1))
    new = staged_id(upload(client, world.e1))
    two_days_ago = time.time() - 2 * 86400
    os.utime(media / "imports" / old, (two_days_ago, two_days_ago))
    call_command("clean_staged_imports", stdout=StringIO())
    assert not (media / "imports" / old).exists()
    assert (media / "imports" / new).exists()
