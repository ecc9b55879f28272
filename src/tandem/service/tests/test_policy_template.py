"""``tandem sla init-policy``: a commented policy that reads, and the docs example is its text."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tandem.analytics.policy import parse_policy
from tandem.service.policy_template import example_policy

DOCS_EXAMPLE = Path(__file__).resolve().parents[4] / "docs" / "sla-policy-example.toml"


def test_the_docs_example_is_what_the_command_writes(tmp_path: Path) -> None:
    out = tmp_path / "policy.toml"
    stdout = StringIO()
    call_command("sla", "init-policy", "--output", str(out), stdout=stdout)
    assert f"Wrote a commented SLA policy to {out}" in stdout.getvalue()
    written = out.read_text(encoding="utf-8")
    assert written == DOCS_EXAMPLE.read_text(encoding="utf-8")
    policy = parse_policy(written)
    assert list(policy.calendars) == ["business", "always"]
    assert policy.calendars["business"].holiday_country == "US"
    assert len(policy.targets) == 8 and policy.credits is not None
    comments = [line for line in written.splitlines() if "#" in line]
    assert len(comments) > 30  # commented, key by key
    for key in ("holiday_subdivision", "earn_back_goal", "pause_on_hold", "at_risk_percent"):
        assert any(key in line for line in comments), key


def test_printed_without_output_and_for_another_country() -> None:
    stdout = StringIO()
    call_command(
        "sla", "init-policy", "--country", "de", "--timezone", "Europe/Berlin", stdout=stdout
    )
    policy = parse_policy(stdout.getvalue())
    business = policy.calendars["business"]
    assert (business.holiday_country, business.timezone) == ("DE", "Europe/Berlin")
    assert stdout.getvalue() == example_policy("DE", "Europe/Berlin")


def test_an_existing_file_is_kept_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "mine.toml"
    out.write_text("# my own policy\n")
    with pytest.raises(CommandError, match="exists.*--force"):
        call_command("sla", "init-policy", "--output", str(out), stdout=StringIO())
    assert out.read_text() == "# my own policy\n"
    call_command("sla", "init-policy", "--output", str(out), "--force", stdout=StringIO())
    assert out.read_text() == example_policy()
    with pytest.raises(CommandError, match="directory"):
        call_command("sla", "init-policy", "--output", str(tmp_path), "--force", stdout=StringIO())


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--country", "XX"], "not a country"),
        (["--timezone", "Mars/Base"], "not a time zone"),
    ],
)
def test_bad_options_are_refused_with_the_reason(args: list[str], error: str) -> None:
    with pytest.raises(CommandError, match=error):
        call_command("sla", "init-policy", *args, stdout=StringIO())
