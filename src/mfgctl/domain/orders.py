"""Production orders: make a quantity of an item by a date with one BOM revision.

An order is bound to a BOM revision when it is created (the item's active one, or a
named one) and has its own virtual ``production`` place, ``ORDER-<id>``: stock consumed
into it is its WIP. Its life is a state machine held as data (``TRANSITIONS``)::

    planned -> released -> in_progress -> completed -> closed
    planned | released -> cancelled

``update`` moves an open order's due date or priority (a history row whose state stays
as it was, the change in its note). Every change is recorded in ``order_event`` (the
order's history). Releasing freezes the material requirements into ``order_material``,
so later BOM changes never alter an order under way, and reserves them. Materials are
the components the order itself consumes: the lines of its BOM revision for the order
quantity, scrap and fixed quantities included, with phantom lines passed through to
their own components (at every depth). A make item on an ordinary line is consumed as it
is (made by its own order), not exploded.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import bom, bomtree, codes, items, locations, reservations
from mfgctl.domain.bom import Revision
from mfgctl.errors import InvalidInput, NotFound, RuleViolation

STATES = ("planned", "released", "in_progress", "completed", "closed", "cancelled")
TRANSITIONS = frozenset(
    {
        ("planned", "released"),
        ("released", "in_progress"),
        ("in_progress", "completed"),
        ("completed", "closed"),
        ("planned", "cancelled"),
        ("released", "cancelled"),
    }
)
# How a message says that an order reaches each state.
PAST = {
    "released": "released",
    "in_progress": "started",
    "completed": "completed",
    "closed": "closed",
    "cancelled": "cancelled",
}
DONE = ("completed", "closed", "cancelled")


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    item: str
    name: str
    unit: str
    revision: str
    bom_id: int
    qty: Decimal
    due_on: str
    state: str
    priority: int
    ref: str | None
    location: str
    created_at: str
    # The last committed schedule (mfgctl schedule --commit), local 'YYYY-MM-DD HH:MM'.
    planned_start: str | None = None
    planned_end: str | None = None

    @property
    def late(self) -> bool:
        return self.state not in DONE and self.due_on < reservations.today()

    @property
    def reference(self) -> str:
        """The reference its reservations carry (and its place's code)."""
        return self.location

    def as_row(self) -> dict[str, Any]:
        return {
            "order": self.id,
            "item": self.item,
            "name": self.name,
            "qty": self.qty,
            "unit": self.unit,
            "revision": self.revision,
            "due": self.due_on,
            "state": self.state,
            "late": self.late,
            "priority": self.priority,
            "ref": self.ref,
            "place": self.location,
            "created_at": timefmt.local(self.created_at),
            "planned_start": self.planned_start,
            "planned_end": self.planned_end,
        }


ORDER_COLUMNS = [
    "order", "item", "name", "qty", "unit", "revision", "due", "state", "late",
    "priority", "ref", "place", "created_at", "planned_start", "planned_end",
]  # fmt: skip
MATERIAL_COLUMNS = [
    "position", "item", "name", "unit", "required", "reserved", "consumed", "substituted",
    "variance", "free", "short", "substitutes",
]  # fmt: skip
HISTORY_COLUMNS = ["at", "user", "from_state", "to_state", "note"]

_SELECT = """
    SELECT o.id, i.code AS item, i.name, i.unit, b.revision, o.bom_id, o.qty, o.due_on,
           o.state, o.priority, o.ref, l.code AS location, o.created_at, o.planned_start,
           o.planned_end
      FROM production_order AS o
      JOIN item AS i ON i.id = o.item_id
      JOIN bom AS b ON b.id = o.bom_id
      JOIN location AS l ON l.id = o.location_id
"""


def _from_row(r: sqlite3.Row) -> Order:
    return Order(
        id=r["id"],
        item=r["item"],
        name=r["name"],
        unit=r["unit"],
        revision=r["revision"],
        bom_id=r["bom_id"],
        qty=q.dec(r["qty"]),
        due_on=r["due_on"],
        state=r["state"],
        priority=r["priority"],
        ref=r["ref"],
        location=r["location"],
        created_at=r["created_at"],
        planned_start=r["planned_start"],
        planned_end=r["planned_end"],
    )


def parse_id(value: object) -> int:
    """An order number as typed: ``12`` or ``ORDER-12``."""
    return codes.record_number(value, what="order", prefix="ORDER-")


def get(db: sqlite3.Connection, order: object) -> Order:
    order_id = parse_id(order)
    row = db.execute(f"{_SELECT} WHERE o.id = ?", (order_id,)).fetchone()
    if row is None:
        raise NotFound(f"no production order {order_id} (see mfgctl order list)")
    return _from_row(row)


def list_orders(
    db: sqlite3.Connection,
    *,
    state: str | None = None,
    item: str | None = None,
    late: bool = False,
) -> list[Order]:
    """Orders by due date, optionally one state, one item, or only late ones."""
    if state is not None:
        state = state.strip().lower().replace("-", "_")
        if state not in STATES:
            raise InvalidInput(f"--state must be one of {', '.join(STATES)}; got {state!r}")
    item_id = items.get(db, item).id if item else None
    rows = db.execute(
        f"{_SELECT} WHERE (:state IS NULL OR o.state = :state) "
        "AND (:item IS NULL OR o.item_id = :item) ORDER BY o.due_on, o.priority DESC, o.id",
        {"state": state, "item": item_id},
    )
    found = [_from_row(r) for r in rows]
    return [o for o in found if o.late] if late else found


# -- the state machine -------------------------------------------------------------------


def _event(
    db: sqlite3.Connection,
    order_id: int,
    source: str | None,
    target: str,
    user: str,
    note: str | None = None,
) -> None:
    db.execute(
        "INSERT INTO order_event (order_id, at, user, from_state, to_state, note) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (order_id, timefmt.now(), user, source, target, note),
    )


def transition(
    db: sqlite3.Connection, order: Order, target: str, *, user: str, note: str | None = None
) -> Order:
    """Move an order to ``target`` if ``TRANSITIONS`` allows it, and record the event.

    Raises:
        RuleViolation: the transition is not allowed from the order's current state.
    """
    if (order.state, target) not in TRANSITIONS:
        allowed = sorted(PAST[t] for s, t in TRANSITIONS if s == order.state)
        hint = (
            f" (a {order.state} order can only be {' or '.join(allowed)})"
            if allowed
            else f" (a {order.state} order is finished)"
        )
        raise RuleViolation(
            f"order {order.id} is {order.state}: it cannot be {PAST.get(target, target)}{hint}"
        )
    db.execute("UPDATE production_order SET state = ? WHERE id = ?", (target, order.id))
    _event(db, order.id, order.state, target, user, note)
    return get(db, order.id)


# -- materials ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Material:
    position: int
    item: items.Item
    qty: Decimal
    substitutes: tuple[str, ...]


def explode_materials(db: sqlite3.Connection, rev: Revision, qty: Decimal) -> list[Material]:
    """The components an order of ``qty`` consumes with revision ``rev``.

    Quantities are rounded up to the millionth the ledger counts in. Uses bomtree's
    exact explosion on a structure that holds only ``rev`` and the BOMs
    of phantoms reached through phantom lines: an ordinary make line is a leaf.
    """
    # Only what this order touches is read (not every item and BOM of the plant: that
    # made firming many planned orders take seconds each on a large plant).
    keep: dict[str, Revision] = {rev.item.upper(): rev}
    leaves: set[str] = set()  # phantoms without an active BOM are ordinary lines
    substitutes: dict[str, tuple[str, ...]] = {}
    used = {rev.item.upper(): items.get(db, rev.item)}
    todo = [rev]
    while todo:
        current = todo.pop()
        for line in current.lines:
            key = line.item.upper()
            substitutes.setdefault(key, line.substitutes)
            if key not in used:
                used[key] = items.get(db, line.item)
            if line.phantom and key not in keep and key not in leaves:
                try:
                    found = bom.get_revision(db, line.item)
                except NotFound:
                    leaves.add(key)
                    continue
                keep[key] = found
                todo.append(found)
    structure = bomtree.Structure(items=used, boms=keep)
    rows = structure.explode(rev.item, qty, rev)  # raises BomCycle before we walk again
    # Order: as the revision's lines list them (phantom components after them).
    first_seen: dict[str, int] = {}
    queue, walked = [rev], {rev.item.upper()}
    while queue:
        current = queue.pop(0)
        for line in current.lines:
            key = line.item.upper()
            first_seen.setdefault(key, len(first_seen))
            if line.phantom and key in keep and key not in walked:
                walked.add(key)
                queue.append(keep[key])
    rows.sort(key=lambda r: first_seen.get(r.item.upper(), len(first_seen)))
    # The ledger counts in millionths: 3.4863325 g of solder is required as 3.486333; a
    # serial-tracked material in whole units (each is one serial): 3.333334 as 4.
    return [
        Material(
            n,
            used[r.item.upper()],
            _required(used[r.item.upper()], r.qty),
            substitutes.get(r.item.upper(), ()),
        )
        for n, r in enumerate(rows, start=1)
    ]


def _required(item: items.Item, qty: Decimal) -> Decimal:
    """What an order requires of ``item`` for an exact need ``qty``: rounded up to the
    millionth, and to a whole unit for a serial-tracked item (as MRP plans it)."""
    return q.round_up(items.whole_up(item, qty))


def materials(db: sqlite3.Connection, order: Order) -> list[Material]:
    """The order's material requirements: frozen ones once released, else from its BOM."""
    frozen = db.execute(
        "SELECT position, item_id, qty, substitutes FROM order_material WHERE order_id = ? "
        "ORDER BY position",
        (order.id,),
    ).fetchall()
    if frozen:
        by_id = {it.id: it for it in items.by_ids(db, [r[1] for r in frozen])}
        return [Material(r[0], by_id[r[1]], q.dec(r[2]), tuple(json.loads(r[3]))) for r in frozen]
    rev = bom.get_revision(db, order.item, order.revision)
    return explode_materials(db, rev, order.qty)


def check_sizes(mats: Sequence[Material], *, who: str, hint: str) -> None:
    """Refuse a material requirement too large to store (a quantity is below 10^12),
    naming the material and its requirement rather than a number nobody typed.

    Raises:
        InvalidInput: the first material whose requirement is too large.
    """
    for m in mats:
        if m.qty >= q.MAX_VALUE:
            raise InvalidInput(
                f"{who} needs {q.fmt(m.qty)} {m.item.unit} of {m.item.code}: more than one "
                f"quantity can hold (limit {q.MAX_VALUE:,}); {hint}"
            )


def _freeze(db: sqlite3.Connection, order: Order, mats: list[Material]) -> None:
    db.executemany(
        "INSERT INTO order_material (order_id, position, item_id, qty, substitutes) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            (order.id, m.position, m.item.id, q.to_micro(m.qty), json.dumps(list(m.substitutes)))
            for m in mats
        ],
    )


