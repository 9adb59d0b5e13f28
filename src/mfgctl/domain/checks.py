"""Checks that prove the stock figures can be trusted, and the data-quality report.

Each check returns its problems as values (it never stops at the first), so
``mfgctl check`` can print them all. Every problem has a *severity*: an ``error`` is a
figure that is wrong or will go wrong (the ledger, the database file, a BOM that cannot
be exploded), a ``warning`` is data a person should look at (codes that look alike,
planning data nobody reviewed, overdue orders). ``SEVERITY`` is the one table of them.

``run`` is the ledger invariants alone (double entry, balance table = ledger, no
negative real stock); tests of every stock-changing module use it. ``report`` is the
whole of ``mfgctl check``: the database file, the invariants and the data quality.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain.items import fixed_lot_split
from mfgctl.domain.reports import EXPECTED_OUTPUT

ERROR = "error"
WARNING = "warning"

# check -> severity, in the order the checks run (README "mfgctl check" lists the same).
SEVERITY: dict[str, str] = {
    "integrity": ERROR,
    "foreign_key": ERROR,
    "zero_sum": ERROR,
    "balance": ERROR,
    "negative": ERROR,
    "negative_free": ERROR,
    "completion": ERROR,
    "bom_cycle": ERROR,
    "bom_unit": ERROR,
    "bom_qty": ERROR,
    "bom_item": ERROR,
    "bom_inactive": ERROR,
    "unit_conflict": ERROR,
    "untracked_stock": ERROR,
    "serial_fraction": ERROR,
    "serial_duplicate": ERROR,
    "bom_missing": WARNING,
    "bom_phantom": WARNING,
    "bom_phantom_substitutes": WARNING,
    "bom_substitute": WARNING,
    "buy_with_bom": WARNING,
    "lot_rules": WARNING,
    "serial_pattern": WARNING,
    "unit_kind": WARNING,
    "no_lead_time": WARNING,
    "no_cost": WARNING,
    "planning_unreviewed": WARNING,
    "inspection_age": WARNING,
    "expired_stock": WARNING,
    "reserved_beyond_demand": WARNING,
    "overdue_purchase": WARNING,
    "overdue_order": WARNING,
    "order_done": WARNING,
    "inactive_open": WARNING,
    "lookalike_code": WARNING,
    "duplicate_name": WARNING,
}
COLUMNS = ("severity", "check", "subject", "message")

_LEDGER_BALANCES = """
    SELECT item_id, location_id, ifnull(status, '') AS status, ifnull(lot_id, 0) AS lot_id,
           sum(qty) AS qty FROM (
        SELECT item_id, to_location_id AS location_id, to_status AS status, lot_id, qty
          FROM move NOT INDEXED
        UNION ALL
        SELECT item_id, from_location_id, from_status, lot_id, -qty FROM move NOT INDEXED
    ) GROUP BY 1, 2, 3, 4
"""
# The same sums grouped by one integer per (item, place, status, lot): SQLite sorts a
# million integers in about 60% of the time it takes for four-column keys (1.1 s against
# 1.8 s on the benchmark's million moves). Only used when the packed key fits in 63 bits.
# NOT INDEXED: the planner would walk move_item_time and fetch every row from the table.
_STATUS_CODE = (
    "CASE ifnull({0}, '') WHEN '' THEN 0 WHEN 'pending_inspection' THEN 1 WHEN 'available' THEN 2 "
    "WHEN 'awaiting_release' THEN 3 WHEN 'blocked' THEN 4 WHEN 'rejected' THEN 5 "
    "WHEN 'rework' THEN 6 ELSE 7 END"
)
_STATUS_NAMES = ("", "pending_inspection", "available", "awaiting_release", "blocked",
                 "rejected", "rework", "(unknown status)")  # fmt: skip


def _packed(location: str, status: str) -> str:
    # -1 for a move whose place or lot lies outside the packing ranges (a broken
    # reference): the caller then falls back to the four-column query.
    return (
        f"CASE WHEN {location} BETWEEN 0 AND :places - 1 AND ifnull(lot_id, 0) BETWEEN 0 "
        f"AND :lots - 1 THEN ((item_id * :places + {location}) * 8 + "
        f"{_STATUS_CODE.format(status)}) * :lots + ifnull(lot_id, 0) ELSE -1 END"
    )


# Each move once, grouped by the pair of packed keys it moves between: a million rows to
# sort instead of two million (the pairs are few: 58,000 on the benchmark's million
# moves), each pair then added to its "to" key and taken from its "from" key in Python
# (0.95 s against 1.15 s of CPU for grouping both sides of every move).
_PACKED_PAIRS = f"""
    SELECT {_packed("to_location_id", "to_status")},
           {_packed("from_location_id", "from_status")}, sum(qty)
      FROM move NOT INDEXED
     GROUP BY 1, 2
"""
_TABLE_BALANCES = """
    SELECT item_id, location_id, ifnull(status, '') AS status, ifnull(lot_id, 0) AS lot_id, qty
      FROM balance
"""


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: which check, about what (``subject``), and what is wrong."""

    check: str
    subject: str
    message: str

    @property
    def severity(self) -> str:
        return SEVERITY.get(self.check, ERROR)

    def as_row(self) -> dict[str, str]:
        """The row ``bom validate`` prints (no severity: every BOM problem counts there)."""
        return {"check": self.check, "subject": self.subject, "message": self.message}

    def report_row(self) -> dict[str, str]:
        """The row ``mfgctl check`` prints."""
        return {"severity": self.severity, **self.as_row()}


def _names(db: sqlite3.Connection) -> tuple[dict[int, str], dict[int, str]]:
    item_codes = dict(db.execute("SELECT id, code FROM item").fetchall())
    loc_codes = dict(db.execute("SELECT id, code FROM location").fetchall())
    return item_codes, loc_codes


