"""Which file column feeds each canonical name: aliases, then the user's mapping."""

from __future__ import annotations

from tandem.ingest._common.sources import resolve_columns

ALIASES = {"ticket_id": ("number",), "category": ("type of issue",)}


def test_aliases_find_columns_whatever_their_case() -> None:
    assert resolve_columns(["Number", "Category"], ALIASES, None) == {
        "ticket_id": "Number",
        "category": "Category",
    }


def test_the_mapping_wins_over_the_aliases() -> None:
    found = resolve_columns(["Number", "Ref", "Category"], ALIASES, {"ticket_id": "Ref"})
    assert found == {"ticket_id": "Ref", "category": "Category"}


def test_a_name_mapped_to_nothing_is_not_read_even_from_its_own_column() -> None:
    found = resolve_columns(["Number", "Category"], ALIASES, {"category": ""})
    assert found == {"ticket_id": "Number"}


def test_a_mapped_column_the_file_lacks_is_kept_for_require_to_report() -> None:
    assert resolve_columns(["Number"], ALIASES, {"category": "Kind"})["category"] == "Kind"