def material_rows(db: sqlite3.Connection, order: Order) -> list[dict[str, Any]]:
    """Per material: required, reserved for this order, consumed, variance, free, short.

    ``consumed`` is what the order used (consumed and scrapped for it, less returns);
    ``variance`` is what it used of the material minus the requirement for the output
    made so far (completed and scrapped output; 0 before any output is made, a negative
    number is under-use), what its substitutes were used in its place counting as used
    of it (``usage`` of what the order used, as ``report variance`` counts it).
    ``substituted`` is what its substitutes stand in for it, consumed or reserved for the
    order in its place (``coverage``). ``free`` is the material's own free stock.
    ``short`` is what reserving the order now could not cover (``reserve``'s rule,
    ``reservations.plan_needs``): required - consumed - reserved - substituted, less
    its own free stock, then less its substitutes' free stock left over once every
    material has taken its own; never below zero.
    """
    from mfgctl.domain import production  # production builds on this module

    needs = lacking(db, order)
    plan = reservations.plan_needs(db, needs)
    held = reservations.reserved_for_order(db, order.id)
    used = production.consumed(db, order)
    into = production.delivered(db, order)
    required_now = {r["item"]: r["required"] for r in production.variance_rows(db, order)}
    lines = [(n.item.id, n.required, [s.id for s in n.substitutes]) for n in needs]
    used_of, _substituted, _others = usage(lines, used)
    rows = []
    for m, need, use in zip(materials(db, order), needs, used_of, strict=True):
        covered = need.consumed + need.reserved
        reserved = held.get(m.item.id, Decimal(0))
        consumed = used.get(m.item.id, Decimal(0))
        substituted = covered - into.get(m.item.id, Decimal(0)) - reserved
        made_req = required_now.get(m.item.code, Decimal(0))
        variance = use - made_req if made_req else Decimal(0)
        rows.append(
            {
                "position": m.position,
                "item": m.item.code,
                "name": m.item.name,
                "unit": m.item.unit,
                "required": m.qty,
                "reserved": reserved,
                "consumed": consumed,
                "substituted": substituted,
                "variance": variance,
                "free": reservations.free_qty(db, m.item),
                "short": plan.short[m.position],
                "substitutes": list(m.substitutes),
            }
        )
    return rows


