"""The import wizard: upload -> preview -> confirm stores the tickets (tasks run at once in
tests); a bad file shows its problems and stores nothing; the access rules; the size limit;
staged uploads are their uploader's alone and go away after the import."""

from __future__ import annotations

import os
import threading
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from tandem.core.models import Progress
from tandem.ingest import IngestError, Problem
from tandem.service import import_mapping, imports, tasks_preview
from tandem.service.models import ImportBatch, Ticket, TicketHold

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "ingest" / "tests" / "fixtures"
#: Tasks are queued and nothing runs them, as behind a busy worker.
NO_WORKER = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


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


def test_files_are_previewed_in_a_background_task(world, client_for) -> None:
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


def old_and_new_uploads(client, engagement, media) -> tuple[str, str]:
    """Two staged uploads, the first left two days ago."""
    old = staged_id(upload(client, engagement))
    new = staged_id(upload(client, engagement))
    two_days_ago = time.time() - 2 * 86400
    os.utime(media / "imports" / old, (two_days_ago, two_days_ago))
    return old, new


def test_clean_staged_imports_removes_old_uploads(world, client_for, media) -> None:
    old, new = old_and_new_uploads(client_for(world.it_lead), world.e1, media)
    call_command("clean_staged_imports", stdout=StringIO())
    assert not (media / "imports" / old).exists()
    assert (media / "imports" / new).exists()


def test_an_upload_removes_uploads_abandoned_a_day_ago(world, client_for, media) -> None:
    client = client_for(world.it_lead)
    old, recent = old_and_new_uploads(client, world.e1, media)
    newest = staged_id(upload(client, world.e1))
    assert not (media / "imports" / old).exists()
    assert (media / "imports" / recent).exists() and (media / "imports" / newest).exists()


# Column mapping of a generic CSV -----------------------------------------------------------

ODD = (
    "Ref,Severity,Logged,First response,Resolved,Assigned to group,Type,Notes\n"
    "R-1,Sev 1,2025-03-03T08:00:00Z,2025-03-03T08:10:00Z,2025-03-03T11:00:00Z,Desk,incident,a\n"
    "R-2,High,2025-03-03T09:00:00Z,,2025-03-04T10:00:00Z,Northwind Apps,request,b\n"
    "R-3,3,2025-03-04T09:00:00Z,,,Northwind Apps,,c\n"
)


def upload_text(client, engagement, text: str, name: str = "odd.csv", **data):
    url = reverse("service:import_upload", args=[engagement.pk])
    form = {"file": SimpleUploadedFile(name, text.encode()), "time_zone": "UTC", **data}
    return client.post(url, form)


def form_data(response) -> dict[str, str]:
    """What the mapping form on a preview page would post as it is shown."""
    form = response.context["mapping_form"]
    return {b.html_name: "" if b.value() is None else str(b.value()) for b in form}


