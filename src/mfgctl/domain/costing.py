"""Standard cost: rolled up through the BOM; and a production order's actual cost
against it.

**Standard cost of an item** (``bom cost``), for a quantity ``qty`` (default: its BOM's
output quantity), as a tree with the same quantities as ``bom show --qty``:

- a *bought* item (and a made item without an active BOM): qty x its standard cost
  (the item's ``cost``). Without one: its current moving average (``source: average``,
  see domain/valuation.py); without that either it counts as zero (``source: none``) and
  is named in ``uncosted``.
- a *made* item: the cost of its lines for the quantity needed (scrap included, a
  line's fixed quantity once per batch of that quantity), plus its stage cost. Its own
  ``cost`` field is not used. A subassembly is costed for the quantity this batch needs
  of it, so its fixed quantities are spread over that quantity.
- a *phantom* line: its components in its place (as explosion does); it has no
  stage cost of its own.
- *stage cost*: each routing stage's minutes (setup once per batch + run per unit)
  times its work centre's rate per machine-hour / 60, rounded half-up to a millionth
  per stage. A stage without a work centre, or whose work centre has no rate, counts
  as zero and the output says how many did (``stage_minutes`` is always shown).

Unit costs (``unit_cost``) are ``cost / qty`` rounded half-up to a millionth; costs are
exact products of quantities and unit costs.

Every node also has its *material-only* cost (``material_only_cost``, per unit
``material_only_unit_cost``): the same tree with no stage cost at any level, only the
bought leaves' cost. That is what a made item is worth in stock: a completion values its
output at the material it relieved (domain/valuation.py; there is no labour ledger).

**Order cost** (``order show``, ``order close``): per material, the standard (the
requirement for the output made so far x the material's standard unit cost: a bought
material's price as a leaf, a made material's *material-only* unit cost rolled up for
its BOM output quantity, so it compares with its moving average, which never holds stage
cost), the actual (what the order consumed and scrapped from stock for it, each move at
the moving average in effect then, less what it returned from its WIP at the cost that
material entered the WIP at: the average of what was consumed into it of that item, as
a pool of its own that consumption adds to and relief, scrap and returns take from at its
average; so an order that takes 10 and gives the same 10 back costs nothing, whatever
the average did meanwhile) and the variance actual - standard. ``planned`` is the whole
order's requirement at standard. Stages are a row of their own, zero until work centres
have rates.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, Inexact, localcontext
from typing import Any

from mfgctl import qty as q
from mfgctl.domain import bom, items, locations, orders, production, stages, valuation
from mfgctl.domain.bomtree import Structure
from mfgctl.domain.items import Item
from mfgctl.domain.orders import Order
from mfgctl.domain.stages import Stage

PRECISION = 60
MICRO = Decimal(1).scaleb(-q.PLACES)


def unrated_note(count: int) -> str:
    return (
        f"{count} stage(s) with time but no work-centre rate count as 0 "
        "(mfgctl workcenter update WC --rate R)"
    )


def rates(db: sqlite3.Connection) -> dict[str, Decimal]:
    """Each work centre's rate per machine-hour, by upper-cased code (active or not:
    a routing may still name a centre that was retired)."""
    from mfgctl.domain import workcenters

    return {c.code.upper(): c.rate for c in workcenters.list_centres(db) if c.rate is not None}


def stage_rate(stage: Stage, hourly: Mapping[str, Decimal]) -> Decimal | None:
    """Cost per hour at a stage's work centre, or None when it has none (no work
    centre, an unknown one, or one without a rate)."""
    if not stage.workcenter:
        return None
    return hourly.get(stage.workcenter.upper())


@dataclass(frozen=True, slots=True)
class StageCost:
    minutes: Decimal
    cost: Decimal
    uncosted: int  # stages with minutes but without a rate


def stage_cost(routing: Sequence[Stage], qty: Decimal, hourly: Mapping[str, Decimal]) -> StageCost:
    """The cost of a batch of ``qty`` through a routing: setup once, run per unit, each
    stage's minutes x its work centre's hourly rate / 60, rounded half-up to a
    millionth per stage."""
    minutes = cost = Decimal(0)
    uncosted = 0
    for s in routing:
        spent = s.setup_min + s.run_min * qty
        minutes += spent
        rate = stage_rate(s, hourly)
        if rate is None:
            uncosted += 1 if spent else 0
        else:
            cost += (spent * rate / 60).quantize(MICRO, rounding=ROUND_HALF_UP)
    return StageCost(minutes, cost, uncosted)


def per_unit(cost: Decimal, qty: Decimal) -> Decimal:
    """A unit cost: ``cost / qty`` rounded half-up to a millionth, without trailing zeros."""
    if not qty:
        return Decimal(0)
    return _tidy((cost / qty).quantize(MICRO, rounding=ROUND_HALF_UP))


def _tidy(value: Decimal) -> Decimal:
    return value.normalize() if value else Decimal(0)


# -- standard cost of bought items -------------------------------------------------------


class Prices:
    """Standard unit costs of leaves: the item's cost, else its moving average."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._found: dict[int, tuple[Decimal, str]] = {}

    def of(self, item: Item) -> tuple[Decimal, str]:
        """(unit cost, source): ``standard``, ``average`` or ``none`` (counted as 0)."""
        if item.cost is not None:
            return item.cost, "standard"
        if item.id not in self._found:
            # Only this item's own rows (moves and completions) are replayed.
            state = valuation.averages(self._db, [item.id])
            found = state.average.get(item.id)
            if found is not None and state.basis.get(item.id) == "average":
                self._found[item.id] = (_tidy(found), "average")
            else:
                self._found[item.id] = (Decimal(0), "none")
        return self._found[item.id]