# -- commands ----------------------------------------------------------------------------


def create(
    db: sqlite3.Connection,
    *,
    item: str,
    qty: object,
    due: object,
    user: str,
    revision: str | None = None,
    ref: str | None = None,
    priority: int = 0,
    unit: str | None = None,
) -> Order:
    """A new ``planned`` order for a make item, bound to its active BOM (or ``revision``).

    Raises:
        RuleViolation: a buy item, or an inactive item.
        NotFound: unknown item, no active BOM, unknown revision.
    """
    it = items.get(db, item, active=True)
    if it.make_or_buy != "make":
        raise RuleViolation(
            f"{it.code} is a buy item: production orders are for make items "
            f"(change it with mfgctl item update {it.code} --make-or-buy make)"
        )
    amount = it.to_base(q.parse_qty(qty), unit)
    micro = q.to_micro(amount, what=f"quantity in {it.unit}")
    items.check_whole(it, amount)
    due_on = timefmt.parse_plan_date(due, what="--due").isoformat()
    reference = codes.text(ref, what="--ref", required=False)
    priority = codes.priority(priority)
    try:
        rev = bom.get_revision(db, it.code, revision)
    except NotFound as e:
        raise NotFound(f"{e}: give {it.code} a BOM before ordering it (mfgctl import)") from None
    if not rev.lines:
        raise RuleViolation(f"{it.code} BOM revision {rev.revision} has no lines")
    # Explode now: a BOM cycle, a bad unit or a requirement too large to store is
    # refused at creation, not at release.
    found = explode_materials(db, rev, amount)
    check_sizes(found, who=f"an order of {q.fmt(amount)} {it.unit} {it.code}", hint="order less")
    # A deactivated material is planned by nobody and cannot be received.
    gone = [m.item.code for m in found if not m.item.active]
    if gone:
        raise RuleViolation(
            f"{it.code} BOM revision {rev.revision} uses {', '.join(gone)}, deactivated: "
            f"reactivate {'them' if len(gone) > 1 else 'it'} (mfgctl item update "
            f"{gone[0]} --active) or store a revision without {'them' if len(gone) > 1 else 'it'}"
        )
    order_id = db.execute("SELECT ifnull(max(id), 0) + 1 FROM production_order").fetchone()[0]
    code = locations.order_place_code(order_id)
    if locations.find(db, code) is not None:
        raise RuleViolation(f"a location {code} already exists: rename it before ordering")
    loc = db.execute(
        "INSERT INTO location (code, name, kind) VALUES (?, ?, 'production')",
        (code, f"Production order {order_id}: {it.code}"),
    ).lastrowid
    db.execute(
        "INSERT INTO production_order (id, item_id, bom_id, qty, due_on, state, priority, ref, "
        "location_id, created_at) VALUES (?, ?, ?, ?, ?, 'planned', ?, ?, ?, ?)",
        (order_id, it.id, rev.id, micro, due_on, priority, reference, loc, timefmt.now()),
    )
    _event(db, order_id, None, "planned", user)
    return get(db, order_id)


