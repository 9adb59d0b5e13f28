"""Work centres: where routing stages are done, and how much working time they have.

A *work centre* (``ASSY``, ``PAINT``, ``QC``) has ``machines`` identical machines (or
people) working in parallel, one shift a day that starts at ``day_start`` (minutes
after midnight) and lasts that weekday's working minutes (``minutes[0]`` Monday ...
``minutes[6]`` Sunday), and an hourly cost ``rate`` per machine-hour (exact money,
stored in millionths; None when not set). Users give working time in hours per
weekday (see ``parse_hours``); it is stored as whole minutes, and hours that are not
a whole number of minutes are refused rather than rounded.

*Downtime windows* (maintenance, holidays) are local date-times ``[from, to)`` with a
reason; windows may overlap. ``capacity`` returns what the scheduler needs for every
active work centre, as plain data.

A routing stage names its work centre by code; a stage may name a centre that is not
defined yet (``mfgctl check`` can flag it).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes
from mfgctl.errors import InvalidInput, NotFound, RuleViolation

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_MACHINES = 1000
DEFAULT_MINUTES = (480, 480, 480, 480, 480, 0, 0)
DEFAULT_DAY_START = 480  # 08:00
KEYS = ("code", "name", "machines", "hours", "day_start", "rate", "active", "downtime")
DOWN_KEYS = ("from", "to", "reason")
HOURS_SYNTAX = "8 (Monday to Friday), 8,8,8,8,6,0,0 (Monday first) or mon-thu=8,fri=6"

COLUMNS = [
    "code", "name", "machines", "day_start", "hours", "week_hours", "capacity_hours",
    "rate", "active",
]  # fmt: skip
DOWN_COLUMNS = ["id", "workcenter", "from", "to", "hours", "reason", "user"]


# -- records -------------------------------------------------------------------------------


def _hours(minutes: int) -> Decimal:
    """Minutes as exact hours (7.5); a count that is no finite decimal of hours (10 min)
    is shown to a millionth."""
    value = Decimal(minutes) / 60
    return value if minutes % 3 == 0 else value.quantize(Decimal("0.000001"))


def clock(minutes: int) -> str:
    """Minutes after midnight as ``HH:MM``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class WorkCentre:
    """A work centre. ``minutes``: working minutes per weekday, Monday first."""

    code: str
    name: str
    machines: int = 1
    day_start: int = DEFAULT_DAY_START
    minutes: tuple[int, ...] = DEFAULT_MINUTES
    rate: Decimal | None = None  # money per machine-hour
    active: bool = True
    id: int | None = None

    @property
    def hours(self) -> list[Decimal]:
        return [_hours(m) for m in self.minutes]

    def as_row(self) -> dict[str, Any]:
        week = sum(self.minutes)
        return {
            "code": self.code,
            "name": self.name,
            "machines": self.machines,
            "day_start": clock(self.day_start),
            "hours": self.hours,
            "week_hours": _hours(week),
            "capacity_hours": _hours(week * self.machines),
            "rate": self.rate,
            "active": self.active,
        }

    def to_fields(self) -> dict[str, Any]:
        """The import keys, defaults left out (as ``export`` writes them)."""
        out: dict[str, Any] = {"code": self.code, "name": self.name}
        if self.machines != 1:
            out["machines"] = self.machines
        if self.minutes != DEFAULT_MINUTES:
            weekdays = set(self.minutes[:5])
            if len(weekdays) == 1 and self.minutes[5:] == (0, 0):
                out["hours"] = _hours(self.minutes[0])
            else:
                out["hours"] = self.hours
        if self.day_start != DEFAULT_DAY_START:
            out["day_start"] = clock(self.day_start)
        if self.rate is not None:
            out["rate"] = self.rate
        if not self.active:
            out["active"] = False
        return out

    def same(self, other: WorkCentre) -> bool:
        return replace(self, id=None) == replace(other, id=None)


