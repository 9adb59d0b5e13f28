"""Locations: where stock sits.

``internal`` locations are real places (stores, line-side racks, the QC area); stock
there always has a status. The other kinds are the virtual counterparts of the
double-entry ledger: receipts come from ``SUPPLIER``, shipments go to ``CUSTOMER``,
scrap goes to ``SCRAP``, count corrections go through ``ADJUSTMENT``, and opening
balances come from ``OPENING``. A production order is a ``production`` place (its WIP),
and production turns materials into products in ``CONVERSION``; no real location may
take those codes.

Moves, balances, counts, reservations, inspections and orders refer to a location by its
id, never by its code, so a real location can be renamed (``rename``) and its stock and
history follow it; the code is stored only in ``location`` itself.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from mfgctl.domain import codes
from mfgctl.errors import InvalidInput, NotFound, RuleViolation

KINDS = ("internal", "supplier", "customer", "production", "scrap", "adjustment", "opening")
VIRTUAL = {"SUPPLIER", "CUSTOMER", "SCRAP", "ADJUSTMENT", "OPENING"}
# Production order N is the place ORDER-N (its WIP): no real location may take such a code.
ORDER_PLACE = re.compile(r"ORDER-[0-9]+", re.IGNORECASE)
# Production's virtual place where materials turn into products (production.CONVERSION);
# created by the first completion, so it is kept from real locations before it exists.
CONVERSION = "CONVERSION"
# The real location a new database has, and the one commands use when no --location is
# given (stock receive, purchase receive, order complete...). It may be renamed.
DEFAULT = "STORES"


def order_place_code(order_id: int) -> str:
    """The code of production order ``order_id``'s own place."""
    return f"ORDER-{order_id}"


@dataclass(frozen=True, slots=True)
class Location:
    id: int
    code: str
    name: str
    kind: str
    active: bool = True

    @property
    def internal(self) -> bool:
        return self.kind == "internal"

    def as_row(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "kind": self.kind, "active": self.active}


def _from_row(row: sqlite3.Row) -> Location:
    return Location(row["id"], row["code"], row["name"], row["kind"], bool(row["active"]))


def find(db: sqlite3.Connection, code: str) -> Location | None:
    row = db.execute(
        "SELECT id, code, name, kind, active FROM location WHERE code = ?", (str(code).strip(),)
    ).fetchone()
    return None if row is None else _from_row(row)


def known_codes(db: sqlite3.Connection) -> str:
    """The active real locations' codes, for a message: ``MAIN, QC``."""
    return ", ".join(
        r[0]
        for r in db.execute(
            "SELECT code FROM location WHERE kind = 'internal' AND active ORDER BY code"
        )
    )


def get(db: sqlite3.Connection, code: str, *, default: bool = False) -> Location:
    """The location with this code (any case).

    Args:
        default: ``code`` may be the default a command uses when no ``--location`` is
            given (``STORES``), not one the user typed.

    Raises:
        NotFound: no such location. For ``STORES`` after ``location rename STORES
            ...``: with ``default``, the message says the default location is gone and
            to give ``--location``; typed, that the code is unknown and what ``STORES``
            was renamed to.
    """
    found = find(db, code)
    if found is None:
        raise NotFound(_unknown(db, code, default_hint=default))
    return found


def _unknown(db: sqlite3.Connection, code: str, *, default_hint: bool) -> str:
    text = str(code).strip()
    if default_hint and text.upper() == DEFAULT:
        return (
            f"the default location {DEFAULT} no longer exists (renamed?); "
            f"give --location (locations: {known_codes(db)})"
        )
    # Typed after STORES was renamed: say what it is called now.
    first = built_in(db) if text.upper() == DEFAULT else None
    if first is not None:
        return f"unknown location {text!r} (renamed to {first.code}? locations: {known_codes(db)})"
    return f"unknown location {text!r} (locations: {known_codes(db)})"


def get_internal(db: sqlite3.Connection, code: str, *, default: bool = False) -> Location:
    """A real, active location that can hold stock (``default``: as for ``get``)."""
    loc = get(db, code, default=default)
    if not loc.internal:
        raise RuleViolation(f"{loc.code} is a virtual place ({loc.kind}), not a stock location")
    if not loc.active:
        raise RuleViolation(f"location {loc.code} is deactivated")
    return loc


def virtual(db: sqlite3.Connection, code: str) -> Location:
    """One of the built-in virtual places (SUPPLIER, CUSTOMER, SCRAP, ...)."""
    assert code in VIRTUAL, code
    return get(db, code)


def built_in(db: sqlite3.Connection) -> Location | None:
    """The real location a new database is made with as ``STORES``, whatever its code
    now (``location rename``): the first row of ``location`` (``schema.sql`` inserts it
    first). None if that row is not a real location."""
    row = db.execute(
        "SELECT id, code, name, kind, active FROM location ORDER BY id LIMIT 1"
    ).fetchone()
    return None if row is None or row["kind"] != "internal" else _from_row(row)