def test_odd_headers_get_a_mapping_form_then_preview_and_import(world, client_for) -> None:
    client = client_for(world.it_lead)
    key = staged_id(upload_text(client, world.e1, ODD))
    url = reverse("service:import_preview", args=[key])
    page = client.get(url)
    body = page.content.decode()
    assert "cannot tell which export this is" in body
    assert 'id="column-mapping" open' in body
    data = form_data(page)
    assert {k: data[k] for k in ("ticket_id", "priority", "opened_at", "responded_at")} == {
        "ticket_id": "Ref",
        "priority": "Severity",
        "opened_at": "Logged",
        "responded_at": "First response",
    }
    assert (data["resolved_at"], data["assignment_group"], data["kind"]) == (
        "Resolved",
        "Assigned to group",
        "Type",
    )
    assert data["closed_at"] == "" and data["category"] == ""
    assert '<option value="Ref" selected>Ref</option>' in body
    # The priority values, most frequent first (here all once: by value), with guesses.
    values = page.context["mapping_form"].value_fields()
    assert [(v["raw"], field.value()) for field, v in values] == [
        ("3", "P3"),
        ("High", "P2"),
        ("Sev 1", "P1"),
    ]
    data["value_1"] = "P3"  # this vendor's "High" is a P3 in the contract

    applied = client.post(url, data)
    assert applied.status_code == 302 and applied["Location"] == url
    staged = imports.Staged.load(key)
    assert (staged.format, staged.revision, staged.mapping["ticket_id"]) == ("generic", 1, "Ref")
    assert staged.priority_map == {"High": "P3", "Sev 1": "P1"}
    page = client.get(url)
    body = page.content.decode()
    assert "R-1" in body and "R-3" in body and "Priority mix" in body
    assert "with your columns" in body and "Import 3 tickets" in body
    assert not Ticket.objects.exists()

    client.post(reverse("service:import_confirm", args=[key]))
    batch = ImportBatch.objects.get()
    assert batch.format == "generic" and batch.tickets_created == 3
    assert batch.mapping == {
        "ticket_id": "Ref",
        "priority": "Severity",
        "opened_at": "Logged",
        "responded_at": "First response",
        "resolved_at": "Resolved",
        "assignment_group": "Assigned to group",
        "kind": "Type",
        "closed_at": "",  # left out: not read, even from a column of that name
        "category": "",
        "reassignment_count": "",
        "reopen_count": "",
        "priority_values": {"High": "P3", "Sev 1": "P1"},
    }
    tickets = dict(Ticket.objects.values_list("ticket_id", "priority"))
    assert tickets == {"R-1": "P1", "R-2": "P3", "R-3": "P3"}
    assert Ticket.objects.get(ticket_id="R-2").assignment_group == "Northwind Apps"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"ticket_id": ""}, "ticket_id", "Ticket number (ticket_id) is required"),
        ({"opened_at": "Ref"}, "opened_at", "&#x27;Ref&#x27; is already used for Ticket number"),
        ({"resolved_at": "Nope"}, "resolved_at", "&#x27;Nope&#x27; is not a column of odd.csv"),
        ({"revision": "7"}, "revision", "The preview changed since this page was shown"),
    ],
)
def test_a_bad_mapping_is_refused_and_changes_nothing(
    world, client_for, change, field, message
) -> None:
    client = client_for(world.it_lead)
    key = staged_id(upload_text(client, world.e1, ODD))
    url = reverse("service:import_preview", args=[key])
    data = {**form_data(client.get(url)), **change}
    refused = client.post(url, data)
    assert refused.status_code == 422
    body = refused.content.decode()
    assert message in body and "Nothing was changed" in body
    assert field in refused.context["mapping_form"].errors
    staged = imports.Staged.load(key)
    assert (staged.format, staged.mapping, staged.revision) == (None, {}, 0)
    assert not ImportBatch.objects.exists() and not Ticket.objects.exists()
    # What was chosen stays in the form (a column not in the file cannot be offered).
    assert refused.context["mapping_form"][field].value() == change[field]


def test_resolved_and_closed_may_share_a_column(world, client_for) -> None:
    client = client_for(world.it_lead)
    key = staged_id(upload_text(client, world.e1, ODD))
    url = reverse("service:import_preview", args=[key])
    data = {**form_data(client.get(url)), "closed_at": "Resolved"}
    assert client.post(url, data).status_code == 302
    client.get(url)
    client.post(reverse("service:import_confirm", args=[key]))
    ticket = Ticket.objects.get(ticket_id="R-1")
    assert ticket.closed_at == ticket.resolved_at is not None


def test_a_mapping_that_reads_badly_shows_the_problems(world, client_for) -> None:
    client = client_for(world.it_lead)
    key = staged_id(upload_text(client, world.e1, ODD))
    url = reverse("service:import_preview", args=[key])
    data = {**form_data(client.get(url)), "responded_at": "Notes"}
    client.post(url, data)
    body = client.get(url).content.decode()
    assert "nothing can be imported" in body
    assert "<td>odd.csv</td><td>2</td><td>Notes</td>" in body
    assert 'id="column-mapping" open' in body  # to fix it right there
    assert "/confirm/" not in body


def test_a_list_export_missing_its_columns_can_be_read_as_generic(world, client_for) -> None:
    text = ODD.replace("Ref,", "Number,", 1)  # "Number": detected as a ServiceNow list
    client = client_for(world.it_lead)
    key = staged_id(upload_text(client, world.e1, text))
    url = reverse("service:import_preview", args=[key])
    page = client.get(url)
    body = page.content.decode()
    assert "nothing can be imported" in body
    assert "The ServiceNow incident list reader did not find the columns" in body
    data = form_data(page)
    assert data["ticket_id"] == "Number"
    assert client.post(url, data).status_code == 302
    assert "R-2" in client.get(url).content.decode()


