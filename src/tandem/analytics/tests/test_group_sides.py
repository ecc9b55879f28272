"""The effect of a new group mapping on parity: a worked example by hand, the errors, and the
invariants (totals equal before and after, nothing moves under the same mapping, moved
figures are those of the groups that change side, attainment regrouped exactly)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tandem.analytics.group_sides import (
    SIDES,
    Clocks,
    GroupFigures,
    mapping_effect,
    side_of,
)

DESK = GroupFigures(
    "Service Desk",
    tickets=100,
    measured=90,
    clocks={"resolution": Clocks(80, 60), "response": Clocks(90, 85)},
)
NETWORK = GroupFigures("Network", tickets=30, measured=20, clocks={"resolution": Clocks(20, 10)})
EPIC = GroupFigures("Epic Analysts", tickets=10)  # no run: nothing measured


def test_worked_example() -> None:
    before = {"Service Desk": "client"}
    after = {"Service Desk": "vendor", "Network": "vendor"}

    effect = mapping_effect([DESK, NETWORK, EPIC], before, after)

    assert [change.side for change in effect.sides] == ["client", "vendor", "unmapped"]
    client, vendor, unmapped = (effect.side(side) for side in SIDES)
    assert (client.groups_before, client.groups_after) == (1, 0)
    assert (client.tickets_before, client.tickets_after) == (100, 0)
    assert (vendor.groups_before, vendor.groups_after) == (0, 2)
    assert (vendor.tickets_before, vendor.tickets_after) == (0, 130)
    assert (vendor.measured_before, vendor.measured_after) == (0, 110)
    assert (unmapped.groups_before, unmapped.groups_after) == (2, 1)
    assert (unmapped.tickets_before, unmapped.tickets_after) == (40, 10)
    assert effect.groups_moved == 2
    assert effect.tickets_moved == 130
    assert effect.measured_moved == 110
    assert effect.measured_total == 110
    assert effect.measured_moved_share == 1
    # The vendor's resolution clocks after: the desk's 60 of 80 and the network's 10 of 20.
    metrics = {metric: (old, new) for metric, old, new in vendor.clocks}
    assert metrics["resolution"] == (Clocks(), Clocks(100, 70))
    assert metrics["resolution"][1].attainment == Fraction(7, 10)
    assert metrics["response"][0].attainment is None
    assert [metric for metric, _, _ in client.clocks] == ["resolution", "response"]


def test_no_measurements_has_no_share() -> None:
    effect = mapping_effect([EPIC], {}, {"Epic Analysts": "client"})
    assert effect.measured_total == 0
    assert effect.measured_moved_share is None
    assert effect.groups_moved == 1


def test_errors() -> None:
    with pytest.raises(ValueError, match="unknown side"):
        side_of("Network", {"Network": "neither"})
    with pytest.raises(ValueError, match="once"):
        mapping_effect([NETWORK, NETWORK], {}, {})
    with pytest.raises(ValueError, match="met of"):
        Clocks(3, 4)
    with pytest.raises(ValueError, match="negative"):
        GroupFigures("Network", tickets=-1)


clocks = st.builds(
    lambda count, share: Clocks(count, int(count * share)),
    st.integers(0, 500),
    st.floats(0, 1),
)
figures = st.lists(
    st.builds(
        GroupFigures,
        st.text(min_size=1, max_size=8),
        tickets=st.integers(0, 1000),
        measured=st.integers(0, 1000),
        clocks=st.dictionaries(st.sampled_from(["response", "resolution"]), clocks),
    ),
    max_size=12,
    unique_by=lambda figure: figure.group,
)
sides = st.sampled_from(["client", "vendor", None])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[GroupFigures], dict[str, str], dict[str, str]]:
    groups = draw(figures)
    mappings = []
    for _ in range(2):
        chosen = {g.group: draw(sides) for g in groups}
        mappings.append({group: side for group, side in chosen.items() if side is not None})
    return groups, mappings[0], mappings[1]


@given(scenarios())
def test_totals_are_kept_and_moves_are_the_changed_groups(
    scenario: tuple[list[GroupFigures], dict[str, str], dict[str, str]],
) -> None:
    groups, before, after = scenario
    effect = mapping_effect(groups, before, after)

    for before_total, after_total, expected in (
        ("groups_before", "groups_after", len(groups)),
        ("tickets_before", "tickets_after", sum(g.tickets for g in groups)),
        ("measured_before", "measured_after", sum(g.measured for g in groups)),
    ):
        assert sum(getattr(change, before_total) for change in effect.sides) == expected
        assert sum(getattr(change, after_total) for change in effect.sides) == expected
    changed = [g for g in groups if side_of(g.group, before) != side_of(g.group, after)]
    assert effect.groups_moved == len(changed)
    assert effect.tickets_moved == sum(g.tickets for g in changed)
    assert effect.measured_moved == sum(g.measured for g in changed)
    share = effect.measured_moved_share
    assert share is None or 0 <= share <= 1
    # Clocks regroup exactly: per metric, the sides add up to every group's clocks.
    for index, metric in enumerate(sorted({m for g in groups for m in g.clocks})):
        whole = sum((g.clocks.get(metric, Clocks()) for g in groups), Clocks())
        for position in (1, 2):
            assert sum((c.clocks[index][position] for c in effect.sides), Clocks()) == whole
            assert all(c.clocks[index][0] == metric for c in effect.sides)


@given(figures, st.data())
def test_the_same_mapping_moves_nothing(groups: list[GroupFigures], data: st.DataObject) -> None:
    mapping = {g.group: data.draw(st.sampled_from(["client", "vendor"])) for g in groups}
    effect = mapping_effect(groups, mapping, dict(mapping))
    assert (effect.groups_moved, effect.tickets_moved, effect.measured_moved) == (0, 0, 0)
    for change in effect.sides:
        assert change.groups_before == change.groups_after
        assert change.tickets_before == change.tickets_after
        assert all(old == new for _, old, new in change.clocks)
