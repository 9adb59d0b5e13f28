"""Exact quantities and money.

Quantities and money are ``decimal.Decimal`` in Python and integers in the database:
a quantity is stored as millionths of its item's base unit ("micro-units"), money as
millionths of the currency unit. Sums in SQL are then exact integer sums, and
``0.1 + 0.2`` kg is exactly ``0.3`` kg. A value with more than six decimal places is
refused rather than rounded, so nothing is silently lost.

Units: each item is counted in one base unit. A quantity in another unit converts to
it through the item's own units (``reel: 5000`` means one reel is 5000 base units) or
through the built-in metric families below (g/kg/mg, mm/cm/m, ml/l, ...).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from mfgctl.errors import InvalidInput

SCALE = 1_000_000
PLACES = 6
_STEP = Decimal(1).scaleb(-PLACES)
# Largest single quantity accepted (10^18 micro-units). SQLite's 64-bit integers hold
# about nine of them in one balance; a total beyond that is refused by the database and
# reported by db.map_sqlite_error as too large, never wrapped or rounded.
MAX_VALUE = Decimal(10) ** 12

# ASCII digits only: \d would also accept full-width and Arabic-Indic digits.
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")

# Built-in conversions: unit -> (family, size in the family's reference unit).
STANDARD_UNITS: dict[str, tuple[str, Decimal]] = {
    "mg": ("mass", Decimal("0.001")),
    "g": ("mass", Decimal(1)),
    "kg": ("mass", Decimal(1000)),
    "t": ("mass", Decimal(1000000)),
    "um": ("length", Decimal("0.001")),
    "mm": ("length", Decimal(1)),
    "cm": ("length", Decimal(10)),
    "m": ("length", Decimal(1000)),
    "km": ("length", Decimal(1000000)),
    "ul": ("volume", Decimal("0.001")),
    "ml": ("volume", Decimal(1)),
    "l": ("volume", Decimal(1000)),
    "s": ("time", Decimal(1)),
    "min": ("time", Decimal(60)),
    "h": ("time", Decimal(3600)),
}


def kind_of(value: object) -> str:
    """What a wrong value is, in a user's words (not Python's class names such as the
    importer's Record and Seq)."""
    if value is None:
        return "empty"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, datetime | date):
        return f"the date {value}"
    return type(value).__name__


def parse_decimal(value: object, *, what: str = "quantity") -> Decimal:
    """Parse a plain decimal number (``12``, ``0.35``, ``-4``) from text or a number.

    Refuses exponent notation, NaN, Infinity, binary floats with inexact text, and
    anything else that is not a plain decimal, naming ``what`` in the message.
    """
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a number, not {str(value).lower()}")
    if isinstance(value, Decimal | int):
        # Already exact (the YAML reader gives Decimal and int): no text round trip.
        if isinstance(value, Decimal) and not value.is_finite():
            raise InvalidInput(f"{what} must be a finite number, not {value}")
        number = Decimal(value)
        # Text only for messages; an exponent of 1e99999 must not become 100,000 digits.
        text = str(number) if abs(number.adjusted()) > 40 else fmt(number)
    else:
        if isinstance(value, float):
            # A float from Python code: its shortest repr is the text that was meant.
            text = repr(value)
            if "e" in text or "E" in text or text in ("nan", "inf", "-inf"):
                raise InvalidInput(f"{what} {text!r} is not a plain decimal number")
        elif isinstance(value, str):
            text = value.strip()
        else:
            raise InvalidInput(f"{what} must be a number, not {kind_of(value)}")
        if not _NUMBER.fullmatch(text):
            shown = text if len(text) <= 40 else text[:37] + "..."
            raise InvalidInput(f"{what} {shown!r} is not a plain decimal number (like 12 or 0.35)")
        number = Decimal(text)
    if abs(number) >= MAX_VALUE:
        raise InvalidInput(f"{what} {text} is too large (limit {MAX_VALUE:,})")
    if number != number.quantize(_STEP, rounding="ROUND_DOWN"):
        raise InvalidInput(f"{what} {text} has more than {PLACES} decimal places")
    return number


def parse_qty(
    value: object, *, what: str = "quantity", allow_zero: bool = False, allow_negative: bool = False
) -> Decimal:
    """Parse a quantity; by default it must be greater than zero."""
    number = parse_decimal(value, what=what)
    if number < 0 and not allow_negative:
        raise InvalidInput(f"{what} must not be negative, got {fmt(number)}")
    if number == 0 and not allow_zero:
        raise InvalidInput(f"{what} must be greater than zero")
    return number