# -- bom cost ------------------------------------------------------------------------------


_ITEM_IDS = "SELECT id FROM item WHERE code IN (SELECT value FROM json_each(:codes))"
_ACTIVE_BOMS = (
    "SELECT id FROM bom WHERE active = 1 AND item_id IN (SELECT value FROM json_each(:ids))"
)


def _structure(
    db: sqlite3.Connection, item: str, revision: str | None
) -> tuple[Structure, str, bom.Revision]:
    """The item, its revision, and only the items and active BOMs below it (a plant's
    whole structure takes half a second to load; one product's a few milliseconds)."""
    import json

    root = items.get(db, item)
    rev = bom.get_revision(db, root.code, revision)
    known: dict[str, Item] = {root.code.upper(): root}
    boms: dict[str, bom.Revision] = {root.code.upper(): rev}
    frontier = {ln.item.upper() for ln in rev.lines}
    while frontier:
        codes = sorted(frontier - known.keys())
        ids = [r[0] for r in db.execute(_ITEM_IDS, {"codes": json.dumps(codes)})]
        for it in items.by_ids(db, ids):
            known[it.code.upper()] = it
        bom_ids = [r[0] for r in db.execute(_ACTIVE_BOMS, {"ids": json.dumps(ids)})]
        frontier = set()
        for found in bom.revisions_by_id(db, bom_ids).values():
            if found.item.upper() not in boms:
                boms[found.item.upper()] = found
                frontier |= {ln.item.upper() for ln in found.lines}
    return Structure(items=known, boms=boms), root.code, rev