def list_locations(db: sqlite3.Connection, *, include_virtual: bool = False) -> list[Location]:
    rows = db.execute(
        "SELECT id, code, name, kind, active FROM location ORDER BY kind <> 'internal', code"
    )
    return [_from_row(r) for r in rows if include_virtual or r["kind"] == "internal"]


def refuse_reserved(code: str) -> None:
    """Refuse a code mfgctl keeps for its own places: ``ORDER-<number>``, ``CONVERSION``.

    Raises:
        InvalidInput: the code is reserved (any case).
    """
    if ORDER_PLACE.fullmatch(code):
        raise InvalidInput(
            f"location code {code} is kept for production orders (ORDER-<number> is an "
            "order's own place); choose another code"
        )
    if code.upper() == CONVERSION:
        raise InvalidInput(
            f"location code {code} is kept for production ({CONVERSION} is the virtual place "
            "where materials turn into products); choose another code"
        )


def add(db: sqlite3.Connection, code: str, name: str | None = None) -> Location:
    """Create a real (internal) location."""
    loc_code = codes.code(code, what="location code")
    refuse_reserved(loc_code)
    loc_name = codes.text(name, what="location name", required=False) or loc_code
    existing = find(db, loc_code)
    if existing is not None:
        raise RuleViolation(f"location {existing.code} already exists")
    cur = db.execute(
        "INSERT INTO location (code, name, kind) VALUES (?, ?, 'internal')", (loc_code, loc_name)
    )
    return Location(cur.lastrowid, loc_code, loc_name, "internal")  # type: ignore[arg-type]


def ensure(db: sqlite3.Connection, code: str, name: str | None = None) -> tuple[Location, bool]:
    """The internal location with this code, created if missing (for imports)."""
    refuse_reserved(codes.code(code, what="location code"))
    existing = find(db, code)
    if existing is None:
        return add(db, code, name), True
    if not existing.internal:
        raise InvalidInput(f"{existing.code} is a virtual place and cannot be redefined")
    new_name = codes.text(name, what="location name", required=False)
    if new_name and new_name != existing.name:
        db.execute("UPDATE location SET name = ? WHERE id = ?", (new_name, existing.id))
        return Location(existing.id, existing.code, new_name, existing.kind, existing.active), True
    return existing, False


def _real(db: sqlite3.Connection, code: str) -> Location:
    """An existing real location, active or not (virtual places are refused)."""
    loc = find(db, code)
    if loc is None:  # named by the user: no default involved
        raise NotFound(_unknown(db, code, default_hint=False))
    if not loc.internal:
        raise RuleViolation(
            f"{loc.code} is a virtual place ({loc.kind}) of the ledger and cannot be changed"
        )
    return loc


def rename(db: sqlite3.Connection, old: str, new: str) -> tuple[Location, Location]:
    """Give a real location a new code; its stock, moves, reservations and history follow.

    Everything refers to a location by id, so this changes one row. A legacy real
    location that holds a now reserved code (``CONVERSION``, ``ORDER-<n>``, made by an
    older mfgctl) may be renamed away from it; no location may be renamed to one.

    Returns:
        The location before and after.

    Raises:
        NotFound: no location ``old``.
        RuleViolation: ``old`` is a virtual place, or ``new`` is taken (any case).
        InvalidInput: ``new`` is not a valid code, is reserved, or is ``old`` unchanged.
    """
    loc = _real(db, old)
    new_code = codes.code(new, what="new location code")
    refuse_reserved(new_code)
    if new_code == loc.code:
        raise InvalidInput(f"location {loc.code} already has that code")
    taken = find(db, new_code)
    if taken is not None and taken.id != loc.id:  # the same row: only the case changes
        if not taken.internal:
            raise RuleViolation(
                f"location code {taken.code} is a virtual place of the ledger ({taken.kind}); "
                "choose another code"
            )
        raise RuleViolation(f"location {taken.code} already exists; choose another code")
    db.execute("UPDATE location SET code = ? WHERE id = ?", (new_code, loc.id))
    return loc, Location(loc.id, new_code, loc.name, loc.kind, loc.active)


def update(db: sqlite3.Connection, code: str, *, name: str) -> tuple[Location, bool]:
    """Change a real location's descriptive name.

    Returns:
        The location as it is now, and whether anything changed.
    """
    loc = _real(db, code)
    new_name = codes.text(name, what="location name")
    assert new_name is not None  # required
    if new_name == loc.name:
        return loc, False
    db.execute("UPDATE location SET name = ? WHERE id = ?", (new_name, loc.id))
    return Location(loc.id, loc.code, new_name, loc.kind, loc.active), True
