"""The Norwegian working-day calendar: weekends and public holidays are not virkedager."""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta


def easter_sunday(year: int) -> date:
    """Easter Sunday (Gregorian), by the anonymous Gregorian algorithm."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


@functools.cache
def public_holidays(year: int) -> frozenset[date]:
    """Norway's public holidays: the fixed ones and those that follow Easter."""
    easter = easter_sunday(year)
    moving = {
        easter - timedelta(days=3),  # skjærtorsdag
        easter - timedelta(days=2),  # langfredag
        easter,  # første påskedag
        easter + timedelta(days=1),  # andre påskedag
        easter + timedelta(days=39),  # Kristi himmelfartsdag
        easter + timedelta(days=49),  # første pinsedag
        easter + timedelta(days=50),  # andre pinsedag
    }
    fixed = {
        date(year, 1, 1),
        date(year, 5, 1),
        date(year, 5, 17),
        date(year, 12, 25),
        date(year, 12, 26),
    }
    return frozenset(moving | fixed)


def is_virkedag(day: date) -> bool:
    """True for a Monday–Friday that is not a public holiday."""
    return day.weekday() < 5 and day not in public_holidays(day.year)


def add_virkedager(start: datetime, count: int) -> datetime:
    """The moment ``count`` working days after ``start``, at the same time of day."""
    current = start
    remaining = count
    while remaining > 0:
        current += timedelta(days=1)
        if is_virkedag(current.date()):
            remaining -= 1
    return current
