"""Exchange rates: ECB import, lookup on a date, and conversion rounded once.

All rates are quoted against the euro, so the rate between two other currencies is a
cross rate through EUR: amount_to = amount_from × (to per EUR) ÷ (from per EUR).
"""

import bisect
import csv
import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.db import transaction

from o2c.core import money
from o2c.fx.errors import RateError
from o2c.fx.models import ExchangeRate, RateSource

logger = logging.getLogger(__name__)

EURO = "EUR"
ONE = Decimal(1)
# A rate older than this is not used: it would hide a gap in the rates loaded.
MAX_RATE_AGE_DAYS = settings.O2C_FX_MAX_AGE_DAYS
# How far before the first date of a bulk conversion rates are read, so that the first
# dates (a weekend, a holiday) still find the rate published before them.
BULK_LOOKBACK_DAYS = 31


@dataclass(frozen=True)
class Conversion:
    """The result of converting an amount, with the rate used, for the record."""

    amount: Decimal
    currency: str
    rate: Decimal  # units of `currency` for one unit of the source currency
    rate_on: dt.date | None
    source: str


@dataclass
class RateImportResult:
    created: int
    unchanged: int
    currencies: list[str]


def import_ecb_csv(path: Path) -> RateImportResult:
    """Load the ECB's euro reference rates CSV (eurofxref-hist.csv), atomically.

    A rate already loaded with the same value is left alone, so a second load of the
    same file creates nothing. A rate that differs from the one loaded is an error:
    published reference rates do not change.
    """
    rows = _read_ecb_rows(path)
    currencies = sorted({currency for currency, _, _ in rows})
    existing = {
        (rate.currency, rate.rate_on): rate.units_per_euro
        for rate in ExchangeRate.objects.filter(source=RateSource.ECB).only(
            "currency", "rate_on", "units_per_euro"
        )
    }
    new_rates = []
    for currency, rate_on, value in rows:
        known = existing.get((currency, rate_on))
        if known is None:
            new_rates.append(
                ExchangeRate(
                    source=RateSource.ECB, currency=currency, rate_on=rate_on, units_per_euro=value
                )
            )
        elif known != value:
            raise RateError(
                "rate_conflict",
                "{file}: the {currency} rate of {day} is already loaded as {known}; "
                "the file says {value}.",
                file=path.name,
                currency=currency,
                day=rate_on,
                known=known,
                value=value,
            )
    with transaction.atomic():
        ExchangeRate.objects.bulk_create(new_rates, batch_size=5000)
    logger.info("ECB rates file %s: %d rates created", path.name, len(new_rates))
    return RateImportResult(len(new_rates), len(rows) - len(new_rates), currencies)


def _read_ecb_rows(path: Path) -> list[tuple[str, dt.date, Decimal]]:
    rows = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header or header[0].strip() != "Date":
            raise RateError(
                "not_ecb_file",
                "{file} is not an ECB reference rates CSV: its first column must be 'Date'.",
                file=path.name,
            )
        currencies = [name.strip() for name in header[1:]]
        for line_number, record in enumerate(reader, start=2):
            if not record or not record[0].strip():
                continue
            rate_on = _parse_day(path, line_number, record[0])
            for currency, cell in zip(currencies, record[1:], strict=False):
                cell = cell.strip()
                if not currency or cell in ("", "N/A"):
                    continue
                try:
                    value = Decimal(cell)
                except InvalidOperation:
                    raise RateError(
                        "invalid_rate",
                        "{file} line {line}, {currency}: {value!r} is not a number.",
                        file=path.name,
                        line=line_number,
                        currency=currency,
                        value=cell,
                    ) from None
                rows.append((currency, rate_on, value))
    return rows