def coverage(
    materials: Sequence[tuple[int, Any, Sequence[int]]], have: Mapping[int, Any]
) -> list[Any]:
    """How much of each material an order has (used, or used and reserved): its own
    first (all of it, over-use included), then what its substitutes have beyond their
    own need, in the line's order of preference, one for one, up to what it lacks.

    ``materials``: (item id, required, substitutes' item ids) in position order; ``have``:
    per item id. Numbers are Decimals or integer micro-units alike (MRP uses the latter).
    """
    return _cover(materials, have)[0]


def usage(
    materials: Sequence[tuple[int, Any, Sequence[int]]], have: Mapping[int, Any]
) -> tuple[list[Any], list[Any], dict[int, Any]]:
    """What an order used of each material, for usage variance, by ``coverage``'s rule:
    a substitute's use in a material's place counts as use of the material, not of the
    substitute.

    Returns, per material (in ``materials``' order), what was used of it (its own use,
    less what it stood in for other materials with, plus what its substitutes stood in
    for it with) and the part of that its substitutes gave; and per item of ``have``
    that is no material, what is left of its use once it stood in for materials.
    """
    takes = _cover(materials, have)[1]
    used = [have.get(item_id, 0) for item_id, _required, _subs in materials]
    substituted = [sum(t.values(), 0) for t in takes]
    position = {item_id: n for n, (item_id, _required, _subs) in enumerate(materials)}
    others = {i: n for i, n in have.items() if i not in position}
    for n, t in enumerate(takes):
        used[n] += substituted[n]
        for sub, take in t.items():
            if sub in position:
                used[position[sub]] -= take
            else:
                others[sub] -= take
    return used, substituted, others


