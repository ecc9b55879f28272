"""Every export of the app, after a formula was typed into every text field it shows.

The exports are found, not listed: every URL whose view is an ``ObjectListView`` (each
answers ``?export=csv`` and ``?export=xlsx``; the SLA result lists are among them), plus the
audit trail's background CSV export. Before walking them, each of six formulas (OWASP's
CSV-injection starts ``= + - @``, tab, carriage return) is typed into the text fields people
fill: organization, engagement and person names, job title, e-mail, party scope, role note,
assignment groups, SLA policy name, and ticket ids, groups, categories and a file name that
arrive through a real ticket import. Then every cell of every file is read back:

- CSV: no cell starts with a formula character, except a number in a numeric column;
- XLSX (openpyxl): no cell is a formula (``data_type 'f'``), no text cell starts with a
  formula character; numbers, dates and booleans are typed cells (never text), negative
  numbers included, in exactly the columns :data:`TYPED` names for each export; no text cell
  anywhere holds a number or a boolean (a spreadsheet would not sum it); percentages carry a
  percent format, money its currency's; an instant's header names the time zone its cells
  are in (the engagement's);
- every export shows at least one of the formulas (quoted), and each formula is found.

The walk runs twice: written in the request, and with ``TANDEM_EXPORT_BACKGROUND_ROWS`` at 0,
so that every list export is written by the background worker and downloaded from its
progress page - the same files, the same checks.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tandem.contracts.tests.factories import (
    ContractDocumentFactory,
    ContractFactory,
    ScopeItemFactory,
)
from tandem.core.audit import audit_context
from tandem.core.choices import AuditSource, ProgressState
from tandem.core.exports import FORMULA_STARTS
from tandem.core.models import EngagementParty, Organization, Progress, RoleAssignment, User
from tandem.core.testing.world import World
from tandem.core.views.generic import ObjectListView
from tandem.service.choices import AggregateLevel, GroupSide, MeasuredSide, Metric
from tandem.service.imports import read_files
from tandem.service.models import Ticket
from tandem.service.services import import_tickets
from tandem.service.tests.factories import (
    AssignmentGroupSideFactory,
    ServiceCreditFactory,
    SlaAggregateFactory,
    SlaMeasurementFactory,
    SlaPolicyFactory,
)
from tandem.service.tests.results_data import build_sla

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]

#: Per export (URL name): the columns that hold numbers ("n"), percentages ("%": numbers with
#: a percent format), money ("$": numbers in the currency's format, USD here), dates or
#: instants ("d") or booleans ("b"); every other column is text. A new export must be added
#: here: the test then checks its typed columns are typed cells and its text columns text.
TYPED: dict[str, dict[str, str]] = {
    "core:engagement_list": {"Starts": "d", "Ends": "d"},
    "core:engagementparty_list": {},
    "core:roleassignment_list": {},
    "core:organization_list": {"Size": "n"},
    "core:user_list": {"Administrator": "b", "Active": "b"},
    "core:changelog_list": {"Time": "d"},
    "core:engagement_audit": {"Time": "d"},
    "service:ticket_list": {
        "Opened": "d",
        "Responded": "d",
        "Resolved": "d",
        "Reassigned": "n",
        "Reopened": "n",
    },
    "service:tickethold_list": {"Start": "d", "End": "d"},
    "service:importbatch_list": {
        "Started": "d",
        "Rows": "n",
        "New": "n",
        "Updated": "n",
        "Holds": "n",
    },
    "service:assignmentgroupside_list": {},
    "service:slapolicy_list": {"Version": "n", "Effective from": "d"},
    "service:slarun_list": {
        "Run": "n",
        "As of": "d",
        "Started": "d",
        "Tickets": "n",
        "Clocks": "n",
        "Breaches": "n",
        "At risk": "n",
        "Duration": "n",
    },
    "service:sla_breaches": (
        measurements := {
            "run": "n",
            "ticket_opened_at": "d",
            "month": "d",
            "policy_version": "n",
            "elapsed_seconds": "n",
            "target_seconds": "n",
            "met": "b",
        }
    ),
    "service:sla_at_risk": measurements,
    "service:slameasurement_list": measurements,
    "service:slaaggregate_list": {
        "run": "n",
        "month": "d",
        "count": "n",
        "met": "n",
        "attainment": "%",
        "goal": "%",
        "median_seconds": "n",
        "p90_seconds": "n",
    },
    "service:servicecredit_list": {
        "run": "n",
        "month": "d",
        "policy_version": "n",
        "count": "n",
        "met": "n",
        "attainment": "%",
        "goal": "%",
        "missed": "b",
        "allocation_percent": "%",
        "credit": "$",
        "capped": "$",
        "earn_back_until": "d",
        "earned_back": "b",
        "due": "$",
    },
    "contracts:contract_list": {
        "Starts": "d",
        "Ends": "d",
        "Total value": "$",
        "Monthly fee": "$",
        "PHI": "b",
    },
    "contracts:scopeitem_list": {
        "Unit price": "$",
        "Quantity": "n",
        "Users": "n",
        "Devices": "n",
        "Tickets a month": "n",
    },
    "contracts:contractdocument_list": {"Version": "n", "Bytes": "n", "Uploaded": "d"},
    "progress:export_audit": {"time_utc": "d"},
}

#: Exports that show no text a person types: they need not show a formula.
NO_TYPED_TEXT = {
    # Month, metric and priority are fixed choices; the currency a validated ISO code.
    "service:servicecredit_list",
}

_NUMBER = re.compile(r"-?\d+(\.\d+)?")
#: Text that a spreadsheet should have received as a number or a boolean.
_NUMBER_AS_TEXT = re.compile(r"[-+]?(\d[\d,]*)(\.\d+)?%?|true|false", re.IGNORECASE)
#: An instant's header in a workbook: "Opened (America/Chicago)".
_ZONED = re.compile(r"(?P<header>.+) \((?P<zone>[A-Za-z_]+(/[A-Za-z_+-]+)*)\)")


# --- the exports, found from the URL configuration ---------------------------------------------


def _list_views(patterns: list, namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace or ""
            yield from _list_views(entry.url_patterns, inner if entry.namespace else namespace)
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "view_class", None)
            if view is not None and issubclass(view, ObjectListView):
                yield f"{namespace}:{entry.name}", entry


def list_exports() -> list[tuple[str, bool]]:
    """(URL name, takes an engagement) of every list view (each one exports)."""
    found = {
        name: "engagement_pk" in pattern.pattern.converters
        for name, pattern in _list_views(get_resolver().url_patterns)
    }
    return sorted(found.items())


LISTS = list_exports()


def test_the_exports_are_found() -> None:
    names = {name for name, _scoped in LISTS}
    assert {"core:organization_list", "service:ticket_list", "service:slaaggregate_list"} <= names
    unknown = names - set(TYPED)
    assert not unknown, f"a new export: say which of its columns are typed in TYPED: {unknown}"


def test_one_writer_writes_every_file() -> None:
    """No module but ``tandem.core.exports`` writes a CSV or XLSX for people to open.

    (Polars' ``write_csv`` feeds PostgreSQL's COPY in the bulk writers; the ``tandem sla``
    command's measurement file is the engine's output for scripts, not a list export.)"""
    source = Path(__file__).resolve().parents[1] / "src" / "tandem"
    writers = re.compile(r"csv\.(writer|DictWriter)\(|Workbook\(|\.write_excel\(")
    offenders = [
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if not {"tests", "testing"} & set(path.parts)  # test input files are not exports
        and path != source / "core" / "exports.py"
        and writers.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "write exports through tandem.core.exports"


# --- the hostile world ------------------------------------------------------------------------


def _cycle() -> Iterator[str]:
    while True:
        yield from FORMULAS


def _import_hostile_tickets(world: World, tmp_path: Path, formulas: Iterator[str]) -> list:
    """Tickets whose ids, groups and categories are formulas, through the real import path."""
    tickets, holds = io.StringIO(), io.StringIO()
    writer = csv.writer(tickets)  # the test's own input file, not an export
    writer.writerow(
        ["ticket_id", "priority", "opened_at", "resolved_at", "assignment_group", "category"]
    )
    for index, formula in enumerate(FORMULAS):
        opened = datetime(2025, 3, 3, 8, tzinfo=UTC) + timedelta(hours=index)
        resolved = (opened + timedelta(hours=3)).isoformat() if index % 2 else ""
        # Ids are unique (the reader trims the tab and CR ones to the same "=1" otherwise).
        group, category = next(formulas), next(formulas)
        writer.writerow([f"{formula}{index}", "P2", opened.isoformat(), resolved, group, category])
    tickets_path = tmp_path / "tickets.csv"
    tickets_path.write_text(tickets.getvalue(), encoding="utf-8")
    imported = read_files(
        tickets_path, file_name="tickets.csv", format="generic", time_zone="UTC", keep_text=False
    )
    ids = imported.tickets["ticket_id"].to_list()
    holds_writer = csv.writer(holds)
    holds_writer.writerow(["ticket_id", "start", "end"])
    holds_writer.writerow([ids[0], "2025-03-03T09:00:00Z", "2025-03-03T09:30:00Z"])
    holds_path = tmp_path / "holds.csv"
    holds_path.write_text(holds.getvalue(), encoding="utf-8")
    imported = read_files(
        tickets_path,
        file_name="tickets.csv",
        format="generic",
        time_zone="UTC",
        keep_text=False,
        holds_path=holds_path,
        holds_name="holds.csv",
    )
    import_tickets(
        engagement=world.e1,
        actor=world.it_lead,
        tickets=imported.tickets,
        holds=imported.holds,
        file_name=next(formulas),
        format="generic",
        time_zone="UTC",
    )
    return list(Ticket.objects.filter(engagement=world.e1).order_by("opened_at"))


@pytest.fixture
def hostile(world: World, tmp_path: Path) -> World:
    formulas = _cycle()
    # People and organizations first (a platform change, outside any engagement)...
    for person in (world.it_lead, world.vendor_lead, world.vendor_staff, world.sponsor):
        person.full_name = next(formulas)
        person.job_title = next(formulas)
        person.save()
    world.vendor_staff.email = "+1+1@acme.test"  # a valid address that starts like a formula
    world.vendor_staff.save()
    for organization in (world.alpha, world.acme, world.crest):
        organization.name = next(formulas)
        organization.size, organization.size_unit = 1200, "beds"
        organization.save()
    # ...then the engagement's records, by the it lead (whose name is a formula too).
    with audit_context(source=AuditSource.WEB, user=world.it_lead):
        world.e1.name = next(formulas)
        world.e1.start_date = date(2025, 1, 1)
        world.e1.save()
        for party in EngagementParty.objects.filter(engagement=world.e1):
            party.scope_summary = next(formulas)
            party.save()
        for role in RoleAssignment.objects.filter(engagement=world.e1):
            role.note = next(formulas)
            role.save()
        for side in (GroupSide.CLIENT, GroupSide.VENDOR):
            vendor = world.acme if side == GroupSide.VENDOR else None
            AssignmentGroupSideFactory(
                engagement=world.e1, assignment_group=next(formulas), side=side, vendor=vendor
            )
        SlaPolicyFactory(
            engagement=world.e1, version=7, name=next(formulas), created_by=world.it_lead
        )
        contract = ContractFactory(
            engagement=world.e1,
            vendor=world.acme,
            title=next(formulas),
            termination_rights=next(formulas),
            handles_phi=True,
        )
        ScopeItemFactory(contract=contract, name=next(formulas), application=next(formulas))
        ContractDocumentFactory(
            contract=contract,
            title=next(formulas),
            file="contracts/hostile.pdf",  # a name only: nothing written
            sha256="ab" * 32,
            uploaded_by=world.it_lead,
        )
    tickets = _import_hostile_tickets(world, tmp_path, formulas)

    sla = build_sla(world.e1)
    sla.run.started_by = world.vendor_lead
    sla.run.save()
    for index, ticket in enumerate(tickets):
        state = index % 3
        SlaMeasurementFactory(
            run=sla.run,
            ticket=ticket,
            ticket_number=ticket.ticket_id,
            assignment_group=ticket.assignment_group,
            priority="P2",
            metric=Metric.RESOLUTION,
            side=MeasuredSide.CLIENT,
            target_seconds=10_000,
            elapsed_seconds=(20_000, 8_000, 2_000)[state],  # a breach, at risk, met
            month=None if state < 2 else date(2025, 3, 1),
            met=state > 0,  # an open clock within target is "met" so far
            policy_version=1,
        )
    SlaAggregateFactory(
        run=sla.run,
        level=AggregateLevel.GROUP,
        side=MeasuredSide.CLIENT,
        assignment_group=next(formulas),
        priority="P2",
        metric=Metric.RESPONSE,
        count=3,
        met=2,
    )
    # An earned-back credit line: money below zero in a numeric column.
    ServiceCreditFactory(
        run=sla.run,
        month=date(2025, 4, 1),
        priority="P2",
        credit=Decimal("-250.00"),
        capped=Decimal("-250.00"),
        due=Decimal("-250.00"),
    )
    return world


# --- reading the files back -------------------------------------------------------------------


def _csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


def _xlsx(body: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    return [list(row) for row in sheet.iter_rows()]


def _starts_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def _shown(cell_text: str) -> set[str]:
    """The typed-in text a cell shows neutralized: the formula itself when it arrived whole
    (XML turns a stored CR into LF), or the cell (an id with a suffix, a trimmed tab)."""
    whole = {f for f in FORMULAS if cell_text in ("'" + f, "'" + f.replace("\r", "\n"))}
    if whole or not (cell_text.startswith("'") and _starts_like_formula(cell_text[1:])):
        return whole
    return {cell_text}


def check_csv(name: str, body: bytes) -> set[str]:
    rows = _csv(body)
    assert len(rows) > 1, f"{name}: the CSV export has no rows"
    typed = TYPED[name]
    header = rows[0]
    shown: set[str] = set()
    for row in rows:
        for column, cell in zip(header, row, strict=True):
            shown |= _shown(cell)
            if not _starts_like_formula(cell):
                continue
            # Only a number in a numeric column may start with "-".
            where = (name, column, cell)
            assert typed.get(column) in ("n", "%", "$") and _NUMBER.fullmatch(cell), where
    return shown


def _xlsx_header(cell_value: str, zone: str) -> str:
    """The column's name (as in the CSV and :data:`TYPED`); an instant's header must name
    ``zone``."""
    match = _ZONED.fullmatch(cell_value or "")
    if match is None:
        return cell_value
    assert match["zone"] == zone, (cell_value, zone)
    return match["header"]


def check_xlsx(name: str, body: bytes, zone: str = "UTC") -> tuple[set[str], bool]:
    rows = _xlsx(body)
    assert len(rows) > 1, f"{name}: the XLSX export has no rows"
    typed = TYPED[name]
    raw = [cell.value for cell in rows[0]]
    header = [_xlsx_header(value, zone) for value in raw]
    for value, column in zip(raw, header, strict=True):
        if typed.get(column) == "d" and value != column:
            continue  # an instant, whose header says the zone
        assert value == column, (name, value)
    shown: set[str] = set()
    negative = False
    for row in rows[1:]:
        for column, cell in zip(header, row, strict=True):
            where = (name, column, cell.value)
            assert cell.data_type != "f", where
            if cell.value is None:
                continue
            expected = typed.get(column, "s")
            if expected == "d":
                assert cell.is_date, where
            elif expected == "%":
                assert cell.data_type == "n" and cell.number_format.endswith("%"), where
            elif expected == "$":
                assert cell.data_type == "n" and cell.number_format == '"$"#,##0.00', where
            else:
                assert cell.data_type == expected and not cell.is_date, where
            if cell.data_type == "s":
                assert not _starts_like_formula(cell.value), where
                assert not _NUMBER_AS_TEXT.fullmatch(cell.value.strip()), where
                shown |= _shown(cell.value)
            elif cell.data_type == "n" and cell.value < 0:
                negative = True
    return shown, negative


def _fetch(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Disposition"].startswith("attachment"), url
    return b"".join(response.streaming_content)


def _fetch_in_background(client, owner: User, url: str) -> bytes:
    """The export queued (the request answers a redirect to its progress page at once), then
    downloaded from there once written, as a person does."""
    response = client.get(url)
    assert response.status_code == 302, url
    progress = Progress.objects.filter(owner=owner, kind="export_list").first()
    assert progress is not None and response["Location"] == progress.get_absolute_url(), url
    assert progress.state == ProgressState.SUCCEEDED, (url, progress.error)
    page = client.get(response["Location"])
    download = reverse("progress:download", args=[progress.pk])
    assert download in page.content.decode(), url
    body = _fetch(client, download)
    progress.delete()  # the next export's progress is then the newest
    return body


@pytest.mark.parametrize("background", [False, True], ids=["in-the-request", "in-background"])
def test_every_export_is_free_of_formulas_and_typed(
    hostile: World, client_for, settings, tmp_path, background: bool
):
    settings.MEDIA_ROOT = tmp_path / "media"
    if background:
        settings.TANDEM_EXPORT_BACKGROUND_ROWS = 0
    hostile.e1.time_zone = "America/Chicago"
    hostile.e1.save()
    client = client_for(hostile.it_lead)  # the client's IT lead: sees every vendor's rows
    seen_csv: set[str] = set()
    seen_xlsx: set[str] = set()
    negatives: set[str] = set()
    for name, scoped in LISTS:
        url = reverse(name, args=[hostile.e1.pk] if scoped else [])
        if background:
            fetch = lambda url: _fetch_in_background(client, hostile.it_lead, url)  # noqa: E731
        else:
            fetch = lambda url: _fetch(client, url)  # noqa: E731
        shown = check_csv(name, fetch(f"{url}?export=csv"))
        zone = "America/Chicago" if scoped else "UTC"
        shown_xlsx, negative = check_xlsx(name, fetch(f"{url}?export=xlsx"), zone)
        if name not in NO_TYPED_TEXT:
            assert shown, f"{name}: no formula typed into its text fields shows in its CSV"
            assert shown_xlsx, f"{name}: no formula typed into its text fields shows in its XLSX"
        seen_csv |= shown
        seen_xlsx |= shown_xlsx
        if negative:
            negatives.add(name)

    # The audit trail's background export, started and downloaded as a person does.
    response = client.post(reverse("progress:export_audit", args=[hostile.e1.pk]))
    assert response.status_code == 302
    progress = Progress.objects.get(owner=hostile.it_lead, kind="export_audit")
    assert progress.state == ProgressState.SUCCEEDED, progress.error
    body = _fetch(client, reverse("progress:download", args=[progress.pk]))
    shown = check_csv("progress:export_audit", body)
    assert shown, "the audit export shows none of the formulas"
    seen_csv |= shown

    assert set(FORMULAS) <= seen_csv
    assert set(FORMULAS) <= seen_xlsx
    # Negative numbers stayed numbers (an earned-back credit line's money).
    assert "service:servicecredit_list" in negatives


def test_numbers_in_the_csv_are_plain(hostile: World, client_for) -> None:
    client = client_for(hostile.it_lead)
    url = reverse("service:servicecredit_list", args=[hostile.e1.pk])
    rows = _csv(_fetch(client, f"{url}?export=csv&month=2025-04"))
    line = dict(zip(rows[0], rows[-1], strict=True))
    assert (line["credit"], line["capped"], line["due"]) == ("-250.00", "-250.00", "-250.00")
    organizations = _csv(_fetch(client, reverse("core:organization_list") + "?export=csv"))
    renamed = [row for row in organizations[1:] if row[0].startswith("'")]
    assert len(renamed) == 3 and {row[3] for row in renamed} == {"1200"}  # not "1,200 beds"
    people = _csv(_fetch(client, reverse("core:user_list") + "?export=csv"))
    assert "'+1+1@acme.test" in {row[1] for row in people[1:]}
    # What was typed is kept as typed: only the files quote it.
    assert User.objects.filter(email="+1+1@acme.test").exists()
    assert Organization.objects.get(pk=hostile.alpha.pk).name.startswith(FORMULA_STARTS)
