"""Finnish working days: Monday to Friday minus the public holidays of the ``holidays`` package.

Due dates, reminders and schedules count working days the way an HR office does. The calendar
is ``holidays.Finland`` (Uudenvuodenpäivä … Tapaninpäivä, with Juhannusaatto and Jouluaatto,
which are days off in Finnish collective agreements), so a request due "three working days
before the start" skips Easter and Midsummer.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _finnish_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("FI", years=year))


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a Finnish public holiday (nor Midsummer or Christmas Eve)."""
    return day.weekday() < 5 and day not in _finnish_holidays(day.year)


def holiday_name(day: date) -> str | None:
    """The public holiday's Finnish name, or None."""
    return holidays.country_holidays("FI", years=day.year, language="fi").get(day)


def day_off_reason(day: date) -> str | None:
    """Why a scheduled working-day run does nothing on ``day`` (the holiday's Finnish name, or
    "viikonloppu"), or None on a working day. A deployment scheduled Monday to Friday at 07:00 calls
    this first, since cron knows no public holidays."""
    if is_working_day(day):
        return None
    return holiday_name(day) or "viikonloppu"


def add_working_days(day: date, count: int) -> date:
    """The working day ``count`` working days after ``day`` (before it when negative).

    ``count == 0`` gives ``day`` itself when it is a working day, else the next one.
    """
    step = 1 if count >= 0 else -1
    left = abs(count)
    if left == 0:
        while not is_working_day(day):
            day += timedelta(days=1)
        return day
    while left:
        day += timedelta(days=step)
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when ``end`` is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=n)))
