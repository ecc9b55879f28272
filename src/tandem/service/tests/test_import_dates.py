"""The import wizard's date format (issue 12, point 6): a file whose dates read two ways asks
for the format and imports with the one chosen; a mixed file's problems name rows and column
and the formats that would read it; a bad pattern is an error on its field, never a 500."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tandem.service import imports
from tandem.service.models import ImportBatch, Ticket

pytestmark = pytest.mark.django_db

HEADER = "ticket_id,priority,opened_at,responded_at,resolved_at,assignment_group\n"
#: Day first, and no day over 12: 05/03 is 5 March or 3 May.
AMBIGUOUS = (
    HEADER + "D-1,P1,05/03/2024 10:00,,05/03/2024 12:00,Desk\nD-2,P2,06/03/2024 09:00,,,Desk\n"
)
MIXED = (
    HEADER
    + "M-1,P1,2024-03-05 10:00,,,Desk\n"
    + "M-2,P1,05/03/2024 10:00,,,Desk\n"
    + "M-3,P1,2024-02-30 10:00,,,Desk\n"
    + "M-4,P1,13/13/2024,,,Desk\n"
)


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(client, engagement, text: str, name: str = "dates.csv") -> str:
    url = reverse("service:import_upload", args=[engagement.pk])
    form = {"file": SimpleUploadedFile(name, text.encode()), "time_zone": "UTC"}
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"].rstrip("/").rsplit("/", 1)[-1]


def choose(client, key: str, **data: str):
    url = reverse("service:import_preview", args=[key])
    staged = imports.Staged.load(key)
    return client.post(url, {"revision": str(staged.revision), **data})


def test_an_ambiguous_file_asks_for_the_format_and_imports_with_it(world, client_for) -> None:
    client = client_for(world.it_lead)
    key = upload(client, world.e1, AMBIGUOUS)
    url = reverse("service:import_preview", args=[key])
    page = client.get(url)
    body = page.content.decode()
    assert "nothing can be imported" in body
    assert "the dates are ambiguous" in body
    assert 'id="date-format"' in body and "Tandem does not guess" in body
    assert body.count('id="dates_revision"') == 1 and body.count('id="id_revision"') == 1
    form = page.context["date_form"]
    assert form.initial.get("date_format") is None and form["date_format"].value() is None
    choices = dict(form.fields["date_format"].choices)
    assert choices["dd/mm/yyyy"].endswith("reads every date in the file")
    assert choices["mm/dd/yyyy"].endswith("reads every date in the file")
    assert not choices["iso"].endswith("reads every date in the file")
    # the column mapping stays folded: the columns are fine
    assert 'id="column-mapping" open' not in body

    response = choose(client, key, date_format="dd/mm/yyyy", pattern="")
    assert response.status_code == 302 and response["Location"] == url
    staged = imports.Staged.load(key)
    assert (staged.date_format, staged.revision) == ("dd/mm/yyyy", 1)
    body = client.get(url).content.decode()
    assert "Import 2 tickets" in body and "dates as <code>dd/mm/yyyy</code>" in body
    assert not Ticket.objects.exists()

    client.post(reverse("service:import_confirm", args=[key]))
    batch = ImportBatch.objects.get()
    assert batch.tickets_created == 2 and batch.mapping["date_format"] == "dd/mm/yyyy"
    opened = Ticket.objects.get(ticket_id="D-1").opened_at
    assert (opened.month, opened.day) == (3, 5)  # 5 March, not 3 May


def test_a_custom_pattern_reads_the_file(world, client_for) -> None:
    client = client_for(world.it_lead)
    key = upload(client, world.e1, AMBIGUOUS)
    client.get(reverse("service:import_preview", args=[key]))
    response = choose(client, key, date_format="custom", pattern="%m/%d/%Y %H:%M")
    assert response.status_code == 302
    client.post(reverse("service:import_confirm", args=[key]))
    opened = Ticket.objects.get(ticket_id="D-1").opened_at
    assert (opened.month, opened.day) == (5, 3)  # read month first, as asked


def test_a_mixed_file_names_rows_column_and_what_reads_them(world, client_for) -> None:
    client = client_for(world.it_lead)
    key = upload(client, world.e1, MIXED)
    page = client.get(reverse("service:import_preview", args=[key]))
    body = page.content.decode()
    problems = page.context["preview"]["problems"]
    first = problems[0]
    assert (first["row"], first["column"]) == (3, "opened_at")
    for row, value in ((3, "05/03/2024 10:00"), (4, "2024-02-30 10:00"), (5, "13/13/2024")):
        assert f"row {row} &#x27;{value}&#x27;" in body
    assert "No common date format reads every timestamp" in first["reason"]
    assert "&#x27;iso&#x27; 1" in body and "&#x27;dd/mm/yyyy&#x27; 1" in body
    assert page.context["preview"]["dates"] == {
        "columns": ["opened_at"],
        "readable": [],
        "ambiguous": False,
    }
    assert "No common format reads every date of opened_at" in body


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("%", "lone"),
        ("%Q", "is not a directive"),
        ("%" * 10_000, "at most 64 characters"),
        ("x" * 10_000, "at most 64 characters"),
        ("%Y-%m-%d", "lacks"),
        ("", "write the pattern"),
        ("%d/%m/%Y %H:%M\x00", "Null characters"),
    ],
)
def test_a_bad_pattern_is_an_error_on_its_field(world, client_for, pattern, message) -> None:
    client = client_for(world.it_lead)
    key = upload(client, world.e1, AMBIGUOUS)
    client.get(reverse("service:import_preview", args=[key]))
    response = choose(client, key, date_format="custom", pattern=pattern)
    assert response.status_code == 422
    form = response.context["date_form"]
    assert list(form.errors) == ["pattern"]
    assert message in form.errors["pattern"][0]
    assert 'id="dates_pattern_errors"' in response.content.decode()
    staged = imports.Staged.load(key)
    assert (staged.date_format, staged.revision) == (None, 0)  # nothing changed


@pytest.mark.parametrize("choice", ["nonsense", "%d/%m/%Y %H:%M", "x" * 10_000])
def test_an_unknown_choice_is_an_error_on_its_field(world, client_for, choice) -> None:
    client = client_for(world.it_lead)
    key = upload(client, world.e1, AMBIGUOUS)
    client.get(reverse("service:import_preview", args=[key]))
    response = choose(client, key, date_format=choice)
    assert response.status_code == 422
    assert list(response.context["date_form"].errors) == ["date_format"]


def test_a_stale_form_and_strangers_change_nothing(world, client_for) -> None:
    client = client_for(world.it_lead)
    key = upload(client, world.e1, AMBIGUOUS)
    url = reverse("service:import_preview", args=[key])
    client.get(url)
    stale = client.post(url, {"revision": "7", "date_format": "dd/mm/yyyy"})
    assert stale.status_code == 422
    assert "revision" in stale.context["date_form"].errors
    other = client_for(world.vendor_lead).post(url, {"revision": "0", "date_format": "iso"})
    assert other.status_code == 404
    assert imports.Staged.load(key).date_format is None


def test_going_back_to_detection(world, client_for) -> None:
    client = client_for(world.it_lead)
    key = upload(client, world.e1, AMBIGUOUS)
    url = reverse("service:import_preview", args=[key])
    client.get(url)
    choose(client, key, date_format="dd/mm/yyyy")
    page = client.get(url)
    assert page.context["date_form"]["date_format"].value() == "dd/mm/yyyy"
    choose(client, key, date_format="")
    staged = imports.Staged.load(key)
    assert (staged.date_format, staged.revision) == (None, 2)
    assert "the dates are ambiguous" in client.get(url).content.decode()


def test_a_good_file_shows_no_date_form(world, client_for) -> None:
    client = client_for(world.it_lead)
    key = upload(client, world.e1, HEADER + "G-1,P1,2024-03-05T10:00:00Z,,,Desk\n")
    page = client.get(reverse("service:import_preview", args=[key]))
    assert "date_form" not in page.context and 'id="date-format"' not in page.content.decode()
