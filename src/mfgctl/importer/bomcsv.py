"""BOMs from KiCad and spreadsheet CSV exports: read, map, group, match, store.

A CSV BOM is read in two steps. ``parse`` needs no database: it finds the separator
(``,`` ``;`` or tab) and the header row (the first of the first 30 lines that names at
least two known columns, so a preamble above it is skipped), maps the columns (by
header name, case and punctuation ignored, see ``SYNONYMS``; ``--map COLUMN=FIELD``
wins), then reads every row. ``store`` matches the parts to items, creates the missing
ones if asked, and saves one BOM revision through ``domain.bom.save``.

Rules (the README's "Bringing BOMs in from KiCad and spreadsheets" says the same):

* *Row numbers* are the file's line numbers (the header's included), as an editor or
  a spreadsheet shows them.
* *References* are split on commas, spaces and semicolons; ``C1-C3`` is C1, C2, C3. A
  row's placements are its references when it has any, else its quantity; a quantity
  that disagrees with the reference count is reported and the references are counted.
* *Quantities* may be text: ``"2"``, ``2 pcs``, `` 4``; one that is not a number, or is
  negative (a Unicode minus included), refuses the import.
* *Lines*: rows of the same part (same MPN, else value + footprint, else description)
  become one line, so files with one row per designator are grouped.
* *DNP*: a row is left out and counted when its DNP column is set (anything but empty,
  ``0``, ``no``, ``false``, ``-``), its Fitted column says no, its value, manufacturer
  or MPN reads ``DNP``/``DNF``/``NF``/``do not populate``/``not fitted``, its quantity
  is 0, or its footprint name ends in ``_DNP``.
* *Nothing to buy*: a row without an MPN whose references all start with FID, TP, MH,
  H, LOGO or NT, or whose value or footprint names a fiducial, mounting hole, test
  point/pad, net tie, logo or solder pad/jumper, is left out and listed. A row with an
  MPN is always kept (a test-point loop can be bought).
* *Two part numbers in one cell* (KiCad joins differing fields with commas:
  ``TDK,Yageo`` / ``NTCG163JF103FT1S,RC0603FR-0710KL``): the row is left out and
  reported with both, never guessed. A comma is read as joining two part numbers when
  the manufacturer cell splits into as many parts, or every part is a full part number
  (8 characters or more with letters and digits); ``BSS84AK,215`` is one part number.
* *Matching*: a part is the item whose name records its MPN (``..., MPN <mpn>``, the
  form ``--create-items`` writes), compared without case and with every dash (U+2212
  minus, en dash...) read as ``-``; else the item whose code is the code column's value,
  the MPN itself or the code derived from it (when that item records no other MPN).
  There is no MPN field on items: the name carries it.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from mfgctl.errors import ImportInvalid, InvalidInput, NotFound, RuleViolation

FIELDS = (
    "reference",
    "quantity",
    "value",
    "footprint",
    "manufacturer",
    "mpn",
    "description",
    "dnp",
    "fitted",
    "code",
    "ignore",
)
PROFILES = ("kicad", "generic")
DEFAULT_REVISION = "A"
HEADER_SCAN = 30
SEPARATORS = (",", ";", "\t")
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def _norm_header(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", unicodedata.normalize("NFKC", name).lower())


_SYNONYM_LIST: dict[str, tuple[str, ...]] = {
    "reference": (
        "reference",
        "references",
        "ref",
        "refs",
        "refdes",
        "designator",
        "designators",
        "referencedesignator",
        "referencedesignators",
        "partreference",
    ),
    "quantity": ("qty", "quantity", "count", "qtyperboard", "quantityperboard", "qtyperpcb"),
    "value": ("value", "val", "comment"),
    "footprint": ("footprint", "package", "pcbfootprint"),
    "manufacturer": ("manufacturer", "mfg", "mfr", "manufacturername", "maker"),
    "mpn": (
        "mpn",
        "manufacturerpartnumber",
        "manufacturerpn",
        "mfrpartnumber",
        "mfgpartnumber",
        "mfrpn",
        "mfgpn",
        "partnumber",
        "partno",
        "pn",
        "partnumbertype",
    ),
    "description": ("description", "desc", "partdescription"),
    "dnp": ("dnp", "donotpopulate", "dnf", "donotfit", "nopop", "notfitted"),
    "fitted": ("fitted", "populate", "populated", "fit"),
    "code": ("itemcode", "ipn", "internalpartnumber", "partcode", "stockcode"),
}
SYNONYMS: dict[str, str] = {s: f for f, names in _SYNONYM_LIST.items() for s in names}

# Cell texts that mean "not fitted" wherever they stand (value, manufacturer, MPN).
DNP_WORDS = frozenset({"dnp", "dnf", "nf", "nopop", "donotpopulate", "notfitted", "donotfit"})
_DNP_FALSE = frozenset({"", "0", "no", "n", "false", "-", "fitted"})
_FITTED_FALSE = frozenset({"no", "n", "0", "false", "-", "dnp", "dnf", "nf", "notfitted"})
NON_PURCHASABLE_PREFIXES: dict[str, str] = {
    "FID": "fiducial",
    "TP": "test point",
    "MH": "mounting hole",
    "H": "mounting hole",
    "LOGO": "logo",
    "NT": "net tie",
}
NON_PURCHASABLE_WORDS: dict[str, str] = {
    "fiducial": "fiducial",
    "mountinghole": "mounting hole",
    "testpoint": "test point",
    "testpad": "test point",
    "nettie": "net tie",
    "logo": "logo",
    "solderwirepad": "solder pad",
    "solderjumper": "solder jumper",
}
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"), "-")
_QTY = re.compile(
    r"([+\-\u2212]?)\s*([0-9]+(?:\.[0-9]+)?)\s*(?:pcs|pc|pieces|piece|ea|each|stk|st|x)?\.?",
    re.IGNORECASE,
)
_RANGE = re.compile(r"([A-Za-z_#]+)(\d+)\s*[-\u2013]\s*(?:\1)?(\d+)")
_REF_PREFIX = re.compile(r"[A-Za-z_#]+")
_SPLIT_REFS = re.compile(r"[\s,;]+")
_CODE_BAD = re.compile(r"[^A-Za-z0-9._/+#-]+")
MPN_IN_NAME = re.compile(r", MPN (.+)$")
MAX_RANGE = 10_000


# -- records ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A row that is not a BOM line, and why."""

    row: int
    refs: tuple[str, ...]
    qty: Decimal
    reason: str

    def as_row(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "refs": ",".join(self.refs),
            "qty": self.qty,
            "reason": self.reason,
        }