def roll_up(
    db: sqlite3.Connection, item: str, *, qty: Decimal | None = None, revision: str | None = None
) -> dict[str, Any]:
    """The standard cost of ``qty`` of a made item as a tree (see the module docstring).

    Every node has ``source`` (``bom``, ``phantom``, ``standard``, ``average``, ``none``),
    ``unit_cost``, ``material_cost``, ``stage_minutes``, ``stage_cost``, ``cost``,
    ``material_only_cost`` and ``material_only_unit_cost``; the root also ``uncosted``
    (items counted as zero) and ``notes``.

    Raises:
        NotFound: unknown item or revision, or no active BOM.
        BomCycle: the BOMs below contain a cycle.
    """
    s, code, rev = _structure(db, item, revision)
    tree = s.tree(code, qty, rev)
    prices = Prices(db)
    hourly = rates(db)
    routings: dict[str, list[Stage]] = {}
    uncosted: set[str] = set()
    unrated = [0]

    def routing_of(it: Item) -> list[Stage]:
        if it.code not in routings:
            routings[it.code] = stages.routing(db, it)
        return routings[it.code]

    def cost(node: dict[str, Any], it: Item, is_root: bool) -> dict[str, Any]:
        amount: Decimal = node["qty"]
        children = node.get("children") or []
        phantom = bool(node.get("phantom"))
        rolled = bool(children) and (phantom or it.make_or_buy == "make" or is_root)
        if rolled:
            kids = [cost(c, s.item(c["item"]), False) for c in children]
            material = sum((k["cost"] for k in kids), Decimal(0))
            source = "phantom" if phantom else "bom"
            work = StageCost(Decimal(0), Decimal(0), 0)
            if not phantom:
                work = stage_cost(routing_of(it), amount, hourly)
                unrated[0] += work.uncosted
            total = material + work.cost
            unit = per_unit(total, amount)
            bare = sum((k["material_only_cost"] for k in kids), Decimal(0))
        else:
            kids = []
            unit, source = prices.of(it)
            if source == "none":
                uncosted.add(it.code)
            material = amount * unit
            work = StageCost(Decimal(0), Decimal(0), 0)
            total = bare = material
        out = {k: v for k, v in node.items() if k != "children"}
        out.update(
            source=source,
            unit_cost=unit,
            material_cost=_tidy(material),
            stage_minutes=_tidy(work.minutes),
            stage_cost=_tidy(work.cost),
            cost=_tidy(total),
            material_only_cost=_tidy(bare),
            material_only_unit_cost=per_unit(bare, amount) if rolled else unit,
            children=kids,
        )
        return out

    with localcontext(prec=PRECISION):
        root = cost(tree, s.item(code), True)
    notes = [unrated_note(unrated[0])] if unrated[0] else []
    if uncosted:
        notes.append(
            f"no cost known for {', '.join(sorted(uncosted))}: counted as 0 "
            "(set one with mfgctl item update ITEM --cost C)"
        )
    root["uncosted"] = sorted(uncosted)
    root["notes"] = notes
    return root


# Every active BOM with its lines in order, as plain rows (quantities in micro-units):
# ``unit_costs`` reads the whole plant, and a Revision object per BOM took longer than
# the costing itself. A BOM without lines is a row with no child.
_ACTIVE_LINES = """
    SELECT b.item_id, b.revision, b.output_qty, l.child_id, l.qty, l.unit, l.scrap_pct,
           l.fixed_qty, l.phantom
      FROM bom AS b LEFT JOIN bom_line AS l ON l.bom_id = b.id
     WHERE b.active = 1
     ORDER BY b.id, l.position
"""

# A BOM line as costing walks it: (child, rate, output quantity, fixed, phantom), the rate
# in the child's base units per output quantity with scrap, as ``Structure._rates``.
_Rated = tuple[Item, Decimal, Decimal, Decimal, bool]


