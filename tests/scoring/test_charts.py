"""Charts are inline SVG that say their numbers in words and carry no script or inline style."""

import datetime as dt
import re
import xml.etree.ElementTree as ET

from scoring.charts import BarRow, arrow, arrow_label, band, score_bars, sparkline
from scoring.line_charts import Series, Target, line_chart

NS = {"svg": "http://www.w3.org/2000/svg"}
WEEKS = [dt.date(2026, 9, 7) + dt.timedelta(weeks=n) for n in range(6)]


def parse(svg) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 - our own output


def test_every_chart_is_labelled_for_screen_readers_and_has_no_inline_style():
    charts = [
        sparkline([60, 62, 61], uid="s", label="Loyalty"),
        score_bars([BarRow("Loyalty", 60.0, 1.2)], uid="b", title="Scores"),
        line_chart([Series("Loyalty", [60, 61, 62, 63, 64, 65])], uid="l", title="T", weeks=WEEKS),
    ]
    for svg in charts:
        root = parse(svg)
        assert root.get("role") == "img"
        title_id, desc_id = root.get("aria-labelledby").split()
        assert root.find(f"svg:title[@id='{title_id}']", NS) is not None
        assert root.find(f"svg:desc[@id='{desc_id}']", NS).text
        assert "style=" not in str(svg) and "<script" not in str(svg)


def test_labels_are_escaped():
    svg = str(score_bars([BarRow('<script>&"', 50.0)], uid="x", title="<b>"))
    assert "<script>" not in svg and "&lt;script&gt;&amp;&quot;" in svg
    parse(svg)


def test_the_description_states_the_values():
    desc = parse(score_bars([BarRow("Loyalty", 72.4, 1.2, 70.0)], uid="b", title="S")).find(
        "svg:desc", NS
    )
    assert desc.text == "Loyalty: 72.4, up 1.2 (reference 70)"
    spark = parse(sparkline([60, None, 65.5], uid="s", label="ROR")).find("svg:desc", NS)
    assert spark.text == "ROR: last 3 weeks, from 60 to 65.5"


def test_bar_width_is_proportional_to_the_score():
    root = parse(score_bars([BarRow("A", 50.0), BarRow("B", 100.0)], uid="b", title="S"))
    track = float(root.find("svg:rect[@class='bar-track']", NS).get("width"))
    bars = [float(r.get("width")) for r in root.findall("svg:rect", NS) if "bar " in r.get("class")]
    assert bars == [track / 2, track]


def test_a_gap_in_the_data_breaks_the_line():
    one = parse(line_chart([Series("A", [1, 2, 3, 4, 5, 6])], uid="a", title="T", weeks=WEEKS))
    two = parse(line_chart([Series("A", [1, 2, None, 4, 5, 6])], uid="a", title="T", weeks=WEEKS))
    assert len(one.findall("svg:polyline", NS)) == 1
    assert len(two.findall("svg:polyline", NS)) == 2


def test_goal_targets_are_dashed_lines_with_their_label():
    svg = line_chart(
        [Series("A", [60, 61, 62, 63, 64, 65])],
        uid="t",
        title="T",
        weeks=WEEKS,
        targets=[Target("Goal 80", 80.0, WEEKS[-1])],
    )
    root = parse(svg)
    target = root.find("svg:line[@class='target']", NS)
    assert target.get("stroke-dasharray")
    assert any(t.text == "Goal 80" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "Goal 80: 80 by" in root.find("svg:desc", NS).text


def test_no_data_says_so():
    for svg in (
        sparkline([None, None], uid="s", label="X"),
        score_bars([], uid="b", title="X"),
        line_chart([Series("A", [None] * 6)], uid="l", title="X", weeks=WEEKS),
    ):
        assert "No data yet" in str(svg)
        parse(svg)


def test_flat_data_and_a_single_point_still_draw():
    flat = parse(line_chart([Series("A", [70] * 6)], uid="f", title="T", weeks=WEEKS, y_min=None))
    assert flat.find("svg:polyline", NS) is not None
    single = parse(sparkline([None, 70.0, None], uid="p", label="X"))
    assert len(single.findall("svg:circle", NS)) == 2  # the point and the last-point marker
    assert re.search(r'viewBox="0 0 120 28"', str(sparkline([1, 2], uid="v", label="X")))


def test_bands_and_arrows_at_their_boundaries():
    assert [band(None), band(59.9), band(60), band(74.9), band(75)] == [
        "band-none", "band-low", "band-mid", "band-mid", "band-high"
    ]  # fmt: skip
    assert [arrow(None), arrow(0.05), arrow(0.06), arrow(-0.06)] == ["", "►", "▲", "▼"]
    assert [arrow_label(None), arrow_label(0.0), arrow_label(-0.8)] == [
        "no previous week", "no change", "down 0.8"
    ]  # fmt: skip
