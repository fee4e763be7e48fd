"""Working-day deadlines follow the State Council's holiday notice, make-up days included."""

from __future__ import annotations

import datetime as dt

import pytest

from exchange.platforms.sharing.applications.deadlines import (
    CST,
    add_working_days,
    working_deadline,
)


def _due(start: str, days: int) -> dt.date:
    at = dt.datetime.fromisoformat(start).replace(tzinfo=CST)
    return add_working_days(at, days).astimezone(CST).date()


@pytest.mark.parametrize(
    ("submitted", "days", "due", "why"),
    [
        # 2025 Spring Festival: 28 Jan - 4 Feb off; Sun 26 Jan and Sat 8 Feb are working days
        ("2025-01-24T10:00", 1, "2025-01-26", "Sunday 26 Jan 2025 is a make-up working day"),
        ("2025-01-27T10:00", 2, "2025-02-06", "the holiday week is skipped"),
        ("2025-02-06T10:00", 2, "2025-02-08", "Saturday 8 Feb 2025 is a make-up working day"),
        # 2025 National Day and Mid-Autumn: 1-8 Oct off; Sun 28 Sep and Sat 11 Oct worked
        ("2025-09-26T10:00", 1, "2025-09-28", "Sunday 28 Sep 2025 is a make-up working day"),
        ("2025-09-30T10:00", 1, "2025-10-09", "1-8 October 2025 are public holidays"),
        ("2025-10-09T10:00", 2, "2025-10-11", "Saturday 11 Oct 2025 is a make-up working day"),
        # 2026 Spring Festival: 15-23 Feb off; Sat 14 Feb and Sat 28 Feb worked
        ("2026-02-13T10:00", 1, "2026-02-14", "Saturday 14 Feb 2026 is a make-up working day"),
        ("2026-02-14T10:00", 1, "2026-02-24", "15-23 February 2026 are public holidays"),
        ("2026-02-27T10:00", 1, "2026-02-28", "Saturday 28 Feb 2026 is a make-up working day"),
        # 2026 National Day: 1-7 Oct off; Sun 20 Sep and Sat 10 Oct worked
        ("2026-09-30T10:00", 1, "2026-10-08", "1-7 October 2026 are public holidays"),
        ("2026-10-09T10:00", 1, "2026-10-10", "Saturday 10 Oct 2026 is a make-up working day"),
    ],
)
def test_holiday_weeks_and_make_up_days(submitted: str, days: int, due: str, why: str) -> None:
    assert _due(submitted, days) == dt.date.fromisoformat(due), why


def test_a_deadline_inside_known_years_has_no_note() -> None:
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=CST)
    assert working_deadline(at, 10).note is None


def test_past_the_calendar_years_it_counts_monday_to_friday_and_says_so() -> None:
    at = dt.datetime(2030, 9, 27, 9, 0, tzinfo=CST)  # a Friday, in a year with no notice yet
    deadline = working_deadline(at, 2)
    assert deadline.at.astimezone(CST).date() == dt.date(2030, 10, 1)  # Mon 30 Sep, Tue 1 Oct
    assert deadline.note is not None and "2030" in deadline.note and "Mon-Fri" in deadline.note