def unit_costs(
    db: sqlite3.Connection, made: Sequence[Item], *, every: Iterable[Item] | None = None
) -> dict[str, Decimal]:
    """The ``unit_cost`` ``roll_up`` gives each of ``made`` (by code; those without an
    active BOM at their price as a leaf), worked out together: the plant's items, BOMs
    and routings read once (``every``: all items, if the caller has them already).

    The same rules and numbers as ``roll_up``: a node is costed for the quantity the
    tree shows (``bomtree.tidy``), its children for the exact quantity it needs. Most
    subtrees cost their need times a cost per unit, worked out once per item, bottom
    up (see ``_Linear``); only the others (a fixed quantity, a stage at a rated work
    centre, a division that does not end) are walked per quantity as ``roll_up`` walks
    them, each subassembly's cost for a given quantity computed once.

    Raises:
        BomCycle: the active BOMs below these items contain a cycle.
        InvalidInput: a BOM line's unit does not convert to its item's base unit.
    """
    from mfgctl.domain.bomtree import BomCycle, find_cycles, tidy
    from mfgctl.errors import InvalidInput

    by_id = {it.id: it for it in (items.all_items(db) if every is None else every)}
    # Item id -> (revision, output quantity, lines as stored), in the order of the BOMs.
    boms: dict[int, tuple[str, int, list[tuple[Any, ...]]]] = {}
    cur = db.execute(_ACTIVE_LINES)
    cur.row_factory = None  # plain tuples: this loop reads every line of the plant
    for item_id, revision, output, *line in cur:
        entry = boms.get(item_id)
        if entry is None:
            entry = boms[item_id] = (revision, output, [])
        if line[0] is not None:
            entry[2].append(line)
    # Cycles as bomtree finds them: children in line order, each once.
    graph = {key: list(dict.fromkeys(ln[0] for ln in b[2])) for key, b in boms.items()}
    cycles = find_cycles(graph, [it.id for it in made])
    if cycles:
        raise BomCycle([by_id[c].code for c in cycles[0]])
    prices = Prices(db)
    hourly = rates(db)
    routings = {code.upper(): found for code, _name, found in stages.all_routings(db)}
    memo: dict[tuple[int, Decimal, bool, bool], Decimal] = {}
    lines: dict[int, list[_Rated]] = {}
    factors: dict[tuple[int, str], Decimal] = {}
    micro = Decimal(q.SCALE)

    def rated(parent: Item) -> list[_Rated]:
        """A BOM's lines with their rates, as ``Structure._rates`` works them out."""
        revision, stored_output, stored = boms[parent.id]
        output = q.dec(stored_output)
        out = []
        for child_id, qty, unit, scrap, fixed, phantom in stored:
            it = by_id[child_id]
            f = factors.get((child_id, unit.lower()))
            if f is None:
                try:
                    f = factors[child_id, unit.lower()] = it.factor(unit or None)
                except InvalidInput as e:
                    raise InvalidInput(f"BOM {parent.code} revision {revision}: {e}") from None
            rate = Decimal(qty) / micro * f * (100 + Decimal(scrap) / micro) / 100
            out.append((it, rate, output, Decimal(fixed) / micro * f, bool(phantom)))
        return out

    def rolled(it: Item, phantom: bool) -> list[_Rated] | None:
        """Its lines if the tree rolls it up (a made item's BOM, or a phantom's)."""
        if not (phantom or it.make_or_buy == "make"):
            return None
        found = lines.get(it.id)
        if found is None:
            entry = boms.get(it.id)
            if entry is None or not entry[2]:
                return None
            found = lines[it.id] = rated(it)
        return found

    linear = _Linear(rolled, prices, routings, hourly)

    def total(it: Item, amount: Decimal, need: Decimal, inexact: bool, phantom: bool) -> Decimal:
        """Cost of ``amount`` of ``it``: a node of the tree that needs ``need``."""
        if not inexact:
            found = linear.cost(it, phantom, need, ctx)
            if found is not None:
                return found
        children = rolled(it, phantom)
        if children is None:  # a leaf: its price
            return amount * prices.of(it)[0]
        key = (it.id, need, inexact, phantom)
        found = memo.get(key)
        if found is not None:
            return found
        result = Decimal(0)
        for child, rate, output, fixed, child_phantom in children:
            ctx.clear_flags()
            child_need = need * rate / output + fixed  # as Structure.tree: same digits
            rough = inexact or bool(ctx.flags[Inexact])
            result += total(child, tidy(child_need, rough), child_need, rough, child_phantom)
        if not phantom:
            result += stage_cost(routings.get(it.code.upper(), []), amount, hourly).cost
        memo[key] = result
        return result

    out: dict[str, Decimal] = {}
    with localcontext(prec=PRECISION) as ctx:
        for it in made:
            entry = boms.get(it.id)
            if entry is None or it.make_or_buy != "make":
                out[it.code] = prices.of(it)[0]  # a leaf, as roll_up prices it
                continue
            # Rolled up for its BOM's output quantity, as ``bom cost`` does by default.
            qty = q.dec(entry[1])
            out[it.code] = per_unit(total(it, qty, qty, False, False), qty)
    return out


def _lowest(value: Decimal, known: dict[Decimal, int]) -> int:
    """The place of the last non-zero digit of a non-zero ``value`` (0.25: -2, 300: 2)."""
    found = known.get(value)
    if found is None:
        found = known[value] = value.normalize().as_tuple().exponent  # type: ignore[assignment]
    return found


