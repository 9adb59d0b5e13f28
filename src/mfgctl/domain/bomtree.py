"""The multi-level view of BOMs: trees, where-used, explosion, low-level codes, validation.

Everything here works on a *structure*: every item and the active BOM revision of every
item, loaded once (``load``) and then walked in memory, so a 40,000-line BOM set
explodes in a fraction of a second. The computations are pure methods of ``Structure``
(MRP can load one and reuse it); the module-level functions of the same names take a
connection and are what the CLI calls.

Explosion arithmetic, for a parent requirement P and a line of ``qty`` in a unit worth
``f`` base units of the child::

    need = P / output_qty * qty * f * (1 + scrap_pct / 100) + fixed_qty * f

``fixed_qty`` is a setup loss, added once per order of the parent. Items are processed
by *low-level code* (the deepest level at which an item occurs below the root), so an
item used at several levels has its whole requirement before its own lines are exploded:
its fixed quantities count once. A phantom line's child is not required itself: its
own lines are exploded in its place, once per parent that uses it.

Arithmetic is exact Decimal (60 significant digits): quantities are reported exactly,
however many decimal places they have. Only a quantity that went through an inexact
step, a division by an ``output_qty`` that does not terminate (3, 7, ...), is rounded
*up* to the micro-unit (0.000001, what the ledger can hold), so it is never short.

A BOM cycle (A -> B -> A) would make a walk loop forever: every walk checks first and
raises ``BomCycle`` naming the cycle.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal, Inexact, localcontext
from typing import Any

from mfgctl.domain import bom, items
from mfgctl.domain.bom import Line, Revision
from mfgctl.errors import InvalidInput, NotFound, RuleViolation

PRECISION = 60
_MICRO = Decimal("0.000001")
_NOISE = Decimal(1).scaleb(-20)


class BomCycle(RuleViolation):
    """Active BOMs that contain themselves; ``path`` is the cycle, first item repeated."""

    def __init__(self, path: list[str]) -> None:
        self.path = path
        super().__init__(
            f"BOM cycle: {' -> '.join(path)}; make a revision that breaks it "
            "(bom validate lists every cycle)"
        )


def tidy(value: Decimal, inexact: bool) -> Decimal:
    """A computed quantity as reported: exact, or if ``inexact`` rounded up to 0.000001."""
    if not inexact:
        return value
    # Drop the last-digit noise of a non-terminating division, then round up.
    with localcontext(prec=PRECISION):
        return value.quantize(_NOISE, ROUND_HALF_EVEN).quantize(_MICRO, ROUND_CEILING)


@dataclass(frozen=True, slots=True)
class Requirement:
    """The total requirement of one item in an explosion, in its base unit."""

    item: str
    name: str
    type: str
    make_or_buy: str
    unit: str
    qty: Decimal
    level: int

    def as_row(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "name": self.name,
            "type": self.type,
            "make_or_buy": self.make_or_buy,
            "unit": self.unit,
            "qty": self.qty,
            "level": self.level,
        }


@dataclass(frozen=True, slots=True)
class Usage:
    """One use of ``item`` in the active BOM of ``parent``, ``level`` steps up."""

    level: int
    parent: str
    parent_name: str
    revision: str
    item: str
    qty_per: Decimal
    per: Decimal
    unit: str
    phantom: bool

    def as_row(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "parent": self.parent,
            "parent_name": self.parent_name,
            "revision": self.revision,
            "item": self.item,
            "qty_per": self.qty_per,
            "per": self.per,
            "unit": self.unit,
            "phantom": self.phantom,
        }


def find_cycles(graph: Mapping[str, Iterable[str]], starts: Iterable[str]) -> list[list[str]]:
    """Cycles of a directed graph reachable from ``starts`` (one per back edge).

    Each cycle is a path whose first node is repeated at its end. Iterative, so a deep
    structure cannot exhaust Python's recursion limit.
    """
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    found: list[list[str]] = []
    for start in starts:
        if start in state:
            continue
        state[start] = 1
        path = [start]
        stack = [iter(graph.get(start, ()))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                state[path.pop()] = 2
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph.get(nxt, ())))
            elif state[nxt] == 1:
                found.append([*path[path.index(nxt) :], nxt])
    return found


def longest_levels(graph: Mapping[str, Iterable[str]], starts: Iterable[str]) -> dict[str, int]:
    """Level of every node reachable from ``starts`` in an acyclic graph: the longest
    path from a start (starts are 0). Topological order by an iterative depth-first
    post-order, then one relaxation pass."""
    order: list[str] = []
    seen: set[str] = set()
    for start in starts:
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, iter(graph.get(start, ())))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                order.append(node)
                stack.pop()
            elif child not in seen:
                seen.add(child)
                stack.append((child, iter(graph.get(child, ()))))
    level = dict.fromkeys(order, 0)
    for node in reversed(order):
        for child in graph.get(node, ()):
            level[child] = max(level[child], level[node] + 1)
    return level


def bom_graph(boms: Mapping[str, Revision]) -> dict[str, list[str]]:
    """Parent -> children (upper-cased codes, each once) of a set of revisions."""
    return {
        parent: list(dict.fromkeys(ln.item.upper() for ln in rev.lines))
        for parent, rev in boms.items()
    }


@dataclass(frozen=True, slots=True)
class Structure:
    """Every item and every active BOM revision, keyed by upper-cased item code."""

    items: Mapping[str, items.Item]
    boms: Mapping[str, Revision]
    # Base units per (child, unit) met so far: a cache, not part of the structure.
    _factors: dict[tuple[str, str], Decimal] = field(
        default_factory=dict, repr=False, compare=False
    )

    def item(self, code: str) -> items.Item:
        found = self.items.get(code.upper())
        if found is None:
            raise NotFound(f"unknown item {code!r}")
        return found

    def _boms(self, root: str, revision: Revision | None) -> Mapping[str, Revision]:
        if revision is None:
            return self.boms
        return {**self.boms, root.upper(): revision}

    def code_of(self, code: str) -> str:
        """The item's code as stored (``code`` itself if unknown)."""
        found = self.items.get(code.upper())
        return found.code if found else code

    def levels(self, root: str, revision: Revision | None = None) -> dict[str, int]:
        """Low-level codes below ``root``: the deepest level of each item (root = 0).

        Raises:
            BomCycle: the active BOMs below ``root`` contain a cycle.
        """
        key = root.upper()
        graph = bom_graph(self._boms(root, revision))
        cycles = find_cycles(graph, [key])
        if cycles:
            raise BomCycle([self.code_of(c) for c in cycles[0]])
        return longest_levels(graph, [key])

    def _rates(self, rev: Revision) -> list[tuple[Line, Decimal, Decimal]]:
        """Per line: base units per output_qty with scrap, and the fixed base units."""
        out = []
        for line in rev.lines:
            key = (line.item.upper(), line.unit.lower())
            f = self._factors.get(key)
            if f is None:
                try:
                    f = self.item(line.item).factor(line.unit or None)
                except InvalidInput as e:
                    raise InvalidInput(f"BOM {rev.item} revision {rev.revision}: {e}") from None
                self._factors[key] = f
            rate = line.qty * f * (100 + line.scrap_pct) / 100
            out.append((line, rate, line.fixed_qty * f))
        return out

    def _bought(self, code: str) -> bool:
        found = self.items.get(code)
        return found is not None and found.make_or_buy == "buy"

    def explode(
        self, root: str, qty: Decimal, revision: Revision | None = None
    ) -> list[Requirement]:
        """Total requirement of every item below ``root`` to make ``qty`` of it.

        Rows are ordered by level, then item code; phantoms passed through do not
        appear unless they are also used as ordinary lines. A *buy* item below the
        root is a leaf, as ``bom cost`` and MRP treat it: it is required itself and its
        own BOM is not walked (only a phantom line passes through one).
        """
        self.item(root)
        boms = self._boms(root, revision)
        level = self.levels(root, revision)
        key = root.upper()
        # Levels as the walk below sees the tree: without the BOMs of bought items
        # (unless a phantom line passes through one).
        through = {ln.item.upper() for rev in boms.values() for ln in rev.lines if ln.phantom}
        walked = {
            code: rev
            for code, rev in boms.items()
            if code == key or code in through or not self._bought(code)
        }
        if len(walked) < len(boms):
            level = longest_levels(bom_graph(walked), [key])
        real: dict[str, Decimal] = defaultdict(Decimal)
        rough: set[str] = set()  # totals that went through an inexact step
        passes: dict[str, list[tuple[Decimal, bool]]] = defaultdict(list)
        with localcontext(prec=PRECISION) as ctx:
            real[key] = qty
            for code in sorted(level, key=level.__getitem__):
                rev = boms.get(code)
                if rev is None:
                    continue
                bought = code != key and self._bought(code)
                orders = [(real[code], code in rough)] if code in real and not bought else []
                orders += passes.pop(code, [])
                if not orders:
                    continue
                rates = self._rates(rev)
                for parent_qty, parent_rough in orders:
                    for line, rate, fixed in rates:
                        child = line.item.upper()
                        ctx.clear_flags()
                        need = parent_qty * rate / rev.output_qty + fixed
                        if line.phantom and child in boms:
                            passes[child].append((need, parent_rough or ctx.flags[Inexact]))
                            continue
                        real[child] += need
                        if parent_rough or ctx.flags[Inexact]:
                            rough.add(child)
        del real[key]
        rows = []
        for code, total in real.items():
            it = self.items[code]
            rows.append(
                Requirement(
                    it.code,
                    it.name,
                    it.type,
                    it.make_or_buy,
                    it.unit,
                    tidy(total, code in rough),
                    level[code],
                )
            )
        return sorted(rows, key=lambda r: (r.level, r.item.upper()))

    def tree(
        self, root: str, qty: Decimal | None = None, revision: Revision | None = None
    ) -> dict[str, Any]:
        """The BOM of ``root`` as nested dicts through every level, for ``qty`` of it.

        ``qty`` defaults to the revision's output quantity. Each node's ``qty`` is its
        requirement in its base unit (scrap and fixed quantity included); ``qty_per``
        and ``line_unit`` are the line as written.
        """
        it = self.item(root)
        boms = self._boms(root, revision)
        top = boms.get(it.code.upper())
        if top is None:
            raise NotFound(f"{it.code} has no active BOM")
        self.levels(root, revision)
        amount = top.output_qty if qty is None else qty

        def grow(rev: Revision, parent_qty: Decimal, rough: bool, depth: int) -> list[dict]:
            nodes = []
            for line, rate, fixed in self._rates(rev):
                child = self.items[line.item.upper()]
                sub = boms.get(child.code.upper())
                ctx.clear_flags()
                need = parent_qty * rate / rev.output_qty + fixed
                inexact = rough or ctx.flags[Inexact]
                nodes.append(
                    {
                        "item": child.code,
                        "name": child.name,
                        "qty": tidy(need, inexact),
                        "unit": child.unit,
                        "qty_per": line.qty,
                        "line_unit": line.unit,
                        "scrap_pct": line.scrap_pct,
                        "fixed_qty": line.fixed_qty,
                        "phantom": line.phantom,
                        "substitutes": list(line.substitutes),
                        "refdes": line.refdes,
                        "note": line.note,
                        "level": depth,
                        "revision": sub.revision if sub else None,
                        "children": grow(sub, need, inexact, depth + 1) if sub else [],
                    }
                )
            return nodes

        with localcontext(prec=PRECISION) as ctx:
            children = grow(top, amount, False, 1)
        return {
            "item": it.code,
            "name": it.name,
            "revision": top.revision,
            "output_qty": top.output_qty,
            "qty": amount,
            "unit": it.unit,
            "level": 0,
            "children": children,
        }

    def where_used(self, item: str) -> list[Usage]:
        """Every active BOM that uses ``item``, and every BOM above those, depth first.

        Raises:
            BomCycle: the parents of ``item`` lead back to a BOM already on the path.
        """
        start = self.item(item)
        users: dict[str, list[tuple[Revision, Line]]] = defaultdict(list)
        for rev in self.boms.values():
            for line in rev.lines:
                users[line.item.upper()].append((rev, line))
        rows: list[Usage] = []
        path = [start.code.upper()]
        stack = [iter(sorted(users.get(path[0], ()), key=lambda u: u[0].item.upper()))]
        while stack:
            use = next(stack[-1], None)
            if use is None:
                stack.pop()
                path.pop()
                continue
            rev, line = use
            parent = self.items[rev.item.upper()]
            key = parent.code.upper()
            if key in path:
                # path holds child -> parent -> grandparent; the cycle reads downwards.
                cycle = [key, *reversed(path[path.index(key) + 1 :]), key]
                raise BomCycle([self.code_of(c) for c in cycle])
            rows.append(
                Usage(
                    len(path),
                    parent.code,
                    parent.name,
                    rev.revision,
                    self.code_of(line.item),
                    line.qty,
                    rev.output_qty,
                    line.unit,
                    line.phantom,
                )
            )
            path.append(key)
            stack.append(iter(sorted(users.get(key, ()), key=lambda u: u[0].item.upper())))
        return rows


