"""Turn KPI reports into JSON-ready dictionaries and printable tables."""

from dataclasses import asdict
from decimal import Decimal

from o2c.analytics.kpis import BUCKETS, KpiFigures, KpiReport

FIGURE_LABELS = [
    ("ar", "AR (open items − unapplied credits)"),
    ("open_items", "Open items"),
    ("open_items_count", "Open items (count)"),
    ("unapplied_credits", "Unapplied credits"),
    ("current_ar", "Current AR (not due)"),
    ("credit_sales", "Credit sales of the period"),
    ("dso_simple", "DSO, simple (days)"),
    ("dso_count_back", "DSO, count-back (days)"),
    ("best_dso", "Best possible DSO (days)"),
    ("add", "Average days delinquent"),
    ("cei", "CEI (%)"),
    ("settled_items", "Items settled in the period"),
    ("average_days_to_pay", "Average days to pay"),
    ("share_paid_late", "Share paid late"),
    ("weighted_days_late", "Amount-weighted days late"),
    ("open_disputed", "Open disputed amount"),
]
BUCKET_LABELS = {
    "not_due": "Not due",
    "1_30": "1-30",
    "31_60": "31-60",
    "61_90": "61-90",
    "91_120": "91-120",
    "over_120": "Over 120",
    "total": "Total",
}


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def figures_dict(figures: KpiFigures) -> dict:
    return _plain(asdict(figures))


def report_dict(report: KpiReport) -> dict:
    """Return the report with amounts as exact decimal strings."""
    return {
        "entity": report.entity.code,
        "base_currency": report.entity.base_currency,
        "as_of": report.as_of.isoformat(),
        "period_days": report.period_days,
        "currencies": {code: figures_dict(figures) for code, figures in report.currencies.items()},
        "converted": figures_dict(report.converted) if report.converted else None,
        "rates_used": report.rates_used,
        "stale_rates": sorted(report.stale_rates),
        "conversion_error": report.conversion_error or None,
    }


def report_table(report: KpiReport) -> str:
    """Return the report as a text table: one column per currency, then the base total."""
    columns: list[tuple[str, KpiFigures]] = list(report.currencies.items())
    if report.converted:
        columns.append((f"all in {report.entity.base_currency}", report.converted))
    header = f"{report.entity.code} as of {report.as_of} (period {report.period_days} days)"
    if not columns:
        return header + "\nNo documents."
    label_width = max(len(label) for _, label in FIGURE_LABELS) + 2
    widths = [max(16, len(name) + 2) for name, _ in columns]
    lines = [
        header,
        " " * label_width
        + "".join(name.rjust(w) for (name, _), w in zip(columns, widths, strict=True)),
    ]
    lines.append("Aging")
    for bucket in [*BUCKETS, "total"]:
        cells = [
            str(figures.aging[bucket]).rjust(w)
            for (_, figures), w in zip(columns, widths, strict=True)
        ]
        lines.append(("  " + BUCKET_LABELS[bucket]).ljust(label_width) + "".join(cells))
    for attribute, label in FIGURE_LABELS:
        cells = []
        for (_, figures), width in zip(columns, widths, strict=True):
            value = getattr(figures, attribute)
            cells.append(("—" if value is None else str(value)).rjust(width))
        lines.append(label.ljust(label_width) + "".join(cells))
    if report.stale_rates:
        lines.append(
            "Converted with old rates, the latest loaded: " + "; ".join(sorted(report.stale_rates))
        )
    if report.conversion_error:
        lines.append(f"Not converted to {report.entity.base_currency}: {report.conversion_error}")
    return "\n".join(lines)