def test_a_generic_csv_named_as_expected_folds_the_mapping_away(world, client_for) -> None:
    client = client_for(world.it_lead)
    key = staged_id(upload(client, world.e1))
    body = client.get(reverse("service:import_preview", args=[key])).content.decode()
    assert 'id="column-mapping">' in body  # there, but not open
    assert "Every column is named as Tandem" in body


def test_extra_columns_found_by_synonym_are_pointed_out(world, client_for) -> None:
    text = "ticket_id,opened_at,Resolved\nA,2025-03-03T08:00:00Z,2025-03-03T09:00:00Z\n"
    client = client_for(world.it_lead)
    key = staged_id(upload_text(client, world.e1, text, name="plain.csv"))
    url = reverse("service:import_preview", args=[key])
    page = client.get(url)
    assert "Other columns look like Resolved" in page.content.decode()
    assert 'id="column-mapping" open' in page.content.decode()
    assert client.post(url, form_data(page)).status_code == 302
    client.get(url)
    client.post(reverse("service:import_confirm", args=[key]))
    assert Ticket.objects.get().resolved_at is not None


def test_others_cannot_see_or_map_a_staged_file(world, client_for) -> None:
    key = staged_id(upload_text(client_for(world.it_lead), world.e1, ODD))
    url = reverse("service:import_preview", args=[key])
    data = form_data(client_for(world.it_lead).get(url))
    for user in (world.vendor_lead, world.rival, world.outsider, world.sponsor):
        other = client_for(user)
        assert other.get(url).status_code == 404
        assert other.post(url, data).status_code == 404
    assert imports.Staged.load(key).revision == 0


def test_a_new_mapping_is_read_again_in_the_background(world, client_for) -> None:
    client = client_for(world.it_lead)
    key = staged_id(upload_text(client, world.e1, ODD))
    url = reverse("service:import_preview", args=[key])
    data = form_data(client.get(url))
    client.post(url, data)
    assert "R-1" in client.get(url).content.decode()
    runs = Progress.objects.filter(kind="preview_import")
    assert runs.count() == 2 and {p.state for p in runs} == {"succeeded"}


def test_an_older_preview_is_not_shown_for_a_new_mapping(world, client_for, settings) -> None:
    client = client_for(world.it_lead)
    key = staged_id(upload_text(client, world.e1, ODD))
    url = reverse("service:import_preview", args=[key])
    data = form_data(client.get(url))
    settings.TASKS = NO_WORKER  # the new mapping's preview waits for a worker
    client.post(url, data)
    staged = imports.Staged.load(key)
    assert staged.load_preview() is None  # revision 1 is not read yet
    assert not (staged.directory / "preview-0.json").exists()
    # A slow reader finishing the old revision late writes where nobody looks.
    old = imports.Staged.load(key)
    old.revision = 0
    old.make_preview()
    assert imports.Staged.load(key).load_preview() is None
    # A preview task queued for the old revision finds a newer one and reads nothing.
    progress = Progress.objects.create(owner=world.it_lead, kind="preview_import", label="x")
    result = tasks_preview.preview_upload.call(
        progress_id=str(progress.pk), staged_id=key, revision=0
    )
    assert result["superseded"] and imports.Staged.load(key).load_preview() is None


