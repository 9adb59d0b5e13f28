"""Bills of materials: multi-level, with revisions.

A BOM *revision* of an item lists the *lines* that make ``output_qty`` base units of
it: child item, quantity per output quantity (in a unit convertible to the child's base
unit), scrap % (inflates the quantity: ``qty * (1 + scrap/100)``), a fixed quantity per
order for setup losses, ordered substitutes, an optional phantom flag (the child is
not stocked: its own BOM is passed through) and a reference designator or note.

One revision per item is active; old revisions stay for history and for orders made
with them. A revision, once stored, is never rewritten: a changed BOM becomes a new
revision (see ``save``).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, items
from mfgctl.errors import InvalidInput, NotFound

LINE_KEYS = (
    "item",
    "qty",
    "unit",
    "scrap_pct",
    "fixed_qty",
    "substitutes",
    "phantom",
    "refdes",
    "note",
)
BOM_KEYS = ("item", "revision", "output_qty", "active", "note", "lines")

# Reference designators of one line, as text ("C1,C2,..."): a board's hundreds of
# decoupling capacitors fit (a CSV import joins them), and the YAML import reads back
# what the export writes.
REFDES_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class Line:
    """One BOM line; ``qty`` and ``fixed_qty`` are in ``unit``."""

    item: str
    qty: Decimal
    unit: str
    scrap_pct: Decimal = Decimal(0)
    fixed_qty: Decimal = Decimal(0)
    substitutes: tuple[str, ...] = ()
    phantom: bool = False
    refdes: str | None = None
    note: str | None = None

    def key(self) -> tuple[Any, ...]:
        """What makes two lines the same (codes and units compared case-insensitively)."""
        return (
            self.item.upper(),
            self.qty,
            self.unit.lower(),
            self.scrap_pct,
            self.fixed_qty,
            tuple(s.upper() for s in self.substitutes),
            self.phantom,
            self.refdes or None,
            self.note or None,
        )

    def to_fields(self) -> dict[str, Any]:
        """Import/export keys, leaving out defaults."""
        out: dict[str, Any] = {"item": self.item, "qty": self.qty, "unit": self.unit}
        if self.scrap_pct:
            out["scrap_pct"] = self.scrap_pct
        if self.fixed_qty:
            out["fixed_qty"] = self.fixed_qty
        if self.substitutes:
            out["substitutes"] = list(self.substitutes)
        if self.phantom:
            out["phantom"] = True
        if self.refdes:
            out["refdes"] = self.refdes
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class Revision:
    """A BOM revision of ``item``: ``lines`` make ``output_qty`` base units of it."""

    item: str
    revision: str
    output_qty: Decimal
    lines: tuple[Line, ...]
    active: bool = True
    note: str | None = None
    created_at: str | None = field(default=None, compare=False)
    id: int = field(default=0, compare=False)

    def same_content(self, other: Revision) -> bool:
        """Whether ``compare`` finds no difference: the same output quantity and lines,
        in any order (the import stores no new revision that ``bom diff`` would call
        identical)."""
        if self.output_qty != other.output_qty or len(self.lines) != len(other.lines):
            return False
        if [ln.key() for ln in self.lines] == [ln.key() for ln in other.lines]:
            return True
        return not compare(self, other)

    def same_order(self, other: Revision) -> bool:
        """Whether the lines are listed in the same order (``same_content`` aside)."""
        return [ln.key() for ln in self.lines] == [ln.key() for ln in other.lines]

    def as_row(self) -> dict[str, Any]:
        """The revision as one row of ``bom list``."""
        return {
            "item": self.item,
            "revision": self.revision,
            "active": self.active,
            "output_qty": self.output_qty,
            "lines": len(self.lines),
            "created": timefmt.local(self.created_at),
        }

    def to_fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"item": self.item, "revision": self.revision}
        if self.output_qty != 1:
            out["output_qty"] = self.output_qty
        if not self.active:
            out["active"] = False
        if self.note:
            out["note"] = self.note
        out["lines"] = [ln.to_fields() for ln in self.lines]
        return out


# -- comparing revisions ---------------------------------------------------------------
# The one comparison of two revisions: ``bom diff`` shows it, and ``same_content`` (the
# import's "the BOM changed") is true exactly when it finds nothing.

DIFF_FIELDS = ("qty", "unit", "scrap_pct", "fixed_qty", "substitutes", "phantom", "refdes", "note")


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two revisions: a line ``added`` or ``removed``, or one
    ``field`` of a line (or the revision's ``output_qty``) ``changed`` from old to new."""

    change: str
    item: str
    field: str
    old: Any
    new: Any

    def as_row(self) -> dict[str, Any]:
        return {
            "change": self.change,
            "item": self.item,
            "field": self.field,
            "old": self.old,
            "new": self.new,
        }