@dataclass(frozen=True, slots=True)
class Downtime:
    """A downtime window of a work centre: local date-times [start, end)."""

    start: datetime
    end: datetime
    reason: str
    id: int | None = None
    workcenter: str = ""
    user: str = ""

    def key(self) -> tuple[datetime, datetime, str]:
        return (self.start, self.end, self.reason)

    def as_row(self) -> dict[str, Any]:
        minutes = int((self.end - self.start).total_seconds()) // 60
        return {
            "id": self.id,
            "workcenter": self.workcenter,
            "from": moment_text(self.start),
            "to": moment_text(self.end),
            "hours": _hours(minutes),
            "reason": self.reason,
            "user": self.user,
        }

    def to_fields(self) -> dict[str, Any]:
        return {"from": moment_text(self.start), "to": moment_text(self.end), "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Capacity:
    """What the scheduler needs of one active work centre (plain data)."""

    code: str
    machines: int
    day_start: int  # minutes after midnight
    minutes: tuple[int, ...]  # working minutes per weekday, Monday first
    downtime: tuple[tuple[datetime, datetime], ...]  # [from, to), naive local, by from


# -- parsing -------------------------------------------------------------------------------


def _day_minutes(value: object, what: str) -> int:
    hours = q.parse_decimal(value, what=what)
    if hours < 0:
        raise InvalidInput(f"{what} must not be negative, got {q.fmt(hours)}")
    if hours > 24:
        raise InvalidInput(f"{what} {q.fmt(hours)} is more than 24 hours in a day")
    minutes = hours * 60
    if minutes != minutes.to_integral_value():
        raise InvalidInput(
            f"{what} {q.fmt(hours)} hours is not a whole number of minutes "
            f"({q.fmt(minutes)}); give hours in steps of 0.05 (3 minutes), like 7.5 or 7.75"
        )
    return int(minutes)


_NAMED = re.compile(r"(?P<a>[a-z]+)(-(?P<b>[a-z]+))?=(?P<h>.*)")


def parse_hours(value: object, *, what: str = "--hours") -> tuple[int, ...]:
    """Working hours per weekday as minutes, Monday first.

    ``8``: 8 hours Monday to Friday, none at the weekend; ``8,8,8,8,6,0,0``: seven
    values, Monday first; ``mon-thu=8,fri=6``: named days or ranges of days (the days
    not named have none). A list of seven numbers (from YAML) is taken as the second
    form. Hours may be decimals (7.5) but must be whole minutes, from 0 to 24 a day,
    and some day must have working time.

    Raises:
        InvalidInput: naming ``what`` and the bad part.
    """
    if isinstance(value, list | tuple):
        parts: list[object] = list(value)
        if len(parts) != 7:
            raise InvalidInput(f"{what} must list 7 values (Monday first), got {len(parts)}")
        minutes = [_day_minutes(v, f"{what}[{n}] ({DAYS[n]})") for n, v in enumerate(parts)]
    elif isinstance(value, str) and "=" in value:
        minutes = _named_hours(value, what)
    elif isinstance(value, str) and "," in value:
        parts = [p.strip() for p in value.split(",")]
        if len(parts) != 7:
            raise InvalidInput(
                f"{what} {value.strip()!r} has {len(parts)} values; give 7 (Monday first) "
                f"or one of: {HOURS_SYNTAX}"
            )
        minutes = [_day_minutes(v, f"{what} {DAYS[n]}") for n, v in enumerate(parts)]
    elif isinstance(value, str | int | Decimal) and not isinstance(value, bool):
        try:
            each = _day_minutes(value, what)
        except InvalidInput as e:
            if isinstance(value, str) and not re.fullmatch(r"\s*[-+.0-9]+\s*", value):
                raise InvalidInput(
                    f"{what} {value.strip()!r} is not working hours; write {HOURS_SYNTAX}"
                ) from None
            raise e from None
        minutes = [each] * 5 + [0, 0]
    else:
        raise InvalidInput(f"{what} must be hours like {HOURS_SYNTAX}")
    if not any(minutes):
        raise InvalidInput(
            f"{what}: no working time on any day; a work centre needs some "
            "(to stop using one, deactivate it: mfgctl workcenter update CODE --inactive)"
        )
    return tuple(minutes)


_DAY_NAMES = {
    **{d: n for n, d in enumerate(DAYS)},
    **{d: n for n, d in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday",
                                   "saturday", "sunday"))},
}  # fmt: skip