class _Linear:
    """Costs of subtrees whose cost is their need times a cost per unit.

    A subtree is *linear* when no line below it has a fixed quantity, no stage below
    it can cost anything (no work centre, no rate or a zero one, or no minutes), and
    every line's rate divided by its BOM's output quantity ends (1.05 / 10, not 1 / 3).
    Then, for a need ``n`` that no step rounds, ``roll_up`` works out the sum over its
    leaves of ``n`` times the rates down to the leaf times the leaf's price: exactly
    ``n`` times the cost per unit, the same sum worked out once per item here.

    Whether a step of ``roll_up``'s walk could round (a result of more than
    ``PRECISION`` significant digits, which makes a quantity inexact and then rounded
    up) is bounded per subtree: every number the walk works out below a need ``n`` has
    its digits between the places ``lowest(n) + lo`` and ``highest(n) + hi``. A need
    whose span with these fits in ``PRECISION`` digits is costed as need x cost per
    unit; any other goes the walk's way.
    """

    def __init__(
        self,
        rolled: Callable[[Item, bool], list[_Rated] | None],
        prices: Prices,
        routings: Mapping[str, Sequence[Stage]],
        hourly: Mapping[str, Decimal],
    ) -> None:
        self._rolled = rolled
        self._prices = prices
        self._routings = routings
        self._hourly = hourly
        self._lowest: dict[Decimal, int] = {}
        # (item id, phantom) -> (cost per unit, lo, hi), or None if not linear.
        self._found: dict[tuple[int, bool], tuple[Decimal, int, int] | None] = {}

    def cost(self, it: Item, phantom: bool, need: Decimal, ctx: Context) -> Decimal | None:
        """The cost of an exact ``need`` of ``it`` as ``roll_up`` works it out, or None
        when its subtree is not linear or a step of the walk could round."""
        found = self.unit(it, phantom, ctx)
        if found is None:
            return None
        unit, lo, hi = found
        if need and need.adjusted() + hi - _lowest(need, self._lowest) - lo + 1 > PRECISION:
            return None
        ctx.clear_flags()
        value = need * unit
        return None if ctx.flags[Inexact] else value

    def unit(self, it: Item, phantom: bool, ctx: Context) -> tuple[Decimal, int, int] | None:
        """(cost per unit, lo, hi) of a linear subtree; None for any other."""
        key = (it.id, phantom)
        if key in self._found:
            return self._found[key]
        found = self._found[key] = self._work_out(it, phantom, ctx)
        return found

    def _work_out(self, it: Item, phantom: bool, ctx: Context) -> tuple[Decimal, int, int] | None:
        children = self._rolled(it, phantom)
        if children is None:  # a leaf: need x price
            price = self._prices.of(it)[0]
            if not price:
                return price, 0, 0
            return price, min(0, _lowest(price, self._lowest)), max(0, price.adjusted() + 1)
        if not phantom and any(map(self._costs, self._routings.get(it.code.upper(), ()))):
            return None
        unit = Decimal(0)
        lo = hi = 0  # the need itself
        for child, rate, output, fixed, child_phantom in children:
            sub = self.unit(child, child_phantom, ctx)
            if fixed or sub is None:
                return None
            ctx.clear_flags()
            per = rate / output
            unit += per * sub[0]
            if ctx.flags[Inexact]:
                return None
            # need x rate, then / output: the child's need (need x per); then its subtree.
            lo = min(lo, _lowest(rate, self._lowest), _lowest(per, self._lowest) + sub[1])
            hi = max(hi, rate.adjusted() + 1, per.adjusted() + 1 + sub[2])
        # The running sum of the lines' costs: at most as many more digits as len() has.
        return unit, lo, hi + len(str(len(children)))

    def _costs(self, stage: Stage) -> bool:
        """Whether a stage can cost anything (else it adds 0 at any quantity)."""
        return bool(stage_rate(stage, self._hourly)) and bool(stage.setup_min or stage.run_min)