def _value(line: Line, name: str) -> Any:
    value = getattr(line, name)
    if name == "substitutes":
        return list(value)
    if name in ("refdes", "note"):
        return value or None
    return value


def _same(line: Line, other: Line, name: str) -> bool:
    a, b = _value(line, name), _value(other, name)
    if name == "unit":
        return str(a).lower() == str(b).lower()
    if name == "substitutes":
        return [s.upper() for s in a] == [s.upper() for s in b]
    return bool(a == b)


def describe(line: Line) -> str:
    """A line in a few words: ``2 g, scrap 5%, fixed 1, phantom, subs X, Y``."""
    parts = [f"{q.fmt(line.qty)} {line.unit}".strip()]
    if line.scrap_pct:
        parts.append(f"scrap {q.fmt(line.scrap_pct)}%")
    if line.fixed_qty:
        parts.append(f"fixed {q.fmt(line.fixed_qty)}")
    if line.phantom:
        parts.append("phantom")
    if line.substitutes:
        parts.append(f"subs {' '.join(line.substitutes)}")
    if line.refdes:
        parts.append(f"refdes {line.refdes}")
    if line.note:
        parts.append(f"note {line.note}")
    return ", ".join(parts)


def compare(old: Revision, new: Revision) -> list[Change]:
    """What changed from ``old`` to ``new``: output quantity, then lines in order.

    Lines are matched by child item, so the order of the lines is no change: what a
    revision makes and requires does not depend on it (it only sets the order an
    order lists its materials in). When an item has several lines, those equal to one
    of the other revision pair first, the rest in the order they appear.
    """
    changes: list[Change] = []
    if old.output_qty != new.output_qty:
        changes.append(Change("changed", new.item, "output_qty", old.output_qty, new.output_qty))
    before: dict[str, list[tuple[tuple[Any, ...], Line]]] = {}
    for line in old.lines:
        before.setdefault(line.item.upper(), []).append((line.key(), line))
    paired: set[int] = set()
    for n, line in enumerate(new.lines):
        previous = before.get(line.item.upper(), [])
        key = line.key()
        same = next((i for i, (k, _) in enumerate(previous) if k == key), None)
        if same is not None:
            previous.pop(same)
            paired.add(n)
    for n, line in enumerate(new.lines):
        if n in paired:
            continue
        previous = before.get(line.item.upper())
        if not previous:
            changes.append(Change("added", line.item, "line", None, describe(line)))
            continue
        was = previous.pop(0)[1]
        for name in DIFF_FIELDS:
            if not _same(was, line, name):
                changes.append(
                    Change("changed", line.item, name, _value(was, name), _value(line, name))
                )
    for leftover in before.values():
        changes.extend(Change("removed", ln.item, "line", describe(ln), None) for _, ln in leftover)
    return changes


# -- parsing ---------------------------------------------------------------------------


def _bool(value: object, what: str) -> bool:
    if isinstance(value, bool):
        return value
    raise InvalidInput(f"{what} must be true or false, not {value!r}")


def parse_line(raw: Mapping[str, Any], *, where: str = "") -> Line:
    """A BOM line from import keys (see LINE_KEYS); validates values, not references."""
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where}a BOM line must be a mapping with item, qty, unit")
    unknown = [k for k in raw if k not in LINE_KEYS]
    if unknown:
        raise InvalidInput(
            f"{where}{unknown[0]}: unknown BOM line key (known: {', '.join(LINE_KEYS)})"
        )
    for key in ("item", "qty"):
        if key not in raw:
            raise InvalidInput(f"{where}{key}: missing")
    subs = raw.get("substitutes") or []
    if isinstance(subs, str):
        subs = [subs]
    if not isinstance(subs, list):
        raise InvalidInput(f"{where}substitutes: must be a list of item codes")
    scrap = q.parse_qty(raw.get("scrap_pct", 0), what=f"{where}scrap_pct", allow_zero=True)
    if scrap >= 100:
        raise InvalidInput(f"{where}scrap_pct: {q.fmt(scrap)} must be below 100")
    unit = raw.get("unit")
    return Line(
        item=codes.code(raw["item"], what=f"{where}item"),
        qty=q.parse_qty(raw["qty"], what=f"{where}qty"),
        unit=q.parse_unit(unit, what=f"{where}unit") if unit is not None else "",
        scrap_pct=scrap,
        fixed_qty=q.parse_qty(raw.get("fixed_qty", 0), what=f"{where}fixed_qty", allow_zero=True),
        substitutes=tuple(
            codes.code(s, what=f"{where}substitutes[{i}]") for i, s in enumerate(subs)
        ),
        phantom=_bool(raw.get("phantom", False), f"{where}phantom"),
        refdes=codes.text(
            raw.get("refdes"), what=f"{where}refdes", limit=REFDES_LIMIT, required=False
        ),
        note=codes.text(raw.get("note"), what=f"{where}note", limit=500, required=False),
    )