def _day(name: str, what: str) -> int:
    found = _DAY_NAMES.get(name.strip().lower())
    if found is None:
        raise InvalidInput(
            f"{what}: {name.strip()!r} is not a weekday (mon tue wed thu fri sat sun)"
        )
    return found


def _named_hours(value: str, what: str) -> list[int]:
    minutes = [0] * 7
    given: dict[int, str] = {}
    for part in value.split(","):
        found = _NAMED.fullmatch(part.strip().lower())
        if found is None:
            raise InvalidInput(
                f"{what}: {part.strip()!r} must be DAY=HOURS or DAY-DAY=HOURS "
                "(like mon-thu=8,fri=6)"
            )
        first = _day(found["a"], what)
        last = _day(found["b"], what) if found["b"] else first
        if last < first:
            raise InvalidInput(
                f"{what}: {part.strip()!r}: a range of days goes from Monday towards Sunday "
                f"(like mon-fri or sat-sun)"
            )
        each = _day_minutes(found["h"], f"{what} {part.strip()}")
        for d in range(first, last + 1):
            if d in given:
                raise InvalidInput(f"{what}: {DAYS[d]} is given twice ({given[d]}, {part.strip()})")
            given[d] = part.strip()
            minutes[d] = each
    return minutes


def parse_clock(value: object, *, what: str = "--day-start") -> int:
    """``HH:MM`` (06:00, 6:00, 22:30) as minutes after midnight."""
    text = value.strip() if isinstance(value, str) else None
    found = re.fullmatch(r"([0-9]{1,2}):([0-9]{2})", text or "")
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        raise InvalidInput(f"{what} {value!r} is not a time of day (write HH:MM, like 06:00)")
    return int(found[1]) * 60 + int(found[2])


def parse_machines(value: object, *, what: str = "--machines") -> int:
    """A number of machines (or people) from 1 to 1000."""
    number: object = value
    whole_text = isinstance(value, str) and re.fullmatch(r"\s*[-+]?[0-9]{1,9}\s*", value)
    whole_decimal = isinstance(value, Decimal) and value == value.to_integral_value()
    if whole_text or whole_decimal:
        number = int(value)  # type: ignore[arg-type]
    if isinstance(number, bool) or not isinstance(number, int):
        shown = q.fmt(value) if isinstance(value, Decimal) else repr(value)
        raise InvalidInput(f"{what} must be a whole number from 1 to {MAX_MACHINES}, not {shown}")
    if not 1 <= number <= MAX_MACHINES:
        raise InvalidInput(f"{what} must be from 1 to {MAX_MACHINES}, got {number}")
    return number


def parse_rate(value: object, *, what: str = "--rate") -> Decimal:
    """Money per machine-hour: an exact decimal, not negative, at most six decimals."""
    rate = q.parse_qty(value, what=what, allow_zero=True)
    q.to_micro(rate, what=what)
    return rate


_MOMENT = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})([ T]([0-9]{2}):([0-9]{2}))?")


def parse_moment(value: object, *, what: str) -> datetime:
    """A local date-time ``YYYY-MM-DD HH:MM`` (or a date, meaning its 00:00), naive."""
    if isinstance(value, datetime):
        if value.tzinfo is not None or value.second or value.microsecond:
            raise InvalidInput(f"{what} {value} must be a local time in whole minutes")
        timefmt.parse_plan_date(value.date(), what=what)
        return value
    if isinstance(value, date):
        timefmt.parse_plan_date(value, what=what)
        return datetime(value.year, value.month, value.day)
    found = _MOMENT.fullmatch(value.strip()) if isinstance(value, str) else None
    try:
        if found is None:
            raise ValueError
        day = date.fromisoformat(found[1])
        hour, minute = (int(found[3]), int(found[4])) if found[2] else (0, 0)
        moment = datetime(day.year, day.month, day.day, hour, minute)
    except ValueError:
        raise InvalidInput(
            f"{what} {value!r} is not a date or time (write YYYY-MM-DD or YYYY-MM-DD HH:MM)"
        ) from None
    # Year 1 would be stored as "1-01-01" (strftime does not pad it) and break every
    # later read; the scheduler's calendar arithmetic overflows near 9999.
    timefmt.parse_plan_date(moment.date(), what=what)
    return moment


