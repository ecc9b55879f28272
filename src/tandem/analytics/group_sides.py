"""What moving assignment groups between sides does to parity, before anything is saved.

Parity compares the client's own team with the vendor (``parity.py``); which team a ticket
counts for is its assignment group's side. Mapping many groups at once changes who is
measured, so the mapping page shows the effect first: per side (client, vendor and
``unmapped``, the groups with no side yet), how many groups and tickets it holds before and
after, how many of the latest SLA run's measured tickets and stopped clocks change team, and
each side's attainment per metric before and after (the run's stopped clocks regrouped by
the new mapping: the figure a new run would show, as long as the tickets and the policy stay
the same).

Pure: plain values in, frozen dataclasses out. A group missing from a mapping is unmapped;
a side other than ``client`` or ``vendor`` is an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from tandem.analytics.aggregate import SIDE_NAMES, UNMAPPED

#: The sides of the effect, in the order shown: both teams, then the groups of neither.
SIDES = (*SIDE_NAMES, UNMAPPED)


@dataclass(frozen=True)
class Clocks:
    """Stopped clocks of one metric and how many met their target."""

    count: int = 0
    met: int = 0

    def __post_init__(self) -> None:
        if self.count < 0 or not 0 <= self.met <= self.count:
            raise ValueError(f"{self.met} met of {self.count} clocks (need 0 <= met <= count)")

    def __add__(self, other: Clocks) -> Clocks:
        return Clocks(self.count + other.count, self.met + other.met)

    @property
    def attainment(self) -> Fraction | None:
        """``met / count`` exactly; None without clocks."""
        return Fraction(self.met, self.count) if self.count else None


@dataclass(frozen=True)
class GroupFigures:
    """One assignment group: its tickets, how many of them the latest run measured, and the
    run's stopped clocks of the group per metric (empty without a run)."""

    group: str
    tickets: int
    measured: int = 0
    clocks: Mapping[str, Clocks] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tickets < 0 or self.measured < 0:
            raise ValueError(f"{self.group!r}: ticket counts cannot be negative")


@dataclass(frozen=True)
class SideChange:
    """One side's figures before and after the new mapping."""

    side: str
    groups_before: int
    groups_after: int
    tickets_before: int
    tickets_after: int
    measured_before: int
    measured_after: int
    #: per metric (sorted by name): the side's stopped clocks before and after
    clocks: tuple[tuple[str, Clocks, Clocks], ...]


@dataclass(frozen=True)
class MappingEffect:
    """The whole effect: per side (``SIDES`` order) and what changes team."""

    sides: tuple[SideChange, ...]
    groups_moved: int
    tickets_moved: int
    measured_moved: int
    measured_total: int

    @property
    def measured_moved_share(self) -> Fraction | None:
        """The share of measured tickets that change side; None when none was measured."""
        return Fraction(self.measured_moved, self.measured_total) if self.measured_total else None

    def side(self, name: str) -> SideChange:
        return next(change for change in self.sides if change.side == name)


def side_of(group: str, mapping: Mapping[str, str]) -> str:
    """The group's side in ``mapping``: ``client``, ``vendor``, or ``unmapped`` when absent."""
    side = mapping.get(group, UNMAPPED)
    if side not in SIDES:
        raise ValueError(f"{group!r}: unknown side {side!r} (use {' or '.join(SIDE_NAMES)})")
    return side


def mapping_effect(
    groups: Iterable[GroupFigures], before: Mapping[str, str], after: Mapping[str, str]
) -> MappingEffect:
    """Each side's groups, tickets, measured tickets and clocks under ``before`` and under
    ``after`` (group name -> ``client`` or ``vendor``), and what moves between them.

    Every group of ``groups`` counts once on each side of the comparison, so the totals over
    the sides are equal before and after; a group whose side is the same in both mappings
    moves nothing."""
    figures = list(groups)
    names = [figure.group for figure in figures]
    if len(set(names)) != len(names):
        raise ValueError("each group may appear once")
    metrics = sorted({metric for figure in figures for metric in figure.clocks})
    totals: dict[tuple[str, str], list[int]] = {
        (when, side): [0, 0, 0] for when in ("before", "after") for side in SIDES
    }
    clocks: dict[tuple[str, str, str], Clocks] = {}
    moved = [0, 0, 0]
    for figure in figures:
        old, new = side_of(figure.group, before), side_of(figure.group, after)
        for when, side in (("before", old), ("after", new)):
            row = totals[(when, side)]
            row[0] += 1
            row[1] += figure.tickets
            row[2] += figure.measured
            for metric, value in figure.clocks.items():
                key = (when, side, metric)
                clocks[key] = clocks.get(key, Clocks()) + value
        if old != new:
            moved[0] += 1
            moved[1] += figure.tickets
            moved[2] += figure.measured
    sides = tuple(
        SideChange(
            side=side,
            groups_before=totals[("before", side)][0],
            groups_after=totals[("after", side)][0],
            tickets_before=totals[("before", side)][1],
            tickets_after=totals[("after", side)][1],
            measured_before=totals[("before", side)][2],
            measured_after=totals[("after", side)][2],
            clocks=tuple(
                (
                    metric,
                    clocks.get(("before", side, metric), Clocks()),
                    clocks.get(("after", side, metric), Clocks()),
                )
                for metric in metrics
            ),
        )
        for side in SIDES
    )
    return MappingEffect(
        sides=sides,
        groups_moved=moved[0],
        tickets_moved=moved[1],
        measured_moved=moved[2],
        measured_total=sum(figure.measured for figure in figures),
    )