def material_standard(db: sqlite3.Connection, item: Item, prices: Prices | None = None) -> Decimal:
    """What an order's material costs per base unit at standard: a made item with an
    active BOM its material-only unit cost (``roll_up``'s ``material_only_unit_cost``
    for its BOM's output quantity: no stage cost at any level, as its moving average
    holds none), any other item its price as a leaf of ``roll_up``."""
    prices = prices or Prices(db)
    if item.make_or_buy == "make":
        found = db.execute(
            "SELECT 1 FROM bom WHERE item_id = ? AND active = 1", (item.id,)
        ).fetchone()
        if found is not None:
            return roll_up(db, item.code)["material_only_unit_cost"]  # type: ignore[no-any-return]
    return prices.of(item)[0]


# -- order cost --------------------------------------------------------------------------

ORDER_COST_COLUMNS = ["part", "std_unit_cost", "planned", "standard", "actual", "variance"]
# What order close adds to each material's consumption-variance row (its column name,
# the cost row's key): the quantity variance there keeps the name ``variance``.
CLOSE_COST_COLUMNS = {
    "std_unit_cost": "std_unit_cost",
    "standard_cost": "standard",
    "actual_cost": "actual",
    "cost_variance": "variance",
}

# An order's moves of material: ``sign`` 1 consumed into its WIP, 2 scrapped from stock
# for it, -1 returned from its WIP to stock, -2 otherwise out of its WIP (relieved into
# output, used up at the close, scrapped from the WIP); 0 anything else (its product).
_ORDER_MOVES = """
    SELECT m.seq, m.effective_at, m.item_id, m.qty,
           CASE WHEN m.item_id = :product THEN 0
                WHEN m.kind = 'consume' AND m.to_location_id = :loc THEN 1
                WHEN m.kind = 'scrap' AND m.from_status IS NOT NULL THEN 2
                WHEN m.kind = 'return' AND m.from_location_id = :loc THEN -1
                WHEN m.kind IN ('relieve', 'scrap') AND m.from_location_id = :loc THEN -2
                ELSE 0 END AS sign
      FROM move AS m
     WHERE m.ref = :ref AND m.kind IN ('consume', 'scrap', 'return', 'relieve')
     ORDER BY m.seq
"""


@dataclass(frozen=True, slots=True)
class OrderCost:
    """An order's cost rows (one per material, ``stages``, ``total``) and its totals."""

    rows: list[dict[str, Any]]
    standard: Decimal
    actual: Decimal
    variance: Decimal | None
    planned: Decimal
    unrated: int = 0  # stages with time but no work-centre rate (counted as 0)
    made: Decimal = Decimal(0)  # good and scrapped output


def order_cost(db: sqlite3.Connection, order: Order) -> OrderCost:
    """Actual material (and stage) cost of an order against standard (module docstring).

    ``variance`` is None while an open order has made no output (there is no standard
    to compare with yet); once it is completed or closed, it will make none, and what
    it used for nothing (actual against a standard of 0) is all variance.
    """
    loc = locations.get(db, order.location)
    mats = orders.materials(db, order)
    made = production.output(db, order).made
    # A finished order's cost is final: with no output, all it used is variance.
    final = bool(made) or order.state in ("completed", "closed")
    product = items.get(db, order.item)
    moves = db.execute(
        _ORDER_MOVES, {"ref": order.reference, "loc": loc.id, "product": product.id}
    ).fetchall()
    used_ids = sorted({r[2] for r in moves if r[4]} | {m.item.id for m in mats})
    history = valuation.averages(db, used_ids)
    prices = Prices(db)
    rows: list[dict[str, Any]] = []
    with localcontext(prec=PRECISION):
        actual_by = _actual(moves, history)
        seen: set[int] = set()
        for m in mats:
            seen.add(m.item.id)
            unit = material_standard(db, m.item, prices)
            # The requirement for the output made, as production's variance computes it.
            required = (m.qty * made / order.qty).quantize(MICRO, rounding=ROUND_HALF_UP)
            rows.append(
                _cost_row(m.item.code, unit, m.qty * unit, required * unit, actual_by, m.item.id)
            )
        for it in items.by_ids(db, [i for i in actual_by if i not in seen]):
            # A substitute (or other item) consumed for the order: no standard of its own.
            rows.append(_cost_row(it.code, None, Decimal(0), Decimal(0), actual_by, it.id))
        routing = stages.order_stages(db, order)
        hourly = rates(db)
        plan = stage_cost([_as_stage(s) for s in routing], order.qty, hourly)
        done = stage_cost([_as_stage(s) for s in routing], made, hourly)
        rows.append(
            {
                "part": "stages",
                "std_unit_cost": None,
                "planned": _tidy(plan.cost),
                "standard": _tidy(done.cost),
                "actual": _tidy(done.cost),
                "variance": Decimal(0) if final else None,
            }
        )
        planned = sum((r["planned"] for r in rows), Decimal(0))
        standard = sum((r["standard"] for r in rows), Decimal(0))
        actual = sum((r["actual"] for r in rows), Decimal(0))
        variance = _tidy(actual - standard) if final else None
        if not final:
            for r in rows:
                r["variance"] = None
        rows.append(
            {
                "part": "total",
                "std_unit_cost": None,
                "planned": _tidy(planned),
                "standard": _tidy(standard),
                "actual": _tidy(actual),
                "variance": variance,
            }
        )
    return OrderCost(
        rows, _tidy(standard), _tidy(actual), variance, _tidy(planned), plan.uncosted, made
    )


