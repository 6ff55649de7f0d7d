"""Reference figures for the late-payment models on the IBM history, from hindsight.

The backtest of `o2c insights backtest` predicts each invoice on its invoice date from
what the ledger showed then. This script scores two estimators that read later outcomes,
which the backtest forbids, on the same test range (the later half of the invoice
dates). Their figures show how much of the outcome the file's columns explain at all.
The test range has a few more invoices than the backtest's, which leaves out
invoices paid on their invoice date.

- leave one out: each invoice is scored by the customer's mean days late over all
  their other invoices, earlier and later, each moved to the invoice's billing channel
  by the within-customer channel effect (fitted on the whole file). Its days-late point
  adds the constant that minimises the absolute error on the test invoices;
- in sample: a regression with one coefficient per customer plus the channel and the
  month, fitted on every invoice including the test ones (logistic for late risk,
  median regression for days late).

Each is run without the Disputed column and, for comparison, with it. A leak-free model
is not expected to reach the hindsight figures without the column. They are reference
points, not bounds in the strict sense.

    .venv/bin/python benchmarks/insights_reference.py [--file HISTORY.csv]

Prints a table and writes it to benchmarks/results/insights-reference.txt.
"""

import argparse
import csv
import datetime as dt
from pathlib import Path

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression, QuantileRegressor
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT / "data" / "ar" / "WA_Fn-UseC_-Accounts-Receivable.csv"
RESULTS = ROOT / "benchmarks" / "results"


def read_history(path: Path) -> dict[str, np.ndarray]:
    def day(text: str) -> int:
        month, day_of_month, year = (int(part) for part in text.split("/"))
        return dt.date(year, month, day_of_month).toordinal()

    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {
        "customer": np.array([row["customerID"] for row in rows]),
        "invoiced": np.array([day(row["InvoiceDate"]) for row in rows]),
        "late": np.array([day(row["SettledDate"]) - day(row["DueDate"]) for row in rows], float),
        "electronic": np.array([row["PaperlessBill"] == "Electronic" for row in rows], float),
        "disputed": np.array([row["Disputed"] == "Yes" for row in rows], float),
        "month": np.array([dt.date.fromordinal(day(row["InvoiceDate"])).month for row in rows]),
    }


def later_half(invoiced: np.ndarray) -> np.ndarray:
    """Return the invoices of the backtest's test range: the later half of invoice dates."""
    first, last = int(invoiced.min()), int(invoiced.max()) + 1
    return invoiced >= first + int((last - first) * 0.5)


def one_hot(values: np.ndarray) -> np.ndarray:
    kinds = np.unique(values)
    return (values[:, None] == kinds[None, :]).astype(float)


def within_customer_effects(data: dict, columns: list[str]) -> np.ndarray:
    """Return the effect of each column on days late, net of each customer's own level."""
    customers = one_hot(data["customer"])
    design = np.column_stack([customers] + [data[name] for name in columns])
    fit = LinearRegression(fit_intercept=False).fit(design, data["late"])
    return fit.coef_[-len(columns) :]


def leave_one_out(data: dict, columns: list[str]) -> np.ndarray:
    """Return, per invoice, the mean adjusted days late of the customer's other invoices."""
    effects = within_customer_effects(data, columns)
    shift = sum(effect * data[name] for effect, name in zip(effects, columns, strict=True))
    base = data["late"] - shift  # days late with the columns' effects taken out
    scores = np.empty(len(base))
    for customer in np.unique(data["customer"]):
        rows = np.flatnonzero(data["customer"] == customer)
        total = base[rows].sum()
        scores[rows] = (total - base[rows]) / (len(rows) - 1) + shift[rows]
    return scores


def in_sample(data: dict, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return (late probability, median days late) of models fitted on every invoice."""
    design = np.column_stack(
        [one_hot(data["customer"]), one_hot(data["month"])] + [data[name] for name in columns]
    )
    is_late = (data["late"] > 0).astype(int)
    logistic = LogisticRegression(C=10.0, max_iter=5000).fit(design, is_late)
    median = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(design, data["late"])
    return logistic.predict_proba(design)[:, 1], median.predict(design)


def scores_row(name: str, late: np.ndarray, risk: np.ndarray, points: np.ndarray) -> str:
    auc = roc_auc_score(late > 0, risk)
    mae = float(np.mean(np.abs(points - late)))
    return f"{name:<44}{auc:>8.3f}{mae:>8.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="The IBM history CSV.")
    arguments = parser.parse_args()

    data = read_history(arguments.file)
    test = later_half(data["invoiced"])
    late = data["late"][test]
    lines = [
        f"IBM history, {test.sum()} test invoices (invoice dates from "
        f"{dt.date.fromordinal(int(data['invoiced'][test].min()))}), late share "
        f"{(late > 0).mean() * 100:.1f} %",
        "",
        f"{'hindsight estimator':<44}{'AUC':>8}{'MAE':>8}",
    ]
    for label, columns in (("", ["electronic"]), (", with Disputed", ["electronic", "disputed"])):
        loo = leave_one_out(data, columns)[test]
        offset = float(np.median(late - loo))
        lines.append(scores_row(f"leave one out{label}", late, loo, loo + offset))
        risk, points = in_sample(data, columns)
        lines.append(scores_row(f"in sample{label}", late, risk[test], points[test]))
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "insights-reference.txt").write_text(table + "\n")


if __name__ == "__main__":
    main()