def _parse_day(path: Path, line_number: int, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise RateError(
            "invalid_date",
            "{file} line {line}, Date: {value!r} is not a date (YYYY-MM-DD).",
            file=path.name,
            line=line_number,
            value=text,
        ) from None


def set_manual_rate(currency: str, rate_on: dt.date, units_per_euro: Decimal) -> ExchangeRate:
    """Record a rate the ECB does not publish (e.g. KWD), entered by a person."""
    currency = money.check_currency(currency)
    if units_per_euro <= 0:
        raise RateError(
            "invalid_rate", "A rate must be positive, not {value}.", value=units_per_euro
        )
    rate, _ = ExchangeRate.objects.update_or_create(
        source=RateSource.MANUAL,
        currency=currency,
        rate_on=rate_on,
        defaults={"units_per_euro": units_per_euro},
    )
    return rate


class RateTable:
    """Exchange rates for converting many amounts quickly and alike.

    Lookup takes the latest rate on or before the date (ECB publishes on working days
    only), from either source; a manual rate wins over the ECB's on the same day. A
    rate older than `max_age_days` is refused. Reports that must show something pass
    None and say which rate date they used.

    With `since`, the rates from a month before that date on are read in one query,
    which suits imports that convert thousands of amounts on many dates. Any other
    lookup reads the one row it needs and remembers it.
    """

    def __init__(
        self,
        currencies=None,
        max_age_days: int | None = MAX_RATE_AGE_DAYS,
        since: dt.date | None = None,
    ):
        self.max_age_days = max_age_days
        self._series: dict[str, tuple[list[dt.date], list[Decimal], list[str]]] = {}
        self._loaded_from = since - dt.timedelta(days=BULK_LOOKBACK_DAYS) if since else None
        self._single: dict[tuple[str, dt.date], tuple[Decimal, dt.date, str] | None] = {}
        if self._loaded_from is not None:
            self._load_series(currencies)

    def _load_series(self, currencies) -> None:
        queryset = ExchangeRate.objects.filter(rate_on__gte=self._loaded_from).order_by(
            "currency", "rate_on", "source"
        )
        if currencies is not None:
            queryset = queryset.filter(currency__in=list(currencies))
        for currency, rate_on, value, source in queryset.values_list(
            "currency", "rate_on", "units_per_euro", "source"
        ):
            days, values, sources = self._series.setdefault(currency, ([], [], []))
            if days and days[-1] == rate_on:
                # Sorted by source, "manual" after "ECB": the manual rate replaces it.
                values[-1] = value
                sources[-1] = source
                continue
            days.append(rate_on)
            values.append(value)
            sources.append(source)

    def units_per_euro(self, currency: str, on: dt.date) -> tuple[Decimal, dt.date | None]:
        value, day, _ = self._lookup(currency, on)
        return value, day

    def _lookup(self, currency: str, on: dt.date) -> tuple[Decimal, dt.date | None, str]:
        if currency == EURO:
            return ONE, None, RateSource.ECB
        found = self._from_series(currency, on) or self._latest_row(currency, on)
        if found is None:
            raise RateError(
                "no_rate",
                "No {currency} exchange rate on or before {day} is loaded; import the ECB "
                "rates file (o2c fx import FILE) or enter one (o2c fx set).",
                currency=currency,
                day=on,
            )
        value, day, source = found
        if self.max_age_days is not None and (on - day).days > self.max_age_days:
            raise RateError(
                "no_rate",
                "No {currency} rate on or in the {max_age} days before {day}; load the rates "
                "for that date.",
                currency=currency,
                day=on,
                max_age=self.max_age_days,
            )
        return value, day, source

    def _from_series(self, currency: str, on: dt.date):
        series = self._series.get(currency)
        if series is None or self._loaded_from is None or on < self._loaded_from:
            return None
        days, values, sources = series
        index = bisect.bisect_right(days, on) - 1
        if index < 0:
            return None
        return values[index], days[index], sources[index]

    def _latest_row(self, currency: str, on: dt.date):
        key = (currency, on)
        if key not in self._single:
            row = (
                ExchangeRate.objects.filter(currency=currency, rate_on__lte=on)
                .order_by("-rate_on", "-source")
                .values_list("units_per_euro", "rate_on", "source")
                .first()
            )
            self._single[key] = row
        return self._single[key]

    def rate(
        self, from_currency: str, to_currency: str, on: dt.date
    ) -> tuple[Decimal, dt.date | None]:
        """Return units of `to_currency` per unit of `from_currency`, unrounded."""
        if from_currency == to_currency:
            return ONE, None
        from_per_euro, from_day = self.units_per_euro(from_currency, on)
        to_per_euro, to_day = self.units_per_euro(to_currency, on)
        return to_per_euro / from_per_euro, min(day for day in (from_day, to_day) if day)

    def convert(
        self, amount: Decimal, from_currency: str, to_currency: str, on: dt.date
    ) -> Conversion:
        """Convert and round once to the target currency's minor unit."""
        if from_currency == to_currency:
            return Conversion(
                money.round_amount(amount, to_currency), to_currency, ONE, None, "same currency"
            )
        from_per_euro, from_day, from_source = self._lookup(from_currency, on)
        to_per_euro, to_day, to_source = self._lookup(to_currency, on)
        # Multiply before dividing so no intermediate is rounded to a short inverse rate.
        converted = money.round_amount(amount * to_per_euro / from_per_euro, to_currency)
        rate_day = min(day for day in (from_day, to_day) if day)
        source = from_source if from_source == to_source else f"{from_source}+{to_source}"
        return Conversion(converted, to_currency, to_per_euro / from_per_euro, rate_day, source)


def convert(amount: Decimal, from_currency: str, to_currency: str, on: dt.date) -> Conversion:
    """Convert one amount; for many amounts, build one `RateTable` and reuse it."""
    if from_currency == to_currency:
        return Conversion(
            money.round_amount(amount, to_currency), to_currency, ONE, None, "same currency"
        )
    return RateTable({from_currency, to_currency} - {EURO}).convert(
        amount, from_currency, to_currency, on
    )