def _cover(
    materials: Sequence[tuple[int, Any, Sequence[int]]], have: Mapping[int, Any]
) -> tuple[list[Any], list[dict[int, Any]]]:
    spare = dict(have)
    cover = []
    takes: list[dict[int, Any]] = [{} for _ in materials]
    for item_id, required, _subs in materials:
        own = spare.get(item_id, 0)
        cover.append(own)
        spare[item_id] = max(own - required, 0)
    for n, (item_id, required, subs) in enumerate(materials):
        for sub in subs:
            lacking = required - cover[n]
            if lacking <= 0 or sub == item_id:
                continue
            take = min(spare.get(sub, 0), lacking)
            if take > 0:
                cover[n] += take
                spare[sub] -= take
                takes[n][sub] = takes[n].get(sub, 0) + take
    return cover, takes


def substitute_items(db: sqlite3.Connection, material: Material) -> list[items.Item]:
    """A material's substitutes that exist, in the line's order of preference."""
    found = (items.find(db, code) for code in material.substitutes)
    return [it for it in found if it is not None and it.id != material.item.id]


def lacking(db: sqlite3.Connection, order: Order) -> list[reservations.Need]:
    """What each material of ``order`` still lacks beyond what it consumed and holds
    reserved (a substitute used or reserved in its place counting for it): what
    ``order release`` reserves, and what deactivating a material must wait for."""
    from mfgctl.domain import production  # production builds on this module

    held = reservations.reserved_for_order(db, order.id)
    used = production.delivered(db, order)
    found = materials(db, order)
    subs = [substitute_items(db, m) for m in found]
    rows = [(m.item.id, m.qty, [it.id for it in s]) for m, s in zip(found, subs, strict=True)]
    # Substitutes used, or reserved, in a material's place count for it (``coverage``).
    by_use = coverage(rows, used)
    both = {i: used.get(i, Decimal(0)) + held.get(i, Decimal(0)) for i in {*used, *held}}
    by_all = coverage(rows, both)
    return [
        reservations.Need(m.position, m.item, m.qty, by_use[n], by_all[n] - by_use[n], tuple(s))
        for n, (m, s) in enumerate(zip(found, subs, strict=True))
    ]


def reserve(
    db: sqlite3.Connection, order: object, *, user: str, partial: bool = False
) -> tuple[Order, reservations.OrderReservation]:
    """Reserve what a released (or started) order still lacks; all or nothing unless
    ``partial``.

    Raises:
        RuleViolation: the order is not released or in progress.
        reservations.Shortage: something is short and not ``partial``.
    """
    found = get(db, order)
    if found.state not in ("released", "in_progress"):
        hint = f" first (mfgctl order release {found.id})" if found.state == "planned" else ""
        raise RuleViolation(
            f"order {found.id} is {found.state}: only a released order reserves stock{hint}"
        )
    result = reservations.reserve_needs(
        db,
        order_id=found.id,
        ref=found.reference,
        priority=found.priority,
        needs=lacking(db, found),
        user=user,
        partial=partial,
    )
    return found, result


