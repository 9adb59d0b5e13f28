"""Dates and times as the ledger stores them.

Timestamps are stored in UTC as fixed-width text ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` so
that text order is time order. Users type and read local time: ``2026-11-20`` or
``2026-11-20 14:30``. ``--as-of 2026-11-20`` means the end of that local day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from mfgctl.errors import InvalidInput

_STORED = "%Y-%m-%dT%H:%M:%S.%fZ"


def stamp(moment: datetime) -> str:
    """A datetime (naive = local time) -> stored UTC text."""
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(UTC).strftime(_STORED)


def now() -> str:
    return stamp(datetime.now(UTC))


def parse_date(value: object, *, what: str = "date") -> date:
    """``YYYY-MM-DD`` (a YAML date is accepted as it is)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInput(f"{what} {value!r} is not a date (write YYYY-MM-DD)")


# Due and planning dates: MRP and the scheduler count lead times and horizons back and
# forth from them, which overflows Python's dates near year 1 and 9999.
FIRST_PLAN_DAY = date(1900, 1, 1)
LAST_PLAN_DAY = date(2999, 12, 31)


def parse_plan_date(value: object, *, what: str = "date") -> date:
    """A due date or a planning start: ``parse_date`` within 1900-01-01 .. 2999-12-31."""
    day = parse_date(value, what=what)
    if not FIRST_PLAN_DAY <= day <= LAST_PLAN_DAY:
        raise InvalidInput(
            f"{what} {day.isoformat()} is out of range (from {FIRST_PLAN_DAY} to {LAST_PLAN_DAY})"
        )
    return day


def parse_moment(value: str, *, what: str = "date", end_of_day: bool = False) -> str:
    """A local date or date-time typed by a user -> stored UTC text.

    A bare date means the start of that day, or its last microsecond with
    ``end_of_day`` (so ``--as-of DAY`` includes everything that happened on DAY).
    """
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time.max if end_of_day else time.min)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{what} {value!r} is not a date or time (write YYYY-MM-DD or YYYY-MM-DD HH:MM)"
        ) from None
    if not datetime(1900, 1, 1) <= moment.replace(tzinfo=None) <= datetime(9999, 1, 1):
        raise InvalidInput(f"{what} {value!r} is out of range")
    return stamp(moment)


def local(stored: str | None) -> str:
    """Stored UTC text -> local ``YYYY-MM-DD HH:MM:SS`` for display."""
    if not stored:
        return ""
    moment = datetime.strptime(stored, _STORED).replace(tzinfo=UTC).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def days_after(day: date, n: int) -> date:
    return day + timedelta(days=n)