def test_guesses_and_checks_without_a_file() -> None:
    fields = import_mapping.fields_for(keep_text=False)
    header = ["Number", "Created", "Opened", "Resolved", "Assigned to group", "Closed"]
    guess = import_mapping.guess_mapping(header, fields)
    assert guess == {
        "ticket_id": "Number",
        "opened_at": "Opened",
        "resolved_at": "Resolved",
        "closed_at": "Closed",
        "assignment_group": "Assigned to group",
    }
    assert import_mapping.guess_mapping(["OPENED_AT", "Ticket ID"], fields) == {
        "ticket_id": "Ticket ID",
        "opened_at": "OPENED_AT",
    }
    odd = ["Incident Ref", "Date Logged", "Resolution Date", "Closed On (UTC)", "Team"]
    assert import_mapping.guess_mapping(odd, fields) == {
        "ticket_id": "Incident Ref",
        "opened_at": "Date Logged",
        "resolved_at": "Resolution Date",
        "closed_at": "Closed On (UTC)",
        "assignment_group": "Team",
    }
    assert {f.name for f in fields} == import_mapping.generic_fields()
    problems = import_mapping.mapping_problems(
        {"ticket_id": "Number", "opened_at": "Number", "category": "X"}, header, fields
    )
    assert set(problems) == {"opened_at", "category"}
    for raw, expected in [
        ("1 - Critical", "P1"),
        ("p2", "P2"),
        ("Medium", "P3"),
        ("4 - Low", "P4"),
        ("Sev 2", "P2"),
        ("Whenever", ""),
    ]:
        assert import_mapping.guess_priority(raw) == expected, raw


def _zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_holding_one_csv_is_unpacked_and_previewed(world, client_for, media) -> None:
    client = client_for(world.it_lead)
    csv = (FIXTURES / "generic_tickets.csv").read_bytes()
    archive = SimpleUploadedFile("export.zip", _zip({"tickets/generic_tickets.csv": csv}))
    url = reverse("service:import_upload", args=[world.e1.pk])
    key = staged_id(client.post(url, {"file": archive, "time_zone": world.e1.time_zone}))
    assert sorted(p.name for p in (media / "imports" / key).iterdir() if p.suffix != ".json") == [
        "export.csv"
    ]
    preview = client.get(reverse("service:import_preview", args=[key]))
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "generic_tickets.csv" in body and "T-1" in body


@pytest.mark.parametrize(
    "members",
    [{"a.csv": b"x", "b.csv": b"y"}, {"readme.md": b"hello"}, {}],
    ids=["two-csvs", "no-csv", "empty"],
)
def test_a_zip_without_exactly_one_csv_is_refused_by_name(
    world, client_for, media, members
) -> None:
    client = client_for(world.it_lead)
    archive = SimpleUploadedFile("export.zip", _zip(members))
    url = reverse("service:import_upload", args=[world.e1.pk])
    response = client.post(url, {"file": archive, "time_zone": world.e1.time_zone})
    assert response.status_code == 422
    assert "export.zip: a ZIP archive must hold exactly one CSV export" in response.content.decode()
    assert not (media / "imports").exists() or not any((media / "imports").iterdir())


def test_a_damaged_zip_gets_a_problem_not_a_server_error(world, client_for, media) -> None:
    client = client_for(world.it_lead)
    archive = SimpleUploadedFile("export.zip", b"PK\x03\x04" + b"\x00" * 200)
    url = reverse("service:import_upload", args=[world.e1.pk])
    key = staged_id(client.post(url, {"file": archive, "time_zone": world.e1.time_zone}))
    preview = client.get(reverse("service:import_preview", args=[key]))
    assert preview.status_code == 200
    assert "not a readable XLSX workbook" in preview.content.decode()
    assert not Ticket.objects.exists()


def test_a_field_left_out_is_not_read_from_a_column_of_its_name(world, client_for) -> None:
    """generic_tickets.csv has a `category` column the reader would take on its own; the
    user says "not in this file" for it, and no ticket gets a category."""
    client = client_for(world.it_lead)
    key = staged_id(upload(client, world.e1))
    url = reverse("service:import_preview", args=[key])
    data = form_data(client.get(url))
    assert data["category"] == "category"
    data["category"] = ""
    assert client.post(url, data).status_code == 302
    assert "Import 4 tickets" in client.get(url).content.decode()  # previewed again
    client.post(reverse("service:import_confirm", args=[key]))
    assert ImportBatch.objects.get().mapping["category"] == ""
    assert set(Ticket.objects.values_list("category", flat=True)) == {""}


# The preview: background work with a time budget, never the request ------------------------


