"""Checking BOMs and comparing revisions.

``validate`` looks at every active BOM and returns its problems as values (like
``mfgctl check``), never stopping at the first:

* ``bom_cycle``: active BOMs that contain themselves, named as a path A -> B -> C -> A;
* ``bom_unit``: a line whose unit cannot convert to the child's base unit (the item's
  base unit may have changed after the BOM was stored);
* ``unit_conflict``: a child item whose own unit redefines its base unit or a built-in
  unit (``qty.unit_conflict``), so a line written in it converts wrongly;
* ``bom_qty``: a non-positive output or line quantity, a negative scrap or fixed qty;
* ``bom_inactive``: a deactivated child item or substitute in an active BOM;
* ``bom_missing``: an active make item without an active BOM;
* ``bom_phantom``: a phantom line whose child has no active BOM to pass through;
* ``bom_phantom_substitutes``: a phantom line (that passes through) with substitutes,
  which are never used: its components are required in its place.

``diff`` compares two revisions of one item line by line, matching lines by child item.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from mfgctl import qty as q
from mfgctl.domain import bom
from mfgctl.domain.bom import Line, Revision
from mfgctl.domain.bomtree import Structure, bom_graph, find_cycles, load
from mfgctl.domain.checks import Problem, unit_conflicts


def problems(s: Structure) -> list[Problem]:
    """Every problem of the active BOMs of a structure, cycles first."""
    found: list[Problem] = []
    graph = bom_graph(s.boms)
    seen: set[tuple[str, ...]] = set()
    for cycle in find_cycles(graph, sorted(graph)):
        ring = cycle[:-1]
        first = ring.index(min(ring))
        canonical = tuple(ring[first:] + ring[:first])
        if canonical not in seen:
            seen.add(canonical)
            names = [s.code_of(c) for c in [*canonical, canonical[0]]]
            found.append(Problem("bom_cycle", names[0], "BOM cycle: " + " -> ".join(names)))
    for key in sorted(s.boms):
        found.extend(_line_problems(s, s.boms[key]))
    used = {ln.item.upper() for rev in s.boms.values() for ln in rev.lines}
    for key in sorted(used & s.items.keys()):
        it = s.items[key]
        found.extend(unit_conflicts(it.code, it.unit, it.units))
    for key in sorted(s.items):
        it = s.items[key]
        if it.active and it.make_or_buy == "make" and key not in s.boms:
            found.append(
                Problem("bom_missing", it.code, f"{it.code} is a make item without an active BOM")
            )
    return found


def _line_problems(s: Structure, rev: Revision) -> list[Problem]:
    subject = f"{rev.item} rev {rev.revision}"
    out: list[Problem] = []
    if rev.output_qty <= 0:
        out.append(
            Problem("bom_qty", subject, f"output_qty {q.fmt(rev.output_qty)} is not positive")
        )
    for n, line in enumerate(rev.lines, start=1):
        at = f"line {n} ({line.item})"
        child = s.items.get(line.item.upper())
        if child is None:
            out.append(Problem("bom_item", subject, f"{at}: unknown item"))
            continue
        if q.unit_factor(line.unit or child.unit, child.unit, child.units) is None:
            out.append(
                Problem(
                    "bom_unit",
                    subject,
                    f"{at}: unit {line.unit!r} cannot convert to {child.code}'s base unit "
                    f"{child.unit!r}",
                )
            )
        if line.qty <= 0:
            out.append(Problem("bom_qty", subject, f"{at}: qty {q.fmt(line.qty)} is not positive"))
        for name, value in (("scrap_pct", line.scrap_pct), ("fixed_qty", line.fixed_qty)):
            if value < 0:
                out.append(Problem("bom_qty", subject, f"{at}: {name} {q.fmt(value)} is negative"))
        if not child.active:
            out.append(Problem("bom_inactive", subject, f"{at}: {child.code} is deactivated"))
        for sub in line.substitutes:
            found = s.items.get(sub.upper())
            if found is not None and not found.active:
                out.append(
                    Problem(
                        "bom_inactive", subject, f"{at}: substitute {found.code} is deactivated"
                    )
                )
        if line.phantom and child.code.upper() not in s.boms:
            out.append(
                Problem(
                    "bom_phantom",
                    subject,
                    f"{at}: phantom {child.code} has no active BOM to pass through",
                )
            )
        elif line.phantom and line.substitutes:
            out.append(
                Problem(
                    "bom_phantom_substitutes",
                    subject,
                    f"{at}: phantom {child.code} passes through to its components, so its "
                    f"substitutes ({', '.join(line.substitutes)}) are never used: list them "
                    f"on the lines of {child.code}'s BOM",
                )
            )
    return out


def validate(db: sqlite3.Connection) -> list[Problem]:
    """Every problem of the database's active BOMs (see the module docstring)."""
    return problems(load(db))


# -- comparing revisions -----------------------------------------------------------------

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

    Lines are matched by child item; when an item has several lines, they are paired in
    the order they appear.
    """
    changes: list[Change] = []
    if old.output_qty != new.output_qty:
        changes.append(Change("changed", new.item, "output_qty", old.output_qty, new.output_qty))
    before: dict[str, list[Line]] = {}
    for line in old.lines:
        before.setdefault(line.item.upper(), []).append(line)
    for line in new.lines:
        previous = before.get(line.item.upper())
        if not previous:
            changes.append(Change("added", line.item, "line", None, describe(line)))
            continue
        was = previous.pop(0)
        for name in DIFF_FIELDS:
            if not _same(was, line, name):
                changes.append(
                    Change("changed", line.item, name, _value(was, name), _value(line, name))
                )
    for leftover in before.values():
        changes.extend(Change("removed", ln.item, "line", describe(ln), None) for ln in leftover)
    return changes


def diff(db: sqlite3.Connection, item: str, old: str, new: str) -> list[Change]:
    """Differences between two stored revisions of ``item``'s BOM."""
    return compare(bom.get_revision(db, item, old), bom.get_revision(db, item, new))
