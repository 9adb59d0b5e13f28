"""Items: anything stocked or made, and the units it is counted in.

An item is counted in one *base unit*; its extra units convert to the base unit by an
exact factor (``reel: 5000`` means one reel is 5000 base units). Codes are unique,
trimmed and compared case-insensitively. The same field names are used by
``item add/update`` (as ``--options``), by YAML import/export (as keys) and by JSON
output, so one definition below validates all three.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl.domain import codes
from mfgctl.errors import InvalidInput, MfgError, NotFound, RuleViolation
from mfgctl.timefmt import parse_date

TYPES = ("raw", "component", "subassembly", "finished", "packaging")
MAKE_OR_BUY = ("make", "buy")
METHODS = ("make_to_stock", "make_to_order", "assemble_to_order")
TRACKING = ("none", "lot", "serial")
LOT_SIZING = ("lot_for_lot", "fixed", "period")


@dataclass(frozen=True, slots=True)
class Item:
    """One item with its planning data. Quantities are in the base unit."""

    code: str
    name: str
    type: str
    unit: str
    make_or_buy: str
    units: dict[str, Decimal] = field(default_factory=dict)
    method: str | None = None
    tracking: str = "none"
    purchase_lead_time_days: int = 0
    mfg_lead_time_days: int = 0
    moq: Decimal | None = None
    max_order_qty: Decimal | None = None
    order_multiple: Decimal | None = None
    safety_stock: Decimal = Decimal(0)
    lot_sizing: str = "lot_for_lot"
    fixed_order_qty: Decimal | None = None
    period_days: int | None = None
    cost: Decimal | None = None
    inspect_on_receipt: bool = False
    release_criteria: tuple[str, ...] = ()
    planning_reviewed: str | None = None
    active: bool = True
    serial_pattern: str | None = None
    backflush: bool = False
    id: int = 0

    @property
    def lead_time_days(self) -> int:
        """The lead time that applies: purchase for buy items, manufacturing for make."""
        if self.make_or_buy == "buy":
            return self.purchase_lead_time_days
        return self.mfg_lead_time_days

    def factor(self, unit: str | None) -> Decimal:
        """Base units in one ``unit``; raises InvalidInput if it cannot convert."""
        return unit_factor_of(self.code, self.unit, self.units, unit)

    def to_base(self, amount: Decimal, unit: str | None) -> Decimal:
        return amount * self.factor(unit)

    def as_dict(self) -> dict[str, Any]:
        """Every field, in import-key order (both lead times spelled out)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "id"}

    def as_row(self) -> dict[str, Any]:
        """The columns of ``item list`` (ROW_COLUMNS)."""
        return {c: getattr(self, c) for c in ROW_COLUMNS}


# The columns of an item's row in ``item list``, also its header when nothing matches.
ROW_COLUMNS = (
    "code",
    "name",
    "type",
    "unit",
    "make_or_buy",
    "tracking",
    "lead_time_days",
    "safety_stock",
    "cost",
    "active",
)


def check_whole(item: Item, amount: Decimal, *, what: str = "quantity") -> None:
    """A serial-tracked item counts whole units (each unit is one serial): refuse a
    fraction of one (``amount`` in the base unit) where it is ordered or demanded.

    Raises:
        InvalidInput: a serial-tracked item and a quantity that is not whole.
    """
    if item.tracking == "serial" and amount != amount.to_integral_value():
        raise InvalidInput(
            f"{item.code} is serial-tracked: {what} {q.fmt(amount)} {item.unit} must be a "
            "whole number of units (one serial each)"
        )


def whole_up(item: Item, amount: Decimal) -> Decimal:
    """``amount`` of ``item`` in the units it moves in: a serial-tracked item's rounded up
    to whole units (each unit is one serial, never split), any other's as it is."""
    if item.tracking == "serial":
        return amount.to_integral_value(rounding=ROUND_CEILING)
    return amount


def rescheduled(
    db: sqlite3.Connection,
    item: str,
    *,
    due: object,
    qty: object,
    unit: str | None,
    due_on: str,
    current: Decimal,
) -> tuple[str, Decimal]:
    """The due date (ISO) and base-unit quantity an update of an open demand or order of
    ``item`` gives it: ``due``, ``qty`` in ``unit`` (default the base unit), each kept
    as it was (``due_on``, ``current``) when not given.

    Raises:
        InvalidInput: nothing given, ``unit`` without ``qty``, a bad date or quantity, a
            unit that does not convert, a fraction of a serial-tracked item.
    """
    from mfgctl.timefmt import parse_plan_date

    if unit is not None and qty is None:
        raise InvalidInput(f"--unit {unit} is the unit of --qty: give --qty too")
    if due is None and qty is None:
        raise InvalidInput("give --due DATE or --qty Q (or both): nothing to change")
    new_due = due_on if due is None else parse_plan_date(due, what="--due").isoformat()
    if qty is None:
        return new_due, current
    it = get(db, item)
    amount = it.to_base(q.parse_qty(qty), unit)
    q.to_micro(amount, what=f"quantity in {it.unit}")
    check_whole(it, amount)
    return new_due, amount


def unit_factor_of(
    code: str, base_unit: str, units: dict[str, Decimal], unit: str | None
) -> Decimal:
    """Base units of item ``code`` in one ``unit`` (None: the base unit itself).

    Raises:
        InvalidInput: the unit cannot convert.
    """
    if unit is None:
        return Decimal(1)
    found = q.unit_factor(unit, base_unit, units)
    if found is None:
        raise InvalidInput(
            f"unit {unit!r} cannot convert to {code}'s base unit {base_unit!r}"
            + (f" (known: {', '.join([base_unit, *units])})" if units else "")
        )
    return found


