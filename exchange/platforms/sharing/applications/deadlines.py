"""Working-day deadlines for applications, counted in China Standard Time (UTC+8, no DST).

Local rules give the provider a short review (e.g. 2 working days) and 5-10 working days to
answer. A deadline falls at the end of its last working day. Working days follow the State
Council's holiday notice, make-up working weekends (调休) included, as `chinese-calendar`
ships it; the notice for a year comes out each November, so a deadline reaching past the
years the package knows is counted Monday to Friday and says so in its note.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import chinese_calendar

CST = dt.timezone(dt.timedelta(hours=8), "CST")


@dataclass(frozen=True)
class Deadline:
    at: dt.datetime  # UTC
    note: str | None  # set when part of the count had to assume Monday to Friday


def is_working_day(day: dt.date) -> tuple[bool, bool]:
    """Whether `day` is a working day in mainland China, and whether the calendar knew."""
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:  # a year the installed holiday notice does not cover
        return day.weekday() < 5, False


def working_deadline(start: dt.datetime, days: int) -> Deadline:
    """The end (23:59:59.999999 CST) of the `days`-th working day after `start`'s day."""
    day = start.astimezone(CST).date()
    added = 0
    while added < days:
        day += dt.timedelta(days=1)
        added += is_working_day(day)[0]
    end = dt.datetime.combine(day, dt.time.max, CST).astimezone(dt.UTC)
    return Deadline(end, calendar_note(start, end))


def calendar_note(start: dt.datetime, end: dt.datetime) -> str | None:
    """A warning when the days from `start` to `end` reach years the calendar does not know."""
    first, last = start.astimezone(CST).year, end.astimezone(CST).year
    unknown = [y for y in range(first, last + 1) if not is_working_day(dt.date(y, 7, 1))[1]]
    if not unknown:
        return None
    years = ", ".join(map(str, unknown))
    return f"no State Council holiday notice for {years} in the calendar: counted Mon-Fri"


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    return working_deadline(start, days).at


def overdue(
    status: str, review_due: dt.datetime, answer_due: dt.datetime, now: dt.datetime
) -> str | None:
    """Which deadline an open application has missed: "answer", "review" or None."""
    if status not in ("submitted", "in_review"):
        return None
    if now > answer_due:
        return "answer"
    if status == "submitted" and now > review_due:
        return "review"
    return None


def working_days_left(now: dt.datetime, due: dt.datetime) -> int:
    """Working days after today (CST) up to the deadline's day: 0 on its last day, negative
    once missed (minus the working days since, today included)."""
    today, last = now.astimezone(CST).date(), due.astimezone(CST).date()
    first, end, sign = (today, last, 1) if last >= today else (last, today, -1)
    days = (first + dt.timedelta(days=n) for n in range(1, (end - first).days + 1))
    return sign * sum(is_working_day(d)[0] for d in days)