def release(
    db: sqlite3.Connection, order: object, *, user: str, partial: bool = False
) -> tuple[Order, reservations.OrderReservation]:
    """Release a planned order: freeze its materials and reserve them.

    Without ``partial``, a shortage refuses the release (nothing changes); with it,
    the order is released and what is free is reserved.
    """
    released = transition(db, get(db, order), "released", user=user)
    mats = materials(db, released)
    check_sizes(
        mats,
        who=f"order {released.id}",
        hint=f"cancel it (mfgctl order cancel {released.id}) and order less",
    )
    _freeze(db, released, mats)
    from mfgctl.domain import stages  # stages imports this module

    stages.freeze(db, released.id)  # the routing, frozen like the materials
    return reserve(db, released.id, user=user, partial=partial)


def cancel(
    db: sqlite3.Connection, order: object, *, user: str, note: str | None = None
) -> tuple[Order, list[reservations.Reservation]]:
    """Cancel a planned or released order and release every reservation it holds.

    Raises:
        RuleViolation: any other state; a started order names the way to stop it.
    """
    found = get(db, order)
    if found.state == "in_progress":
        raise RuleViolation(
            f"order {found.id} is in_progress: it cannot be cancelled (stop a started order "
            f"with mfgctl order complete {found.id} --final, then mfgctl order close {found.id})"
        )
    cancelled = transition(
        db, found, "cancelled", user=user, note=codes.text(note, what="note", required=False)
    )
    return cancelled, reservations.cancel_for_order(db, found.id)


UPDATABLE = ("planned", "released", "in_progress")


def update(
    db: sqlite3.Connection,
    order: object,
    *,
    user: str,
    due: object = None,
    priority: int | None = None,
) -> tuple[Order, Order]:
    """Move a planned, released or in-progress order's due date and/or change its
    priority (what MRP's expedite and delay messages ask for); the change is kept in the
    history, and the order's open reservations carry the new priority. Returns the order
    before and after.

    Raises:
        RuleViolation: the order is completed, closed or cancelled.
        InvalidInput: nothing to change, a bad date or priority.
    """
    found = get(db, order)
    if found.state not in UPDATABLE:
        raise RuleViolation(
            f"order {found.id} is {found.state}: only a planned, released or in-progress "
            "order is updated"
        )
    if due is None and priority is None:
        raise InvalidInput("give --due DATE or --priority N (or both): nothing to change")
    due_on = found.due_on if due is None else timefmt.parse_plan_date(due, what="--due").isoformat()
    rank = found.priority if priority is None else codes.priority(priority)
    changes = []
    if due_on != found.due_on:
        changes.append(f"due {found.due_on} -> {due_on}")
    if rank != found.priority:
        changes.append(f"priority {found.priority} -> {rank}")
    if not changes:
        raise InvalidInput(
            f"order {found.id} is already due {found.due_on} with priority {found.priority}: "
            "nothing to change"
        )
    db.execute(
        "UPDATE production_order SET due_on = ?, priority = ? WHERE id = ?",
        (due_on, rank, found.id),
    )
    if rank != found.priority:
        db.execute(
            "UPDATE reservation SET priority = ? WHERE order_id = ? AND state = 'open'",
            (rank, found.id),
        )
    _event(db, found.id, found.state, found.state, user, "; ".join(changes))
    return found, get(db, found.id)


def history(db: sqlite3.Connection, order: Order) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT at, user, from_state, to_state, note FROM order_event WHERE order_id = ? "
        "ORDER BY id",
        (order.id,),
    )
    return [
        {
            "at": timefmt.local(r["at"]),
            "user": r["user"],
            "from_state": r["from_state"],
            "to_state": r["to_state"],
            "note": r["note"],
        }
        for r in rows
    ]