# -- parsing one field ---------------------------------------------------------------


def _choice(options: tuple[str, ...]) -> Callable[[object, str], str]:
    def parse(value: object, what: str) -> str:
        text = str(value).strip().lower().replace("-", "_") if isinstance(value, str) else value
        if text not in options:
            raise InvalidInput(f"{what} must be one of {', '.join(options)}; got {value!r}")
        return text  # type: ignore[return-value]

    return parse


def _days(value: object, what: str) -> int:
    text = str(value).strip() if isinstance(value, int | str | Decimal) else ""
    if isinstance(value, bool) or not text.isascii() or not text.isdigit() or len(text) > 5:
        # A Decimal as written (the YAML ``1.0`` is not ``1``), plain text otherwise.
        shown = str(value) if isinstance(value, Decimal) else repr(value)
        if len(shown) > 40:
            shown = shown[:37] + "..."
        raise InvalidInput(f"{what} must be a whole number of days (0-99999), not {shown}")
    return int(text)


def _positive_days(value: object, what: str) -> int | None:
    if value is None:
        return None
    days = _days(value, what)
    if days == 0:
        raise InvalidInput(f"{what} must be at least 1 day")
    return days


def _opt_qty(value: object, what: str) -> Decimal | None:
    return None if value is None else q.parse_qty(value, what=what)


def _qty0(value: object, what: str) -> Decimal:
    return q.parse_qty(value, what=what, allow_zero=True)


def _money(value: object, what: str) -> Decimal | None:
    return None if value is None else q.parse_qty(value, what=what, allow_zero=True)


