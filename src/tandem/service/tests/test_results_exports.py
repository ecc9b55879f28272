"""Exports of measurements, aggregates and credit lines: the list's filters, exact text
(UTC instants, decimals as written), formulas defused, XLSX that openpyxl opens with typed
cells. The writer's own rules are tested in ``tandem.core.tests.test_exports``."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from tandem.service.tests.results_data import build_sla

pytestmark = pytest.mark.django_db

#: Text a spreadsheet should have received as a number or a boolean.
_NUMBER_OR_FLAG = re.compile(r"[-+]?[\d,]+(\.\d+)?%?|true|false", re.IGNORECASE)


@pytest.fixture
def sla(world):
    return build_sla(world.e1)


def _get(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, url
    return response, b"".join(response.streaming_content)


def test_credit_lines_csv_is_exact(world, sla, client_for) -> None:
    url = reverse("service:servicecredit_list", args=[world.e1.pk]) + "?export=csv"
    response, body = _get(client_for(world.it_lead), url)
    name = f"alpha-managed-services-run-{sla.run.pk}-service-credits.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    run = sla.run.pk
    assert body.decode().splitlines() == [
        "run,month,metric,priority,policy_version,count,met,attainment,goal,missed,"
        "allocation_percent,currency,credit,capped,earn_back_until,earned_back,due",
        f"{run},2025-03-01,resolution,P1,1,8,4,0.500000,0.950000,true,30.0000,USD,1500.00,"
        "1500.00,,false,1500.00",
        f"{run},2025-03-01,resolution,P3,1,4,4,1.000000,0.900000,false,10.0000,USD,0.00,0.00,,"
        "false,0.00",
    ]


def test_measurements_csv_follows_the_list_filters(world, sla, client_for) -> None:
    base = reverse("service:slameasurement_list", args=[world.e1.pk])
    client = client_for(world.it_lead)
    _response, body = _get(client, base + "?export=csv&month=2025-03&priority=P1&side=vendor")
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0][:4] == ["run", "ticket_number", "ticket_opened_at", "metric"]
    assert [row[1] for row in rows[1:]] == ["INC-V0", "INC-V1", "INC-V2", "INC-V3"]
    assert rows[1][2] == "2025-03-03T14:00:00+00:00"  # UTC ISO 8601
    assert rows[2][9:] == ["18001", "14400", "false"]
    # All of the run's clocks without filters; the unmapped group's formula is defused.
    _response, body = _get(client, base + "?export=csv")
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert len(rows) == 1 + 18
    assert [r[5] for r in rows if r[1] == "INC-UNMAPPED"] == ['\'=HYPERLINK("x")']


def test_breach_list_exports_its_rows(world, sla, client_for) -> None:
    url = reverse("service:sla_breaches", args=[world.e1.pk]) + "?export=csv"
    _response, body = _get(client_for(world.it_lead), url)
    assert len(body.decode().splitlines()) == 1 + 5


def test_aggregates_xlsx_opens(world, sla, client_for) -> None:
    url = reverse("service:slaaggregate_list", args=[world.e1.pk]) + "?export=xlsx&level=priority"
    response, body = _get(client_for(world.it_lead), url)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"run-{sla.run.pk}-sla-aggregates.xlsx" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:5] == ["run", "level", "month", "metric", "priority"]
    assert rows[0][7:11] == ["count", "met", "attainment", "goal"]
    assert len(rows) == 1 + 3
    march_p1 = next(r for r in rows[1:] if r[2] == datetime(2025, 3, 1) and r[4] == "P1")
    # Counts, attainment and goals are numbers a spreadsheet sums.
    assert march_p1[7:11] == [8, 4, 0.5, 0.95]
    assert march_p1[0] == sla.run.pk
    book = openpyxl.load_workbook(io.BytesIO(body))
    attainment, goal = book.active.cell(row=2, column=10), book.active.cell(row=2, column=11)
    assert (goal.data_type, goal.number_format) == ("n", "0.0%")  # 95.0%, stored as 0.95
    assert Decimal(str(goal.value)) == Decimal("0.95")
    assert attainment.data_type == "n" and attainment.number_format.endswith("%")
    month = book.active.cell(row=2, column=3)
    assert month.is_date and month.number_format == "yyyy-mm-dd"


def test_credit_lines_xlsx_adds_up(world, sla, client_for) -> None:
    """Money in the line's currency format, shares as percentages, flags as booleans: the
    credit column sums in a spreadsheet."""
    url = reverse("service:servicecredit_list", args=[world.e1.pk]) + "?export=xlsx"
    _response, body = _get(client_for(world.it_lead), url)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    header = [cell.value for cell in sheet[1]]
    lines = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert len(lines) == 2
    p1 = lines[0]
    for name in ("credit", "capped", "due"):
        assert (p1[name].data_type, p1[name].value) == ("n", 1500)
        assert p1[name].number_format == '"$"#,##0.00'
    assert sum(line["credit"].value for line in lines) == 1500
    assert (p1["allocation_percent"].value, p1["allocation_percent"].number_format) == (
        0.3,
        "0.0%",
    )
    assert (p1["missed"].data_type, p1["missed"].value) == ("b", True)
    assert (p1["earned_back"].data_type, p1["earned_back"].value) == ("b", False)
    assert p1["attainment"].value == 0.5 and p1["attainment"].number_format == "0.0%"


def test_measurement_instants_are_local_in_xlsx(world, sla, client_for) -> None:
    """UTC in the CSV (with its offset), the engagement's wall-clock time in the workbook,
    whose header names the zone."""
    world.e1.time_zone = "America/Chicago"
    world.e1.save()
    base = reverse("service:slameasurement_list", args=[world.e1.pk])
    client = client_for(world.it_lead)
    _response, body = _get(client, base + "?export=xlsx&month=2025-03&priority=P1&side=vendor")
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    assert sheet["C1"].value == "ticket_opened_at (America/Chicago)"
    opened = sheet["C2"]
    assert opened.is_date and opened.value == datetime(2025, 3, 3, 8, 0)  # 14:00 UTC, CST
    assert sheet["L2"].data_type == "b"


def test_export_is_scoped(world, sla, client_for) -> None:
    for name in ("slameasurement_list", "slaaggregate_list", "servicecredit_list"):
        for fmt in ("csv", "xlsx"):
            url = reverse(f"service:{name}", args=[world.e1.pk]) + f"?export={fmt}"
            assert client_for(world.outsider).get(url).status_code == 404


def test_the_demo_credits_xlsx_adds_up(client_for) -> None:
    """The demo's credit lines as a spreadsheet: no number or boolean stored as text; shares
    are percentages, money is in dollars, and the due column sums to what is due."""
    from tandem.core.demo import load_demo
    from tandem.core.models import Engagement, User
    from tandem.service.demo.load import load_service_demo
    from tandem.service.models import ServiceCredit

    load_demo()
    load_service_demo(tickets=3_000)
    riverside = Engagement.objects.get(name__startswith="Riverside")
    lead = User.objects.get(email="itlead@riverside.example")
    url = reverse("service:servicecredit_list", args=[riverside.pk]) + "?export=xlsx"
    _response, body = _get(client_for(lead), url)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    header = [cell.value for cell in sheet[1]]
    lines = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]
    credits = ServiceCredit.objects.filter(run__engagement=riverside)
    assert len(lines) == credits.count() > 0
    assert any(line["missed"].value for line in lines)
    numbers = ("run", "policy_version", "count", "met")
    shares = ("attainment", "goal", "allocation_percent")
    money = ("credit", "capped", "due")
    for line in lines:
        for name in numbers:
            assert line[name].data_type == "n", (name, line[name].value)
        for name in shares:
            cell = line[name]
            assert cell.data_type == "n" and cell.number_format.endswith("%"), (name, cell.value)
            assert 0 <= cell.value <= 1
        for name in money:
            cell = line[name]
            assert cell.data_type == "n", (name, cell.value)
            assert cell.number_format == '"$"#,##0.00', (name, cell.number_format)
        for name in ("missed", "earned_back"):
            assert line[name].data_type == "b", (name, line[name].value)
        assert line["month"].is_date
        for cell in line.values():
            assert cell.data_type != "s" or not _NUMBER_OR_FLAG.fullmatch(str(cell.value))
    due = sum(Decimal(str(line["due"].value)) for line in lines)
    assert due == sum(credit.due for credit in credits) and due > 0
