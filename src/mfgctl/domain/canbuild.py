"""Can a quantity of an item be built now? A pure check on an ``mrp.Snapshot``.

To build ``qty`` of a make item with an active BOM, each of its BOM lines needs
``Component.need`` (scrap and fixed quantities included, phantoms passed through as in
MRP). The whole tree draws on one pool of **free** stock (available - reserved; stock
pending inspection does not count, nor does the item's own stock: the question is
whether it can be *built*). Items are settled in low-level-code order within the
tree, so an item's requirement from every parent is known before it is netted once:

1. its free stock covers what it can;
2. the rest, when the item is a make item with an active BOM, comes first from its
   line's substitutes (below), and what they do not give is built (one build for
   every parent's need, its own scrap and fixed quantities once) from its components,
   which join the same pool;
3. otherwise the rest is *short*.

As ``order release`` reserves (``orders.coverage``, ``reservations.plan_needs``), what
an item still lacks, short or to be built, comes from its BOM line's substitutes' free
stock left over once every item of the tree has taken its own (a substitute's free
stock less all the tree needs of it), one for one, in the substitutes' order of
preference, the items taken in the order of the lines (the top BOM's first, as an
order's materials are listed, then each subassembly's in low-level-code order); free
stock is never counted twice. An item's substitutes are those of the first line that
needs it; only their free stock counts (a substitute is never built to stand in). What
is still lacking then limits the build.

What a subassembly takes from substitutes is not built, so its components are needed
less, which may leave more of another line's substitute spare: ``CanBuild.answer``
settles this in rounds (see there). So when nothing needs building, the answer is
exactly whether ``order release`` of the quantity reserves every material.

The answer is yes when nothing is short. ``largest`` finds the most whole base units
buildable now (needs never fall as the quantity grows, so buildability is monotone):
doubling from 1 until a quantity fails, then a binary search between the last
success and the first failure: about 2 log2(max) checks, each linear in the tree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mfgctl import qty as q
from mfgctl.domain.bomtree import BomCycle, find_cycles, longest_levels
from mfgctl.domain.mrp import Component, Snapshot, explode, explode_paths, leaf_items
from mfgctl.errors import NotFound, RuleViolation

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from mfgctl.domain.items import Item

# Paths of parents kept per limiting component (the rest are counted, not listed).
MAX_PATHS = 3
# The most base units ``largest`` tries: the largest quantity the ledger accepts.
LIMIT = int(q.MAX_VALUE) - 1
# Rounds ``CanBuild.answer`` gives the substitutes of short subassemblies to settle.
ROUNDS = 12

COLUMNS = ["item", "needed", "free", "substitutes", "short", "unit", "path"]


@dataclass(frozen=True, slots=True)
class Limit:
    """A component that stops the build: ``needed`` in all, ``free`` of it in stock,
    ``substitutes`` (code, quantity) standing in for part of the rest, ``short`` what is
    still lacking (``needed == free + substituted + short``)."""

    item: str
    needed: int
    free: int
    short: int
    unit: str
    paths: tuple[tuple[str, ...], ...]
    more_paths: int = 0
    substitutes: tuple[tuple[str, int], ...] = ()

    @property
    def substituted(self) -> int:
        return sum(n for _c, n in self.substitutes)

    def path_text(self) -> str:
        text = "; ".join(" > ".join(p) for p in self.paths)
        return f"{text} (+{self.more_paths} more)" if self.more_paths else text

    def as_row(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "needed": q.dec(self.needed),
            "free": q.dec(self.free),
            "substitutes": ", ".join(f"{c} {q.fmt(q.dec(n))}" for c, n in self.substitutes),
            "short": q.dec(self.short),
            "unit": self.unit,
            "path": self.path_text(),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.as_row(),
            "substitutes": [{"item": c, "qty": q.dec(n)} for c, n in self.substitutes],
            "path": [" > ".join(p) for p in self.paths],
            "more_paths": self.more_paths,
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """Whether ``qty`` of ``item`` can be built now, what limits it, which
    subassemblies would be built on the way (``builds``: item, quantity), and which
    substitutes' free stock stands in for a short item (``substitutions``: item,
    substitute, quantity)."""

    item: str
    unit: str
    qty: int
    limits: tuple[Limit, ...]
    builds: tuple[tuple[str, int], ...]
    substitutions: tuple[tuple[str, str, int], ...] = ()

    @property
    def buildable(self) -> bool:
        return not self.limits


@dataclass(frozen=True, slots=True)
class _Settled:
    """One netting of the tree (``CanBuild._settle``)."""

    need: dict[str, int]
    lacking: dict[str, tuple[int, int, int]]  # item that cannot be built: needed, free, gap
    gaps: dict[str, int]  # subassembly: needed - free
    builds: list[tuple[str, int]]
    routes: dict[str, dict[tuple[str, ...], None]]
    counts: dict[str, int]


class CanBuild:
    """The check for one item on one snapshot; ``answer`` and ``largest`` reuse the
    tree's order, worked out once.

    Raises:
        NotFound: an unknown or inactive item.
        RuleViolation: a buy item, a make item without an active BOM, or a BOM cycle.
    """

    def __init__(self, snap: Snapshot, item: str) -> None:
        key = item.strip().upper()
        part = snap.parts.get(key)
        if part is None:
            raise NotFound(f"unknown or inactive item {item!r}")
        if part.make_or_buy != "make":
            raise RuleViolation(f"{part.code} is a buy item: it is bought, not built")
        if key not in snap.boms:
            raise RuleViolation(
                f"{part.code} has no active BOM: add or activate one (mfgctl bom activate)"
            )
        self.snap = snap
        self.top = key
        self.part = part
        # As ``order create`` refuses it: a deactivated material is planned and received
        # by nobody, so the item cannot be built (its stock would say yes).
        gone = [code for code in leaf_items(key, snap.boms) if code not in snap.parts]
        if gone:
            raise RuleViolation(
                f"{part.code}'s BOM uses {', '.join(dict.fromkeys(gone))}, deactivated: it "
                f"cannot be ordered (mfgctl item update {gone[0]} --active, or store a "
                "revision without it)"
            )
        every = {code: [c.item for c in lines] for code, lines in snap.boms.items()}
        cycles = find_cycles(every, [key])
        if cycles:
            raise BomCycle(cycles[0])
        # What each buildable item's build draws on (phantoms passed through), each line
        # with the phantoms each of its leaves is reached through (``_phantoms``).
        self.lines: dict[str, list[tuple[Component, list[tuple[str, ...]]]]] = {}
        graph: dict[str, list[str]] = {}
        todo = [key]
        while todo:
            code = todo.pop()
            if code in graph:
                continue
            graph[code] = []
            if code != key and not self._buildable(code):
                continue
            found = []
            for c in snap.boms[code]:
                found.append((c, _phantoms(c, snap.boms)))
                for leaf, _n in explode_paths((c,), q.SCALE, snap.boms):
                    graph[code].append(leaf.item)
                    todo.append(leaf.item)
            self.lines[code] = found
        levels = longest_levels(graph, [key])
        self.order = sorted(levels, key=lambda c: (levels[c], c))
        self.free = {code: max(snap.free.get(code, 0), 0) for code in self.order}
        # Each item below the top with its substitutes, in the order short items take
        # them (``_materials``).
        self.materials: dict[str, tuple[str, ...]] = {}
        for code in self.order:
            if code in self.lines:
                for leaf, subs in self._materials(code):
                    if leaf != key:
                        self.materials.setdefault(leaf, subs)
        # The subassemblies a substitute may stand in for (before they are built).
        self.swappable = [
            code
            for code, subs in self.materials.items()
            if self._buildable(code) and any(s != code for s in subs)
        ]

    def _materials(self, code: str) -> list[tuple[str, tuple[str, ...]]]:
        """The items a build of ``code`` draws on with their line's substitutes, as
        ``orders.explode_materials`` lists an order's materials: its BOM's lines in
        order, then those of the phantoms they pass through (first line wins)."""
        boms = self.snap.boms
        found: dict[str, tuple[str, ...]] = {}
        queue, walked = [code], {code}
        while queue:
            current = queue.pop(0)
            for c in boms[current]:
                if c.phantom and c.item in boms:
                    if c.item not in walked:
                        walked.add(c.item)
                        queue.append(c.item)
                    continue
                found.setdefault(c.item, c.substitutes)
        return list(found.items())

    def _buildable(self, code: str) -> bool:
        """A make item with an active BOM that uses no deactivated item (``order
        create`` would refuse an order of it)."""
        part = self.snap.parts.get(code)
        return (
            part is not None
            and part.make_or_buy == "make"
            and code in self.snap.boms
            and all(leaf in self.snap.parts for leaf in leaf_items(code, self.snap.boms))
        )

    def _unit(self, code: str) -> str:
        part = self.snap.parts.get(code)
        return part.unit if part else ""

    def answer(self, qty: int, *, paths: bool = True) -> Answer:
        """Whether ``qty`` micro-units of the item can be built from free stock now.

        A short subassembly takes its line's substitutes before it is built, and what
        is not built is not needed of its components, which may leave more of a
        substitute spare for another line. So the substitutes a subassembly takes
        (``cover``) are settled by rounds: first as if each took all its gap (nothing
        of it built), then each round rebuilds the tree with what the substitutes gave
        last round (never more), until a round gives each the same (a round can only
        lower what they give); after ``ROUNDS`` without agreeing, no subassembly
        takes substitutes (as can-build counted before they were counted: a yes is
        still true, a no may be too cautious).
        """
        cover: dict[str, int] = {code: LIMIT * q.SCALE for code in self.swappable}
        for _round in range(ROUNDS if cover else 1):
            settled = self._settle(qty, cover, paths)
            taken = self._substitute(settled, cover)
            given = {code: sum(n for _s, n in taken.get(code, ())) for code in cover}
            if given == {code: min(n, settled.gaps.get(code, 0)) for code, n in cover.items()}:
                break
            cover = given
        else:
            cover = dict.fromkeys(self.swappable, 0)
            settled = self._settle(qty, cover, paths)
            taken = self._substitute(settled, cover)
        substitutions = [
            (code, sub, n) for code in self.materials for sub, n in taken.get(code, ())
        ]
        limits: list[Limit] = []
        for code in self.order:
            if code not in settled.lacking:
                continue
            wanted, free, gap = settled.lacking[code]
            short = gap - sum(n for _s, n in taken.get(code, ()))
            if short > 0:
                shown = tuple(settled.routes.get(code, {}))
                limits.append(
                    Limit(code, wanted, free, short, self._unit(code), shown,
                          settled.counts[code] - len(shown), tuple(taken.get(code, ())))
                )  # fmt: skip
        return Answer(
            self.part.code,
            self.part.unit,
            qty,
            tuple(limits),
            tuple(settled.builds),
            tuple(substitutions),
        )

    def _settle(self, qty: int, cover: dict[str, int], paths: bool) -> _Settled:
        """Net each item of the tree once, in low-level-code order: its free stock
        first, then ``cover`` (what substitutes give a subassembly), then a build of
        the rest from its components; what an item that cannot be built lacks is its
        gap (``lacking``: needed, free, gap)."""
        boms = self.snap.boms
        need: dict[str, int] = defaultdict(int)
        need[self.top] = qty
        routes: dict[str, dict[tuple[str, ...], None]] = {self.top: {(): None}}
        counts: dict[str, int] = defaultdict(int)
        counts[self.top] = 1
        lacking: dict[str, tuple[int, int, int]] = {}
        gaps: dict[str, int] = {}
        builds: list[tuple[str, int]] = []
        for code in self.order:
            wanted = need.get(code, 0)
            if wanted <= 0:
                continue
            if code == self.top:
                build = wanted
            else:
                free = self.free[code]
                gap = max(wanted - free, 0)
                if gap and not self._buildable(code):
                    lacking[code] = (wanted, free, gap)
                    continue
                gaps[code] = gap
                build = max(gap - cover.get(code, 0), 0)
                if build:
                    builds.append((code, build))
            if not build:
                continue
            # What a build of ``build`` requires, as its order would: each item summed
            # over its lines and phantom paths, then rounded.
            for leaf, n in explode([c for c, _chains in self.lines[code]], build, boms):
                need[leaf.item] += n
            if not paths:
                continue
            seen: set[tuple[str, tuple[str, ...]]] = set()
            for c, chains in self.lines[code]:
                for (leaf, _n), via in zip(explode_paths((c,), build, boms), chains, strict=True):
                    if (leaf.item, via) in seen:
                        continue
                    seen.add((leaf.item, via))
                    counts[leaf.item] += counts[code]
                    kept = routes.setdefault(leaf.item, {})
                    step = (code, *via)
                    for p in routes[code]:
                        if len(kept) >= MAX_PATHS:
                            break
                        kept[p + step] = None
        return _Settled(need, lacking, gaps, builds, routes, counts)

    def _substitute(
        self, settled: _Settled, cover: dict[str, int]
    ) -> dict[str, list[tuple[str, int]]]:
        """What each item's line substitutes give it, as ``order release`` reserves:
        their free stock left over once every item took its own (the top's own stock is
        no part of the build), one for one, in the substitutes' order of preference,
        the items in ``materials`` order; an item that cannot be built for its gap, a
        subassembly for its gap up to ``cover``."""
        spare: dict[str, int] = {}
        taken: dict[str, list[tuple[str, int]]] = {}
        for code, subs in self.materials.items():
            if code in settled.lacking:
                lack = settled.lacking[code][2]
            else:
                lack = min(settled.gaps.get(code, 0), cover.get(code, 0))
            for sub in subs:
                if lack <= 0:
                    break
                if sub == code:
                    continue
                if sub not in spare:
                    used = 0 if sub == self.top else settled.need.get(sub, 0)
                    spare[sub] = max(max(self.snap.free.get(sub, 0), 0) - used, 0)
                take = min(spare[sub], lack)
                if take > 0:
                    spare[sub] -= take
                    lack -= take
                    taken.setdefault(code, []).append((sub, take))
        return taken

    def largest(self) -> int:
        """The most whole base units buildable now, in micro-units (``LIMIT`` base units
        at most): doubling, then a binary search."""

        def ok(units: int) -> bool:
            return self.answer(units * q.SCALE, paths=False).buildable

        if not ok(1):
            return 0
        good, bad = 1, 2
        while bad <= LIMIT and ok(bad):
            good, bad = bad, bad * 2
        if bad > LIMIT:
            if ok(LIMIT):
                return LIMIT * q.SCALE
            bad = LIMIT
        while bad - good > 1:
            mid = (good + bad) // 2
            if ok(mid):
                good = mid
            else:
                bad = mid
        return good * q.SCALE


def _phantoms(c: Component, boms: Mapping[str, Sequence[Component]]) -> list[tuple[str, ...]]:
    """The phantoms each component ``explode_paths((c,), ...)`` yields is reached through, in
    the same order: FG's line PH (phantom: R, and phantom PH2: R) gives ``(PH,)`` and
    ``(PH, PH2)``, two paths to R."""
    if c.phantom and c.item in boms:
        return [(c.item, *rest) for sub in boms[c.item] for rest in _phantoms(sub, boms)]
    return [()]


def columns(limits: tuple[Limit, ...]) -> list[str]:
    """The table's columns: ``substitutes`` only when a substitute stands in for some."""
    if any(lim.substitutes for lim in limits):
        return COLUMNS
    return [c for c in COLUMNS if c != "substitutes"]