def substitute_mistakes(item: str, substitutes: Sequence[str]) -> list[str]:
    """What is wrong with a line's substitutes (codes compared without case): one that
    names the line's own item, one listed again. Planning is not harmed (no stock is
    counted twice), but either is a typo the engineer wants to hear about: the import
    refuses it in an active revision, ``bom validate`` reports a stored one."""
    said: list[str] = []
    seen: dict[str, str] = {}
    for code in substitutes:
        key = code.strip().upper()
        if key in seen:  # the line's own item listed twice is said once as such
            said.append(
                f"{code} is listed twice" if code == seen[key] else f"{code} is {seen[key]} again"
            )
        elif key == item.strip().upper():
            said.append(f"{code} is the line's own item")
        seen.setdefault(key, code)
    return said


def revision_code(value: object, *, what: str = "revision") -> str:
    return codes.code(value, what=what)


# -- data access -----------------------------------------------------------------------

_REVISIONS = """
    SELECT b.id, i.code AS item, b.revision, b.output_qty, b.active, b.note, b.created_at
      FROM bom AS b JOIN item AS i ON i.id = b.item_id
"""
_LINES = """
    SELECT l.id, l.bom_id, c.code AS item, l.qty, l.unit, l.scrap_pct, l.fixed_qty, l.phantom,
           l.refdes, l.note
      FROM bom_line AS l JOIN item AS c ON c.id = l.child_id
"""
_SUBSTITUTES = """
    SELECT s.line_id, i.code
      FROM bom_substitute AS s JOIN item AS i ON i.id = s.item_id
      JOIN bom_line AS l ON l.id = s.line_id
"""
# The revisions selected by a _load condition, to read only their lines.
_SELECTED = "SELECT b.id FROM bom AS b JOIN item AS i ON i.id = b.item_id WHERE"