def _refuse_reading(monkeypatch) -> None:
    """Any read of a staged file fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the file was read in the request")

    monkeypatch.setattr(imports, "read_files", refuse)
    monkeypatch.setattr(imports, "detect_format", refuse)
    monkeypatch.setattr(imports, "mapping_source", refuse)
    monkeypatch.setattr(imports.Staged, "build_preview", refuse)


def test_upload_and_preview_page_read_nothing_then_the_task_shows_it(
    world, client_for, settings, monkeypatch
) -> None:
    settings.TASKS = NO_WORKER
    client = client_for(world.it_lead)
    with monkeypatch.context() as patched:
        _refuse_reading(patched)
        key = staged_id(upload(client, world.e1))
        url = reverse("service:import_preview", args=[key])
        page = client.get(url)
        body = page.content.decode()
        assert page.status_code == 200
        assert "Waiting for a worker" in body and f'hx-get="{url}"' in body
        assert "for at most 60 seconds" in body and "/confirm/" not in body
        poll = client.get(url, headers={"HX-Request": "true"})
        assert poll.status_code == 200 and "HX-Refresh" not in poll
        assert 'id="import-progress"' in poll.content.decode()
        assert "for at most 60 seconds" in poll.content.decode()
    # One preview was queued, by the upload; the page and its polls queued no other.
    progress = Progress.objects.get(kind="preview_import")
    assert (progress.owner, progress.engagement) == (world.it_lead, world.e1)
    assert progress.state == "queued"
    assert imports.Staged.load(key).preview_progress_id == str(progress.pk)

    # A worker runs it: the poll reloads the page, which shows the preview.
    result = tasks_preview.preview_upload.call(progress_id=str(progress.pk), staged_id=key)
    assert result == {"staged_id": key, "revision": 0, "ok": True, "tickets": 4, "problems": 0}
    progress.refresh_from_db()
    assert progress.state == "succeeded"
    assert client.get(url, headers={"HX-Request": "true"})["HX-Refresh"] == "true"
    body = client.get(url).content.decode()
    assert "T-1" in body and "Import 4 tickets" in body
    assert not Ticket.objects.exists()


def test_the_file_is_read_in_a_thread_of_the_task_not_the_request(
    world, client_for, monkeypatch
) -> None:
    """Even with the immediate backend of the tests (the task runs inside the request), the
    reading happens in the preview's own thread, which the task can stop waiting for."""
    threads = []
    build = imports.Staged.build_preview

    def recording(self, progress=None, **kwargs):
        threads.append(threading.current_thread().name)
        return build(self, progress, **kwargs)

    monkeypatch.setattr(imports.Staged, "build_preview", recording)
    client = client_for(world.it_lead)
    key = staged_id(upload(client, world.e1))
    assert threads == [f"preview-{key}"]
    assert "T-4" in client.get(reverse("service:import_preview", args=[key])).content.decode()
    assert threads == [f"preview-{key}"]  # showing it read nothing again


def test_a_file_over_a_limit_ends_with_the_limit_named(world, client_for, settings) -> None:
    """The limit in force when the preview reads the file counts (here lowered after the
    upload): the problem names the file and the limit, and nothing can be confirmed."""
    settings.TASKS = NO_WORKER
    client = client_for(world.it_lead)
    key = staged_id(upload(client, world.e1))
    settings.TANDEM_MAX_IMPORT_BYTES = 100
    progress = Progress.objects.get(kind="preview_import")
    tasks_preview.preview_upload.call(progress_id=str(progress.pk), staged_id=key)
    body = client.get(reverse("service:import_preview", args=[key])).content.decode()
    assert "nothing can be imported" in body
    assert "over the limit of 100 bytes" in body and "generic_tickets.csv" in body
    assert "/confirm/" not in body
    assert client.post(reverse("service:import_confirm", args=[key])).status_code == 302
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("TANDEM_IMPORT_MAX_ROWS", 3, "more than 3 data rows (the limit)"),
        ("TANDEM_IMPORT_MAX_COLUMNS", 4, "over the limit of 4"),
    ],
)
def test_the_readers_limits_end_the_preview_with_the_limit_named(
    world, client_for, settings, setting, value, named
) -> None:
    setattr(settings, setting, value)
    client = client_for(world.it_lead)
    key = staged_id(upload(client, world.e1))  # 4 tickets, 9 columns
    body = client.get(reverse("service:import_preview", args=[key])).content.decode()
    assert "nothing can be imported" in body and named in body
    assert "generic_tickets.csv" in body and "/confirm/" not in body
    assert not ImportBatch.objects.exists() and not Ticket.objects.exists()


