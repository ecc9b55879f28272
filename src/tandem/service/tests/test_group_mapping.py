"""Bulk group mapping: the page lists every group of the engagement's tickets with its count
and side; many groups get a side at once after a preview of the effect on parity; only the
engagement's groups may be named (an unknown one is a named error and nothing is saved);
saving is all or nothing and audited; only the client's sponsor and IT lead may do it (UI and
API); the page's queries do not grow with the number of groups."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from tandem.core.choices import AuditAction, Role
from tandem.core.models import ChangeLog
from tandem.core.testing.factories import RoleAssignmentFactory, UserFactory
from tandem.service.choices import AggregateLevel, GroupSide, MeasuredSide, Metric
from tandem.service.models import AssignmentGroupSide
from tandem.service.tests.factories import (
    AssignmentGroupSideFactory,
    ImportBatchFactory,
    SlaAggregateFactory,
    SlaMeasurementFactory,
    SlaRunFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

READERS = ("vendor_lead", "vendor_staff", "it_staff", "observer")
CHANGERS = ("sponsor", "it_lead")
TICKETS = {"Service Desk": 5, "Network": 3, "Epic Analysts": 1, "": 2}


def _tickets(engagement, counts=TICKETS) -> None:
    batch = ImportBatchFactory(engagement=engagement)
    for group, count in counts.items():
        for _ in range(count):
            TicketFactory(engagement=engagement, batch=batch, assignment_group=group)


@pytest.fixture
def mapped(world):
    """e1's tickets (5 Service Desk, 3 Network, 1 Epic Analysts, 2 with no group) and one
    side: "Legacy Apps", on the client side, with no ticket."""
    _tickets(world.e1)
    AssignmentGroupSideFactory(
        engagement=world.e1, assignment_group="Legacy Apps", side=GroupSide.CLIENT
    )
    return world


def _map_url(world) -> str:
    return reverse("service:assignmentgroup_map", args=[world.e1.pk])


def _side_records() -> int:
    return ChangeLog.objects.filter(
        content_type=ContentType.objects.get_for_model(AssignmentGroupSide)
    ).count()


def test_the_page_lists_every_group_with_its_count_and_side(mapped, client_for) -> None:
    response = client_for(mapped.sponsor).get(_map_url(mapped))

    assert response.status_code == 200
    rows = [(item["row"].name, item["row"].tickets) for item in response.context["rows"]]
    assert rows == [("Service Desk", 5), ("Network", 3), ("Epic Analysts", 1), ("Legacy Apps", 0)]
    assert response.context["groups"].ungrouped_tickets == 2
    text = response.text
    assert "not set" in text
    assert 'value="Legacy Apps"' in text
    assert "2 tickets have no assignment group" in text
    totals = {total["side"]: total for total in response.context["totals"]}
    assert (totals["client"]["groups"], totals["client"]["tickets"]) == (1, 0)
    assert (totals["unmapped"]["groups"], totals["unmapped"]["tickets"]) == (3, 9)


def test_bulk_set_for_many_after_a_preview(mapped, client_for) -> None:
    client = client_for(mapped.it_lead)
    data = {
        "groups": ["Service Desk", "Network", "Legacy Apps"],
        "side": GroupSide.VENDOR,
        "vendor": mapped.acme.pk,
    }

    preview = client.post(_map_url(mapped), {**data, "step": "preview"})
    assert preview.status_code == 200
    assert "Save 3 groups" in preview.text
    assert AssignmentGroupSide.objects.count() == 1  # a preview saves nothing

    saved = client.post(_map_url(mapped), {**data, "step": "save"}, follow=True)
    assert saved.status_code == 200
    sides = {s.assignment_group: (s.side, s.vendor_id) for s in AssignmentGroupSide.objects.all()}
    assert sides == {
        "Service Desk": (GroupSide.VENDOR, mapped.acme.pk),
        "Network": (GroupSide.VENDOR, mapped.acme.pk),
        "Legacy Apps": (GroupSide.VENDOR, mapped.acme.pk),
    }
    message = str(list(saved.context["messages"])[0])
    assert "Mapped 3 assignment groups (2 new, 1 changed)" in message
    assert f"tandem run_sla --engagement {mapped.e1.pk}" in message
    assert "Measure the tickets to see parity" in message  # no run yet

    SlaRunFactory(engagement=mapped.e1)
    again = client.post(
        _map_url(mapped), {**data, "side": GroupSide.CLIENT, "step": "save"}, follow=True
    )
    message = str(list(again.context["messages"])[0])
    assert "Mapped 3 assignment groups (0 new, 3 changed)" in message
    assert "run the measurement again to update it" in message


def test_every_write_is_audited_with_before_and_after(mapped, client_for) -> None:
    before = _side_records()
    client_for(mapped.sponsor).post(
        _map_url(mapped),
        {"groups": ["Epic Analysts", "Legacy Apps"], "side": GroupSide.VENDOR, "step": "save"},
    )

    records = ChangeLog.objects.filter(
        content_type=ContentType.objects.get_for_model(AssignmentGroupSide)
    ).order_by("pk")[before:]
    by_group = {record.object_repr.split(" → ")[0]: record for record in records}
    assert set(by_group) == {"Epic Analysts", "Legacy Apps"}
    assert by_group["Epic Analysts"].action == AuditAction.CREATE
    assert by_group["Epic Analysts"].user == mapped.sponsor
    assert by_group["Epic Analysts"].engagement_id == mapped.e1.pk
    update = by_group["Legacy Apps"]
    assert update.action == AuditAction.UPDATE
    assert update.prechange_data["side"] == GroupSide.CLIENT
    assert update.postchange_data["side"] == GroupSide.VENDOR


def test_an_unchanged_group_writes_nothing(mapped, client_for) -> None:
    before = _side_records()
    response = client_for(mapped.sponsor).post(
        _map_url(mapped),
        {"groups": ["Legacy Apps"], "side": GroupSide.CLIENT, "step": "save"},
        follow=True,
    )
    assert "Nothing to change" in str(list(response.context["messages"])[0])
    assert _side_records() == before


@pytest.mark.parametrize("step", ["preview", "save"])
def test_an_unknown_group_is_a_named_error_and_nothing_is_saved(step, mapped, client_for) -> None:
    before = _side_records()
    response = client_for(mapped.sponsor).post(
        _map_url(mapped),
        {"groups": ["Service Desk", "Servce Desk"], "side": GroupSide.CLIENT, "step": step},
    )

    assert response.status_code == 422
    errors = response.context["form"].errors
    assert list(errors) == ["groups"]
    assert "“Servce Desk” is not an assignment group of this engagement" in errors["groups"][0]
    assert "Servce Desk” is not an assignment group" in response.text
    assert AssignmentGroupSide.objects.count() == 1
    assert _side_records() == before
    # The ticked boxes stay ticked for the next try.
    assert [item["row"].name for item in response.context["rows"] if item["checked"]] == [
        "Service Desk"
    ]


def test_missing_choices_are_field_errors(mapped, client_for) -> None:
    client = client_for(mapped.sponsor)
    response = client.post(_map_url(mapped), {"step": "save"})
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"groups", "side"}
    response = client.post(
        _map_url(mapped), {"groups": ["Network"], "side": "neither", "vendor": "x"}
    )
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"side", "vendor"}
    for vendor in ("99999999999999999999999", "-1", "1.5", "\x00"):
        response = client.post(
            _map_url(mapped), {"groups": ["Network\x00"], "side": "vendor", "vendor": vendor}
        )
        assert response.status_code == 422, vendor
        assert "groups" in response.context["form"].errors
    assert AssignmentGroupSide.objects.count() == 1


def test_a_vendor_of_another_engagement_is_refused(mapped, client_for) -> None:
    response = client_for(mapped.sponsor).post(
        _map_url(mapped),
        {"groups": ["Network"], "side": GroupSide.VENDOR, "vendor": mapped.bolt.pk, "step": "save"},
    )
    assert response.status_code == 422
    assert "vendor" in response.context["form"].errors
    assert AssignmentGroupSide.objects.count() == 1


def test_the_client_side_drops_the_vendor(mapped, client_for) -> None:
    client_for(mapped.sponsor).post(
        _map_url(mapped),
        {"groups": ["Network"], "side": GroupSide.CLIENT, "vendor": mapped.acme.pk, "step": "save"},
    )
    side = AssignmentGroupSide.objects.get(assignment_group="Network")
    assert (side.side, side.vendor_id) == (GroupSide.CLIENT, None)


def test_saving_is_all_or_nothing(mapped, client_for, monkeypatch) -> None:
    real_save = AssignmentGroupSide.save
    calls = []

    def failing_save(self, *args, **kwargs):
        calls.append(self.assignment_group)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(AssignmentGroupSide, "save", failing_save)
    before = _side_records()
    client = client_for(mapped.sponsor)
    client.raise_request_exception = False
    response = client.post(
        _map_url(mapped),
        {"groups": ["Service Desk", "Network", "Legacy Apps"], "side": "vendor", "step": "save"},
    )
    assert response.status_code == 500
    assert len(calls) == 2
    assert list(AssignmentGroupSide.objects.values_list("assignment_group", "side")) == [
        ("Legacy Apps", GroupSide.CLIENT)
    ]
    assert _side_records() == before


def test_the_preview_shows_the_effect_on_parity(mapped, client_for) -> None:
    """Service Desk (client) and Network (unmapped) measured by the latest run; the preview
    of moving both to the vendor counts groups, tickets, measured tickets and clocks."""
    e1 = mapped.e1
    AssignmentGroupSideFactory(engagement=e1, assignment_group="Service Desk", side="client")
    run = SlaRunFactory(engagement=e1)
    desk = list(e1.service_tickets.filter(assignment_group="Service Desk"))
    network = list(e1.service_tickets.filter(assignment_group="Network"))
    for ticket in desk[:4]:
        for metric in (Metric.RESPONSE, Metric.RESOLUTION):  # two clocks, one ticket
            SlaMeasurementFactory(
                run=run, ticket=ticket, metric=metric, assignment_group="Service Desk"
            )
    for ticket in network[:2]:
        SlaMeasurementFactory(
            run=run, ticket=ticket, assignment_group="Network", side=MeasuredSide.UNMAPPED
        )
    month = date(2025, 3, 1)
    for group, side, count, met in (
        ("Service Desk", MeasuredSide.CLIENT, 4, 3),
        ("Network", MeasuredSide.UNMAPPED, 2, 1),
    ):
        SlaAggregateFactory(
            run=run,
            level=AggregateLevel.GROUP,
            month=month,
            assignment_group=group,
            side=side,
            count=count,
            met=met,
        )

    response = client_for(mapped.sponsor).post(
        _map_url(mapped),
        {"groups": ["Service Desk", "Network"], "side": GroupSide.VENDOR, "step": "preview"},
    )

    assert response.status_code == 200
    effect = response.context["effect"]
    client, vendor, unmapped = (effect.side(side) for side in ("client", "vendor", "unmapped"))
    assert (client.groups_before, client.groups_after) == (2, 1)  # Legacy Apps stays
    assert (client.tickets_before, client.tickets_after) == (5, 0)
    assert (vendor.groups_before, vendor.groups_after) == (0, 2)
    assert (vendor.tickets_before, vendor.tickets_after) == (0, 8)
    assert (unmapped.tickets_before, unmapped.tickets_after) == (4, 1)
    assert (effect.measured_moved, effect.measured_total) == (6, 6)
    assert response.context["moved_share"] == "100.0%"
    clocks = dict((metric, (old, new)) for metric, old, new in vendor.clocks)
    assert (clocks["resolution"][1].count, clocks["resolution"][1].met) == (6, 4)
    text = response.text
    assert "66.7%" in text  # the vendor's resolution attainment after: 4 of 6
    assert "75.0%" in text  # the client's before: 3 of 4
    assert "<strong>6 (100.0%)</strong>" in text


def test_the_preview_without_a_run_says_so(mapped, client_for) -> None:
    response = client_for(mapped.sponsor).post(
        _map_url(mapped), {"groups": ["Network"], "side": GroupSide.CLIENT}
    )
    assert response.status_code == 200
    assert "no finished SLA run yet" in response.text


@pytest.mark.parametrize("role", READERS)
def test_readers_get_403_on_the_page_and_no_button(role, mapped, client_for) -> None:
    client = client_for(getattr(mapped, role))
    assert client.get(_map_url(mapped)).status_code == 403
    response = client.post(
        _map_url(mapped), {"groups": ["Network"], "side": GroupSide.VENDOR, "step": "save"}
    )
    assert response.status_code == 403
    assert AssignmentGroupSide.objects.count() == 1
    listing = client.get(reverse("service:assignmentgroupside_list", args=[mapped.e1.pk]))
    assert _map_url(mapped) not in listing.text


@pytest.mark.parametrize("role", CHANGERS)
def test_changers_see_the_button(role, mapped, client_for) -> None:
    client = client_for(getattr(mapped, role))
    listing = client.get(reverse("service:assignmentgroupside_list", args=[mapped.e1.pk]))
    assert _map_url(mapped) in listing.text
    side = AssignmentGroupSide.objects.get()
    assert _map_url(mapped) in client.get(side.get_absolute_url()).text


def test_outsiders_get_404(mapped, client_for) -> None:
    client = client_for(mapped.outsider)
    assert client.get(_map_url(mapped)).status_code == 404
    response = client.post(_map_url(mapped), {"groups": ["Network"], "side": "vendor"})
    assert response.status_code == 404
    assert AssignmentGroupSide.objects.count() == 1


def test_the_queries_do_not_grow_with_the_groups(
    world, client_for, django_assert_max_num_queries
) -> None:
    client = client_for(world.sponsor)
    for size in (10, 30):
        _tickets(world.e1, {f"Group {size}-{n}": 1 for n in range(size)})
        for n in range(0, size, 2):
            AssignmentGroupSideFactory(
                engagement=world.e1, assignment_group=f"Group {size}-{n}", side="client"
            )
        with django_assert_max_num_queries(13):  # 12 + the notification bell's unread count
            assert client.get(_map_url(world)).status_code == 200
        names = [f"Group {size}-{n}" for n in range(size)]
        with django_assert_max_num_queries(16):  # + the latest run and its two aggregates
            preview = client.post(_map_url(world), {"groups": names, "side": "vendor"})
            assert preview.status_code == 200
        # Saving audits each row through its own save(): a few queries per group, no more.
        with django_assert_max_num_queries(3 * size + 12):
            saved = client.post(
                _map_url(world), {"groups": names, "side": "vendor", "step": "save"}
            )
            assert saved.status_code == 302


# The API ------------------------------------------------------------------------------------

BULK = "service-api:assignmentgroupside-bulk"
# (the vendor's id is put in by the test)
ACME_ON_THE_CLIENT_SIDE = {"assignment_group": "Network", "side": "client", "vendor": None}


def _bulk(world, groups, **extra) -> dict:
    return {"engagement": world.e1.pk, "groups": groups, **extra}


def test_api_bulk_sets_many(mapped, api_for) -> None:
    api = api_for(mapped.it_lead)
    payload = _bulk(
        mapped,
        [
            {"assignment_group": "Service Desk", "side": "client"},
            {"assignment_group": "Network", "side": "vendor", "vendor": mapped.acme.pk},
            {"assignment_group": "Legacy Apps", "side": "client"},
        ],
    )
    before = _side_records()
    response = api.post(reverse(BULK), payload, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["changed"], body["unchanged"]) == (2, 0, 1)
    assert {row["assignment_group"]: row["side"] for row in body["sides"]} == {
        "Service Desk": "client",
        "Network": "vendor",
        "Legacy Apps": "client",
    }
    assert "sla-runs" in body["detail"]
    assert AssignmentGroupSide.objects.get(assignment_group="Network").vendor == mapped.acme
    assert _side_records() == before + 2
    record = ChangeLog.objects.order_by("-pk").first()
    assert record.source == "api"


@pytest.mark.parametrize(
    ("groups", "field"),
    [
        ([{"assignment_group": "Servce Desk", "side": "client"}], "groups"),
        (
            [
                {"assignment_group": "Network", "side": "client"},
                {"assignment_group": "Network", "side": "vendor"},
            ],
            "groups",
        ),
        ([ACME_ON_THE_CLIENT_SIDE], "vendor"),
        ([{"assignment_group": " Network", "side": "client"}], "groups"),
        ([{"assignment_group": "Network", "side": "neither"}], "groups"),
        ([{"assignment_group": 7, "side": "client"}], "groups"),
        ([{"assignment_group": "Network\x00", "side": "client"}], "groups"),
        ([], "groups"),
        ("Network", "groups"),
        ([["Network", "client"]], "groups"),
    ],
)
def test_api_bad_payloads_are_400_naming_the_field(groups, field, mapped, api_for) -> None:
    if groups and isinstance(groups, list) and groups[0] == ACME_ON_THE_CLIENT_SIDE:
        groups = [{**ACME_ON_THE_CLIENT_SIDE, "vendor": mapped.acme.pk}]
    before = _side_records()
    response = api_for(mapped.sponsor).post(reverse(BULK), _bulk(mapped, groups), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert AssignmentGroupSide.objects.count() == 1
    assert _side_records() == before


def test_api_unknown_group_is_named_and_nothing_saved(mapped, api_for) -> None:
    payload = _bulk(
        mapped,
        [
            {"assignment_group": "Network", "side": "vendor"},
            {"assignment_group": "Servce Desk", "side": "vendor"},
        ],
    )
    response = api_for(mapped.sponsor).post(reverse(BULK), payload, format="json")
    assert response.status_code == 400
    assert "“Servce Desk” is not an assignment group" in response.json()["groups"][0]
    assert not AssignmentGroupSide.objects.filter(assignment_group="Network").exists()


@pytest.mark.parametrize("role", READERS)
def test_api_readers_get_403(role, mapped, api_for) -> None:
    before = _side_records()
    payload = _bulk(mapped, [{"assignment_group": "Network", "side": "vendor"}])
    response = api_for(getattr(mapped, role)).post(reverse(BULK), payload, format="json")
    assert response.status_code == 403
    assert AssignmentGroupSide.objects.count() == 1
    assert _side_records() == before


def test_api_an_engagement_out_of_scope_is_a_400(mapped, api_for) -> None:
    """Bolt's lead (a vendor, e2 only) is refused before the payload is read (403); a sponsor
    of e2 names e1, which it cannot see: a 400 on ``engagement``, as unknown as a missing id."""
    payload = _bulk(mapped, [{"assignment_group": "Network", "side": "vendor"}])
    assert api_for(mapped.outsider).post(reverse(BULK), payload, format="json").status_code == 403
    beta_sponsor = UserFactory(email="sponsor@beta.test", organization=mapped.beta)
    RoleAssignmentFactory(engagement=mapped.e2, user=beta_sponsor, role=Role.SPONSOR)
    response = api_for(beta_sponsor).post(reverse(BULK), payload, format="json")
    assert response.status_code == 400
    assert "engagement" in response.json()
    assert AssignmentGroupSide.objects.count() == 1


@pytest.mark.parametrize(
    ("role", "shown"), [("sponsor", True), ("it_lead", True), *((r, False) for r in READERS)]
)
def test_the_sla_pages_link_to_the_mapping_for_who_may_map(role, shown, mapped, client_for) -> None:
    client = client_for(getattr(mapped, role))
    empty = client.get(reverse("service:sla_dashboard", args=[mapped.e1.pk]))  # no run yet
    assert empty.status_code == 200
    assert (_map_url(mapped) in empty.text) is shown
    SlaRunFactory(engagement=mapped.e1)
    for page in ("service:sla_dashboard", "service:sla_parity"):
        response = client.get(reverse(page, args=[mapped.e1.pk]))
        assert response.status_code == 200
        assert (_map_url(mapped) in response.text) is shown, page
