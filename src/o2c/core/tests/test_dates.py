"""Calendar dates in the company's zone, and month arithmetic."""

import datetime as dt

from o2c.core import dates


def test_local_date_chicago_is_still_due_date():
    instant = dt.datetime(2027, 4, 1, 1, 0, tzinfo=dt.UTC)
    due = dt.date(2027, 3, 31)

    today = dates.local_date("America/Chicago", instant)

    assert today == dt.date(2027, 3, 31)
    assert (today - due).days == 0


def test_local_date_tokyo_is_already_next_day():
    instant = dt.datetime(2027, 3, 31, 23, 0, tzinfo=dt.UTC)
    due = dt.date(2027, 3, 31)

    today = dates.local_date("Asia/Tokyo", instant)

    assert today == dt.date(2027, 4, 1)
    assert (today - due).days == 1


def test_add_months_clamps_to_short_month():
    assert dates.add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert dates.add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)
    assert dates.add_months(dt.date(2027, 3, 15), -3) == dt.date(2026, 12, 15)


def test_end_of_month_handles_leap_year():
    assert dates.end_of_month(dt.date(2028, 2, 3)) == dt.date(2028, 2, 29)
    assert dates.end_of_month(dt.date(2027, 2, 3)) == dt.date(2027, 2, 28)