def load(db: sqlite3.Connection) -> Structure:
    """Every item and every active BOM revision, read once."""
    return Structure(
        items={it.code.upper(): it for it in items.all_items(db)},
        boms=bom.active_revisions(db),
    )


def _root(
    db: sqlite3.Connection, item: str, revision: str | None
) -> tuple[Structure, str, Revision]:
    """The structure, the item's code and the revision to walk (named or active)."""
    code = items.get(db, item).code
    s = load(db)
    if revision is not None:
        return s, code, bom.get_revision(db, code, revision)
    rev = s.boms.get(code.upper())
    return s, code, rev if rev is not None else bom.get_revision(db, code)


def explode(
    db: sqlite3.Connection, item: str, qty: Decimal, *, revision: str | None = None
) -> list[Requirement]:
    """Total requirements to make ``qty`` base units of ``item`` (see ``Structure.explode``)."""
    s, code, rev = _root(db, item, revision)
    return s.explode(code, qty, rev)


def tree(
    db: sqlite3.Connection, item: str, *, qty: Decimal | None = None, revision: str | None = None
) -> dict[str, Any]:
    """The BOM of ``item`` as a nested tree (see ``Structure.tree``)."""
    s, code, rev = _root(db, item, revision)
    return s.tree(code, qty, rev)