def _actual(moves: Sequence[Any], history: valuation.Replay) -> dict[int, Decimal]:
    """Per item, what the order's material moves (``_ORDER_MOVES``, in seq order) cost
    it: consumption into its WIP and scrap from stock at the average of their moment,
    less returns from its WIP at what that material cost coming in. The order's WIP of
    an item is a pool of its own (quantity, value): consumption adds at the average of
    its moment, and whatever leaves (relief, scrap, a return) takes its share of the
    pool's value (all of it with the last unit; else rounded half-even to a millionth)."""
    actual: dict[int, Decimal] = {}
    pool: dict[int, tuple[int, Decimal]] = {}
    for seq, at, item_id, micro, sign in moves:
        if not sign:
            continue
        held, value = pool.get(item_id, (0, Decimal(0)))
        if sign > 0:  # consumed (into the WIP) or scrapped from stock: at the average then
            cost = q.dec(micro) * (history.average_at(item_id, at, seq) or Decimal(0))
            actual[item_id] = actual.get(item_id, Decimal(0)) + cost
            if sign == 1:
                pool[item_id] = (held + micro, value + cost)
            continue
        if held <= 0:  # (never: only what came in can leave) at the average then
            out = q.dec(micro) * (history.average_at(item_id, at, seq) or Decimal(0))
        elif micro >= held:
            out = value
        else:
            out = (value * micro / held).quantize(MICRO, rounding=ROUND_HALF_EVEN)
        pool[item_id] = (held - micro, value - out)
        if sign == -1:  # returned to stock: no longer the order's cost
            actual[item_id] = actual.get(item_id, Decimal(0)) - out
    return actual


def _cost_row(
    part: str,
    unit: Decimal | None,
    planned: Decimal,
    standard: Decimal,
    actual_by: Mapping[int, Decimal],
    item_id: int,
) -> dict[str, Any]:
    actual = actual_by.get(item_id, Decimal(0))
    return {
        "part": part,
        "std_unit_cost": unit,
        "planned": _tidy(planned),
        "standard": _tidy(standard),
        "actual": _tidy(actual),
        "variance": _tidy(actual - standard),
    }


def _as_stage(s: Any) -> Stage:
    return Stage(s.position, s.name, s.workcenter, s.setup_min, s.run_min)


def summary(cost: OrderCost) -> str:
    """One line for a message: ``cost: actual 62.4, standard 60, variance +2.4``; a
    finished order that made nothing says so (``..., variance +1.95 (nothing made)``)."""
    note = f"; {unrated_note(cost.unrated)}" if cost.unrated else ""
    if cost.variance is None:
        return f"cost: actual {q.fmt(cost.actual)} so far, planned {q.fmt(cost.planned)}{note}"
    sign = "+" if cost.variance > 0 else ""
    lost = " (nothing made)" if not cost.made else ""
    return (
        f"cost: actual {q.fmt(cost.actual)}, standard {q.fmt(cost.standard)}, "
        f"variance {sign}{q.fmt(cost.variance)}{lost}{note}"
    )
