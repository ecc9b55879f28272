"""Static SVG charts for PDFs: well-formed XML whatever the labels and values, text escaped
(it reads back exactly as given), deterministic output, values placed on the axis."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from tandem.core.svg_charts import Goal, Series, bar_chart, line_chart, text

SVG = "{http://www.w3.org/2000/svg}"

# Any text a user can type (XML-forbidden control characters included: they are dropped).
labels = st.text(max_size=30)
values = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1),
)


def _allowed(value: str) -> str:
    """What XML can hold of ``value`` (what :func:`text` keeps)."""
    return "".join(
        ch
        for ch in value
        if ch in "\t\n" or " " <= ch <= "\ud7ff" or "\ue000" <= ch <= "\ufffd" or ch > "\uffff"
    )


@st.composite
def charts(draw):
    categories = draw(st.lists(labels, max_size=8))
    series = draw(
        st.lists(
            st.builds(
                Series,
                labels,
                st.lists(values, max_size=10).map(tuple),
            ),
            max_size=4,
        )
    )
    goals = draw(st.lists(st.builds(Goal, values, labels), max_size=3))
    return categories, series, goals, draw(labels)


@given(charts(), st.sampled_from([line_chart, bar_chart]))
def test_any_input_is_well_formed_escaped_and_deterministic(chart, draw_chart) -> None:
    categories, series, goals, title = chart
    svg = draw_chart(categories, series, title=title, goals=goals)
    assert svg == draw_chart(categories, series, title=title, goals=goals)
    root = ET.fromstring(svg)  # raises on anything malformed
    assert root.tag == f"{SVG}svg"
    texts = [element.text or "" for element in root.iter(f"{SVG}text")]
    # The title, the first category (crowded ones are labelled every few) and every series
    # name read back exactly (no markup leaks).
    assert _allowed(title) in texts
    if categories:
        assert _allowed(categories[0]) in texts
    for one in series:
        assert _allowed(one.name) in texts
    assert (root.find(f"{SVG}title").text or "") == _allowed(title)
    # No coordinate is NaN or infinite.
    for element in root.iter():
        for name in ("x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "width", "height"):
            if name in element.attrib:
                assert math.isfinite(float(element.attrib[name]))


def test_markup_in_labels_is_text() -> None:
    name = '<script>alert("x")</script> & P1'
    svg = line_chart(["Jan <b>"], [Series(name, (0.5,))], title="A & B", goals=[Goal(0.9, name)])
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "Jan &lt;b&gt;" in svg
    assert "A &amp; B" in svg
    assert text("\x00a\x1fb\"'") == "ab&quot;&#39;"


def test_values_sit_on_the_axis_and_gaps_break_the_line() -> None:
    svg = line_chart(
        ["Jan", "Feb", "Mar"],
        [Series("P1", (1.0, None, 0.5))],
        goals=[Goal(0.95, "P1"), Goal(0.95, "P2"), Goal(0.9, "P3")],
        width=300,
        height=200,
    )
    root = ET.fromstring(svg)
    # The frame: top 30, plot height 200 - 30 - 48 = 122; 1.0 at y=30, 0.5 at y=91.
    circles = [(float(c.get("cx")), float(c.get("cy"))) for c in root.iter(f"{SVG}circle")]
    assert [cy for _cx, cy in circles] == [30.0, 91.0]
    assert not list(root.iter(f"{SVG}polyline"))  # the gap leaves two single points
    # Equal goals share one line; the legend says whose each line is.
    lines = [line for line in root.iter(f"{SVG}line") if line.get("class") == "goal"]
    assert [float(line.get("y1")) for line in lines] == [36.1, 42.2]
    captions = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "goal-caption"]
    assert captions == ["Goal 95 % (P1, P2) · 90 % (P3)"]


def test_crowded_categories_are_labelled_every_few() -> None:
    months = [f"Month {n:02}" for n in range(24)]
    root = ET.fromstring(line_chart(months, [Series("P1", (0.5,) * 24)], width=400))
    shown = [t.text for t in root.iter(f"{SVG}text") if t.text in months]
    assert shown[0] == "Month 00" and 1 < len(shown) < 24
    xs = [float(t.get("x")) for t in root.iter(f"{SVG}text") if t.text in months]
    assert min(b - a for a, b in zip(xs, xs[1:], strict=False)) >= 10 * 6  # no overlap


def test_bars_grow_from_the_bottom_and_values_beyond_the_axis_are_clipped() -> None:
    svg = bar_chart(["Jan", "Feb"], [Series("Credits", (0.25, 7.0))], height=200)
    bars = [r for r in ET.fromstring(svg).iter(f"{SVG}rect") if r.get("width") != "10"]
    heights = [float(r.get("height")) for r in bars]
    assert heights == [30.5, 122.0]  # a quarter of the plot, and the whole plot (clipped)
    assert {float(r.get("y")) + float(r.get("height")) for r in bars} == {152.0}