def moment_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def build(code: object, fields: Mapping[str, Any], *, where: str = "") -> WorkCentre:
    """A work centre from import keys (``name``, ``machines``, ``hours``, ``day_start``,
    ``rate``, ``active``); missing keys take their defaults.

    Raises:
        InvalidInput: naming ``where + key``.
    """
    wc_code = codes.code(code, what=f"{where}code")
    name = codes.text(fields.get("name"), what=f"{where}name", required=False)
    active = fields.get("active", True)
    if not isinstance(active, bool):
        raise InvalidInput(f"{where}active must be true or false, not {active!r}")
    rate = fields.get("rate")
    return WorkCentre(
        code=wc_code,
        name=name or wc_code,
        machines=parse_machines(fields.get("machines", 1), what=f"{where}machines"),
        day_start=(
            DEFAULT_DAY_START
            if fields.get("day_start") is None
            else parse_clock(fields["day_start"], what=f"{where}day_start")
        ),
        minutes=(
            DEFAULT_MINUTES
            if fields.get("hours") is None
            else parse_hours(fields["hours"], what=f"{where}hours")
        ),
        rate=None if rate is None else parse_rate(rate, what=f"{where}rate"),
        active=active,
    )


def build_down(raw: Mapping[str, Any], *, where: str = "") -> Downtime:
    """A downtime window from ``from``, ``to`` and ``reason``.

    Raises:
        InvalidInput: a bad or missing value, ``to`` not after ``from``.
    """
    for key in DOWN_KEYS:
        if raw.get(key) is None:
            raise InvalidInput(f"{where}{key}: missing: a downtime window needs from, to, reason")
    start = parse_moment(raw["from"], what=f"{where}from")
    end = parse_moment(raw["to"], what=f"{where}to")
    reason = codes.text(raw["reason"], what=f"{where}reason")
    if end <= start:
        named = "--from" if where == "--" else "from"
        raise InvalidInput(
            f"{where}to {moment_text(end)} must be after {named} {moment_text(start)}"
        )
    return Downtime(start, end, reason or "")


# -- reading -------------------------------------------------------------------------------

_SELECT = "SELECT id, code, name, machines, day_start, minutes, rate, active FROM workcenter"


def _from_row(r: sqlite3.Row | tuple[Any, ...]) -> WorkCentre:
    return WorkCentre(
        id=r[0],
        code=r[1],
        name=r[2],
        machines=r[3],
        day_start=r[4],
        minutes=tuple(json.loads(r[5])),
        rate=q.from_micro(r[6]),
        active=bool(r[7]),
    )


def find(db: sqlite3.Connection, code: str) -> WorkCentre | None:
    row = db.execute(_SELECT + " WHERE code = ?", (str(code).strip(),)).fetchone()
    return None if row is None else _from_row(row)


def get(db: sqlite3.Connection, code: str) -> WorkCentre:
    """The work centre with this code (case-insensitive).

    Raises:
        NotFound: naming the known work centres.
    """
    found = find(db, code)
    if found is None:
        known = [r[0] for r in db.execute("SELECT code FROM workcenter ORDER BY code")]
        hint = f"work centres: {', '.join(known)}" if known else "none defined yet"
        hint += "; add one with mfgctl workcenter add" if not known else ""
        raise NotFound(f"unknown work centre {str(code).strip()!r} ({hint})")
    return found


def list_centres(db: sqlite3.Connection, *, include_inactive: bool = True) -> list[WorkCentre]:
    """Every work centre by code (active ones only when ``include_inactive`` is false)."""
    rows = db.execute(_SELECT + " ORDER BY code")
    return [c for c in map(_from_row, rows) if include_inactive or c.active]


