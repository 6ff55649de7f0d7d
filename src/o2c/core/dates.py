"""Calendar dates in a company's time zone, and the month arithmetic of payment terms."""

import calendar
import datetime as dt
from zoneinfo import ZoneInfo, available_timezones

from django.utils import timezone

from o2c.core.errors import O2CError


def check_time_zone(name: str) -> str:
    if name not in available_timezones():
        raise O2CError(
            "unknown_time_zone",
            "{name!r} is not an IANA time zone; use a name such as Europe/Paris.",
            name=name,
        )
    return name


def local_date(time_zone: str, instant: dt.datetime | None = None) -> dt.date:
    """Return the calendar date in the zone at an instant (default: now).

    Due dates are calendar dates in the company's zone, so "today" must be taken there
    before any subtraction: 01:00 UTC on 1 April is still 31 March in Chicago.
    """
    moment = instant or timezone.now()
    if timezone.is_naive(moment):
        raise ValueError("instant must be timezone-aware")
    return moment.astimezone(ZoneInfo(time_zone)).date()


def end_of_month(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: dt.date, months: int) -> dt.date:
    """Add calendar months, clamping the day to the last day of a shorter month."""
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last_day))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def parse_iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise O2CError(
            "invalid_date", "{text!r} is not a date; write it as YYYY-MM-DD.", text=text
        ) from None
