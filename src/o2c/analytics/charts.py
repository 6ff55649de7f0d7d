"""Charts as inline SVG, drawn on the server by pygal: no script and no CDN."""

import re
from decimal import Decimal

import pygal
from pygal.style import Style

from o2c.analytics.serialize import BUCKET_LABELS

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#333",
    foreground_strong="#111",
    foreground_subtle="#ddd",
    colors=("#2f6f9f", "#d9822b", "#6a994e", "#bc4749"),
    font_family="system-ui, sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    value_font_size=11,
    title_font_size=14,
)
BASE_CONFIG = {
    "style": STYLE,
    "js": [],
    "disable_xml_declaration": True,
    "show_legend": False,
    "height": 280,
    "width": 640,
    "explicit_size": False,
    "print_values": False,
}


# pygal always writes an inline <script> with its tooltip settings, which only its own
# JavaScript reads. o2c loads no such script, and its Content-Security-Policy would
# block the inline one, so it is removed.
SCRIPT_ELEMENT = re.compile(r"<script\b[^>]*?(?:/>|>.*?</script>)", re.DOTALL)


def svg_of(chart) -> str:
    """Return the chart's SVG without scripts, to place inline in a page."""
    return SCRIPT_ELEMENT.sub("", chart.render(is_unicode=True))


def _number(value: Decimal | None) -> float | None:
    # pygal plots floats; the figures shown as text elsewhere stay exact Decimals.
    return None if value is None else float(value)


def aging_bars(buckets: dict[str, Decimal], currency: str) -> str:
    chart = pygal.Bar(title=f"Aging ({currency})", **BASE_CONFIG)
    names = [name for name in BUCKET_LABELS if name != "total"]
    chart.x_labels = [BUCKET_LABELS[name] for name in names]
    chart.add(currency, [_number(buckets.get(name)) for name in names])
    return svg_of(chart)


def dso_line(points) -> str:
    chart = pygal.Line(title="DSO, count-back (days), month ends", **BASE_CONFIG)
    chart.x_labels = [point.on.strftime("%b %Y") for point in points]
    chart.x_label_rotation = 30
    chart.add("DSO", [_number(point.dso_count_back) for point in points])
    return svg_of(chart)