def _slow_reader(seconds: float, monkeypatch) -> list[str]:
    """read_files takes ``seconds`` before it reports its next step; returns the steps
    it was let through."""
    steps: list[str] = []
    read = imports.read_files

    def slow(*args, progress=None, **kwargs):
        time.sleep(seconds)
        progress(40, "Checking every row")  # the budget's stop comes here
        steps.append("went on")
        return read(*args, progress=progress, **kwargs)

    monkeypatch.setattr(imports, "read_files", slow)
    return steps


def test_a_preview_over_its_time_budget_fails_with_the_message(
    world, client_for, settings, monkeypatch, media
) -> None:
    settings.TANDEM_PREVIEW_SECONDS = 0.3
    client = client_for(world.it_lead)
    with monkeypatch.context() as patched:
        steps = _slow_reader(1.0, patched)
        started = time.monotonic()
        key = staged_id(upload(client, world.e1))
        assert time.monotonic() - started < 0.95  # the task stopped waiting at the deadline
        for thread in threading.enumerate():
            if thread.name == f"preview-{key}":
                thread.join(5)
        assert steps == []  # the reader stopped at its next step
    progress = Progress.objects.get(kind="preview_import")
    assert progress.state == "failed"
    assert progress.error.startswith("The preview took longer than 0.3 s: it was stopped while")
    assert "Nothing was imported" in progress.error
    assert not list((media / "imports" / key).glob("preview-*.json"))  # no late preview

    url = reverse("service:import_preview", args=[key])
    body = client.get(url).content.decode()
    assert "The preview took longer than 0.3 s" in body
    assert 'name="retry"' in body and "/confirm/" not in body
    assert client.post(reverse("service:import_confirm", args=[key]))["Location"] == url

    # Read it again (the reader is quick now): the preview appears.
    settings.TANDEM_PREVIEW_SECONDS = 60
    assert client.post(url, {"retry": "1"})["Location"] == url
    assert Progress.objects.filter(kind="preview_import").count() == 2
    assert "Import 4 tickets" in client.get(url).content.decode()
    # A retry with a preview there changes nothing.
    client.post(url, {"retry": "1"})
    assert Progress.objects.filter(kind="preview_import").count() == 2


def test_the_reading_thread_itself_ends_soon_after_the_budget(
    world, client_for, settings, monkeypatch, media
) -> None:
    """A reader busy in one long step (here the line-length pass, slowed to 0.3 s for each
    of its 30 chunks: 9 s in all, twice: detecting the format, then reading) is given the
    preview's deadline and stops at its next chunk: its thread is gone well before it could
    have finished, not just abandoned."""
    from tandem.ingest._common import sources

    settings.TANDEM_PREVIEW_SECONDS = 0.3
    chunks: list[float] = []
    scan = sources._run_without

    def slow(*args, **kwargs):
        time.sleep(0.3)
        chunks.append(time.monotonic())
        return scan(*args, **kwargs)

    monkeypatch.setattr(sources, "_CHUNK", 16)  # generic_tickets.csv: 478 bytes, 30 chunks
    monkeypatch.setattr(sources, "_run_without", slow)
    client = client_for(world.it_lead)
    started = time.monotonic()
    key = staged_id(upload(client, world.e1))
    reader = [t for t in threading.enumerate() if t.name == f"preview-{key}"]
    for thread in reader:
        thread.join(3)
        assert not thread.is_alive(), "the reading thread still runs after the budget"
    ended = time.monotonic() - started
    assert ended < 4.5, f"{ended:.1f} s"  # reading the whole file would take 9 s (twice)
    assert 0 < len(chunks) < 15, chunks  # the pass had begun, and stopped at the deadline
    progress = Progress.objects.get(kind="preview_import")
    assert progress.state == "failed"
    assert progress.error.startswith("The preview took longer than 0.3 s: it was stopped while")
    assert not list((media / "imports" / key).glob("preview-*.json"))  # no late preview


