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
  which are never used: its components are required in its place;
* ``bom_substitute``: a line whose substitutes name its own item, or one item twice
  (stored before entry refused it: ``bom.substitute_mistakes``).

``diff`` compares two revisions of one item line by line, matching lines by child item
(``bom.compare``, the comparison the import decides by).
"""

from __future__ import annotations

import sqlite3

from mfgctl import qty as q
from mfgctl.domain import bom
from mfgctl.domain.bom import DIFF_FIELDS, Change, Revision, compare, describe
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
        for mistake in bom.substitute_mistakes(line.item, line.substitutes):
            out.append(
                Problem(
                    "bom_substitute",
                    subject,
                    f"{at}: substitute {mistake}; give {rev.item} a revision without it "
                    "(the import refuses it in an active revision: an export would not "
                    "import back)",
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
# ``bom.compare`` is the one comparison: ``bom diff`` shows it, and the import stores a
# new revision exactly when it finds a difference (``Revision.same_content``).


__all__ = ["DIFF_FIELDS", "Change", "compare", "describe", "diff", "problems", "validate"]


def diff(db: sqlite3.Connection, item: str, old: str, new: str) -> list[Change]:
    """Differences between two stored revisions of ``item``'s BOM."""
    return compare(bom.get_revision(db, item, old), bom.get_revision(db, item, new))
