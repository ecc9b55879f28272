"""The policy editor: a version made with the form (no TOML typed) is the policy entered; it
starts from the previous version; effective-from defaults; every bad input is named by section,
row and field with nothing saved; the reader's own rules land on the row they concern; only the
client's sponsor and IT lead may use it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import MappingProxyType

import pytest
import time_machine
from django.urls import reverse

from tandem.analytics.calendar import ALL_DAY, BusinessCalendar, Window
from tandem.analytics.policy import CreditTerms, Policy, Target, parse_policy
from tandem.core.choices import AuditAction
from tandem.core.models import ChangeLog
from tandem.core.views.generic import history_for
from tandem.service.models import SlaPolicy
from tandem.service.policy_template import example_policy
from tandem.service.tests.factories import POLICY_TOML, SlaPolicyFactory, SlaRunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(world) -> SlaPolicy:
    return SlaPolicyFactory(
        engagement=world.e1, version=1, name="MSA schedule B", effective_from=date(2025, 1, 1)
    )


def add_url(world) -> str:
    return reverse("service:slapolicy_add", args=[world.e1.pk])


def _field_data(form) -> dict[str, str]:
    data = {}
    for bound in form:
        value = bound.value()
        if bound.widget_type == "checkbox":
            if value:
                data[bound.html_name] = "on"
            continue
        if isinstance(value, date):
            value = value.isoformat()
        data[bound.html_name] = "" if value is None else str(value)
    return data


def page_data(response) -> dict[str, str]:
    """What a browser would post back from the editor page, unchanged."""
    editor = response.context["editor"]
    data = _field_data(editor.version) | _field_data(editor.credits)
    for formset in (editor.calendars, editor.targets):
        data |= _field_data(formset.management_form)
        for form in formset.forms:
            data |= _field_data(form)
    return data


def started(client, url: str) -> dict[str, str]:
    response = client.get(url)
    assert response.status_code == 200
    return page_data(response)


# Starting points ------------------------------------------------------------------------------


def test_the_first_version_starts_from_the_example_and_the_engagement_start(
    world, client_for
) -> None:
    world.e1.start_date = date(2025, 3, 17)
    world.e1.time_zone = "Europe/Berlin"
    world.e1.save()
    response = client_for(world.it_lead).get(add_url(world))
    page = response.content.decode()
    assert "New version (v1)" in page and "started from the example" in page
    data = page_data(response)
    # A policy takes effect on the first of a month: the month the engagement starts.
    assert data["effective_from"] == "2025-03-01"
    assert data["calendars-0-timezone"] == "Europe/Berlin"
    assert data["calendars-TOTAL_FORMS"] == "2" and data["targets-TOTAL_FORMS"] == "8"
    assert data["calendars-0-mon"] == "08:00-18:00" and "calendars-1-always_open" in data
    assert data["calendars-0-holiday_country"] == "US"
    assert data["targets-0-goal"] == "95" and data["targets-1-earn_back_goal"] == "97"
    assert 'href="' + reverse("service:slapolicy_add_toml", args=[world.e1.pk]) in page


def test_without_a_start_date_the_first_version_starts_this_month(world, client_for) -> None:
    with time_machine.travel("2026-12-06T03:00Z"):  # still Dec 5 in Chicago
        data = started(client_for(world.it_lead), add_url(world))
    assert data["effective_from"] == "2026-12-01"


def test_a_later_version_defaults_to_this_month_in_the_engagement_time_zone(
    world, policy, client_for
) -> None:
    client = client_for(world.it_lead)
    with time_machine.travel("2026-12-01T03:00Z"):  # Nov 30, 21:00 in Chicago
        assert started(client, add_url(world))["effective_from"] == "2026-11-01"
    SlaPolicyFactory(engagement=world.e1, version=2, effective_from=date(2026, 11, 1))
    with time_machine.travel("2026-11-20T12:00Z"):  # this month is taken: the next one
        assert started(client, add_url(world))["effective_from"] == "2026-12-01"
    toml_page = client.get(reverse("service:slapolicy_add_toml", args=[world.e1.pk]))
    assert toml_page.context["form"]["effective_from"].value() is not None


def test_a_new_version_is_prefilled_from_the_latest_and_saves_the_same_policy(
    world, policy, client_for
) -> None:
    client = client_for(world.it_lead)
    response = client.get(add_url(world))
    assert "Prefilled from v1 (MSA schedule B)" in response.content.decode()
    data = page_data(response)
    assert data["name"] == "MSA schedule B"
    assert data["calendars-0-name"] == "always" and "calendars-0-always_open" in data
    assert [data[f"targets-{i}-within_amount"] for i in range(3)] == ["15", "4", "72"]
    assert [data[f"targets-{i}-within_unit"] for i in range(3)] == ["m", "h", "h"]
    assert data["credits-monthly_fee"] == "50000.00" and "credits-has_credits" in data
    data |= {"name": "Amendment 1", "effective_from": "2025-06-01", "note": "Agreed in May"}
    response = client.post(add_url(world), data)
    created = SlaPolicy.objects.get(name="Amendment 1")
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    assert created.version == 2 and created.created_by == world.it_lead
    assert created.parsed() == parse_policy(POLICY_TOML)
    [record] = history_for(created, world.it_lead)
    assert (record.action, record.user) == (AuditAction.CREATE, world.it_lead)
    detail = client.get(created.get_absolute_url()).content.decode()
    assert "<pre" in detail and "[[targets]]" in detail and "Edit as TOML" in detail


# What is entered is what the engine reads -----------------------------------------------------


def test_what_is_entered_is_the_policy_the_engine_reads(world, client_for) -> None:
    client = client_for(world.sponsor)
    data = started(client, add_url(world))
    data |= {
        "name": "Schedule B",
        "effective_from": "2025-02-01",
        "calendars-0-name": "office hours",
        "calendars-0-timezone": "America/Chicago",
        "calendars-0-mon": "07:00-12:00, 13:00-19:00",
        "calendars-0-tue": "08:00-17:00",
        "calendars-0-wed": "",
        "calendars-0-thu": "08:00-17:00",
        "calendars-0-fri": "08:00-17:00",
        "calendars-0-sat": "09:00-13:00",
        "calendars-0-sun": "",
        "calendars-0-holiday_country": "US",
        "calendars-0-holiday_subdivision": "ca",
        "calendars-0-extra_dates": "2025-12-24\n2025-12-31",
        "calendars-1-name": "always",
        "credits-monthly_fee": "125000.50",
        "credits-currency": "eur",
        "credits-at_risk_percent": "12.5",
        "targets-TOTAL_FORMS": "2",
        "targets-0-priority": "P1",
        "targets-0-metric": "resolution",
        "targets-0-calendar": "always",
        "targets-0-within_amount": "240",
        "targets-0-within_unit": "m",
        "targets-0-pause_on_hold": "on",
        "targets-0-goal": "95.5",
        "targets-0-credit_allocation_percent": "30",
        "targets-0-earn_back_months": "2",
        "targets-0-earn_back_goal": "97",
        "targets-1-priority": "P3",
        "targets-1-metric": "response",
        "targets-1-calendar": "office hours",
        "targets-1-within_amount": "90",
        "targets-1-within_unit": "s",
        "targets-1-goal": "",
        "targets-1-credit_allocation_percent": "",
        "targets-1-earn_back_months": "",
        "targets-1-earn_back_goal": "",
    }
    data.pop("targets-1-pause_on_hold", None)
    response = client.post(add_url(world), data)
    assert response.status_code == 302, response.context["errors"]
    created = SlaPolicy.objects.get(name="Schedule B")
    office = BusinessCalendar(
        "America/Chicago",
        (
            (Window.parse("07:00-12:00"), Window.parse("13:00-19:00")),
            (Window.parse("08:00-17:00"),),
            (),
            (Window.parse("08:00-17:00"),),
            (Window.parse("08:00-17:00"),),
            (Window.parse("09:00-13:00"),),
            (),
        ),
        frozenset({date(2025, 12, 24), date(2025, 12, 31)}),
        "US",
        "CA",
    )
    always = BusinessCalendar(world.e1.time_zone, ((ALL_DAY,),) * 7)
    assert created.parsed() == Policy(
        MappingProxyType({"office hours": office, "always": always}),
        (
            Target("P1", "resolution", "always", 4 * 3600, True, 0.955, Decimal(30), 2, 0.97),
            Target("P3", "response", "office hours", 90, False),
        ),
        CreditTerms(Decimal("125000.50"), "EUR", Decimal("12.5")),
    )
    assert created.source.count("[[targets]]") == 2  # the TOML itself, as stored


def test_rows_are_added_without_saving_and_removed_on_save(world, policy, client_for) -> None:
    client = client_for(world.it_lead)
    data = started(client, add_url(world))
    response = client.post(add_url(world), data | {"add_row": "targets"})
    assert response.status_code == 200 and response.context["errors"] == []
    assert SlaPolicy.objects.count() == 1
    grown = page_data(response)
    assert grown["targets-TOTAL_FORMS"] == "4" and grown["targets-3-within_unit"] == "h"
    response = client.post(add_url(world), grown | {"add_row": "calendars"})
    grown = page_data(response)
    assert grown["calendars-TOTAL_FORMS"] == "2"
    grown |= {
        "name": "Fewer targets",
        "effective_from": "2025-04-01",
        # The added target row, filled in; the added calendar row left alone (ignored).
        "targets-3-priority": "P2",
        "targets-3-metric": "response",
        "targets-3-within_amount": "2",
        "targets-3-goal": "90",
        # Target 3 removed.
        "targets-2-DELETE": "on",
    }
    response = client.post(add_url(world), grown)
    assert response.status_code == 302, response.context["errors"]
    parsed = SlaPolicy.objects.get(name="Fewer targets").parsed()
    assert [(t.priority, t.metric, t.within_seconds, t.goal) for t in parsed.targets] == [
        ("P1", "response", 900, 0.95),
        ("P1", "resolution", 14400, 0.95),
        ("P2", "response", 7200, 0.9),
    ]
    assert list(parsed.calendars) == ["always"]


def test_an_unused_version_is_edited_with_the_form_and_keeps_its_number(
    world, policy, client_for
) -> None:
    client = client_for(world.it_lead)
    url = reverse("service:slapolicy_edit", args=[policy.pk])
    data = started(client, url)
    assert data["effective_from"] == "2025-01-01"
    response = client.post(url, data | {"targets-0-goal": "99"})
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.version == 1 and policy.parsed().targets[0].goal == 0.99
    [_, change] = history_for(policy, world.it_lead).order_by("time")
    assert change.action == AuditAction.UPDATE


def test_a_frozen_version_sends_the_editor_back_with_the_reason(world, policy, client_for) -> None:
    SlaRunFactory(engagement=world.e1).policies.add(policy)
    client = client_for(world.it_lead)
    url = reverse("service:slapolicy_edit", args=[policy.pk])
    for response in (client.get(url), client.post(url, {"name": "X"})):
        assert response.status_code == 302 and response["Location"] == policy.get_absolute_url()
    detail = client.get(policy.get_absolute_url()).content.decode()
    assert reverse("service:slapolicy_edit_toml", args=[policy.pk]) not in detail


# Bad input: named, never saved ----------------------------------------------------------------

BAD = [
    ({"targets-2-goal": "150"}, "Targets, row 3, goal: must be between 0 and 100"),
    ({"targets-2-goal": "-1"}, "Targets, row 3, goal: must be between 0 and 100"),
    ({"targets-0-goal": "ninety"}, "Targets, row 1, goal: not a number"),
    ({"targets-0-goal": "95.123456"}, "Targets, row 1, goal: at most 4 decimal places"),
    ({"targets-0-goal": "NaN"}, "Targets, row 1, goal: not a number"),
    ({"targets-0-goal": "1e999999999"}, "Targets, row 1, goal: must be between 0 and 100"),
    ({"targets-1-within_amount": "-5"}, "Targets, row 2, within: must be more than zero"),
    ({"targets-1-within_amount": "0"}, "Targets, row 2, within: must be more than zero"),
    ({"targets-1-within_amount": "four"}, "Targets, row 2, within: a whole number"),
    ({"targets-1-within_amount": "9" * 400}, "Targets, row 2, within: "),
    ({"targets-1-within_amount": "100000"}, "Targets, row 2, within: too long"),
    ({"targets-1-within_unit": "d"}, "Targets, row 2, within: Select a valid choice"),
    ({"targets-0-priority": "P9"}, "Targets, row 1, priority: Select a valid choice"),
    ({"targets-0-calendar": "busines"}, "Targets, row 1, calendar: unknown calendar busines"),
    ({"targets-0-earn_back_months": "99"}, "Targets, row 1, earn-back months: a whole number"),
    ({"targets-0-credit_allocation_percent": "0"}, "credit allocation: must be above 0"),
    ({"calendars-0-timezone": "Mars/Base"}, "Calendars, row 1, time zone: Select a valid"),
    ({"calendars-0-name": "  "}, "Calendars, row 1, name: required"),
    ({"calendars-0-name": "bad\x01name"}, "Calendars, row 1, name: letters, digits"),
    ({"calendars-0-always_open": "", "calendars-0-mon": "25:00-26:00"}, "Monday: window"),
    ({"calendars-0-always_open": "", "calendars-0-tue": "8-5"}, "Tuesday: window '8-5'"),
    (
        {"calendars-0-always_open": "", "calendars-0-wed": "08:00-12:00, 11:00-13:00"},
        "Calendars, row 1, Wednesday: 08:00-12:00 and 11:00-13:00 overlap",
    ),
    ({"calendars-0-extra_dates": "2025-02-30"}, "other closed dates: date 1 ('2025-02-30')"),
    ({"calendars-0-extra_dates": "\n".join(["2025-01-01"] * 400)}, "at most 366"),
    ({"calendars-0-holiday_country": "XX"}, "Calendars, row 1, public holidays: Select"),
    ({"calendars-0-holiday_subdivision": "TX"}, "state or region: needs the country"),
    (
        {"calendars-0-holiday_country": "US", "calendars-0-holiday_subdivision": "ZZ"},
        "Calendars, row 1, state or region: 'ZZ' is not a region of US",
    ),
    ({"credits-monthly_fee": "-1"}, "Credit terms, monthly fee: must not be negative"),
    ({"credits-monthly_fee": "1e400"}, "Credit terms, monthly fee: too large"),
    ({"credits-monthly_fee": "Infinity"}, "Credit terms, monthly fee: not a number"),
    ({"credits-monthly_fee": ""}, "monthly fee: required when the version pays"),
    ({"credits-currency": "U$D"}, "Credit terms, currency: an ISO 4217 code"),
    ({"credits-at_risk_percent": "101"}, "Credit terms, at risk: must be above 0"),
    ({"effective_from": "2025-03-15"}, "Effective from: A policy takes effect on the first"),
    ({"effective_from": "2025-01-01"}, "Effective from: Version 1 already takes effect"),
    ({"effective_from": "soon"}, "Effective from: Enter a valid date"),
    ({"name": ""}, "Name: This field is required"),
    # The reader's rules, put back on the row they concern.
    (
        {"credits-has_credits": ""},
        "Targets, row 1, credit allocation: needs a [credits] table",
    ),
    (
        {"targets-1-metric": "response"},
        "Targets, row 2: a second response target for P1 (the first is targets[0])",
    ),
    (
        {"targets-0-credit_allocation_percent": "90"},
        "Targets: credit allocations add up to 130%, above the pool limit of 100%",
    ),
    (
        {"targets-1-earn_back_months": "2", "targets-1-earn_back_goal": "90"},
        "Targets, row 2, earn-back goal: 0.9 is below the goal 0.95",
    ),
    (
        {"targets-1-earn_back_months": "2"},
        "Targets, row 2, earn-back goal: missing (earn_back_months needs it)",
    ),
    (
        {"targets-0-goal": "", "targets-0-credit_allocation_percent": "5"},
        "Targets, row 1, credit allocation: needs a goal",
    ),
    (
        {f"targets-{i}-DELETE": "on" for i in range(3)},
        "Targets: at least one target is required",
    ),
    ({"calendars-0-DELETE": "on"}, "Targets, row 1, calendar: unknown calendar always"),
    ({"targets-TOTAL_FORMS": "10000"}, "Targets: at most 16 targets"),
    ({"calendars-TOTAL_FORMS": "-3"}, "Targets, row 1, calendar: unknown calendar always"),
    (
        {"calendars-0-DELETE": "on", "targets-0-DELETE": "on", "targets-1-DELETE": "on"}
        | {"targets-2-DELETE": "on"},
        "Calendars: at least one calendar is required",
    ),
    ({"targets-TOTAL_FORMS": "lots"}, "Targets: the page was incomplete"),
]


@pytest.mark.parametrize(("changes", "expected"), BAD, ids=[e for _, e in BAD])
def test_bad_input_is_named_by_row_and_field_and_nothing_is_saved(
    world, policy, client_for, changes, expected
) -> None:
    client = client_for(world.it_lead)
    data = started(client, add_url(world)) | {"name": "Broken", "effective_from": "2025-05-01"}
    data |= changes
    records = ChangeLog.objects.count()
    response = client.post(add_url(world), data)
    assert response.status_code == 422
    errors = response.context["errors"]
    assert any(expected in line for line in errors), errors
    assert "Nothing was saved" in response.content.decode()
    assert SlaPolicy.objects.count() == 1 and ChangeLog.objects.count() == records


def test_ten_thousand_rows_are_refused_not_a_500(world, policy, client_for) -> None:
    client = client_for(world.it_lead)
    data = started(client, add_url(world)) | {"effective_from": "2025-05-01"}
    data["targets-TOTAL_FORMS"] = "10000"
    for i in range(3, 10_000):
        data[f"targets-{i}-within_amount"] = "4"
    response = client.post(add_url(world), data)
    # Django refuses that many fields before any form reads them (400), or the formset's
    # limit does (422): never a 500, never saved.
    assert response.status_code in (400, 422)
    assert SlaPolicy.objects.count() == 1
    response = client.post(add_url(world), {"add_row": "targets", "targets-TOTAL_FORMS": "99"})
    assert response.status_code == 200  # no row beyond the limit is added


def test_a_page_posted_without_its_rows_is_refused(world, policy, client_for) -> None:
    response = client_for(world.it_lead).post(add_url(world), {"name": "Empty"})
    assert response.status_code == 422
    assert any("page was incomplete" in line for line in response.context["errors"])
    assert SlaPolicy.objects.count() == 1


# Who may use it -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["vendor_lead", "vendor_staff", "it_staff", "observer"])
def test_readers_get_403_from_the_editor(role, world, policy, client_for) -> None:
    data = started(client_for(world.it_lead), add_url(world)) | {"effective_from": "2025-05-01"}
    client = client_for(getattr(world, role))
    edit = reverse("service:slapolicy_edit", args=[policy.pk])
    for url in (add_url(world), edit):
        assert client.get(url).status_code == 403, url
        assert client.post(url, data | {"targets-0-goal": "50"}).status_code == 403, url
        assert client.post(url, data | {"add_row": "targets"}).status_code == 403, url
    assert SlaPolicy.objects.count() == 1
    policy.refresh_from_db()
    assert policy.source == POLICY_TOML


def test_outsiders_get_404(world, policy, client_for) -> None:
    client = client_for(world.outsider)
    assert client.get(add_url(world)).status_code == 404
    assert client.get(reverse("service:slapolicy_edit", args=[policy.pk])).status_code == 404


def test_the_example_policy_fills_the_editor_without_loss(world, client_for) -> None:
    """The first version saved untouched is the example itself (less its comments)."""
    client = client_for(world.it_lead)
    data = started(client, add_url(world)) | {"name": "From the example"}
    assert client.post(add_url(world), data).status_code == 302
    created = SlaPolicy.objects.get(name="From the example")
    assert created.parsed() == parse_policy(example_policy(timezone=world.e1.time_zone))


def test_continue_as_toml_carries_the_form_into_the_text_editor_unsaved(
    world, policy, client_for
) -> None:
    client = client_for(world.it_lead)
    data = started(client, add_url(world)) | {
        "name": "Drafted in the form",
        "effective_from": "2025-07-01",
        "targets-0-goal": "97.5",
    }
    response = client.post(add_url(world), data | {"to_toml": "1"})
    toml_url = reverse("service:slapolicy_add_toml", args=[world.e1.pk])
    assert response.status_code == 302 and response["Location"] == toml_url
    assert SlaPolicy.objects.count() == 1
    form = client.get(toml_url).context["form"]
    assert form["name"].value() == "Drafted in the form"
    assert form["effective_from"].value() == "2025-07-01"
    assert parse_policy(form["source"].value()).targets[0].goal == 0.975
    # Once: the next visit starts from the latest version again.
    assert client.get(toml_url).context["form"]["source"].value() == POLICY_TOML
    # A bad form is not carried: its errors are shown instead.
    response = client.post(add_url(world), data | {"targets-0-goal": "x", "to_toml": "1"})
    assert response.status_code == 422