_DOWN = """
    SELECT d.id, w.code, d.from_at, d.to_at, d.reason, d.user
      FROM workcenter_down AS d JOIN workcenter AS w ON w.id = d.workcenter_id
"""


def _down(r: sqlite3.Row | tuple[Any, ...]) -> Downtime:
    return Downtime(
        start=datetime.fromisoformat(r[2]),
        end=datetime.fromisoformat(r[3]),
        reason=r[4],
        id=r[0],
        workcenter=r[1],
        user=r[5],
    )


def downtime(db: sqlite3.Connection, centre: WorkCentre) -> list[Downtime]:
    """A work centre's downtime windows, by start."""
    rows = db.execute(_DOWN + " WHERE d.workcenter_id = ? ORDER BY d.from_at, d.id", (centre.id,))
    return [_down(r) for r in rows]


def show(db: sqlite3.Connection, code: str) -> tuple[WorkCentre, list[Downtime]]:
    """A work centre and its downtime windows."""
    centre = get(db, code)
    return centre, downtime(db, centre)


def capacity(db: sqlite3.Connection) -> list[Capacity]:
    """Every active work centre with its working time and downtime, for the scheduler."""
    windows: dict[str, list[tuple[datetime, datetime]]] = {}
    for r in db.execute(_DOWN + " WHERE w.active ORDER BY w.code, d.from_at, d.id"):
        d = _down(r)
        windows.setdefault(d.workcenter, []).append((d.start, d.end))
    return [
        Capacity(c.code, c.machines, c.day_start, c.minutes, tuple(windows.get(c.code, ())))
        for c in list_centres(db, include_inactive=False)
    ]


# -- writing -------------------------------------------------------------------------------


def _values(c: WorkCentre) -> tuple[Any, ...]:
    rate = None if c.rate is None else q.to_micro(c.rate, what="rate")
    return (c.name, c.machines, c.day_start, json.dumps(list(c.minutes)), rate, int(c.active))


def insert(db: sqlite3.Connection, centre: WorkCentre) -> WorkCentre:
    cur = db.execute(
        "INSERT INTO workcenter (name, machines, day_start, minutes, rate, active, code, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (*_values(centre), centre.code, timefmt.now()),
    )
    return replace(centre, id=cur.lastrowid)


def store_update(db: sqlite3.Connection, centre: WorkCentre) -> None:
    db.execute(
        "UPDATE workcenter SET name = ?, machines = ?, day_start = ?, minutes = ?, rate = ?, "
        "active = ? WHERE id = ?",
        (*_values(centre), centre.id),
    )


def add(
    db: sqlite3.Connection,
    code: str,
    *,
    name: str | None = None,
    machines: object = 1,
    hours: object = None,
    day_start: object = None,
    rate: object = None,
) -> WorkCentre:
    """Add a work centre (defaults: 1 machine, 8 hours Monday to Friday from 08:00).

    Raises:
        InvalidInput: a bad value (named as its option).
        RuleViolation: the code exists.
    """
    wc_code = codes.code(code, what="work centre code")
    centre = WorkCentre(
        code=wc_code,
        name=codes.text(name, what="--name", required=False) or wc_code,
        machines=parse_machines(machines),
        day_start=DEFAULT_DAY_START if day_start is None else parse_clock(day_start),
        minutes=DEFAULT_MINUTES if hours is None else parse_hours(hours),
        rate=None if rate is None else parse_rate(rate),
    )
    existing = find(db, wc_code)
    if existing is not None:
        raise RuleViolation(
            f"work centre {existing.code} already exists "
            f"(change it with mfgctl workcenter update {existing.code})"
        )
    return insert(db, centre)


