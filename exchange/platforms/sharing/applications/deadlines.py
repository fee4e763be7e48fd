"""Working-day deadlines for applications, counted in China Standard Time (UTC+8, no DST).

Local rules give the provider a short review (e.g. 2 working days) and 5-10 working days to
answer. A deadline falls at the end of its last working day. Weekends are skipped; public
holidays and the adjusted working weekends around them are not modelled yet.
"""

from __future__ import annotations

import datetime as dt

CST = dt.timezone(dt.timedelta(hours=8), "CST")


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The end (23:59:59.999999 CST) of the `days`-th working day after `start`'s day."""
    day = start.astimezone(CST).date()
    added = 0
    while added < days:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            added += 1
    end = dt.datetime.combine(day, dt.time.max, CST)
    return end.astimezone(dt.UTC)


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