@dataclass(slots=True)
class Part:
    """Rows of one part, grouped: what becomes one BOM line."""

    key: str
    mpn: str | None
    manufacturer: str | None
    value: str | None
    footprint: str | None
    description: str | None
    code: str | None
    qty: Decimal = Decimal(0)
    refs: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    values: dict[str, list[int]] = field(default_factory=dict)


@dataclass(slots=True)
class Parsed:
    """A CSV BOM read and grouped, before it meets the database."""

    file: str
    separator: str
    header_row: int
    profile: str
    columns: dict[str, str]
    unused_columns: list[str]
    rows_read: int = 0
    parts: list[Part] = field(default_factory=list)
    dnp: list[LeftOut] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)


# -- small parsers ---------------------------------------------------------------------


def norm_mpn(mpn: str) -> str:
    """An MPN as compared: NFKC, every dash a hyphen, spaces collapsed, upper case."""
    text = unicodedata.normalize("NFKC", mpn).translate(_DASHES)
    return " ".join(text.split()).upper()


def code_from(text: str) -> str:
    """A code (domain/codes.py rules) made from free text: ``BSS84AK,215`` -> ``BSS84AK-215``."""
    cleaned = _CODE_BAD.sub("-", unicodedata.normalize("NFKC", text).translate(_DASHES))
    cleaned = re.sub(r"-{2,}", "-", cleaned)
    cleaned = re.sub(r"^[^A-Za-z0-9]+", "", cleaned)[:40].rstrip("-")
    return cleaned or "PART"