def test_the_readers_deadline_ending_the_reading_gives_the_budget_message(
    world, client_for, settings, monkeypatch, media
) -> None:
    """When the reader's own look at the clock ends the reading before the task's watcher
    sees the deadline, the task still fails with the budget's message, not a problem."""
    from tandem.ingest.errors import ReadingStopped

    def stopped(*args, **kwargs):
        raise ReadingStopped("generic_tickets.csv", 60)

    monkeypatch.setattr(imports, "read_files", stopped)
    client = client_for(world.it_lead)
    key = staged_id(upload(client, world.e1))
    progress = Progress.objects.get(kind="preview_import")
    assert progress.state == "failed"
    assert progress.error.startswith("The preview took longer than 60 s: it was stopped while")
    assert not list((media / "imports" / key).glob("preview-*.json"))


def test_another_vendor_sees_neither_the_preview_nor_its_progress(world, client_for) -> None:
    key = staged_id(upload(client_for(world.vendor_lead), world.e1))
    progress = Progress.objects.get(kind="preview_import")
    url = reverse("service:import_preview", args=[key])
    for user in (world.rival, world.outsider, world.it_lead, world.observer):
        other = client_for(user)
        assert other.get(progress.get_absolute_url()).status_code == 404, user
        assert other.get(url).status_code == 404, user
        assert other.get(url, headers={"HX-Request": "true"}).status_code == 404, user
        assert other.post(url, {"retry": "1"}).status_code == 404, user
    assert Progress.objects.filter(kind="preview_import").count() == 1
    assert client_for(world.vendor_lead).get(progress.get_absolute_url()).status_code == 200


def test_a_failed_preview_is_tried_again_from_its_progress_page(world, client_for) -> None:
    """The recovery registered beside the task: "Try again" on a preview whose worker died
    reads the current revision again and leads back to the wizard."""
    from tandem.core.tasks_recovery import retry_refusal, retry_work

    client = client_for(world.it_lead)
    key = staged_id(upload(client, world.e1))
    progress = Progress.objects.get(kind="preview_import")
    assert progress.task_name == "tandem.service.tasks_preview.preview_upload"
    Progress.objects.filter(pk=progress.pk).update(state="failed", error="worker died")
    (media_dir := imports.Staged.load(key).directory).joinpath("preview-0.json").unlink()
    progress.refresh_from_db()
    assert retry_refusal(progress) is None
    url = retry_work(progress, world.it_lead)
    assert url == reverse("service:import_preview", args=[key])
    again = Progress.objects.filter(kind="preview_import").exclude(pk=progress.pk).get()
    assert again.state == "succeeded"
    assert imports.Staged.load(key).preview_progress_id == str(again.pk)
    assert "Import 4 tickets" in client.get(url).content.decode()
    # Once the upload is gone, trying again sends the person to upload it again.
    client.post(reverse("service:import_discard", args=[key]))
    assert not media_dir.exists()
    refusal = retry_refusal(again.__class__.objects.get(pk=progress.pk))
    assert refusal is not None and refusal.link_text == "Upload again"


def test_a_zip_is_unpacked_by_the_preview_not_the_request(
    world, client_for, media, settings, monkeypatch
) -> None:
    """The request reads the archive's directory only (one CSV, its size within the limit);
    the preview task unpacks it in the background."""
    settings.TASKS = NO_WORKER
    client = client_for(world.it_lead)
    csv = (FIXTURES / "generic_tickets.csv").read_bytes()
    archive = SimpleUploadedFile("export.zip", _zip({"tickets/generic_tickets.csv": csv}))
    url = reverse("service:import_upload", args=[world.e1.pk])
    with monkeypatch.context() as patched:
        patched.setattr(imports, "_unpack", lambda *a: pytest.fail("unpacked in the request"))
        key = staged_id(client.post(url, {"file": archive, "time_zone": world.e1.time_zone}))
        page = client.get(reverse("service:import_preview", args=[key])).content.decode()
    folder = media / "imports" / key
    assert sorted(p.name for p in folder.iterdir() if p.suffix != ".json") == ["export.bin"]
    staged = imports.Staged.load(key)
    assert (staged.file_name, staged.size) == ("generic_tickets.csv", len(csv))
    assert "generic_tickets.csv" in page and f"{len(csv):,} bytes" in page

    progress = Progress.objects.get(kind="preview_import")
    tasks_preview.preview_upload.call(progress_id=str(progress.pk), staged_id=key)
    assert sorted(p.name for p in folder.iterdir() if p.suffix != ".json") == ["export.csv"]
    assert (
        "Import 4 tickets"
        in client.get(reverse("service:import_preview", args=[key])).content.decode()
    )


