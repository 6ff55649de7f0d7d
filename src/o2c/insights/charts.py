"""The forecast chart: the 80 % band and expected receipts against actual receipts."""

import pygal

from o2c.analytics.charts import BASE_CONFIG, STYLE, _number, svg_of


def forecast_band(weeks: list[dict], currency: str) -> str:
    """Draw weekly rows with start, low, expected, high and (for past weeks) actual."""
    config = BASE_CONFIG | {
        "show_legend": True,
        "legend_at_bottom": True,
        "style": STYLE,
        "height": 320,
    }
    chart = pygal.Line(title=f"Receipts by week ({currency}): forecast band and actuals", **config)
    chart.x_labels = [row["start"][5:] for row in weeks]
    chart.x_label_rotation = 45
    chart.add("80 % band, low", [_number(row.get("low")) for row in weeks], show_dots=False)
    chart.add("expected", [_number(row.get("expected")) for row in weeks])
    chart.add("80 % band, high", [_number(row.get("high")) for row in weeks], show_dots=False)
    chart.add("actual, invoices then open", [_number(row.get("actual")) for row in weeks])
    return svg_of(chart)
