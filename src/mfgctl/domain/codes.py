"""Codes that name things: items, locations, lots, serials, BOM revisions.

Codes are trimmed and compared case-insensitively. They are restricted to printable
ASCII without spaces or quotes, so they are safe to type in a shell, to put in a file
name, a CSV cell or a label printer, and cannot be mistaken for SQL or markup.
"""

from __future__ import annotations

import re
from decimal import Decimal

from mfgctl import qty as q
from mfgctl.errors import InvalidInput

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+#-]*")
# Lot and serial numbers come from suppliers: allow brackets, colons and parentheses too.
_LOT = re.compile(r"[A-Za-z0-9\[(][A-Za-z0-9._/+#:\[\]()-]*")
MAX_CODE = 40
MAX_LOT = 64


def _check(value: object, pattern: re.Pattern[str], limit: int, what: str, allowed: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidInput(f"{what} must be text, not {q.kind_of(value)}")
    text = str(value).strip()
    if not text:
        raise InvalidInput(f"{what} must not be empty")
    shown = text if len(text) <= 50 else text[:47] + "..."
    if len(text) > limit:
        raise InvalidInput(f"{what} {shown!r} is longer than {limit} characters")
    if not pattern.fullmatch(text):
        raise InvalidInput(f"{what} {shown!r} may only contain {allowed}")
    return text


def code(value: object, *, what: str = "code") -> str:
    """An item, location or revision code: letters, digits and . _ / + # -."""
    return _check(value, _CODE, MAX_CODE, what, "letters A-Z, digits and . _ / + # - (no spaces)")


def lot_code(value: object, *, what: str = "lot") -> str:
    """A lot or serial number: like a code, plus : [ ] ( )."""
    return _check(
        value, _LOT, MAX_LOT, what, "letters A-Z, digits and . _ / + # - : [ ] ( ) (no spaces)"
    )


def record_number(value: object, *, what: str, prefix: str = "") -> int:
    """A record's number as a user types it: ``12``, or ``PREFIX12`` (``ORDER-12``)."""
    shown = str(value).strip()
    digits = shown[len(prefix) :] if prefix and shown.upper().startswith(prefix) else shown
    if not digits.isascii() or not digits.isdigit() or len(digits) > 18 or int(digits) <= 0:
        article = "an" if what[0] in "aeiou" else "a"
        raise InvalidInput(f"{what} {shown!r} is not {article} {what} number (like 12)")
    return int(digits)


MAX_PRIORITY = 1_000_000_000


def priority(value: int, *, what: str = "--priority") -> int:
    """A priority: a whole number; bounded so that it fits the database's integers."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_PRIORITY:
        raise InvalidInput(
            f"{what} must be a whole number from -{MAX_PRIORITY:,} to {MAX_PRIORITY:,}, "
            f"not {str(value)[:40]}"
        )
    return value


def text(value: object, *, what: str, limit: int = 200, required: bool = True) -> str | None:
    """Free text (names, reasons, notes): any printable characters, one line."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{what} must not be empty")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise InvalidInput(f"{what} must be text, not {q.kind_of(value)}")
    # A name like 1.5 reaches us from YAML as a number: take it as the text written.
    result = (format(value, "f") if isinstance(value, Decimal) else str(value)).strip()
    if len(result) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters")
    if any(ch in result for ch in "\n\r\x00") or not result.isprintable():
        raise InvalidInput(f"{what} must be one line of printable text")
    return result


def whole_number(value: object, *, what: str, least: int = 0, most: int = 999_999_999) -> int:
    """A count (of days, of orders) as typed: a whole number from ``least`` to ``most``.

    Raises:
        InvalidInput: not a whole number, or out of range (the message says which).
    """
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?[0-9]+", text, flags=re.ASCII):
        raise InvalidInput(f"{what} {text!r} is not a whole number")
    # Too many digits to be in range whatever they are (and int() refuses thousands).
    number = int(text) if len(text) <= 12 else (most + 1 if text[0] != "-" else least - 1)
    if number < least:
        raise InvalidInput(f"{what} must be {least} or more, got {text}")
    if number > most:
        raise InvalidInput(f"{what} must be at most {most:,}, got {text}")
    return number