def update(
    db: sqlite3.Connection,
    code: str,
    *,
    name: str | None = None,
    machines: object = None,
    hours: object = None,
    day_start: object = None,
    rate: object = None,
    active: bool | None = None,
) -> tuple[WorkCentre, list[str]]:
    """Change the given fields of a work centre; returns it and the changed fields.

    Raises:
        NotFound: unknown work centre.
        InvalidInput: nothing to change, or a bad value.
    """
    given = {
        "name": name,
        "machines": machines,
        "hours": hours,
        "day_start": day_start,
        "rate": rate,
        "active": active,
    }
    if all(v is None for v in given.values()):
        raise InvalidInput(
            "nothing to change: give --name, --machines, --hours, --day-start, --rate, "
            "--active or --inactive"
        )
    old = get(db, code)
    new = old
    if name is not None:
        new = replace(new, name=codes.text(name, what="--name") or old.name)
    if machines is not None:
        new = replace(new, machines=parse_machines(machines))
    if hours is not None:
        new = replace(new, minutes=parse_hours(hours))
    if day_start is not None:
        new = replace(new, day_start=parse_clock(day_start))
    if rate is not None:
        new = replace(new, rate=parse_rate(rate))
    if active is not None:
        new = replace(new, active=active)
    before, after = old.as_row(), new.as_row()
    changed = [k for k in before if before[k] != after[k] and k not in _DERIVED]
    if changed:
        store_update(db, new)
    return new, changed


_DERIVED = ("week_hours", "capacity_hours")


def add_down(
    db: sqlite3.Connection,
    code: str,
    *,
    start: object,
    end: object,
    reason: object,
    user: str,
) -> Downtime:
    """Record a downtime window ``[start, end)`` of a work centre (overlaps allowed).

    Raises:
        NotFound: unknown work centre.
        InvalidInput: a bad date-time, ``end`` not after ``start``, no reason.
    """
    window = build_down(
        {"from": start, "to": end, "reason": reason if reason is None else str(reason)},
        where="--",
    )
    centre = get(db, code)
    return insert_down(db, centre, window, user=user)


def remove_down(db: sqlite3.Connection, code: str, window_id: object) -> Downtime:
    """Remove a downtime window of a work centre (the maintenance was called off, the
    holiday moved): the scheduler counts those hours as working time again.

    Raises:
        NotFound: unknown work centre, or no window with that id on it.
        InvalidInput: an id that is not a whole number.
    """
    centre = get(db, code)
    text = str(window_id).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise InvalidInput(f"downtime window must be a number (its id), not {window_id!r}")
    found = db.execute(
        _DOWN + " WHERE d.workcenter_id = ? AND d.id = ?", (centre.id, int(text))
    ).fetchone()
    if found is None:
        raise NotFound(
            f"work centre {centre.code} has no downtime window {int(text)} "
            f"(mfgctl workcenter show {centre.code} lists them)"
        )
    db.execute("DELETE FROM workcenter_down WHERE id = ?", (found[0],))
    return _down(found)


def insert_down(
    db: sqlite3.Connection, centre: WorkCentre, window: Downtime, *, user: str
) -> Downtime:
    cur = db.execute(
        "INSERT INTO workcenter_down (workcenter_id, from_at, to_at, reason, user, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            centre.id,
            moment_text(window.start),
            moment_text(window.end),
            window.reason,
            user,
            timefmt.now(),
        ),
    )
    return replace(window, id=cur.lastrowid, workcenter=centre.code, user=user)


def store(
    db: sqlite3.Connection,
    centre: WorkCentre,
    windows: Sequence[Downtime] | None,
    *,
    user: str,
) -> tuple[str, int]:
    """Store an imported work centre and add its windows not stored yet.

    Returns ``added``, ``changed`` or ``unchanged`` and how many windows were added.
    A window equal (from, to, reason) to a stored one of the centre is not added again;
    stored windows the import does not name are kept.
    """
    old = find(db, centre.code)
    if old is None:
        stored = insert(db, centre)
        action = "added"
    else:
        stored = replace(centre, id=old.id, code=old.code)
        action = "unchanged" if old.same(stored) else "changed"
        if action == "changed":
            store_update(db, stored)
    known = {d.key() for d in downtime(db, stored)} if old is not None else set()
    added = 0
    for window in windows or ():
        if window.key() in known:
            continue
        known.add(window.key())
        insert_down(db, stored, window, user=user)
        added += 1
    if added and action == "unchanged":
        action = "changed"
    return action, added