def parse_quantity(text: str, row: int) -> Decimal:
    """A quantity cell: ``2``, ``"2"``, ``2 pcs``, `` 4``; refuses negatives and words."""
    m = _QTY.fullmatch(text.strip())
    if m is None:
        raise InvalidInput(f"row {row}: quantity {text.strip()!r} is not a number")
    if m.group(1) in ("-", "\u2212") and Decimal(m.group(2)) != 0:
        raise InvalidInput(f"row {row}: quantity {text.strip()!r} is negative")
    number = Decimal(m.group(2))
    if number != number.quantize(Decimal("0.000001"), rounding="ROUND_DOWN"):
        raise InvalidInput(f"row {row}: quantity {text.strip()!r} has more than 6 decimal places")
    if number >= Decimal(10) ** 9:
        raise InvalidInput(f"row {row}: quantity {text.strip()!r} is too large")
    return number


def split_refs(text: str, row: int) -> list[str]:
    """Designators written ``C1,C2``, ``C1 C2`` or ``C1-C3`` (a range), as a list."""
    text = text.strip()
    if not text:
        return []
    out: list[str] = []
    # Join "C1 - C3" first, so a range with spaces is not split into three words.
    text = re.sub(r"\s*([-\u2013])\s*", r"\1", text)
    for token in _SPLIT_REFS.split(text):
        if not token:
            continue
        m = _RANGE.fullmatch(token)
        if m is None:
            out.append(token)
            continue
        prefix, first, last = m.group(1), int(m.group(2)), int(m.group(3))
        if last < first:
            raise InvalidInput(f"row {row}: reference range {token!r} runs backwards")
        if last - first >= MAX_RANGE:
            raise InvalidInput(f"row {row}: reference range {token!r} is too long")
        out.extend(f"{prefix}{n}" for n in range(first, last + 1))
    return out


def natural_key(ref: str) -> tuple[Any, ...]:
    """C2 before C10."""
    return tuple(int(p) if p.isdigit() else p.upper() for p in re.split(r"(\d+)", ref))


def _word(text: str | None) -> str:
    return _norm_header(text or "")


def _merged_mpns(mpn: str, manufacturer: str | None) -> list[str] | None:
    """The part numbers of a cell that joins several, or None for one part number."""
    if "," not in mpn:
        return None
    parts = [p.strip() for p in mpn.split(",")]
    makers = [p for p in (manufacturer or "").split(",") if p.strip()]
    if len(makers) == len(parts) and len(parts) > 1:
        return parts

    def full(p: str) -> bool:
        return len(p) >= 8 and any(c.isalpha() for c in p) and any(c.isdigit() for c in p)

    return parts if all(full(p) for p in parts) else None


def _non_purchasable(refs: Sequence[str], value: str | None, footprint: str | None) -> str | None:
    if refs:
        kinds = set()
        for ref in refs:
            m = _REF_PREFIX.match(ref)
            kinds.add(NON_PURCHASABLE_PREFIXES.get(m.group(0).upper()) if m else None)
        if len(kinds) == 1 and None not in kinds:
            return kinds.pop()
    for text in (value, footprint.split(":")[-1] if footprint else None):
        word = _word(text)
        for key, label in NON_PURCHASABLE_WORDS.items():
            if key in word:
                return label
    return None


# -- reading ---------------------------------------------------------------------------