def _bool(value: object, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise InvalidInput(f"{what} must be true or false, not {value!r}")


def _units(value: object, what: str) -> dict[str, Decimal]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{what} must be a mapping of unit: factor (like reel: 5000)")
    result: dict[str, Decimal] = {}
    for name, factor in value.items():
        unit = q.parse_unit(name, what=f"{what} name")
        if unit.lower() in (u.lower() for u in result):
            raise InvalidInput(f"{what}: unit {unit!r} given twice")
        result[unit] = q.parse_qty(factor, what=f"{what}.{unit} factor")
        q.to_micro(result[unit], what=f"{what}.{unit} factor")
    return result


def _criteria(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list | tuple):
        raise InvalidInput(f"{what} must be a list of names")
    names: list[str] = []
    for v in value:
        name = codes.code(v, what=f"{what} entry").lower()
        if name in names:
            raise InvalidInput(f"{what}: {name!r} given twice")
        names.append(name)
    return tuple(names)


def _serial_pattern(value: object, what: str) -> str | None:
    """How completion numbers serials: text with ``{yyyy}``, ``{yy}``, ``{mm}`` and one
    ``{seq}`` or ``{seq:05}`` (zero-padded to 5), e.g. ``HD200-{yyyy}-{seq:05}``. The
    serials it gives must be valid serials (``codes.lot_code``): its text only the
    characters a serial may contain, and not longer than a serial may be."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = codes.text(value, what=what)
    assert text is not None
    rest = re.sub(r"\{(yyyy|yy|mm|seq(:0?[0-9]+)?)\}", "", text)
    if "{" in rest or "}" in rest:
        raise InvalidInput(
            f"{what} {text!r}: only {{yyyy}}, {{yy}}, {{mm}} and {{seq:05}} may be used"
        )
    widths = re.findall(r"\{seq(?::0?([0-9]+))?\}", text)
    if len(widths) != 1:
        raise InvalidInput(f"{what} {text!r} needs exactly one {{seq}} (like {{seq:05}})")
    # What it gives must be a serial, or every completion would refuse it: checked on
    # serial number 1 (the number padded to its width, dates at their fixed widths).
    width = int(widths[0] or 1)
    if width > codes.MAX_LOT:  # refused before the padding is made, however wide
        raise InvalidInput(
            f"{what} {text!r}: the number is padded to {width} digits, but a serial has at "
            f"most {codes.MAX_LOT} characters"
        )
    # Imported here: production imports this module.
    from mfgctl.domain.production import format_serial

    codes.lot_code(format_serial(text, 1, date.today()), what=f"{what} {text!r}: serial")
    return text


def _date_text(value: object, what: str) -> str | None:
    return None if value is None else parse_date(value, what=what).isoformat()


PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "name": lambda v, w: codes.text(v, what=w),
    "type": _choice(TYPES),
    "unit": lambda v, w: q.parse_unit(v, what=w),
    "units": _units,
    "make_or_buy": _choice(MAKE_OR_BUY),
    "method": lambda v, w: None if v is None else _choice(METHODS)(v, w),
    "tracking": _choice(TRACKING),
    "lead_time_days": _days,
    "purchase_lead_time_days": _days,
    "mfg_lead_time_days": _days,
    "moq": _opt_qty,
    "max_order_qty": _opt_qty,
    "order_multiple": _opt_qty,
    "safety_stock": _qty0,
    "lot_sizing": _choice(LOT_SIZING),
    "fixed_order_qty": _opt_qty,
    "period_days": _positive_days,
    "cost": _money,
    "inspect_on_receipt": _bool,
    "release_criteria": _criteria,
    "planning_reviewed": _date_text,
    "active": _bool,
    "serial_pattern": _serial_pattern,
    "backflush": _bool,
}
KEYS = ("code", *PARSERS)
REQUIRED = ("name", "type", "unit", "make_or_buy")


def parse_fields(raw: Mapping[str, Any], *, where: str = "") -> dict[str, Any]:
    """Validate item fields given by name (YAML keys or CLI options).

    Returns typed values; raises InvalidInput naming the field (prefixed by ``where``).
    """
    result: dict[str, Any] = {}
    for key, value in raw.items():
        what = f"{where}{key}"
        if key not in PARSERS:
            raise InvalidInput(f"unknown item field {what!r} (known: {', '.join(KEYS)})")
        result[key] = PARSERS[key](value, what)
    return result


def _merge(base: Item, changes: Mapping[str, Any], *, where: str = "") -> Item:
    """Apply parsed changes to an item and check the rules between fields."""
    changes = dict(changes)
    make_or_buy = changes.get("make_or_buy", base.make_or_buy)
    if "lead_time_days" in changes:
        which = "purchase_lead_time_days" if make_or_buy == "buy" else "mfg_lead_time_days"
        if which in changes:
            raise InvalidInput(f"{where}give lead_time_days or {which}, not both")
        changes[which] = changes.pop("lead_time_days")
    item = replace(base, **changes)
    _refuse_unit_conflicts(item, base, rebased="unit" in changes, where=where)
    if item.make_or_buy == "make" and item.method is None:
        item = replace(item, method="make_to_stock")
    if item.make_or_buy == "buy" and item.method is not None:
        if "method" in changes:
            raise InvalidInput(f"{where}method applies to make items only ({item.code} is buy)")
        item = replace(item, method=None)
    if item.lot_sizing == "fixed" and item.fixed_order_qty is None:
        raise InvalidInput(f"{where}lot_sizing fixed needs fixed_order_qty")
    if item.lot_sizing == "period" and item.period_days is None:
        raise InvalidInput(f"{where}lot_sizing period needs period_days")
    if item.moq is not None and item.max_order_qty is not None and item.max_order_qty < item.moq:
        raise InvalidInput(
            f"{where}max_order_qty {q.fmt(item.max_order_qty)} is below moq {q.fmt(item.moq)}"
        )
    # MRP splits a fixed lot above the maximum into orders of the maximum, and those of
    # the last lot may serve nothing (a need of 30 with fixed 100, max 40: 40 + 40 + 20).
    # An order multiple above the maximum is allowed: MRP orders lots of one multiple,
    # each of which serves the need.
    if (
        item.lot_sizing == "fixed"
        and item.fixed_order_qty is not None
        and item.max_order_qty is not None
        and item.max_order_qty < item.fixed_order_qty
    ):
        raise InvalidInput(
            f"{where}max_order_qty {q.fmt(item.max_order_qty)} is below fixed_order_qty "
            f"{q.fmt(item.fixed_order_qty)}"
        )
    split = None
    if item.lot_sizing == "fixed":
        split = fixed_lot_split(
            item.fixed_order_qty, item.max_order_qty, item.moq, item.order_multiple
        )
    if split is not None:
        raise InvalidInput(f"{where}{split}")
    for key in ("moq", "max_order_qty", "order_multiple", "safety_stock", "fixed_order_qty"):
        value = getattr(item, key)
        if value is not None:
            q.to_micro(value, what=f"{where}{key}")
    return item


def fixed_lot_split(
    fixed: Decimal | None, cap: Decimal | None, moq: Decimal | None, m: Decimal | None
) -> str | None:
    """Why MRP would split each fixed lot of an item, or None: the lot as MRP orders it
    (raised to the minimum, rounded up to the order multiple) is above the largest order
    the maximum allows (rounded down to the multiple, never below one multiple), so the
    last part of a lot may serve nothing (fixed 40, multiple 25, max 40: 25 + 25)."""
    if fixed is None or cap is None:
        return None
    lot = max(fixed, moq or fixed)
    if m and lot % m:
        lot += m - lot % m
    largest = max(cap // m * m, m) if m else cap
    if lot <= largest:
        return None
    how = []
    if moq and fixed < moq:
        how.append(f"raised to moq {q.fmt(moq)}")
    if lot > max(fixed, moq or fixed):
        how.append(f"rounded up to order_multiple {q.fmt(m)}")
    what = f"fixed_order_qty {q.fmt(fixed)}"
    if how:
        what += f", ordered as {q.fmt(lot)} ({' and '.join(how)}),"
    limit = f"max_order_qty {q.fmt(cap)}"
    if largest != cap:
        limit = f"the largest order {limit} allows in multiples of {q.fmt(m)} ({q.fmt(largest)})"
    return f"{what} is above {limit}: MRP would split each fixed lot, and a part may serve nothing"


def _refuse_unit_conflicts(item: Item, base: Item, *, rebased: bool, where: str) -> None:
    """Refuse an own unit that redefines a unit (``qty.unit_conflict``): the ones given
    now, or all of them when the base unit changes. One stored before this rule is left
    for ``check`` to report (``unit_conflict``) and ``--remove-unit`` to drop."""
    for unit, factor in item.units.items():
        if not rebased and base.units.get(unit) == factor:
            continue
        reason = q.unit_conflict(unit, factor, item.unit)
        if reason is not None:
            raise InvalidInput(
                f"{where}units: {item.code} defines {reason}; leave {unit} out of its units "
                "(it converts by itself)"
            )


def merged_units(
    item: Item, given: Mapping[str, Decimal] | None, remove: Sequence[str] = ()
) -> dict[str, Decimal]:
    """The item's units with ``given`` ones added or re-factored and ``remove`` dropped
    (names compare without case; a given name keeps its new spelling).

    Raises:
        InvalidInput: a unit to remove that the item does not have, or one both given
            and removed.
    """
    units = dict(item.units)
    given = dict(given or {})

    def stored(name: str) -> str | None:
        return next((u for u in units if u.lower() == name.strip().lower()), None)

    for name in remove:
        if any(g.lower() == name.strip().lower() for g in given):
            raise InvalidInput(f"unit {name.strip()!r} is given in both --units and --remove-unit")
        found = stored(name)
        if found is None:
            known = ", ".join(units) if units else "none"
            raise InvalidInput(
                f"{item.code} has no unit {name.strip()!r} to remove (its units: {known})"
            )
        del units[found]
    for name, factor in given.items():
        found = stored(name)
        if found is not None:
            del units[found]
        units[name] = factor
    return units


def build(code: object, raw: Mapping[str, Any], *, where: str = "") -> Item:
    """A new Item from raw fields (validated), without touching the database."""
    item_code = codes.code(code, what=f"{where}item code")
    parsed = parse_fields(raw, where=where)
    missing = [k for k in REQUIRED if k not in parsed]
    if missing:
        raise InvalidInput(f"{where}item {item_code} needs {', '.join(missing)}")
    required = {k: parsed.pop(k) for k in REQUIRED}
    return _merge(Item(code=item_code, **required), parsed, where=where)


def revise(old: Item, raw: Mapping[str, Any], *, where: str = "") -> Item:
    """``old`` with the fields ``raw`` gives (validated as ``build`` does them, the
    rules between fields checked on the result), every field it leaves out kept: an
    import record updates a stored item field by field. ``units``, when given, is the
    item's whole list. As for ``item update``, only what changes is checked against the
    rules of entry (a unit stored before a rule is left for ``check`` to report)."""
    given = parse_fields(raw, where=where)
    lead_times = ("lead_time_days", "purchase_lead_time_days", "mfg_lead_time_days")
    changes = {k: v for k, v in given.items() if k in lead_times or getattr(old, k) != v}
    return _merge(old, changes, where=where)


def to_fields(item: Item) -> dict[str, Any]:
    """The item as import/export keys, leaving out values that are at their default."""
    out: dict[str, Any] = {"code": item.code}
    default = Item(code="", name="", type="", unit="", make_or_buy=item.make_or_buy)
    if item.make_or_buy == "make":
        default = replace(default, method="make_to_stock")
    for f in fields(Item):
        if f.name in ("code", "id"):
            continue
        value = getattr(item, f.name)
        if f.name in REQUIRED or value != getattr(default, f.name):
            out[f.name] = list(value) if isinstance(value, tuple) else value
    lead = "purchase_lead_time_days" if item.make_or_buy == "buy" else "mfg_lead_time_days"
    if lead in out:
        out["lead_time_days"] = out.pop(lead)
    return out


# -- data access -----------------------------------------------------------------------

_COLUMNS = (
    "code, name, type, unit, make_or_buy, method, tracking, purchase_lead_time_days, "
    "mfg_lead_time_days, moq, max_order_qty, order_multiple, safety_stock, lot_sizing, "
    "fixed_order_qty, period_days, std_cost, inspect_on_receipt, release_criteria, "
    "planning_reviewed_on, active, serial_pattern, backflush"
)
_SELECT = f"SELECT id, {_COLUMNS} FROM item"


def _values(item: Item) -> tuple[Any, ...]:
    def micro(v: Decimal | None) -> int | None:
        return None if v is None else q.to_micro(v)

    return (
        item.code,
        item.name,
        item.type,
        item.unit,
        item.make_or_buy,
        item.method,
        item.tracking,
        item.purchase_lead_time_days,
        item.mfg_lead_time_days,
        micro(item.moq),
        micro(item.max_order_qty),
        micro(item.order_multiple),
        micro(item.safety_stock),
        item.lot_sizing,
        micro(item.fixed_order_qty),
        item.period_days,
        micro(item.cost),
        int(item.inspect_on_receipt),
        json.dumps(list(item.release_criteria)),
        item.planning_reviewed,
        int(item.active),
        item.serial_pattern,
        int(item.backflush),
    )


def _from_row(row: sqlite3.Row, units: dict[str, Decimal]) -> Item:
    m = q.from_micro
    return Item(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        type=row["type"],
        unit=row["unit"],
        make_or_buy=row["make_or_buy"],
        units=units,
        method=row["method"],
        tracking=row["tracking"],
        purchase_lead_time_days=row["purchase_lead_time_days"],
        mfg_lead_time_days=row["mfg_lead_time_days"],
        moq=m(row["moq"]),
        max_order_qty=m(row["max_order_qty"]),
        order_multiple=m(row["order_multiple"]),
        safety_stock=q.dec(row["safety_stock"]),
        lot_sizing=row["lot_sizing"],
        fixed_order_qty=m(row["fixed_order_qty"]),
        period_days=row["period_days"],
        cost=m(row["std_cost"]),
        inspect_on_receipt=bool(row["inspect_on_receipt"]),
        release_criteria=tuple(json.loads(row["release_criteria"])),
        planning_reviewed=row["planning_reviewed_on"],
        active=bool(row["active"]),
        serial_pattern=row["serial_pattern"],
        backflush=bool(row["backflush"]),
    )


def _units_of(db: sqlite3.Connection, item_ids: list[int] | None = None) -> dict[int, dict]:
    units: dict[int, dict[str, Decimal]] = {}
    if item_ids is None:
        rows = db.execute("SELECT item_id, unit, factor FROM item_unit ORDER BY item_id, unit")
    else:
        marks = ", ".join("?" * len(item_ids))
        rows = db.execute(
            f"SELECT item_id, unit, factor FROM item_unit WHERE item_id IN ({marks}) "
            "ORDER BY item_id, unit",
            item_ids,
        )
    for item_id, unit, factor in rows:
        units.setdefault(item_id, {})[unit] = q.dec(factor)
    return units


def find(db: sqlite3.Connection, code: str) -> Item | None:
    """The item with this code (trimmed, any case), or None."""
    row = db.execute(f"{_SELECT} WHERE code = ?", (str(code).strip(),)).fetchone()
    if row is None:
        return None
    return _from_row(row, _units_of(db, [row["id"]]).get(row["id"], {}))


def get(db: sqlite3.Connection, code: str, *, active: bool = False) -> Item:
    """The item with this code; NotFound names close matches. ``active`` refuses inactive."""
    item = find(db, code)
    if item is None:
        raise NotFound(f"unknown item {str(code).strip()!r}{_suggest(db, str(code))}")
    if active and not item.active:
        raise RuleViolation(f"item {item.code} is deactivated: reactivate it with item update")
    return item


def _suggest(db: sqlite3.Connection, code: str) -> str:
    import difflib

    known = [r[0] for r in db.execute("SELECT code FROM item")]
    close = difflib.get_close_matches(code.strip().upper(), [k.upper() for k in known], n=3)
    by_upper = {k.upper(): k for k in known}
    return f" (did you mean {', '.join(by_upper[c] for c in close)}?)" if close else ""


def by_ids(db: sqlite3.Connection, item_ids: list[int]) -> list[Item]:
    """The items with these ids (for a few items, without loading the catalogue)."""
    if not item_ids:
        return []
    ids = sorted(set(item_ids))
    marks = ", ".join("?" * len(ids))
    units = _units_of(db, ids)
    return [
        _from_row(r, units.get(r["id"], {}))
        for r in db.execute(f"{_SELECT} WHERE id IN ({marks})", ids)
    ]


def all_items(db: sqlite3.Connection) -> list[Item]:
    """Every item, active or not, ordered by code."""
    units = _units_of(db)
    return [
        _from_row(r, units.get(r["id"], {}))
        for r in db.execute(f"{_SELECT} ORDER BY code COLLATE NOCASE")
    ]


def list_items(
    db: sqlite3.Connection,
    *,
    type: str | None = None,
    make_or_buy: str | None = None,
    include_inactive: bool = False,
    search: str | None = None,
) -> list[Item]:
    """Items filtered by type, make/buy, activity and a text search in code or name."""
    if type is not None:
        type = _choice(TYPES)(type, "--type")
    if make_or_buy is not None:
        make_or_buy = _choice(MAKE_OR_BUY)(make_or_buy, "--make-or-buy")
    needle = (search or "").strip().lower()
    return [
        i
        for i in all_items(db)
        if (include_inactive or i.active)
        and (type is None or i.type == type)
        and (make_or_buy is None or i.make_or_buy == make_or_buy)
        and (not needle or needle in i.code.lower() or needle in i.name.lower())
    ]


_INSERT_UNIT = "INSERT INTO item_unit (item_id, unit, factor) VALUES (?, ?, ?)"


def _write_units(db: sqlite3.Connection, item_id: int, units: dict[str, Decimal]) -> None:
    db.execute("DELETE FROM item_unit WHERE item_id = ?", (item_id,))
    db.executemany(_INSERT_UNIT, [(item_id, u, q.to_micro(f)) for u, f in units.items()])


def insert(db: sqlite3.Connection, item: Item) -> Item:
    """Store a new, already validated item."""
    existing = find(db, item.code)
    if existing is not None:
        raise RuleViolation(f"item {existing.code} already exists (use item update to change it)")
    marks = ", ".join("?" * len(_values(item)))
    cur = db.execute(f"INSERT INTO item ({_COLUMNS}) VALUES ({marks})", _values(item))
    _write_units(db, cur.lastrowid, item.units)  # type: ignore[arg-type]
    return replace(item, id=cur.lastrowid)  # type: ignore[arg-type]


# The stored codes among a JSON list of codes (any case: the column is NOCASE).
_TAKEN_CODES = "SELECT code FROM item WHERE code IN (SELECT value FROM json_each(?))"


def insert_many(db: sqlite3.Connection, new_items: Sequence[Item]) -> list[Item]:
    """Store new, already validated items in bulk: one ``executemany`` per table.

    The same rows ``insert`` writes, ids given in order after the highest stored one.

    Returns:
        The items with their ids.

    Raises:
        RuleViolation: a code is already stored or is given twice.
    """
    if not new_items:
        return []
    seen: set[str] = set()
    for item in new_items:
        if item.code.upper() in seen:
            raise RuleViolation(f"item {item.code} is given twice")
        seen.add(item.code.upper())
    taken = db.execute(_TAKEN_CODES, (json.dumps([i.code for i in new_items]),)).fetchone()
    if taken is not None:
        raise RuleViolation(f"item {taken[0]} already exists (use item update to change it)")
    first = db.execute("SELECT ifnull(max(id), 0) + 1 FROM item").fetchone()[0]
    stored = [replace(item, id=first + n) for n, item in enumerate(new_items)]
    marks = ", ".join("?" * (len(_values(stored[0])) + 1))
    db.executemany(
        f"INSERT INTO item (id, {_COLUMNS}) VALUES ({marks})",
        [(i.id, *_values(i)) for i in stored],
    )
    db.executemany(
        _INSERT_UNIT,
        [(i.id, u, q.to_micro(f)) for i in stored for u, f in i.units.items()],
    )
    return stored


def add(db: sqlite3.Connection, code: str, raw: Mapping[str, Any]) -> Item:
    """Create an item from raw fields (see PARSERS for the names)."""
    return insert(db, build(code, raw))


def has_moves(db: sqlite3.Connection, item_id: int) -> bool:
    return (
        db.execute("SELECT 1 FROM move WHERE item_id = ? LIMIT 1", (item_id,)).fetchone()
        is not None
    )


# One record, besides the ledger, that holds a quantity of the item in its base unit
# (cancelled and finished ones too: their history would be read in the new unit).
_COUNTED_IN_BASE = """
    SELECT 'demand ' || id FROM demand WHERE item_id = :item
    UNION ALL
    SELECT 'purchase order ' || id FROM purchase_order WHERE item_id = :item
    UNION ALL
    SELECT 'production order ' || id FROM production_order WHERE item_id = :item
    UNION ALL
    SELECT 'production order ' || order_id || ' (as a material)'
      FROM order_material WHERE item_id = :item
    LIMIT 1
"""


def _refuse_rebase(db: sqlite3.Connection, old: Item, new: Item) -> None:
    """A new base unit while stored quantities are counted in the old one: moves, or
    demand, purchase orders, production orders (``_COUNTED_IN_BASE``). They are not
    converted, so 500 g would read as 500 kg."""
    if new.unit.lower() == old.unit.lower():
        return
    rebase = f"cannot change the base unit of {old.code} from {old.unit} to {new.unit}"
    if has_moves(db, old.id):
        raise RuleViolation(f"{rebase}: it has stock moves counted in the old unit")
    record = db.execute(_COUNTED_IN_BASE, {"item": old.id}).fetchone()
    if record is not None:
        raise RuleViolation(
            f"{rebase}: {record[0]} counts it in {old.unit} (stored quantities are not converted)"
        )


def store_update(db: sqlite3.Connection, old: Item, new: Item) -> Item:
    """Write ``new`` over ``old`` (same code), refusing changes that would falsify stock.

    Raises:
        RuleViolation: a new base unit while moves, demand, purchase orders or production
            orders hold quantities in the old one; new tracking once it has moves; a
            deactivation with open work.
    """
    _refuse_rebase(db, old, new)
    if old.active and not new.active:
        _refuse_open_work(db, old)
    if new.tracking != old.tracking and has_moves(db, old.id):
        raise RuleViolation(
            f"cannot change tracking of {old.code} from {old.tracking} to {new.tracking}: "
            "it already has stock moves"
        )
    sets = ", ".join(f"{c.strip()} = ?" for c in _COLUMNS.split(","))
    db.execute(f"UPDATE item SET {sets} WHERE id = ?", (*_values(new), old.id))
    if new.units != old.units:
        _write_units(db, old.id, new.units)
    return replace(new, id=old.id)


# The BOM lines of one child item that can still be used, with the unit each is written
# in: the lines of active revisions, and of a revision an open production order that has
# not frozen its materials yet (a planned order: release explodes it) is made with.
# Active revisions first; ``order_id`` is that order (the lowest), NULL for an active one.
_LINES_OF_CHILD = """
    SELECT p.code, b.revision, bl.position, bl.unit,
           CASE WHEN b.active = 1 THEN NULL ELSE (
               SELECT min(o.id) FROM production_order AS o
                WHERE o.bom_id = b.id AND o.state IN ('planned', 'released', 'in_progress')
                  AND NOT EXISTS (SELECT 1 FROM order_material AS m WHERE m.order_id = o.id)
           ) END AS order_id
      FROM bom_line AS bl
      JOIN bom AS b ON b.id = bl.bom_id
      JOIN item AS p ON p.id = b.item_id
     WHERE bl.child_id = ? AND (b.active = 1 OR order_id IS NOT NULL)
     ORDER BY b.active DESC, p.code COLLATE NOCASE, b.revision COLLATE NOCASE, bl.position
"""


def refuse_units_in_use(db: sqlite3.Connection, old: Item, new: Item) -> None:
    """Refuse a change of ``old`` into ``new`` that would change (or break) what a stored
    BOM line requires of it; the one rule of ``item update`` and the import.

    The lines that count are those of active revisions and of a revision a planned
    production order is made with (``_LINES_OF_CHILD``); a released order has its own
    frozen copy. Such a line's unit must still convert, to as many base units as before:

    * an own unit it is written in is not removed, nor given another factor;
    * a new base unit: every line must convert to it, and where the old base unit
      converts to the new one (``g`` to ``kg``, or through a unit the item now defines)
      to the same amount (a ``reel: 5000`` of a ``g`` item becomes ``reel: 5`` of a
      ``kg`` one). Between unrelated kinds (``pcs`` to ``kg``) a line in an own unit
      takes the factor the item now gives it.

    Except a unit that redefined a built-in one (``unit_conflict``): dropping or
    correcting it is the fix, and the line converts through the built-in unit. A line
    that did not convert before is left to ``check`` (``bom_unit``).

    Raises:
        RuleViolation: naming the item, the unit and the first BOM line it breaks.
    """
    rebased = new.unit.lower() != old.unit.lower()
    kept = {u.lower(): f for u, f in new.units.items()}
    touched = {u.lower(): (u, f) for u, f in old.units.items() if kept.get(u.lower()) != f}
    if not touched and not rebased:
        return
    # One old base unit in new base units (None: unrelated kinds, not defined).
    step = q.unit_factor(old.unit, new.unit, new.units) if rebased else Decimal(1)
    for parent, revision, position, line_unit, order_id in db.execute(_LINES_OF_CHILD, (old.id,)):
        own = touched.get(line_unit.lower())
        if own is None and not rebased:
            continue
        before = q.unit_factor(line_unit, old.unit, old.units)
        after = q.unit_factor(line_unit, new.unit, new.units)
        if before is None:
            continue  # it did not convert before this change either: check's bom_unit
        if after is not None and (step is None or after == before * step):
            continue  # converts as before (or re-declared between unrelated kinds)
        if after is not None and own and q.unit_conflict(*own, old.unit) is not None:
            continue  # the fix of a unit_conflict: the line now converts as written
        if order_id is None:
            line = f"active BOM {parent} rev {revision} line {position}"
            then = "give that BOM a revision without it first"
        else:
            line = (
                f"BOM {parent} rev {revision} line {position} (planned production order "
                f"{order_id} is made with it)"
            )
            then = f"release or cancel production order {order_id} first"
        if rebased:
            what = f"change the base unit of {old.code} from {old.unit} to {new.unit}"
            if after is None:
                why = f"{line} is written in {line_unit}, which would not convert to {new.unit}"
            else:
                assert step is not None
                was = before * step
                why = (
                    f"{line} is written in {line_unit}: 1 {line_unit} = {q.fmt(before)} "
                    f"{old.unit} = {q.fmt(was)} {new.unit}, but would be {q.fmt(after)} "
                    f"{new.unit}"
                )
                if own is not None or line_unit.lower() in kept:
                    then = f"give {line_unit} the factor {q.fmt(was)} as well, or {then}"
        elif line_unit.lower() in kept:
            unit, factor = own  # type: ignore[misc]
            what = (
                f"change unit {unit} of {old.code} from {q.fmt(factor)} to "
                f"{q.fmt(kept[unit.lower()])} {new.unit}"
            )
            why = f"{line} is written in {line_unit}"
        else:
            unit, factor = own  # type: ignore[misc]
            what = f"remove unit {unit} of {old.code} (1 {unit} = {q.fmt(factor)} {old.unit})"
            why = f"{line} is written in {line_unit}"
        raise RuleViolation(f"cannot {what}: {why}; {then}")


def update(
    db: sqlite3.Connection,
    code: str,
    raw: Mapping[str, Any],
    *,
    remove_units: Sequence[str] = (),
) -> tuple[Item, list[str]]:
    """Change some fields of an item. Returns the item and the names of changed fields.

    ``units`` adds or re-factors the units it names and keeps the others;
    ``remove_units`` drops units by name.

    Raises:
        InvalidInput: a bad field, a unit that redefines one, a unit to remove it lacks.
        RuleViolation: a change stock, orders or a BOM forbid (a base unit with stored
            quantities, tracking with moves, a unit a BOM line needs as it is, open work
            of a deactivation).
    """
    old = get(db, code)
    if not raw and not remove_units:
        raise InvalidInput("nothing to update: give at least one field option")
    changes = parse_fields(raw)
    if "units" in changes or remove_units:
        changes["units"] = merged_units(old, changes.get("units"), remove_units)
    new = _merge(old, changes)
    changed = [f.name for f in fields(Item) if getattr(old, f.name) != getattr(new, f.name)]
    if changed:
        _refuse_rebase(db, old, new)  # before: stock forbids any new base unit
        refuse_units_in_use(db, old, new)
        new = store_update(db, old, new)
    return new, changed


@dataclass(frozen=True, slots=True)
class OpenWork:
    """An open record that plans or brings an item: demand, a purchase order or a
    production order of it. MRP leaves out a deactivated item's."""

    kind: str  # "sales demand", "forecast", "purchase order", "production order"
    id: int
    item: str
    qty: Decimal  # still open, in the base unit
    unit: str
    due_on: str
    state: str
    ref: str | None

    @property
    def name(self) -> str:
        """``sales demand 3``, ``purchase order 2``, ``production order 5``."""
        return f"{self.kind} {self.id}"

    @property
    def how_to_end(self) -> str:
        """The command that ends it: cancel, or finish a started order short."""
        if self.kind == "purchase order":
            return f"mfgctl purchase cancel {self.id}"
        if self.kind == "production order":
            if self.state == "in_progress":
                return f"mfgctl order complete {self.id} --final"
            return f"mfgctl order cancel {self.id}"
        return f"mfgctl demand cancel {self.id}"


# Open demand, open purchase orders (what is still to come) and production orders not
# yet completed: what the stock report's on_order and MRP count.
_OPEN_WORK = """
    SELECT CASE d.kind WHEN 'sales' THEN 'sales demand' ELSE 'forecast' END, d.id, i.code,
           d.qty, i.unit, d.due_on, d.state, d.ref, i.active
      FROM demand AS d JOIN item AS i ON i.id = d.item_id
     WHERE d.state = 'open' AND (:item IS NULL OR d.item_id = :item)
    UNION ALL
    SELECT 'purchase order', p.id, i.code, p.qty - p.received, i.unit, p.due_on, p.state,
           p.ref, i.active
      FROM purchase_order AS p JOIN item AS i ON i.id = p.item_id
     WHERE p.state = 'open' AND (:item IS NULL OR p.item_id = :item)
    UNION ALL
    SELECT 'production order', o.id, i.code, o.qty, i.unit, o.due_on, o.state, o.ref,
           i.active
      FROM production_order AS o JOIN item AS i ON i.id = o.item_id
     WHERE o.state IN ('planned', 'released', 'in_progress')
       AND (:item IS NULL OR o.item_id = :item)
"""
_WORK_ORDER = ("sales demand", "forecast", "purchase order", "production order")


def open_work(
    db: sqlite3.Connection, *, item: Item | None = None, inactive_only: bool = False
) -> list[OpenWork]:
    """Open demand, purchase orders and production orders: of ``item``, or of every
    item (only deactivated ones with ``inactive_only``), by item, kind and id."""
    rows = db.execute(_OPEN_WORK, {"item": item.id if item else None}).fetchall()
    found = [
        OpenWork(r[0], r[1], r[2], q.dec(r[3]), r[4], r[5], r[6], r[7])
        for r in rows
        if not (inactive_only and r[8])
    ]
    return sorted(found, key=lambda w: (w.item, _WORK_ORDER.index(w.kind), w.id))


@dataclass(frozen=True, slots=True)
class MaterialNeed:
    """What an open production order still lacks of one material: its requirement (the
    frozen one once released, else exploded from the revision it is made with) less what
    reached its WIP and what is reserved for it, its substitutes' share counted as for
    ``order show``. MRP plans it as the order's need; it leaves out a deactivated
    material's."""

    order_id: int
    state: str  # planned, released, in_progress
    product: str  # the order's item
    revision: str
    order_qty: Decimal
    order_unit: str
    due_on: str
    item: str  # the material
    qty: Decimal  # still lacking, in the material's base unit
    unit: str

    @property
    def name(self) -> str:
        """``planned production order 1 of FG still needs 10 pcs of it``."""
        state = self.state.replace("_", "-")
        return (
            f"{state} production order {self.order_id} of {self.product} still needs "
            f"{q.fmt(self.qty)} {self.unit} of it"
        )

    @property
    def how_to_end(self) -> str:
        """The command that ends the order (as ``OpenWork.how_to_end``)."""
        if self.state == "in_progress":
            return f"mfgctl order complete {self.order_id} --final"
        return f"mfgctl order cancel {self.order_id}"


# The open orders that may need an item as a material (``:item``, or any deactivated
# item when it is NULL): through their frozen materials once released, else through the
# lines of the revision they are made with and, below its phantom lines, of the
# phantoms' active revisions (as ``orders.explode_materials`` passes through them). A
# superset: ``material_needs`` computes what each still lacks.
_NEEDING_ORDERS = """
    WITH RECURSIVE reach (order_id, bom_id) AS (
        SELECT o.id, o.bom_id FROM production_order AS o
         WHERE o.state IN ('planned', 'released', 'in_progress')
           AND NOT EXISTS (SELECT 1 FROM order_material AS m WHERE m.order_id = o.id)
        UNION
        SELECT r.order_id, b.id
          FROM reach AS r
          JOIN bom_line AS bl ON bl.bom_id = r.bom_id AND bl.phantom = 1
          JOIN bom AS b ON b.item_id = bl.child_id AND b.active = 1
    )
    SELECT r.order_id FROM reach AS r
      JOIN bom_line AS bl ON bl.bom_id = r.bom_id
      JOIN item AS i ON i.id = bl.child_id
     WHERE (:item IS NULL AND i.active = 0) OR bl.child_id = :item
    UNION
    SELECT o.id FROM production_order AS o
      JOIN order_material AS m ON m.order_id = o.id
      JOIN item AS i ON i.id = m.item_id
     WHERE o.state IN ('planned', 'released', 'in_progress')
       AND ((:item IS NULL AND i.active = 0) OR m.item_id = :item)
"""


def material_needs(db: sqlite3.Connection, *, item: Item | None = None) -> list[MaterialNeed]:
    """What open production orders still lack of ``item`` as a material, or of every
    deactivated item without one; by material, then order.

    An order whose materials cannot be worked out (a BOM cycle, refused on release as
    well) is left out: ``check`` reports the cycle.
    """
    from mfgctl.domain import orders  # orders builds on this module

    found = []
    ids = [r[0] for r in db.execute(_NEEDING_ORDERS, {"item": item.id if item else None})]
    for order_id in sorted(ids):
        order = orders.get(db, order_id)
        try:
            needs = orders.lacking(db, order)  # what reserving it counts as lacking
        except MfgError:
            continue
        for need in needs:
            wanted = need.item.id == item.id if item else not need.item.active
            if wanted and need.open > 0:
                found.append(
                    MaterialNeed(
                        order.id,
                        order.state,
                        order.item,
                        order.revision,
                        order.qty,
                        order.unit,
                        order.due_on,
                        need.item.code,
                        need.open,
                        need.item.unit,
                    )
                )
    return sorted(found, key=lambda n: (n.item, n.order_id))


def _refuse_open_work(db: sqlite3.Connection, item: Item) -> None:
    """An item with open work stays active: MRP would silently drop its demand and
    receipts, and what open orders still need of it; its purchase orders could no longer
    be received, nor an order that needs it be released."""
    work = [f"{w.name} ({w.how_to_end})" for w in open_work(db, item=item)]
    needs = material_needs(db, item=item)
    work += [f"{n.name} (revision {n.revision}; {n.how_to_end})" for n in needs]
    if not work:
        return
    shown = ", ".join(work[:5])
    if len(work) > 5:
        shown += (
            f" and {len(work) - 5} more (mfgctl demand list, purchase list, order list "
            f"--item {item.code}"
        )
        # ``order list --item`` lists orders of the item, not those that need it.
        later = [str(n.order_id) for n in needs[max(5 - (len(work) - len(needs)), 0) :]]
        if len(later) == 1:
            shown += f"; order {later[0]} needs it: mfgctl order show {later[0]}"
        elif later:
            shown += f"; orders {', '.join(later)} need it: mfgctl order show N"
        shown += ")"
    raise RuleViolation(
        f"item {item.code} cannot be deactivated while it has open work (planning would "
        f"leave it out): {shown}"
    )


def deactivate(db: sqlite3.Connection, code: str) -> Item:
    """Mark an item inactive: it stays in history but takes no new stock or orders.

    Raises:
        RuleViolation: already inactive, or it has open demand, purchase orders or
            production orders (``open_work``), or an open production order still needs
            it as a material (``material_needs``).
    """
    item = get(db, code)
    if not item.active:
        raise RuleViolation(f"item {item.code} is already deactivated")
    _refuse_open_work(db, item)
    db.execute("UPDATE item SET active = 0 WHERE id = ?", (item.id,))
    return replace(item, active=False)