def _load(db: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[Revision]:
    revs = db.execute(f"{_REVISIONS} WHERE {where} ORDER BY i.code, b.id", params).fetchall()
    if not revs:
        return []
    selected = f"l.bom_id IN ({_SELECTED} {where})"
    subs: dict[int, list[str]] = {}
    for line_id, code in db.execute(
        f"{_SUBSTITUTES} WHERE {selected} ORDER BY s.line_id, s.position", params
    ):
        subs.setdefault(line_id, []).append(code)
    lines: dict[int, list[Line]] = {}
    cur = db.execute(f"{_LINES} WHERE {selected} ORDER BY l.bom_id, l.position", params)
    cur.row_factory = None  # plain tuples: this loop reads every line of a BOM set
    micro = Decimal(q.SCALE)
    for line_id, bom_id, child, qty, unit, scrap, fixed, phantom, refdes, note in cur:
        lines.setdefault(bom_id, []).append(
            Line(
                item=child,
                qty=Decimal(qty) / micro,
                unit=unit,
                scrap_pct=Decimal(scrap) / micro,
                fixed_qty=Decimal(fixed) / micro,
                substitutes=tuple(subs.get(line_id, ())),
                phantom=bool(phantom),
                refdes=refdes,
                note=note,
            )
        )
    return [
        Revision(
            item=r["item"],
            revision=r["revision"],
            output_qty=q.dec(r["output_qty"]),
            lines=tuple(lines.get(r["id"], ())),
            active=bool(r["active"]),
            note=r["note"],
            created_at=r["created_at"],
            id=r["id"],
        )
        for r in revs
    ]


def revisions(db: sqlite3.Connection, item: str | None = None) -> list[Revision]:
    """Every revision (of one item, or of all), oldest first per item."""
    if item is None:
        return _load(db, "1", ())
    return _load(db, "i.code = ?", (items.get(db, item).code,))


def active_revisions(db: sqlite3.Connection) -> dict[str, Revision]:
    """The active revision of every item that has one, keyed by upper-cased item code."""
    return {r.item.upper(): r for r in _load(db, "b.active = 1", ())}


def revisions_by_id(db: sqlite3.Connection, ids: Iterable[int]) -> dict[int, Revision]:
    """Revisions by their row id (those that exist)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    found = _load(db, f"b.id IN ({', '.join('?' * len(wanted))})", tuple(wanted))
    return {r.id: r for r in found}


def get_revision(db: sqlite3.Connection, item: str, revision: str | None = None) -> Revision:
    """One revision of an item's BOM: the active one unless ``revision`` is named."""
    it = items.get(db, item)
    if revision is None:
        found = _load(db, "b.item_id = ? AND b.active = 1", (it.id,))
        if not found:
            known = [r.revision for r in _load(db, "b.item_id = ?", (it.id,))]
            hint = f" (revisions: {', '.join(known)})" if known else ""
            raise NotFound(f"{it.code} has no active BOM{hint}")
        return found[0]
    found = _load(db, "b.item_id = ? AND b.revision = ?", (it.id, str(revision).strip()))
    if not found:
        raise NotFound(f"{it.code} has no BOM revision {str(revision).strip()!r}")
    return found[0]


def next_revision(name: str, taken: set[str]) -> str:
    """The revision after ``name`` that is not taken: B -> C, Z -> AA, 3 -> 4, A1 -> A2,
    02 -> 03 (a number keeps its zero padding, so revisions sort as text)."""
    upper_taken = {t.upper() for t in taken}
    candidate = name
    while True:
        candidate = _increment(candidate)
        if candidate.upper() not in upper_taken:
            return candidate


def _increment(name: str) -> str:
    m = re.fullmatch(r"(.*?)(\d+)", name)
    if m:
        digits = m.group(2)
        return f"{m.group(1)}{int(digits) + 1:0{len(digits)}d}"
    m = re.fullmatch(r"(.*?)([A-Za-z]+)", name)
    if m:
        letters = list(m.group(2))
        i = len(letters) - 1
        while i >= 0:
            lower = letters[i].islower()
            if letters[i].upper() != "Z":
                letters[i] = chr(ord(letters[i]) + 1)
                break
            letters[i] = "a" if lower else "A"
            i -= 1
        else:
            letters.insert(0, "a" if letters[0].islower() else "A")
        return m.group(1) + "".join(letters)
    return f"{name}.2"


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What ``save`` did: ``unchanged``, ``added``, ``activated`` or ``new_revision``.

    ``revision`` is the name stored; it differs from ``requested`` when a changed BOM
    was given an existing revision name.
    """

    item: str
    action: str
    revision: str
    requested: str


def check_references(db: sqlite3.Connection, rev: Revision, *, where: str = "") -> None:
    """Every item of the revision exists and every line's unit converts, but an inactive
    revision's line may be in a unit its item no longer has: history kept as stored
    (an export writes it so, after the unit was dropped), which ``bom activate`` and an
    order made with that revision refuse."""
    parent = items.get(db, rev.item)
    q.to_micro(rev.output_qty, what=f"{where}output_qty")
    for n, line in enumerate(rev.lines):
        at = f"{where}lines[{n}]."
        child = items.find(db, line.item)
        if child is None:
            raise InvalidInput(f"{at}item: unknown item {line.item!r}")
        if child.id == parent.id:
            raise InvalidInput(f"{at}item: {parent.code} cannot contain itself")
        if rev.active:
            child.factor(line.unit or None)
        for s in line.substitutes:
            if items.find(db, s) is None:
                raise InvalidInput(f"{at}substitutes: unknown item {s!r}")
        q.to_micro(line.qty, what=f"{at}qty")
        q.to_micro(line.fixed_qty, what=f"{at}fixed_qty")


_INSERT_BOM = (
    "INSERT INTO bom (item_id, revision, output_qty, active, created_at, note) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_LINE = (
    "INSERT INTO bom_line (id, bom_id, position, child_id, qty, unit, scrap_pct, fixed_qty, "
    "phantom, refdes, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_SUBSTITUTE = "INSERT INTO bom_substitute (line_id, position, item_id) VALUES (?, ?, ?)"


def insert_revisions(
    db: sqlite3.Connection, revs: Sequence[Revision], ids: Mapping[str, int] | None = None
) -> None:
    """Write revisions as given: name, active flag, lines; the one writer of BOM rows.

    The caller has checked the references (``check_references``), given every line its
    unit and made room for an active revision (one active per item). Lines and
    substitutes go in with one ``executemany`` each, so thousands of lines stay fast.

    Args:
        ids: item id by upper-cased code for every item the revisions name; looked up
            when not given.
    """
    if ids is None:
        named = {c for r in revs for ln in r.lines for c in (ln.item, *ln.substitutes)}
        ids = {c.strip().upper(): items.get(db, c).id for c in {*named, *(r.item for r in revs)}}
    now = timefmt.now()
    next_line = db.execute("SELECT ifnull(max(id), 0) + 1 FROM bom_line").fetchone()[0]
    lines: list[tuple[Any, ...]] = []
    subs: list[tuple[int, int, int]] = []
    micro = q.to_micro
    for rev in revs:
        cur = db.execute(
            _INSERT_BOM,
            (
                ids[rev.item.strip().upper()],
                rev.revision,
                micro(rev.output_qty),
                int(rev.active),
                now,
                rev.note,
            ),
        )
        bom_id = cur.lastrowid
        for position, ln in enumerate(rev.lines, start=1):
            lines.append(
                (
                    next_line,
                    bom_id,
                    position,
                    ids[ln.item.strip().upper()],
                    micro(ln.qty),
                    ln.unit,
                    micro(ln.scrap_pct) if ln.scrap_pct else 0,
                    micro(ln.fixed_qty) if ln.fixed_qty else 0,
                    int(ln.phantom),
                    ln.refdes,
                    ln.note,
                )
            )
            subs.extend(
                (next_line, n, ids[s.strip().upper()])
                for n, s in enumerate(ln.substitutes, start=1)
            )
            next_line += 1
    db.executemany(_INSERT_LINE, lines)
    db.executemany(_INSERT_SUBSTITUTE, subs)


def save(db: sqlite3.Connection, rev: Revision) -> SaveResult:
    """Store a BOM revision, never rewriting a stored one.

    * the named revision exists with the same lines: unchanged (made active again if
      it was not and ``rev.active``: ``activated``);
    * the item's active revision has the same lines: unchanged (the file's revision
      was stored under a new name by an earlier import);
    * the named revision does not exist: added under that name;
    * otherwise the BOM changed: stored as the next free revision (B -> C).

    A stored revision becomes the active one unless ``rev.active`` is false. Cycles
    are not checked here: ``validate`` finds them across the whole database.
    """
    parent = items.get(db, rev.item)
    check_references(db, rev)
    # A line without a unit is in the child's base unit: say so before comparing.
    rev = replace(
        rev,
        lines=tuple(
            ln if ln.unit else replace(ln, unit=items.get(db, ln.item).unit) for ln in rev.lines
        ),
    )
    existing = {r.revision.upper(): r for r in _load(db, "b.item_id = ?", (parent.id,))}
    named = existing.get(rev.revision.upper())
    active = next((r for r in existing.values() if r.active), None)
    if named is not None and named.same_content(rev):
        if rev.active and not named.active:
            # The file names an older revision as current again: make it active.
            db.execute("UPDATE bom SET active = 0 WHERE item_id = ? AND active = 1", (parent.id,))
            db.execute("UPDATE bom SET active = 1 WHERE id = ?", (named.id,))
            return SaveResult(parent.code, "activated", named.revision, rev.revision)
        return SaveResult(parent.code, "unchanged", named.revision, rev.revision)
    if active is not None and active.same_content(rev):
        return SaveResult(parent.code, "unchanged", active.revision, rev.revision)
    name = rev.revision
    action = "added"
    if named is not None:
        name = next_revision(rev.revision, {r.revision for r in existing.values()})
        action = "new_revision"
    if rev.active:
        db.execute("UPDATE bom SET active = 0 WHERE item_id = ? AND active = 1", (parent.id,))
    insert_revisions(db, [replace(rev, item=parent.code, revision=name)])
    return SaveResult(parent.code, action, name, rev.revision)


def activate(db: sqlite3.Connection, item: str, revision: str) -> Revision:
    """Make ``revision`` the item's active BOM revision."""
    rev = get_revision(db, item, revision)
    it = items.get(db, item)
    db.execute("UPDATE bom SET active = 0 WHERE item_id = ? AND active = 1", (it.id,))
    db.execute("UPDATE bom SET active = 1 WHERE id = ?", (rev.id,))
    return get_revision(db, item, revision)