def where_used(db: sqlite3.Connection, item: str) -> list[Usage]:
    """Every active BOM using ``item``, at every level (see ``Structure.where_used``)."""
    return load(db).where_used(items.get(db, item).code)


def activate(db: sqlite3.Connection, item: str, revision: str) -> Revision:
    """Make ``revision`` the item's active BOM, unless that would close a BOM cycle, a
    line's unit no longer converts (a unit removed, or a base unit changed, since the
    revision was stored: only lines in use are kept convertible) or a line's substitutes
    name its own item or one item twice (``bom.substitute_mistakes``)."""
    rev = bom.get_revision(db, item, revision)
    for n, line in enumerate(rev.lines, start=1):
        # As the import refuses them in an active revision: else its export would not
        # import back (an inactive revision keeps them as history).
        mistakes = bom.substitute_mistakes(line.item, line.substitutes)
        if mistakes:
            raise RuleViolation(
                f"cannot activate BOM {rev.item} rev {rev.revision}: line {n} ({line.item}): "
                f"substitute {'; '.join(mistakes)}: list each substitute once, and not the "
                "line's own item; add a revision with the substitutes corrected"
            )
        try:
            items.get(db, line.item).factor(line.unit or None)
        except InvalidInput as e:
            raise RuleViolation(
                f"cannot activate BOM {rev.item} rev {rev.revision}: line {n} ({line.item}): "
                f"{e}; define the unit on {line.item} again, or add a revision in a unit "
                "it has"
            ) from None
    load(db).levels(rev.item, rev)
    return bom.activate(db, item, revision)