def read_text(path: Path) -> tuple[str, str | None]:
    """The file's text (UTF-8, with or without a byte-order mark; else Windows-1252)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no such file: {path}") from None
    except OSError as e:
        raise InvalidInput(f"cannot read {path}: {e.strerror}") from None
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return data.decode(
            "cp1252", errors="replace"
        ), "the file is not UTF-8: read as Windows-1252"


def parse_map(specs: Iterable[str]) -> dict[str, str]:
    """``--map COLUMN=FIELD`` options as {normalised column: field}."""
    out: dict[str, str] = {}
    for spec in specs:
        column, sep, target = spec.rpartition("=")
        target = target.strip().lower()
        if not sep or not column.strip():
            raise InvalidInput(f"--map {spec!r}: write COLUMN=FIELD (like Field2=mpn)")
        if target not in FIELDS:
            raise InvalidInput(
                f"--map {spec!r}: unknown field {target!r} (known: {', '.join(FIELDS)})"
            )
        out[_norm_header(column)] = target
    return out


def _records(text: str, sep: str) -> Iterable[tuple[int, list[str]]]:
    """(first line number, cells) of every record; a quote inside an unquoted field is
    kept as text (``16PS.1" DL``)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=False)
    start = 1
    for cells in reader:
        yield start, cells
        start = reader.line_num + 1


def _find_header(text: str, mapping: Mapping[str, str]) -> tuple[str, int, int, list[str]] | None:
    """(separator, index among records, line, cells) of the header; the separator whose
    header names most known columns wins."""
    best: tuple[int, int, str, int, int, list[str]] | None = None
    head = "\n".join(text.splitlines()[: HEADER_SCAN * 3])
    for order, sep in enumerate(SEPARATORS):
        for index, (line, cells) in enumerate(_records(head, sep)):
            if index >= HEADER_SCAN:
                break
            known = sum(
                1 for c in cells if _norm_header(c) in mapping or _norm_header(c) in SYNONYMS
            )
            if known >= 2:
                score = (-known, order)
                if best is None or score < (best[0], best[1]):
                    best = (-known, order, sep, index, line, cells)
                break
    if best is None:
        return None
    return best[2], best[3], best[4], best[5]


def parse(
    text: str,
    *,
    file: str = "",
    profile: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> Parsed:
    """Read a CSV BOM into grouped parts, left-out rows and warnings.

    Raises:
        InvalidInput: no header, an unusable ``--map``, a ragged row, a quantity that is
            not a number; the message names the row.
    """
    mapping = dict(mapping or {})
    if profile is not None and profile not in PROFILES:
        raise InvalidInput(f"--profile must be one of {', '.join(PROFILES)}; got {profile!r}")
    found = _find_header(text, mapping)
    if found is None:
        raise InvalidInput(
            f"{file}: no header row in the first {HEADER_SCAN} lines: expected column names "
            "such as Reference, Qty, Value, Footprint, MPN (or name them with --map COLUMN=FIELD)"
        )
    sep, header_index, header_line, header = found
    names = [_norm_header(h) for h in header]
    for column in mapping:
        if column not in names:
            shown = ", ".join(h.strip() for h in header if h.strip())
            raise InvalidInput(f"--map: no column {column!r} in the header (columns: {shown})")
    columns: dict[str, int] = {}
    used: dict[str, str] = {}
    unused: list[str] = []
    for n, (raw, name) in enumerate(zip(header, names, strict=True)):
        target = mapping.get(name) or SYNONYMS.get(name)
        if target is None or target == "ignore" or target in columns:
            if raw.strip():
                unused.append(raw.strip())
            continue
        columns[target] = n
        used[raw.strip()] = target
    has_refs = "reference" in columns
    chosen = profile or ("kicad" if has_refs else "generic")
    if chosen == "kicad" and not has_refs:
        raise InvalidInput(
            f"{file}: the kicad profile needs a reference column (Reference, Designator, Ref...)"
            " - name it with --map COLUMN=reference, or use --profile generic"
        )
    if not has_refs and "quantity" not in columns:
        raise InvalidInput(
            f"{file}: no reference and no quantity column: name one with --map COLUMN=reference "
            "or --map COLUMN=quantity"
        )
    parsed = Parsed(file, sep, header_line, chosen, used, unused)
    _read_rows(parsed, text, sep, header_index, len(header), columns)
    return parsed


def _read_rows(
    parsed: Parsed, text: str, sep: str, header_index: int, width: int, columns: dict[str, int]
) -> None:
    parts: dict[str, Part] = {}
    seen_refs: dict[str, int] = {}
    warn = parsed.warnings

    for index, (row, cells) in enumerate(_records(text, sep)):
        if index <= header_index or not any(c.strip() for c in cells):
            continue
        if len(cells) < width or any(c.strip() for c in cells[width:]):
            raise InvalidInput(
                f"row {row}: {len(cells)} fields, the header (row {parsed.header_row}) has {width}"
            )
        parsed.rows_read += 1

        def cell(name: str, cells: list[str] = cells) -> str | None:
            n = columns.get(name)
            value = cells[n].strip() if n is not None else ""
            return value or None

        refs = split_refs(cell("reference") or "", row)
        unique = list(dict.fromkeys(refs))
        if len(unique) != len(refs):
            twice = sorted({r for r in refs if refs.count(r) > 1}, key=natural_key)
            warn.append((row, f"reference {', '.join(twice)} given twice in the row; counted once"))
            refs = unique
        qty_text = cell("quantity")
        qty = parse_quantity(qty_text, row) if qty_text is not None else None
        if refs:
            if qty is not None and qty != len(refs):
                warn.append(
                    (row, f"quantity {qty_text} but {len(refs)} references: counted {len(refs)}")
                )
            count = Decimal(len(refs))
        elif qty is not None:
            count = qty
        else:
            raise InvalidInput(f"row {row}: no references and no quantity")
        value, footprint = cell("value"), cell("footprint")
        mpn, maker = cell("mpn"), cell("manufacturer")
        dnp = _dnp_reason(cell, footprint, count)
        if dnp is not None:
            parsed.dnp.append(LeftOut(row, tuple(refs), count, dnp))
            continue
        for ref in refs:
            first = seen_refs.setdefault(ref.upper(), row)
            if first != row:
                warn.append((row, f"reference {ref} is also on row {first}"))
        code = cell("code")
        if mpn is None and code is None:
            reason = _non_purchasable(refs, value, footprint)
            if reason is not None:
                parsed.left_out.append(
                    LeftOut(row, tuple(refs), count, f"nothing to buy: {reason}")
                )
                continue
        if mpn is not None:
            several = _merged_mpns(mpn, maker)
            if several is not None:
                makers = [m.strip() for m in (maker or "").split(",")]
                named = [
                    f"{makers[i]} {p}" if len(makers) == len(several) and makers[i] else p
                    for i, p in enumerate(several)
                ]
                reason = f"{len(several)} part numbers in one cell: {'; '.join(named)}"
                parsed.left_out.append(LeftOut(row, tuple(refs), count, reason))
                warn.append(
                    (row, f"{reason}: left out, not guessed; split the row and import again")
                )
                continue
        description = cell("description")
        if mpn is not None:
            key = "mpn:" + norm_mpn(mpn)
        elif code is not None:
            key = "code:" + code.upper()
        elif value or footprint:
            key = f"vf:{norm_mpn(value or '')}|{norm_mpn(footprint or '')}"
        elif description:
            key = "d:" + norm_mpn(description)
        else:
            raise InvalidInput(
                f"row {row}: nothing names the part (no MPN, code, value, footprint or description)"
            )
        part = parts.get(key)
        if part is None:
            part = parts[key] = Part(key, mpn, maker, value, footprint, description, code)
            parsed.parts.append(part)
        part.qty += count
        part.refs.extend(refs)
        part.rows.append(row)
        shown = value or description or ""
        part.values.setdefault(shown, []).append(row)
    for part in parsed.parts:
        part.refs.sort(key=natural_key)
        # Different values under one MPN: worth a look when they are electrical values
        # (470 and 475), not when they are net names (TXLED and RXLED).
        numeric = [v for v in part.values if v[:1].isdigit()]
        if part.mpn and len(part.values) > 1 and (part.value is None or len(numeric) > 1):
            what = "descriptions" if part.value is None else "values"
            listed = "; ".join(
                f"{v or '(empty)'} (row{'s' if len(r) > 1 else ''} {', '.join(map(str, r[:10]))})"
                for v, r in part.values.items()
            )
            warn.append((part.rows[0], f"MPN {part.mpn} has different {what}: {listed}; one line"))
    warn.sort(key=lambda w: w[0])


def _dnp_reason(cell: Any, footprint: str | None, count: Decimal) -> str | None:
    flag = cell("dnp")
    if flag is not None and flag.strip().lower() not in _DNP_FALSE:
        return f"DNP column: {flag}"
    fitted = cell("fitted")
    if fitted is not None and _word(fitted) in {_word(w) for w in _FITTED_FALSE}:
        return f"Fitted column: {fitted}"
    for name in ("value", "manufacturer", "mpn"):
        text = cell(name)
        if text is not None and _word(text) in DNP_WORDS:
            return f"{name} reads {text}"
    if footprint and footprint.upper().endswith("_DNP"):
        return "footprint ends in _DNP"
    if count == 0:
        return "quantity 0"
    return None


def parse_file(path: Path, *, profile: str | None = None, map_specs: Sequence[str] = ()) -> Parsed:
    """Read and parse a CSV BOM file (see ``parse``)."""
    text, note = read_text(path)
    parsed = parse(text, file=path.name, profile=profile, mapping=parse_map(map_specs))
    if note:
        parsed.warnings.insert(0, (0, note))
    return parsed


# -- storing ---------------------------------------------------------------------------


@dataclass(slots=True)
class Report:
    """What an import did (or, dry, would do)."""

    parsed: Parsed
    item: str
    revision: str
    requested: str
    action: str
    dry_run: bool
    lines: list[dict[str, Any]]
    created: list[str]

    @property
    def placements(self) -> Decimal:
        return sum((ln["qty"] for ln in self.lines), Decimal(0))

    def summary(self) -> dict[str, Any]:
        p = self.parsed
        return {
            "file": p.file,
            "item": self.item,
            "revision": self.revision,
            "requested_revision": self.requested,
            "action": self.action,
            "dry_run": self.dry_run,
            "profile": p.profile,
            "separator": SEPARATOR_NAMES[p.separator],
            "header_row": p.header_row,
            "columns": p.columns,
            "unused_columns": p.unused_columns,
            "rows_read": p.rows_read,
            "line_count": len(self.lines),
            "placements": self.placements,
            "dnp_rows": len(p.dnp),
            "dnp_placements": sum((d.qty for d in p.dnp), Decimal(0)),
            "left_out_rows": len(p.left_out),
            "left_out_placements": sum((d.qty for d in p.left_out), Decimal(0)),
            "items_created": self.created,
            "lines": self.lines,
            "dnp": [d.as_row() for d in p.dnp],
            "left_out": [d.as_row() for d in p.left_out],
            "warnings": [{"row": r, "message": m} for r, m in p.warnings],
        }


def readable_name(part: Part) -> str:
    """An item name from the row: description (else value and footprint), maker, MPN."""
    words = [part.description] if part.description else []
    if not words:
        words = [w for w in (part.value, (part.footprint or "").split(":")[-1]) if w]
    head = " ".join(words) or (part.mpn or "part")
    if part.manufacturer:
        head = f"{head}, {part.manufacturer}"
    tail = f", MPN {part.mpn}" if part.mpn else ""
    head = " ".join(head.split())
    return head[: 200 - len(tail)].rstrip(" ,") + tail


def _derived_code(part: Part) -> str:
    if part.code:
        return part.code
    if part.mpn:
        return code_from(part.mpn)
    if part.value or part.footprint:
        return code_from(f"{part.value or ''}-{(part.footprint or '').split(':')[-1]}")
    return code_from(part.description or "")


def store(
    db: sqlite3.Connection,
    parsed: Parsed,
    *,
    item: str,
    revision: str = DEFAULT_REVISION,
    create_items: bool = False,
    dry_run: bool = False,
) -> Report:
    """Match parts to items, create missing ones if asked, save one BOM revision.

    All or nothing: runs in the caller's transaction, and with ``dry_run`` inside a
    savepoint that is rolled back. Re-importing the same file changes nothing
    (``bom.save`` finds the same lines).

    Raises:
        NotFound: the parent item does not exist.
        ImportInvalid: parts without an item (and no ``create_items``), each named.
        RuleViolation: the BOM would close a cycle with the stored active BOMs.
    """
    from mfgctl import db as dbmod
    from mfgctl.domain import bom, bomtree, codes, items

    parent = items.get(db, item)
    rev_name = bom.revision_code(revision, what="--revision")
    if not parsed.parts:
        raise InvalidInput(f"{parsed.file}: no part to put on a BOM line (every row left out)")
    by_mpn: dict[str, items.Item] = {}
    by_code: dict[str, items.Item] = {}
    for it in items.all_items(db):
        m = MPN_IN_NAME.search(it.name)
        if m:
            by_mpn.setdefault(norm_mpn(m.group(1)), it)
        by_code[it.code.upper()] = it

    def recorded(it: items.Item) -> str | None:
        m = MPN_IN_NAME.search(it.name)
        return norm_mpn(m.group(1)) if m else None

    matched: list[items.Item | None] = []
    for part in parsed.parts:
        hit = by_mpn.get(norm_mpn(part.mpn)) if part.mpn else None
        if hit is None:
            candidates = [part.code, part.mpn, _derived_code(part)]
            for c in candidates:
                found = by_code.get(c.upper()) if c else None
                if found is not None and (
                    part.code or not part.mpn or recorded(found) in (None, norm_mpn(part.mpn))
                ):
                    hit = found
                    break
        if hit is not None and hit.id == parent.id:
            raise InvalidInput(f"row {part.rows[0]}: {parent.code} cannot contain itself")
        matched.append(hit)
    missing = [p for p, m in zip(parsed.parts, matched, strict=True) if m is None]
    if missing and not create_items:
        raise ImportInvalid(
            [
                f"row {p.rows[0]}: no item for "
                + (f"MPN {p.mpn}" if p.mpn else f"code {_derived_code(p)}")
                + f" ({readable_name(p)}); add it, or import with --create-items"
                for p in missing
            ]
        )
    new_items: list[items.Item] = []
    taken = set(by_code)
    for part in missing:
        code = codes.code(_derived_code(part), what=f"row {part.rows[0]}: item code")
        base, n = code, 2
        while code.upper() in taken:
            suffix = f"-{n}"
            code, n = base[: 40 - len(suffix)] + suffix, n + 1
        taken.add(code.upper())
        # The fields items.build would check, checked here: it costs 0.1 s per 1,000.
        name = codes.text(readable_name(part), what=f"row {part.rows[0]}: item name")
        assert name is not None
        new_items.append(
            items.Item(code=code, name=name, type="component", unit="pcs", make_or_buy="buy")
        )
    lines: list[bom.Line] = []
    rows: list[dict[str, Any]] = []
    fresh = iter(new_items)
    for part, hit in zip(parsed.parts, matched, strict=True):
        child = hit or next(fresh)
        refdes = ",".join(part.refs) or None
        if refdes and len(refdes) > bom.REFDES_LIMIT:
            raise InvalidInput(
                f"row {part.rows[0]}: its reference designators are longer than "
                f"{bom.REFDES_LIMIT:,} characters"
            )
        lines.append(bom.Line(item=child.code, qty=part.qty, unit=child.unit, refdes=refdes))
        rows.append(
            {
                "item": child.code,
                "name": child.name,
                "qty": part.qty,
                "unit": child.unit,
                "refdes": refdes,
                "mpn": part.mpn,
                "matched": "existing" if hit else "created",
                "rows": part.rows,
            }
        )
    revision_rec = bom.Revision(
        item=parent.code, revision=rev_name, output_qty=Decimal(1), lines=tuple(lines)
    )
    # The check ``bom activate`` makes: this revision in place of the active one must
    # not close a cycle with the stored active BOMs (checked before anything is
    # written, dry run included).
    try:
        bomtree.load(db).levels(parent.code, revision_rec)
    except bomtree.BomCycle as e:
        raise RuleViolation(
            f"BOM cycle with stored BOMs: {' -> '.join(e.path)} (an item cannot contain "
            "itself); nothing was written"
        ) from None

    def write() -> bom.SaveResult:
        ids = {i.code.upper(): i.id for i in items.insert_many(db, new_items)}
        ids.update((m.code.upper(), m.id) for m in matched if m is not None)
        ids[parent.code.upper()] = parent.id
        # Two shortcuts that give what bom.save would, without its per-line look-ups
        # (as the YAML import does): the first revision of an item goes in directly, and
        # a file equal to the active revision changes nothing.
        stored = bom.revisions(db, parent.code)
        if not stored:
            bom.insert_revisions(db, [revision_rec], ids)
            return bom.SaveResult(parent.code, "added", rev_name, rev_name)
        for old in stored:
            if old.active and old.same_content(revision_rec):
                return bom.SaveResult(parent.code, "unchanged", old.revision, rev_name)
        return bom.save(db, revision_rec)

    if dry_run:
        with dbmod.rolled_back(db, "bomcsv_dry_run"):
            result = write()
    else:
        result = write()
    return Report(
        parsed, parent.code, result.revision, rev_name, result.action, dry_run, rows,
        [i.code for i in new_items],
    )  # fmt: skip