def parse_qty(value: object, item: Item | None = None, unit: str | None = None) -> int:
    """QTY as typed, in ``unit`` of ``item`` (default its base unit): an exact decimal
    greater than zero, in micro-units of the base unit.

    Raises:
        InvalidInput: not a plain positive decimal with at most 6 places (once in the
            base unit); a unit that does not convert to the item's base unit.
    """
    amount = q.parse_qty(value, what="QTY")
    if unit is None or item is None:
        return q.to_micro(amount, what="QTY")
    return q.to_micro(item.to_base(amount, unit), what=f"QTY in {item.unit}")


def document(answer: Answer, largest: int | None = None) -> dict[str, Any]:
    """The answer for scripts: ``buildable`` is the yes or no."""
    return {
        "item": answer.item,
        "qty": q.dec(answer.qty),
        "unit": answer.unit,
        "buildable": answer.buildable,
        "limiting": [lim.as_dict() for lim in answer.limits],
        "builds": [{"item": c, "qty": q.dec(n)} for c, n in answer.builds],
        "substitutions": [
            {"item": c, "substitute": s, "qty": q.dec(n)} for c, s, n in answer.substitutions
        ],
        "max": None if largest is None else q.dec(largest),
    }


def verdict(answer: Answer) -> str:
    """The yes or no line."""
    what = f"{q.fmt(q.dec(answer.qty))} {answer.unit} of {answer.item}"
    if answer.buildable:
        how = []
        if answer.builds:
            how.append(
                "building "
                + ", ".join(f"{q.fmt(q.dec(n))} {c}" for c, n in answer.builds)
                + " first"
            )
        if answer.substitutions:
            how.append(
                "with "
                + ", ".join(
                    f"{q.fmt(q.dec(n))} {s} in place of {c}" for c, s, n in answer.substitutions
                )
            )
        return f"Yes: {what} can be built now from free stock" + (
            f" ({'; '.join(how)})" if how else ""
        )
    n = len(answer.limits)
    return f"No: {what} cannot be built now: {n} component{'s' if n != 1 else ''} short"


def largest_line(answer: Answer, largest: int) -> str:
    extra = " (the most this check tries)" if largest >= LIMIT * q.SCALE else ""
    return f"At most {q.fmt(q.dec(largest))} {answer.unit} of {answer.item} can be built now{extra}"