def _plural(n: int | Any, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- the database file -------------------------------------------------------------------


def integrity(db: sqlite3.Connection, *, quick: bool = False) -> list[Problem]:
    """SQLite's own check of the file (``quick_check`` skips comparing indexes to tables)."""
    pragma = "quick_check" if quick else "integrity_check"
    # The full check looks every row up in each of its table's indexes: read through a
    # memory map, SQLite copies no pages (a quarter less CPU on the million-move
    # benchmark). Only for the check, then back to what it was (the shop's default: 0).
    mapped = db.execute("PRAGMA mmap_size").fetchone()  # no row: nothing to map (in memory)
    before = mapped[0] if mapped else 0
    size = (
        db.execute("PRAGMA page_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
    )
    if not quick and mapped and size > before:
        db.execute(f"PRAGMA mmap_size = {int(size)}")
    try:
        rows = [r[0] for r in db.execute(f"PRAGMA {pragma}")]
    finally:
        if not quick and mapped and size > before:
            db.execute(f"PRAGMA mmap_size = {int(before)}")
    return [Problem("integrity", "database", str(m)) for m in rows if m != "ok"]


def foreign_keys(db: sqlite3.Connection) -> list[Problem]:
    """Rows whose reference points at a row that does not exist (foreign_key_check)."""
    return [
        Problem("foreign_key", f"{table} row {rowid}", f"refers to a missing {parent} row")
        for table, rowid, parent, _ in db.execute("PRAGMA foreign_key_check")
    ]


class _FileChecks:
    """``integrity`` and ``foreign_keys`` each run on a read-only connection of its own,
    in a thread, while the command's own connection runs the other checks.

    They look at the file and its rows, not at figures that other checks compare with,
    so their own read transactions serve as well as the command's; SQLite works outside
    Python's lock, so the three share the machine's cores (on the million-move benchmark
    the full integrity check is about 1.6 s of CPU, the foreign keys 0.3 s and the
    ledger sums 1.2 s: on two cores the command takes 1.6 s instead of 1.8 s with the
    two file checks in one thread). An in-memory database, or a file a second
    connection cannot read, is checked on the command's own connection, as is anything
    whose thread fails.
    """

    def __init__(self, db: sqlite3.Connection, *, quick: bool) -> None:
        import threading

        self._db, self._quick = db, quick
        self._found: dict[str, list[Problem] | None] = {"integrity": None, "foreign_keys": None}
        self._threads: dict[str, threading.Thread] = {}
        path = next((r[2] for r in db.execute("PRAGMA database_list") if r[1] == "main"), "")
        if path:
            for name in self._found:
                thread = threading.Thread(target=self._run, args=(name, path), daemon=True)
                self._threads[name] = thread
                thread.start()

    def _check(self, name: str, conn: sqlite3.Connection) -> list[Problem]:
        return integrity(conn, quick=self._quick) if name == "integrity" else foreign_keys(conn)

    def _run(self, name: str, path: str) -> None:
        from pathlib import Path

        try:
            conn = sqlite3.connect(f"{Path(path).as_uri()}?mode=ro", uri=True, timeout=10)
            try:
                conn.execute("BEGIN")
                self._found[name] = self._check(name, conn)
            finally:
                conn.close()
        except Exception:  # done again, and any error reported, on the own connection
            self._found[name] = None

    def _result(self, name: str) -> list[Problem]:
        thread = self._threads.pop(name, None)
        if thread is not None:
            thread.join()
        found = self._found[name]
        if found is None:
            found = self._found[name] = self._check(name, self._db)
        return found

    def integrity(self) -> list[Problem]:
        return self._result("integrity")

    def foreign_keys(self) -> list[Problem]:
        return self._result("foreign_keys")


# -- the stock invariants ----------------------------------------------------------------


def ledger_sums_to_zero(db: sqlite3.Connection) -> list[Problem]:
    item_codes, _ = _names(db)
    rows = db.execute("SELECT item_id, sum(qty) FROM balance GROUP BY item_id HAVING sum(qty) <> 0")
    return [
        Problem("zero_sum", item_codes.get(i, str(i)), f"balances sum to {q.fmt(q.dec(s))}, not 0")
        for i, s in rows
    ]


def _ledger(db: sqlite3.Connection) -> dict[tuple[Any, ...], int]:
    """Every (item, place, status, lot) balance as the ledger's moves add up."""
    places, lots = (
        db.execute(f"SELECT ifnull(max(id), 0) + 1 FROM {t}").fetchone()[0]
        for t in ("location", "lot")
    )
    low, high = db.execute(
        "SELECT ifnull(min(item_id), 0), ifnull(max(item_id), 0) FROM move"
    ).fetchone()
    if low >= 0 and (high + 1) * places * 8 * lots < 2**62:
        cur = db.cursor()
        cur.row_factory = None  # plain tuples
        pairs = cur.execute(_PACKED_PAIRS, {"places": places, "lots": lots}).fetchall()
        if all(to >= 0 and from_ >= 0 for to, from_, _ in pairs):
            sums: dict[int, int] = defaultdict(int)
            for to, from_, moved in pairs:
                sums[to] += moved
                sums[from_] -= moved
            out: dict[tuple[Any, ...], int] = {}
            for key, total in sums.items():
                rest, lot = divmod(key, lots)
                rest, status = divmod(rest, 8)
                item, place = divmod(rest, places)
                out[(item, place, _STATUS_NAMES[status], lot)] = total
            return out
    return {tuple(r[:4]): r[4] for r in db.execute(_LEDGER_BALANCES)}


def balances_equal_ledger(db: sqlite3.Connection) -> list[Problem]:
    item_codes, loc_codes = _names(db)
    ledger = _ledger(db)
    table = {tuple(r[:4]): r[4] for r in db.execute(_TABLE_BALANCES)}
    problems = []
    lot_codes: dict[int, str] | None = None  # read only when something disagrees
    for key in sorted(set(ledger) | set(table)):
        want, have = ledger.get(key, 0), table.get(key, 0)
        if want != have:
            item_id, loc_id, status, lot_id = key
            where = f"{loc_codes.get(loc_id, loc_id)}{'/' + status if status else ''}"
            if lot_codes is None:
                lot_codes = dict(db.execute("SELECT id, code FROM lot"))
            lot = lot_codes.get(lot_id, lot_id) if lot_id else "-"
            problems.append(
                Problem(
                    "balance",
                    f"{item_codes.get(item_id, item_id)} at {where} lot {lot}",
                    f"balance table says {q.fmt(q.dec(have))}, ledger says {q.fmt(q.dec(want))}",
                )
            )
    return problems


def no_negative_stock(db: sqlite3.Connection) -> list[Problem]:
    item_codes, loc_codes = _names(db)
    rows = db.execute(
        "SELECT item_id, location_id, status, qty FROM balance WHERE status IS NOT NULL AND qty < 0"
    )
    return [
        Problem(
            "negative",
            f"{item_codes.get(i, i)} at {loc_codes.get(loc, loc)}/{st}",
            f"negative stock {q.fmt(q.dec(amount))}",
        )
        for i, loc, st, amount in rows
    ]


# Open claims that still count (not past their date), per item, place and lot, against
# the available stock there.
_OVER_RESERVED = """
    SELECT i.code, l.code, lt.code, r.reserved, ifnull(b.qty, 0) AS available, i.unit
      FROM (SELECT item_id, location_id, lot_id, sum(remaining) AS reserved FROM reservation
             WHERE state = 'open' AND remaining > 0 AND (until_on IS NULL OR until_on >= :today)
             GROUP BY 1, 2, 3) AS r
      JOIN item AS i ON i.id = r.item_id
      JOIN location AS l ON l.id = r.location_id
      LEFT JOIN lot AS lt ON lt.id = r.lot_id
      LEFT JOIN balance AS b ON b.item_id = r.item_id AND b.location_id = r.location_id
            AND ifnull(b.status, '') = 'available' AND ifnull(b.lot_id, 0) = ifnull(r.lot_id, 0)
     WHERE r.reserved > ifnull(b.qty, 0)
     ORDER BY i.code, l.code, lt.code
"""


def free_not_negative(db: sqlite3.Connection, *, today: date | None = None) -> list[Problem]:
    """Open reservations that hold more than is available where they point (free < 0)."""
    day = (today or date.today()).isoformat()
    out = []
    for item, loc, lot, reserved, available, unit in db.execute(_OVER_RESERVED, {"today": day}):
        free = q.dec(available) - q.dec(reserved)
        out.append(
            Problem(
                "negative_free",
                f"{item} at {loc}" + (f" lot {lot}" if lot else ""),
                f"free stock is {q.fmt(free)} {unit}: reserved {q.fmt(q.dec(reserved))}, "
                f"available {q.fmt(q.dec(available))}",
            )
        )
    return out


# Completion rows (schema 12) that do not stand for their moves: the first move is not a
# 'make' of the row's item, or its good units are not the output moves in its range.
_BAD_COMPLETIONS = """
    SELECT c.first_seq, c.last_seq, i.code, c.order_id, c.good, m.kind, m.item_id = c.item_id,
           (SELECT ifnull(sum(o.qty), 0) FROM move AS o
             WHERE o.seq BETWEEN c.first_seq AND c.last_seq AND o.item_id = c.item_id
               AND o.kind = 'output') AS output
      FROM completion AS c
      JOIN item AS i ON i.id = c.item_id
      LEFT JOIN move AS m ON m.seq = c.first_seq
     WHERE m.kind IS NOT 'make' OR m.item_id IS NOT c.item_id OR output <> c.good
     ORDER BY c.first_seq
"""
# 'make' moves no completion row stands for (valuation would take them as output
# without a cost).
_LOOSE_MAKES = """
    SELECT m.seq, i.code, m.ref FROM move AS m JOIN item AS i ON i.id = m.item_id
     WHERE m.kind = 'make' AND NOT EXISTS (
           SELECT 1 FROM (SELECT item_id, last_seq FROM completion WHERE first_seq <= m.seq
                           ORDER BY first_seq DESC LIMIT 1) AS own
            WHERE own.last_seq >= m.seq AND own.item_id = m.item_id)
     ORDER BY m.seq
"""


def completions(db: sqlite3.Connection) -> list[Problem]:
    """Each production output's stored cost (table ``completion``) stands for its moves:
    valuation values made items from these rows."""
    out = []
    for first, last, item, order, good, kind, same_item, output in db.execute(_BAD_COMPLETIONS):
        if kind != "make" or not same_item:
            why = f"its first move (seq {first}) is not the making of {item}"
        else:
            why = f"it says {q.fmt(q.dec(good))} good, its output moves say {q.fmt(q.dec(output))}"
        out.append(Problem("completion", f"completion {first}-{last} (ORDER-{order})", f"{why}"))
    for seq, item, ref in db.execute(_LOOSE_MAKES):
        out.append(
            Problem(
                "completion",
                f"move {seq}",
                f"{item} made ({ref or 'no reference'}) without a completion record: "
                "valuation takes it as output without a cost",
            )
        )
    return out


CHECKS = (ledger_sums_to_zero, balances_equal_ledger, no_negative_stock)


def run(db: sqlite3.Connection) -> list[Problem]:
    """The ledger invariants; an empty list means the stock figures are consistent.

    Free >= 0 (``free_not_negative``) is left to ``report``: tests of lower layers post
    moves that take reserved stock before anything lowers the reservation.
    """
    problems: list[Problem] = []
    for check in CHECKS:
        problems.extend(check(db))
    return problems


# -- master data -------------------------------------------------------------------------

_PUNCTUATION = re.compile(r"[^A-Z0-9]")
# Characters read, typed or printed for one another: O/0, I/L/1, S/5, Z/2, B/8.
_LOOKALIKE = str.maketrans("OILSZB", "011528")
_WORD = re.compile(r"[a-z0-9]+")


def code_key(code: str) -> str:
    """What is left of a code once case, punctuation and look-alike characters are gone:
    ``MIC-100``, ``mic_100``, ``MIC100`` and ``MlC-1OO`` all give ``M1C100``."""
    return _PUNCTUATION.sub("", code.upper()).translate(_LOOKALIKE)


def name_keys(name: str) -> tuple[str, str]:
    """Two keys of a name: its letters and digits in order (spacing, case and punctuation
    ignored), and its words in sorted order (word order ignored)."""
    words = _WORD.findall(name.lower())
    return "".join(words), " ".join(sorted(words))


def _groups(keys: Iterable[Iterable[str]], n: int) -> list[list[int]]:
    """Indexes 0..n-1 joined when they share any key (union-find), groups of two or more."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[int, str], int] = {}
    for i, ks in enumerate(keys):
        for kind, k in enumerate(ks):
            j = first.setdefault((kind, k), i)
            if j != i:
                parent[root(i)] = root(j)
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        members[root(i)].append(i)
    return [g for g in members.values() if len(g) > 1]


def lookalikes(db: sqlite3.Connection) -> list[Problem]:
    """Active items whose codes look alike, and active items whose names are the same.

    Grouped by normalised keys, so the cost is linear in the number of items. Names are
    compared only after normalising (case, spacing, punctuation, word order), never by
    edit distance: in a real catalogue "Resistor 10 kOhm 0402" and "Resistor 100 kOhm
    0402" differ by one character and are rightly two items.
    """
    rows = db.execute("SELECT code, name FROM item WHERE active = 1 ORDER BY code").fetchall()
    out = []
    for group in _groups(([code_key(c)] for c, _ in rows), len(rows)):
        codes_ = [rows[i][0] for i in group]
        out.append(
            Problem(
                "lookalike_code",
                ", ".join(codes_),
                f"item codes {', '.join(codes_)} look alike (case, punctuation, "
                "O/0, I/L/1, S/5, Z/2, B/8 ignored): one item entered twice?",
            )
        )
    for group in _groups((name_keys(n) for _, n in rows), len(rows)):
        codes_ = [rows[i][0] for i in group]
        out.append(
            Problem(
                "duplicate_name",
                ", ".join(codes_),
                f"items {', '.join(codes_)} have the same name ({rows[group[0]][1]!r}, "
                "ignoring case, spacing, punctuation and word order)",
            )
        )
    return out


# Active BOM lines that convert through one of the child's own units (item_unit.unit
# compares without case).
_OWN_UNIT_LINES = """
    SELECT c.code, c.unit, bl.unit, iu.factor, p.code, b.revision
      FROM bom_line AS bl
      JOIN bom AS b ON b.id = bl.bom_id AND b.active = 1
      JOIN item AS c ON c.id = bl.child_id
      JOIN item AS p ON p.id = b.item_id
      JOIN item_unit AS iu ON iu.item_id = c.id AND iu.unit = bl.unit
     WHERE lower(bl.unit) <> lower(c.unit)
     ORDER BY p.code, b.revision, bl.position
"""


def unit_conflicts(code: str, base: str, units: Mapping[str, Decimal]) -> list[Problem]:
    """``unit_conflict`` problems of one item's own units (``qty.unit_conflict``)."""
    out = []
    for unit, factor in sorted(units.items(), key=lambda u: u[0].lower()):
        reason = q.unit_conflict(unit, factor, base)
        if reason is not None:
            out.append(Problem("unit_conflict", code, f"{code} defines {reason}"))
    return out


def unit_consistency(db: sqlite3.Connection) -> list[Problem]:
    """Units an item defines against the built-in ones, and BOM lines across unit kinds.

    ``unit_conflict``: an item's own unit named like its base unit, or like a built-in
    unit of its base unit's family with another factor (base ``kg`` and ``g: 0.01``):
    the item's unit wins, so every quantity typed in it is off by that ratio. Entry
    refuses both (``qty.unit_conflict``); this finds what was stored before.
    ``unit_kind``: an item counted in one kind of unit (a mass, a length, pieces...) and
    used by an active BOM in another (solder counted in kg, used in pcs), converting only
    through the item's own factor: a guess that is worth checking.
    """
    family = q.STANDARD_UNITS
    out = []
    units: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for item_id, unit, factor in db.execute("SELECT item_id, unit, factor FROM item_unit"):
        units[item_id][unit] = q.dec(factor)
    for item_id, code, base in db.execute("SELECT id, code, unit FROM item ORDER BY code"):
        out.extend(unit_conflicts(code, base, units.get(item_id, {})))

    def kind(unit: str) -> str:
        return family[unit.lower()][0] if unit.lower() in family else "count"

    seen: set[tuple[str, str]] = set()
    for code, base, unit, factor, parent, revision in db.execute(_OWN_UNIT_LINES):
        if kind(unit) == kind(base) or (code, unit.lower()) in seen:
            continue
        seen.add((code, unit.lower()))
        out.append(
            Problem(
                "unit_kind",
                code,
                f"{code} is counted in {base} ({kind(base)}) but BOM {parent} rev {revision} "
                f"uses it in {unit} ({kind(unit)}), through the item's own factor "
                f"1 {unit} = {q.fmt(q.dec(factor))} {base}",
            )
        )
    return out


def boms(db: sqlite3.Connection) -> list[Problem]:
    """Every problem of the active BOMs (``bom validate``): cycles, units, deactivated
    items, make items without a BOM, phantoms without one."""
    from mfgctl.domain import bomcheck

    # bom validate also names the unit_conflict of items its BOMs use; here
    # unit_consistency reports them for every item, once.
    return [p for p in bomcheck.validate(db) if p.check != "unit_conflict"]


# Active buy items that keep an active BOM revision.
_BUY_WITH_BOM = """
    SELECT i.code, b.revision FROM item AS i JOIN bom AS b ON b.item_id = i.id AND b.active = 1
     WHERE i.active = 1 AND i.make_or_buy = 'buy'
     ORDER BY i.code
"""


def buy_with_bom(db: sqlite3.Connection) -> list[Problem]:
    """Buy items that keep an active BOM: explosion, costing and MRP treat them as bought
    (their BOM is not walked), except through a phantom line."""
    return [
        Problem(
            "buy_with_bom",
            code,
            f"buy item {code} has an active BOM (rev {revision}) that bom explode, bom cost "
            f"and mrp leave out (they buy {code}); if it is made here: "
            f"mfgctl item update {code} --make-or-buy make",
        )
        for code, revision in db.execute(_BUY_WITH_BOM)
    ]


def lot_rules(db: sqlite3.Connection) -> list[Problem]:
    """Active items with fixed lot sizing whose fixed lot, as MRP orders it, is above
    their maximum order quantity: MRP orders whole fixed lots and splits each at the
    maximum, so a part of the last one may serve nothing. ``items`` refuses such an
    item; this finds those stored before it did."""
    rows = db.execute(
        "SELECT code, fixed_order_qty, max_order_qty, moq, order_multiple FROM item "
        "WHERE active = 1 AND lot_sizing = 'fixed' AND fixed_order_qty IS NOT NULL "
        "AND max_order_qty IS NOT NULL ORDER BY code"
    )
    out = []
    for code, fixed, cap, moq, multiple in rows:
        if fixed > cap:
            why = (
                f"fixed order quantity {q.fmt(q.dec(fixed))} is above the maximum order "
                f"quantity {q.fmt(q.dec(cap))}: each fixed lot is split at the maximum, and "
                "the last split lots may serve nothing"
            )
        else:
            why = fixed_lot_split(
                q.dec(fixed), q.dec(cap), q.from_micro(moq), q.from_micro(multiple)
            )
            if why is None:
                continue
        out.append(
            Problem(
                "lot_rules",
                code,
                f"{why}; item add, update and import refuse this now: lower the fixed "
                f"quantity or raise the maximum (mfgctl item update {code} "
                "--fixed-order-qty N or --max-order-qty N)",
            )
        )
    return out


def buy_data(db: sqlite3.Connection) -> list[Problem]:
    """Active buy items without a purchase lead time (0 days) or a standard cost."""
    out = []
    rows = db.execute(
        "SELECT code, purchase_lead_time_days, std_cost FROM item "
        "WHERE active = 1 AND make_or_buy = 'buy' "
        "AND (purchase_lead_time_days = 0 OR std_cost IS NULL) ORDER BY code"
    )
    for code, lead, cost in rows:
        if lead == 0:
            out.append(
                Problem("no_lead_time", code, f"buy item {code} has no purchase lead time (0 days)")
            )
        if cost is None:
            out.append(Problem("no_cost", code, f"buy item {code} has no standard cost"))
    return out


def planning_reviewed(db: sqlite3.Connection, *, today: date, days: int) -> list[Problem]:
    """Active items whose planning data was never reviewed, or not within ``days``."""
    # More days than the calendar holds (--days-unreviewed 999999999999): the cutoff is
    # the first day there is, and only items never reviewed are reported.
    cutoff = (today - timedelta(days=min(days, (today - date.min).days))).isoformat()
    out = []
    rows = db.execute(
        "SELECT code, planning_reviewed_on FROM item WHERE active = 1 "
        "AND (planning_reviewed_on IS NULL OR planning_reviewed_on < ?) ORDER BY code",
        (cutoff,),
    )
    for code, reviewed in rows:
        if reviewed is None:
            message = "planning data never reviewed"
        else:
            age = (today - date.fromisoformat(reviewed)).days
            message = f"planning data last reviewed {reviewed}, {age} days ago (limit {days})"
        out.append(Problem("planning_unreviewed", code, message))
    return out


_UNTRACKED = """
    SELECT i.code, l.code, b.status, b.qty, i.unit, i.tracking FROM balance AS b
      JOIN item AS i ON i.id = b.item_id JOIN location AS l ON l.id = b.location_id
     WHERE i.tracking <> 'none' AND b.lot_id IS NULL AND b.status IS NOT NULL AND b.qty > 0
     ORDER BY i.code, l.code, b.status
"""


def untracked_stock(db: sqlite3.Connection) -> list[Problem]:
    """Stock of lot- or serial-tracked items that has no lot: it cannot be traced."""
    return [
        Problem(
            "untracked_stock",
            f"{item} at {loc}/{status}",
            f"{q.fmt(q.dec(amount))} {unit} without a lot, but {item} is tracked by {tracking}",
        )
        for item, loc, status, amount, unit, tracking in db.execute(_UNTRACKED)
    ]


# Quantities of serial-tracked items that are not whole units, stored before entry
# refused them (``items.check_whole``): stock at a real place or in an order's WIP, and
# what is still open of production orders (their quantity and their frozen material
# requirements), purchase orders, demand and reservations.
# Each row: subject, what, quantity (micro-units), item, unit.
_SERIAL_FRACTIONS = """
    SELECT i.code || ' at ' || l.code || ifnull('/' || b.status, '')
               || ifnull(' lot ' || lt.code, ''), 'stock', b.qty, i.code, i.unit
      FROM balance AS b JOIN item AS i ON i.id = b.item_id
      JOIN location AS l ON l.id = b.location_id LEFT JOIN lot AS lt ON lt.id = b.lot_id
     WHERE i.tracking = 'serial' AND l.kind IN ('internal', 'production')
       AND b.qty > 0 AND b.qty % 1000000 <> 0
    UNION ALL
    SELECT 'ORDER-' || o.id, 'production order ' || o.id || ' (' || o.state || ')', o.qty,
           i.code, i.unit
      FROM production_order AS o JOIN item AS i ON i.id = o.item_id
     WHERE i.tracking = 'serial' AND o.state IN ('planned', 'released', 'in_progress')
       AND o.qty % 1000000 <> 0
    UNION ALL
    SELECT 'ORDER-' || o.id, 'the requirement frozen on production order ' || o.id
               || ' (' || o.state || ')', om.qty, i.code, i.unit
      FROM order_material AS om JOIN production_order AS o ON o.id = om.order_id
      JOIN item AS i ON i.id = om.item_id
     WHERE i.tracking = 'serial' AND o.state IN ('planned', 'released', 'in_progress')
       AND om.qty % 1000000 <> 0
    UNION ALL
    SELECT 'PO ' || p.id, 'open purchase order ' || p.id || ' (still to come)',
           p.qty - p.received, i.code, i.unit
      FROM purchase_order AS p JOIN item AS i ON i.id = p.item_id
     WHERE i.tracking = 'serial' AND p.state = 'open' AND (p.qty - p.received) % 1000000 <> 0
    UNION ALL
    SELECT 'demand ' || d.id, 'open ' || d.kind || ' demand ' || d.id, d.qty, i.code, i.unit
      FROM demand AS d JOIN item AS i ON i.id = d.item_id
     WHERE i.tracking = 'serial' AND d.state = 'open' AND d.qty % 1000000 <> 0
    UNION ALL
    SELECT 'reservation ' || r.id, 'open reservation ' || r.id || ' (' || r.ref || ')',
           r.remaining, i.code, i.unit
      FROM reservation AS r JOIN item AS i ON i.id = r.item_id
     WHERE i.tracking = 'serial' AND r.state = 'open' AND r.remaining % 1000000 <> 0
"""


def serial_rules(db: sqlite3.Connection) -> list[Problem]:
    """What serial-tracked items hold that the current rules refuse on entry.

    ``serial_fraction`` (error): a fraction of a serial-tracked item in stock or still
    open on an order (its quantity or a frozen material requirement), demand or
    reservation: each unit is one serial, so it can never be
    received, made, picked or shipped as stored. ``serial_pattern`` (warning): an active
    item whose stored serial pattern no longer passes the check ``item update`` makes
    (``items.PARSERS``): ``order complete --auto-serials`` refuses the serials it gives.
    """
    from mfgctl.domain import items
    from mfgctl.errors import InvalidInput

    out = [
        Problem(
            "serial_fraction",
            subject,
            f"{what} holds {q.fmt(q.dec(amount))} {unit} of serial-tracked {item}: not a "
            "whole number of units (one serial each)",
        )
        for subject, what, amount, item, unit in db.execute(_SERIAL_FRACTIONS)
    ]
    rows = db.execute(
        "SELECT code, serial_pattern FROM item WHERE active = 1 AND serial_pattern IS NOT NULL "
        "ORDER BY code"
    )
    for code, pattern in rows:
        try:
            items.PARSERS["serial_pattern"](pattern, "serial_pattern")
        except InvalidInput as e:
            out.append(
                Problem(
                    "serial_pattern",
                    code,
                    f"{e}; order complete --auto-serials refuses it: give {code} another "
                    f"(mfgctl item update {code} --serial-pattern TEXT)",
                )
            )
    return out


# Each place (real location and status) holding a serial that has more than one unit in
# house over all real locations and statuses, the place it came to last first. A total
# that is no whole number of units is serial_fraction's, and a lot made before its item
# became serial-tracked is no serial.
_SERIAL_DUPLICATES = """
    WITH twice AS (
        SELECT b.item_id, b.lot_id FROM balance AS b
          JOIN item AS i ON i.id = b.item_id JOIN location AS l ON l.id = b.location_id
          JOIN lot AS lt ON lt.id = b.lot_id
         WHERE i.tracking = 'serial' AND lt.serial = 1 AND l.kind = 'internal' AND b.qty > 0
         GROUP BY b.item_id, b.lot_id
        HAVING sum(b.qty) > 1000000 AND sum(b.qty) % 1000000 = 0
    )
    SELECT i.code, lt.code, l.code, b.status, b.qty, i.unit,
           (SELECT max(m.seq) FROM move AS m
             WHERE m.item_id = b.item_id AND m.lot_id = b.lot_id
               AND m.to_location_id = b.location_id AND m.to_status IS b.status) AS last
      FROM twice AS t
      JOIN balance AS b ON b.item_id = t.item_id AND b.lot_id = t.lot_id AND b.qty > 0
      JOIN item AS i ON i.id = b.item_id JOIN location AS l ON l.id = b.location_id
      JOIN lot AS lt ON lt.id = b.lot_id
     WHERE l.kind = 'internal'
     ORDER BY i.code, lt.code, last DESC
"""


def serial_duplicates(db: sqlite3.Connection) -> list[Problem]:
    """``serial_duplicate`` (error): a serial with more than one unit in house (over all
    real locations and statuses). A serial is one unit; ``stock count`` booked a second
    one before it refused to. The message names where it is and the count that corrects
    it: 0 where it is not (the place it came to last is the example), or 1 where a
    single place holds more."""
    places: dict[tuple[str, str], list[tuple[str, str, int, str]]] = defaultdict(list)
    for item, lot, loc, status, amount, unit, _last in db.execute(_SERIAL_DUPLICATES):
        places[(item, lot)].append((loc, status, amount, unit))
    out = []
    for (item, lot), rows in places.items():
        unit = rows[0][3]
        total = q.dec(sum(r[2] for r in rows))
        where = ", ".join(
            f"{loc}/{status} {q.fmt(q.dec(amount))}" for loc, status, amount, _u in rows
        )
        loc, status = rows[0][0], rows[0][1]
        if len(rows) == 1:
            fix = (
                f"count it there as 1 (mfgctl stock count {item} 1 --lot {lot} --location "
                f"{loc} --status {status})"
            )
        else:
            fix = (
                "count 0 at each place where it is not (the last it came to: mfgctl stock "
                f"count {item} 0 --lot {lot} --location {loc} --status {status})"
            )
        out.append(
            Problem(
                "serial_duplicate",
                f"{item} serial {lot}",
                f"{q.fmt(total)} {unit} in house ({where}), but a serial is one unit: {fix}",
            )
        )
    return out


_PENDING = """
    SELECT b.item_id, b.location_id, b.lot_id, b.qty, i.code, l.code, lt.code, i.unit
      FROM balance AS b JOIN item AS i ON i.id = b.item_id
      JOIN location AS l ON l.id = b.location_id LEFT JOIN lot AS lt ON lt.id = b.lot_id
     WHERE b.status = 'pending_inspection' AND b.qty > 0
     ORDER BY i.code, l.code, lt.code
"""
_ARRIVALS = """
    SELECT effective_at, qty FROM move
     WHERE item_id = ? AND to_location_id = ? AND to_status = 'pending_inspection'
       AND lot_id IS ?
     ORDER BY effective_at DESC, seq DESC
"""


def inspection_age(db: sqlite3.Connection, *, today: date, days: int) -> list[Problem]:
    """Stock waiting for inspection for more than ``days`` days.

    The age is that of the oldest arrival still there, first in first out: the newest
    moves into the place are counted back until they make up what is there now.
    """
    out = []
    for item_id, loc_id, lot_id, amount, item, loc, lot, unit in db.execute(_PENDING).fetchall():
        left, since = amount, None
        for effective_at, moved in db.execute(_ARRIVALS, (item_id, loc_id, lot_id)):
            since = effective_at
            left -= moved
            if left <= 0:
                break
        if since is None:
            continue  # no move brought it (balance drift): the balance check reports it
        arrived = date.fromisoformat(timefmt.local(since)[:10])
        age = (today - arrived).days
        if age > days:
            out.append(
                Problem(
                    "inspection_age",
                    f"{item} at {loc}" + (f" lot {lot}" if lot else ""),
                    f"{q.fmt(q.dec(amount))} {unit} pending inspection since {arrived}, "
                    f"{age} days (limit {days})",
                )
            )
    return out


# Available stock at real locations in lots expired before :today, with what open,
# unexpired reservations still hold of it (and for whom).
_EXPIRED = """
    SELECT i.code, l.code, lt.code, lt.serial, lt.expires_on, b.qty, i.unit,
           (SELECT ifnull(sum(r.remaining), 0) FROM reservation AS r
             WHERE r.state = 'open' AND r.remaining > 0 AND r.item_id = b.item_id
               AND r.location_id = b.location_id AND r.lot_id = b.lot_id
               AND (r.until_on IS NULL OR r.until_on >= :today)),
           (SELECT group_concat(id, ' ') FROM (
                SELECT r.id FROM reservation AS r
                 WHERE r.state = 'open' AND r.remaining > 0 AND r.item_id = b.item_id
                   AND r.location_id = b.location_id AND r.lot_id = b.lot_id
                   AND (r.until_on IS NULL OR r.until_on >= :today) ORDER BY r.id))
      FROM balance AS b
      JOIN item AS i ON i.id = b.item_id
      JOIN location AS l ON l.id = b.location_id
      JOIN lot AS lt ON lt.id = b.lot_id
     WHERE b.status = 'available' AND b.qty > 0 AND l.kind = 'internal'
       AND lt.expires_on < :today
     ORDER BY lt.expires_on, i.code, lt.code, l.code
"""


def expired_stock(db: sqlite3.Connection, *, today: date) -> list[Problem]:
    """Available stock in lots whose expiry date is before ``today``: automatic picking
    skips it and naming it is refused, so it sits there until someone holds, scraps or
    removes it. What reservations still hold of it is named (they are never consumed)."""
    out = []
    params = {"today": today.isoformat()}
    for item, loc, lot, serial, on, amount, unit, held, ids in db.execute(_EXPIRED, params):
        word, option = ("serial", "--serial") if serial else ("lot", "--lot")
        reserved = q.dec(held)
        note = ""
        if reserved > 0:
            listed = ids.split()
            which = f"reservation{'s' if len(listed) > 1 else ''} {', '.join(listed)}"
            note = (
                f"; {q.fmt(reserved)} of it held by {which}, never consumed or shipped "
                f"(mfgctl reserve cancel {listed[0]})"
            )
        out.append(
            Problem(
                "expired_stock",
                f"{item} at {loc} {word} {lot}",
                f"{q.fmt(q.dec(amount))} {unit} available, expired on {on}: not used{note}; "
                f"hold it (mfgctl inspect {item} {option} {lot} --location {loc} --hold), "
                "remove it (mfgctl stock adjust), or, if a re-test found it good, give it a "
                f"new date (mfgctl stock expiry {item} {lot} --expires DATE --reason ...)",
            )
        )
    return out


def reserved_beyond_demand(db: sqlite3.Connection, *, today: date) -> list[Problem]:
    """Open reservations for a sales reference that hold more of an item than the
    reference's open sales demand of it still lacks (``demand.over_held``): stored
    before a cut or cancelled demand freed them (``demand update``, ``demand cancel``
    do now), or reserved beyond the order. The excess is neither free nor covering any
    demand, so MRP buys it again and ATP counts it as gone."""
    from mfgctl.domain import demand

    item_codes, _locs = _names(db)
    units = dict(db.execute("SELECT id, unit FROM item").fetchall())
    out = []
    found = demand.over_held(db, today=today.isoformat())
    for o in sorted(found, key=lambda o: (item_codes[o.item_id], o.ref.casefold())):
        item, unit = item_codes[o.item_id], units[o.item_id]
        ids = ", ".join(str(i) for i in o.reservation_ids)
        which = f"reservation{'s' if len(o.reservation_ids) > 1 else ''} {ids}"
        cancel = "; ".join(f"mfgctl reserve cancel {i}" for i in o.reservation_ids)
        again = f", then mfgctl reserve {item} {q.fmt(o.lacking)} --for {o.ref}"
        lacks = (
            f"lacks {q.fmt(o.lacking)}" if o.lacking > 0 else "lacks nothing (shipped or cancelled)"
        )
        out.append(
            Problem(
                "reserved_beyond_demand",
                f"{item} for {o.ref}",
                f"open {which} for {o.ref} hold {q.fmt(o.held)} {unit} {item}, but the open "
                f"sales demand of {item} under {o.ref} {lacks}: {q.fmt(o.excess)} {unit} "
                "held for nothing (not free, so MRP buys it again); free it "
                f"({cancel}{again if o.lacking > 0 else ''}), or record the demand it is "
                "for (mfgctl demand add, demand update)",
            )
        )
    return out


_OVERDUE_PO = """
    SELECT po.id, i.code, po.qty - po.received, i.unit, po.due_on, po.supplier
      FROM purchase_order AS po JOIN item AS i ON i.id = po.item_id
     WHERE po.state = 'open' AND po.due_on < ? ORDER BY po.due_on, po.id
"""
_OVERDUE_ORDER = """
    SELECT o.id, i.code, o.qty, i.unit, o.due_on, o.state
      FROM production_order AS o JOIN item AS i ON i.id = o.item_id
     WHERE o.state IN ('planned', 'released', 'in_progress') AND o.due_on < ?
     ORDER BY o.due_on, o.id
"""


def overdue(db: sqlite3.Connection, *, today: date) -> list[Problem]:
    """Open purchase orders and unfinished production orders past their due date."""
    day = today.isoformat()
    out = []
    for po, item, open_qty, unit, due, supplier in db.execute(_OVERDUE_PO, (day,)):
        late = (today - date.fromisoformat(due)).days
        out.append(
            Problem(
                "overdue_purchase",
                f"PO {po}",
                f"{q.fmt(q.dec(open_qty))} {unit} {item} still open, due {due}: "
                f"{_plural(late, 'day')} late" + (f" (supplier {supplier})" if supplier else ""),
            )
        )
    for order, item, amount, unit, due, state in db.execute(_OVERDUE_ORDER, (day,)):
        late = (today - date.fromisoformat(due)).days
        out.append(
            Problem(
                "overdue_order",
                f"ORDER-{order}",
                f"{q.fmt(q.dec(amount))} {unit} {item} still {state}, due {due}: "
                f"{_plural(late, 'day')} late",
            )
        )
    return out


_ORDERS_DONE = f"""
    SELECT o.id, i.code, i.unit, o.qty, o.state,
           ifnull((SELECT sum(m.qty) FROM move AS m WHERE m.item_id = o.item_id
                      AND m.from_location_id = o.location_id AND m.kind = 'output'), 0)
      FROM production_order AS o JOIN item AS i ON i.id = o.item_id
     WHERE o.state IN ('released', 'in_progress') AND {EXPECTED_OUTPUT} = 0
     ORDER BY o.id
"""


def orders_done(db: sqlite3.Connection) -> list[Problem]:
    """Released or in-progress orders with nothing more to come (made, scrapped or
    rejected at a stage in full) that nobody closed: MRP no longer counts them as a
    receipt, yet they stay open, with their reservations and WIP."""
    return [
        Problem(
            "order_done",
            f"ORDER-{order}",
            f"{q.fmt(q.dec(made))} of {q.fmt(q.dec(qty))} {unit} {item} made and nothing "
            f"more to come (the rest scrapped or rejected), yet still {state.replace('_', ' ')}: "
            f"close it (mfgctl order complete {order} --final)",
        )
        for order, item, unit, qty, state, made in db.execute(_ORDERS_DONE)
    ]


def inactive_open(db: sqlite3.Connection) -> list[Problem]:
    """Open demand, purchase orders and production orders of a deactivated item, and
    open production orders that still need one as a material: planning leaves them out
    (and such a purchase order cannot be received, such an order not be released).
    ``item deactivate`` refuses an item with open work; these come from before it did
    (or from an order made with an active BOM that uses a deactivated item, which
    ``bom_inactive`` reports as well)."""
    from mfgctl.domain import items

    subject = {"purchase order": "PO {}", "production order": "ORDER-{}"}
    out = []
    for w in items.open_work(db, inactive_only=True):
        ref = f" ({w.ref})" if w.ref else ""
        out.append(
            Problem(
                "inactive_open",
                subject.get(w.kind, "demand {}").format(w.id),
                f"open {w.kind} of {q.fmt(w.qty)} {w.unit} {w.item} due {w.due_on}{ref}, "
                f"but {w.item} is deactivated: planning leaves it out; end it "
                f"({w.how_to_end}) or reactivate {w.item} (mfgctl item update {w.item} "
                "--active)",
            )
        )
    for n in items.material_needs(db):
        out.append(
            Problem(
                "inactive_open",
                f"ORDER-{n.order_id}",
                f"open production order {n.order_id} of {q.fmt(n.order_qty)} {n.order_unit} "
                f"{n.product} (revision {n.revision}, {n.state}) due {n.due_on} still needs "
                f"{q.fmt(n.qty)} {n.unit} {n.item}, but {n.item} is deactivated: planning "
                f"leaves it out and it can no longer be received; end it ({n.how_to_end}) or "
                f"reactivate {n.item} (mfgctl item update {n.item} --active)",
            )
        )
    return out


def report(
    db: sqlite3.Connection,
    *,
    today: date | None = None,
    days_unreviewed: int = 180,
    inspection_days: int = 7,
    quick: bool = False,
) -> list[Problem]:
    """Everything ``mfgctl check`` looks at, errors first (then in ``SEVERITY`` order).

    Args:
        today: the day "overdue", "days ago" and reservation expiry are counted from.
        days_unreviewed: planning data reviewed longer ago than this is reported.
        inspection_days: stock pending inspection longer than this is reported.
        quick: SQLite's ``quick_check`` instead of the full ``integrity_check``.
    """
    day = today or date.today()
    in_file = _FileChecks(db, quick=quick)  # started now, in the background
    # The file's checks are collected last, so that the others run meanwhile; the sort
    # below puts their problems first again (each check's problems keep their order).
    checks: list[Callable[[], list[Problem]]] = [
        lambda: ledger_sums_to_zero(db),
        lambda: balances_equal_ledger(db),
        lambda: no_negative_stock(db),
        lambda: free_not_negative(db, today=day),
        lambda: completions(db),
        lambda: boms(db),
        lambda: buy_with_bom(db),
        lambda: lot_rules(db),
        lambda: unit_consistency(db),
        lambda: untracked_stock(db),
        lambda: serial_rules(db),
        lambda: serial_duplicates(db),
        lambda: buy_data(db),
        lambda: planning_reviewed(db, today=day, days=days_unreviewed),
        lambda: inspection_age(db, today=day, days=inspection_days),
        lambda: expired_stock(db, today=day),
        lambda: reserved_beyond_demand(db, today=day),
        lambda: overdue(db, today=day),
        lambda: orders_done(db),
        lambda: inactive_open(db),
        lambda: lookalikes(db),
        in_file.integrity,
        in_file.foreign_keys,
    ]
    found: list[Problem] = []
    for check in checks:
        found.extend(check())
    order = {name: n for n, name in enumerate(SEVERITY)}
    return sorted(
        found, key=lambda p: (p.severity != ERROR, order.get(p.check, len(order)))
    )  # stable: each check's own order is kept