def to_micro(number: Decimal, *, what: str = "quantity") -> int:
    """Decimal -> integer micro-units; refuses values that would lose digits."""
    scaled = number * SCALE
    if scaled != scaled.to_integral_value():
        raise InvalidInput(f"{what} {fmt(number)} has more than {PLACES} decimal places")
    # A converted quantity (999999999999 reel of 5000) can pass parse_qty's limit and
    # still overflow SQLite's 64-bit integers: refuse it here, readably.
    if abs(number) >= MAX_VALUE:
        raise InvalidInput(f"{what} {fmt(number)} is too large (limit {MAX_VALUE:,})")
    return int(scaled)


def from_micro(value: int | None) -> Decimal | None:
    """Integer micro-units -> Decimal (None stays None)."""
    if value is None:
        return None
    # Exact: the quotient keeps its ideal exponent (350000 -> 0.35, 5e9 -> 5000).
    return Decimal(value) / SCALE


def exact(value: int) -> int | Decimal:
    """Micro-units as the cheapest exact number: an int when whole, else a Decimal
    (for large documents, where a Decimal per quantity costs seconds)."""
    whole, rest = divmod(value, SCALE)
    return Decimal(value) / SCALE if rest else whole


def round_up(number: Decimal) -> Decimal:
    """Round up to what the ledger can hold (a millionth): a requirement is never short."""
    from decimal import ROUND_CEILING

    return number.quantize(_STEP, rounding=ROUND_CEILING)


def dec(value: int | None) -> Decimal:
    """Like from_micro, but None counts as zero (for sums)."""
    return from_micro(value or 0)  # type: ignore[return-value]


def fmt(number: Decimal | int | None) -> str:
    """Plain text for a number: no exponent, no trailing zeros (``1E+2`` -> ``100``)."""
    if number is None:
        return ""
    if isinstance(number, int):
        return str(number)
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def unit_factor(unit: str, base_unit: str, item_units: dict[str, Decimal]) -> Decimal | None:
    """How many base units one ``unit`` is, or None if it cannot convert.

    Units compare case-insensitively. The item's own units win over the built-in ones.
    """
    u, base = unit.strip().lower(), base_unit.strip().lower()
    if u == base:
        return Decimal(1)
    own = {k.lower(): v for k, v in item_units.items()}
    if u in own:
        return own[u]
    if u in STANDARD_UNITS and base in STANDARD_UNITS:
        fam_u, size_u = STANDARD_UNITS[u]
        fam_b, size_b = STANDARD_UNITS[base]
        if fam_u == fam_b:
            return size_u / size_b
    # A unit the item defines as a multiple of another unit of the same family.
    return None


def unit_conflict(unit: str, factor: Decimal, base_unit: str) -> str | None:
    """Why an item may not define its own ``unit`` as ``factor`` base units, or None.

    The one rule for ``item add/update``, the YAML ``units:`` key (refused there) and
    ``check``/``bom validate`` (``unit_conflict``, for what was stored before): an own
    unit named like the base unit itself (any factor: it means nothing), or like a
    built-in unit of the base unit's family with another factor than the built-in one
    (base ``kg``, ``g: 0.01``: the item's unit wins, so every quantity typed in it is
    off). Names compare without case, as ``unit_factor`` does.
    """
    u, base = unit.strip().lower(), base_unit.strip().lower()
    defined = f"1 {unit} = {fmt(factor)} {base_unit}"
    if u == base:
        return f"{defined}, but {unit} is the base unit itself"
    if u in STANDARD_UNITS and base in STANDARD_UNITS:
        (fam_u, size_u), (fam_b, size_b) = STANDARD_UNITS[u], STANDARD_UNITS[base]
        if fam_u == fam_b and factor != size_u / size_b:
            return f"{defined}, but 1 {unit} is {fmt(size_u / size_b)} {base_unit}"
    return None


def parse_unit(value: object, *, what: str = "unit") -> str:
    """A unit name: letters, digits, and a few symbols; 1-16 characters."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_./%-]{0,15}", value):
        raise InvalidInput(
            f"{what} {value!r} is not a valid unit name "
            "(letters, digits, '_', '.', '/', '%', '-'; up to 16 characters)"
        )
    return value