def test_a_zip_whose_member_is_damaged_gets_a_problem(world, client_for) -> None:
    data = bytearray(_zip({"t.csv": (FIXTURES / "generic_tickets.csv").read_bytes() * 50}))
    data[60:80] = bytes(20)  # inside the member's compressed bytes; the directory is intact
    client = client_for(world.it_lead)
    archive = SimpleUploadedFile("export.zip", bytes(data))
    url = reverse("service:import_upload", args=[world.e1.pk])
    key = staged_id(client.post(url, {"file": archive, "time_zone": world.e1.time_zone}))
    body = client.get(reverse("service:import_preview", args=[key])).content.decode()
    assert "nothing can be imported" in body
    assert "<td>t.csv</td>" in body and "the ZIP archive it came in is damaged" in body
    assert str(imports.staging_root()) not in body  # no internal path in the message
    assert not Ticket.objects.exists()


def test_an_archive_listing_too_many_files_is_refused_unread(
    world, client_for, media, monkeypatch
) -> None:
    """The count comes from the archive's end record: its directory is never parsed."""
    members = {"tickets.csv": b"ticket_id\n", **{f"n{i}.txt": b"" for i in range(4)}}
    archive = SimpleUploadedFile("many.zip", _zip(members))
    monkeypatch.setattr(imports, "MAX_ZIP_ENTRIES", 3)
    monkeypatch.setattr(
        imports.zipfile, "ZipFile", lambda *a, **k: pytest.fail("the directory was parsed")
    )
    client = client_for(world.it_lead)
    url = reverse("service:import_upload", args=[world.e1.pk])
    response = client.post(url, {"file": archive, "time_zone": world.e1.time_zone})
    assert response.status_code == 422
    assert "many.zip: the archive lists 5 files" in response.content.decode()
    assert "over the limit of 3" in response.content.decode()
    assert not (media / "imports").exists() or not any((media / "imports").iterdir())


def test_the_mapping_form_is_offered_for_headers_a_person_can_map(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(import_mapping, "HEADER_BYTES", 100)
    monkeypatch.setattr(import_mapping, "MAX_COLUMNS", 5)
    ok = tmp_path / "ok.csv"
    ok.write_text("Ref,Logged,Team\nR-1,2025-03-03,Desk\n" + "x" * 500)
    assert import_mapping.read_header(ok) == ["Ref", "Logged", "Team"]
    endless = tmp_path / "endless.csv"
    endless.write_text("a," * 100 + "\n")  # the first line does not end within 100 bytes
    assert import_mapping.read_header(endless) is None
    wide = tmp_path / "wide.csv"
    wide.write_text("a,b,c,d,e,f\n1,2,3,4,5,6\n")
    assert import_mapping.read_header(wide) is None


def test_a_file_refused_as_a_whole_is_not_scanned_for_priority_values(
    world, client_for, settings, monkeypatch
) -> None:
    settings.TASKS = NO_WORKER
    client = client_for(world.it_lead)
    key = staged_id(upload_text(client, world.e1, ODD, format="generic"))

    def over_a_limit(*args, **kwargs):  # as a reader stops at its row limit
        reason = "more than 2 data rows (the limit); split the export"
        raise IngestError([Problem("odd.csv", None, None, reason)])

    monkeypatch.setattr(imports, "read_files", over_a_limit)
    monkeypatch.setattr(
        import_mapping, "priority_values", lambda *a: pytest.fail("scanned the priority column")
    )
    progress = Progress.objects.get(kind="preview_import")
    tasks_preview.preview_upload.call(progress_id=str(progress.pk), staged_id=key)
    preview = imports.Staged.load(key).load_preview()
    assert not preview["ok"] and "(the limit)" in preview["problems"][0]["reason"]
    assert preview["mapping"]["header"][0] == "Ref"  # the columns are still offered
    assert preview["mapping"]["priority_values"] == []
