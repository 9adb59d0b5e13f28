"""Acting on MRP and comparing runs: saved runs, their differences, and firming
planned orders into production and purchase orders.

A saved run (``mrp --save``) keeps its settings, the fingerprint of its inputs and its
result (planned orders with pegging, shortages, exceptions, and the scheduled receipts
it read) as JSON; nothing else is written. ``diff`` compares two results; ``firm``
turns planned orders of a plan computed inside the caller's write transaction (so
exactly what it saw) into ``planned`` production orders and open purchase orders.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, mrp_report, orders, purchases
from mfgctl.domain.mrp import Plan, PlannedOrder, Settings
from mfgctl.errors import InvalidInput, NotFound, RuleViolation
from mfgctl.render import to_json

RUN_COLUMNS = ["run", "created_at", "user", "start", "horizon", "bucket", "include_inspection",
               "fingerprint", "planned", "short", "note"]  # fmt: skip
# ``order`` last, so the columns scripts read by position before it was added stay put.
DIFF_COLUMNS = ["change", "item", "kind", "qty_before", "qty_after", "due_before", "due_after",
                "order"]  # fmt: skip
FIRM_COLUMNS = ["planned", "created", "item", "kind", "qty", "unit", "due", "ref", "note"]


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    created_at: str
    user: str
    settings: Settings
    fingerprint: str
    note: str | None
    result: dict[str, Any]

    def as_row(self) -> dict[str, Any]:
        return {
            "run": self.id,
            "created_at": timefmt.local(self.created_at),
            "user": self.user,
            "start": self.settings.start.isoformat(),
            "horizon": self.settings.horizon_days,
            "bucket": self.settings.bucket,
            "include_inspection": self.settings.include_inspection,
            "fingerprint": self.fingerprint,
            "planned": len(self.result["planned_orders"]),
            "short": len(self.result["shortages"]),
            "note": self.note,
        }


def result_of(plan: Plan, fingerprint: str) -> dict[str, Any]:
    """What a saved run keeps: the JSON document without the bucket records, plus
    ``receipts``: every scheduled receipt the run read (open purchase orders and open
    production orders' expected output, also those due after the horizon), so that
    ``diff`` can tell a planned order that was firmed from one no longer needed.
    Runs saved before it was kept have no ``receipts``."""
    doc = mrp_report.document(plan, fingerprint=fingerprint)
    del doc["records"]
    parts = plan.snapshot.parts
    doc["receipts"] = [
        {
            "source": r.source,
            "id": r.id,
            "item": parts[r.item].code if r.item in parts else r.item,
            "qty": q.dec(r.qty),
            "due": r.due.isoformat(),
        }
        for r in sorted(plan.snapshot.receipts, key=lambda r: (r.source, r.id))
    ]
    return json.loads(to_json(doc), parse_float=Decimal)  # exact numbers, dates as text


def save(
    db: sqlite3.Connection, plan: Plan, fingerprint: str, *, user: str, note: str | None = None
) -> Run:
    s = plan.settings
    run_id = db.execute(
        "INSERT INTO mrp_run (created_at, user, start_on, horizon_days, bucket, "
        "include_inspection, fingerprint, note, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            timefmt.now(),
            user,
            s.start.isoformat(),
            s.horizon_days,
            s.bucket,
            int(s.include_inspection),
            fingerprint,
            codes.text(note, what="--note", required=False),
            to_json(result_of(plan, fingerprint)),
        ),
    ).lastrowid
    return get(db, run_id)


def parse_id(value: object) -> int:
    return codes.record_number(value, what="MRP run")


_SELECT = (
    "SELECT id, created_at, user, start_on, horizon_days, bucket, include_inspection, "
    "fingerprint, note, result FROM mrp_run"
)


def _from_row(r: Sequence[Any], *, with_result: bool = True) -> Run:
    settings = Settings(date.fromisoformat(r[3]), r[4], r[5], bool(r[6]))
    result = json.loads(r[9], parse_float=Decimal) if with_result else {}
    return Run(r[0], r[1], r[2], settings, r[7], r[8], result)


def get(db: sqlite3.Connection, run: object) -> Run:
    run_id = parse_id(run)
    row = db.execute(f"{_SELECT} WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise NotFound(f"no saved MRP run {run_id} (see mfgctl mrp runs)")
    return _from_row(row)


def list_runs(db: sqlite3.Connection) -> list[Run]:
    return [_from_row(r) for r in db.execute(f"{_SELECT} ORDER BY id")]


# -- diff ----------------------------------------------------------------------------------


# A scheduled receipt's source and the kind of planned order that becomes one.
KIND_OF_SOURCE = {"production": "make", "purchase": "buy"}


def has_receipts(result: dict[str, Any]) -> bool:
    """Whether a run's result kept its scheduled receipts (runs saved before did not)."""
    return "receipts" in result


def order_label(receipt: dict[str, Any]) -> str:
    """``PO-7`` or ``ORDER-12``: how the rest of mfgctl names the order."""
    prefix = "PO" if receipt["source"] == "purchase" else "ORDER"
    return f"{prefix}-{receipt['id']}"


# Purchase and production orders created in a time window (stored UTC text), not cancelled.
_ORDERS_SINCE = """
    SELECT 'purchase', p.id, i.code, p.qty, p.due_on, p.state, p.created_at
      FROM purchase_order AS p JOIN item AS i ON i.id = p.item_id
     WHERE p.created_at > :after AND (:until IS NULL OR p.created_at <= :until)
       AND p.state <> 'cancelled'
    UNION ALL
    SELECT 'production', o.id, i.code, o.qty, o.due_on, o.state, o.created_at
      FROM production_order AS o JOIN item AS i ON i.id = o.item_id
     WHERE o.created_at > :after AND (:until IS NULL OR o.created_at <= :until)
       AND o.state <> 'cancelled'
     ORDER BY 1, 2
"""


def orders_since(
    db: sqlite3.Connection, after: str, until: str | None = None
) -> list[dict[str, Any]]:
    """Purchase and production orders created after ``after`` (a saved run's
    ``created_at``) and, with ``until``, not after it (the second run's), cancelled ones
    left out: for ``diff``, which cannot see in a run's receipts an order firmed since
    and then received in full or completed. Each: ``source`` (``purchase`` or
    ``production``), ``id``, ``item``, ``kind`` (buy or make), ``qty`` ordered, ``due``
    and ``state``."""
    rows = db.execute(_ORDERS_SINCE, {"after": after, "until": until})
    return [
        {
            "source": source,
            "id": number,
            "item": item,
            "kind": KIND_OF_SOURCE[source],
            "qty": q.dec(amount),
            "due": due,
            "state": state,
        }
        for source, number, item, amount, due, state, _at in rows
    ]


def diff(
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    since: Sequence[dict[str, Any]] = (),
) -> list[dict[str, Any]]:
    """What changed between two run results: planned orders ``firmed``, ``added``,
    ``removed``, ``moved`` (another due date), ``resized`` (another quantity) or
    ``moved and resized``; scheduled receipts ``opened`` or ``closed``; and shortages
    (``kind`` short) ``new``, ``gone`` or ``changed``, the words the README gives
    scripts.

    Planned orders are matched per item and kind: identical orders (same due date and
    quantity) first. When both results keep their scheduled receipts, a planned order
    of ``before`` left unmatched is ``firmed`` into a receipt of the same item and kind
    (production order for make, purchase order for buy) that ``after`` has and
    ``before`` had not: one with its due date and quantity first (what ``mrp firm``
    creates), then the rest in due-date order (a firmed order since moved, resized or
    partly received). Then the rest in due-date order are moved or resized; what is
    left over was added or removed. A receipt of ``before`` gone from ``after`` was
    received, completed or cancelled (``closed``); a new one that no planned order
    explains was ``opened``. Results without receipts (runs saved before they were
    kept) have no firmed, opened or closed: a firmed order shows as removed.

    ``since`` (``orders_since``: the orders created between the two runs) lets a
    planned order be ``firmed`` into an order that is in neither run's receipts: firmed
    and then received in full or completed before ``after``. It competes with the new
    receipts on the same terms (its ordered quantity is what ``mrp firm`` wrote), and its
    ``qty_after`` is 0: nothing of it is still to come.
    """
    rows: list[dict[str, Any]] = []
    old: dict[tuple[str, str], list[dict]] = defaultdict(list)
    new: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for o in before["planned_orders"]:
        old[(o["item"], o["kind"])].append(o)
    for o in after["planned_orders"]:
        new[(o["item"], o["kind"])].append(o)
    # Receipts that appeared, per (ITEM, kind), by due date; only when both runs kept them.
    kept = has_receipts(before) and has_receipts(after)
    was = {order_label(r): r for r in before.get("receipts", ())} if kept else {}
    now = {order_label(r): r for r in after.get("receipts", ())} if kept else {}
    fresh: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for label, r in sorted(now.items(), key=lambda kv: (kv[1]["due"], kv[0])):
        if label not in was:
            fresh[(r["item"].upper(), KIND_OF_SOURCE[r["source"]])].append(r)
    # Orders created since that are no receipt of ``after`` any more: nothing left to
    # come. ``ordered`` is what a firmed planned order is matched with.
    gone = [
        {"source": o["source"], "id": o["id"], "item": o["item"], "qty": Decimal(0),
         "due": o["due"], "ordered": o["qty"]}
        for o in since if kept and order_label(o) not in now and order_label(o) not in was
    ]  # fmt: skip
    for r in gone:
        fresh[(r["item"].upper(), KIND_OF_SOURCE[r["source"]])].append(r)
    for receipts in fresh.values():
        receipts.sort(key=lambda r: (r["due"], order_label(r)))
    for key in sorted(set(old) | set(new)):
        a = sorted(old.get(key, []), key=lambda o: o["due_date"])
        b = sorted(new.get(key, []), key=lambda o: o["due_date"])
        for o in list(a):
            same = next(
                (n for n in b if (n["due_date"], n["qty"]) == (o["due_date"], o["qty"])), None
            )
            if same is not None:
                a.remove(o)
                b.remove(same)
        receipts = fresh.get((key[0].upper(), key[1]), [])
        firmed = []
        for o in list(a):
            made = next((r for r in receipts
                         if (r["due"], r.get("ordered", r["qty"])) == (o["due_date"], o["qty"])),
                        None)  # fmt: skip
            if made is not None:
                a.remove(o)
                receipts.remove(made)
                firmed.append((o, made))
        while a and receipts:
            firmed.append((a.pop(0), receipts.pop(0)))
        for o, r in sorted(firmed, key=lambda pair: pair[0]["due_date"]):
            rows.append(_firmed(key, o, r))
        for o, n in zip(a, b, strict=False):
            changes = []
            if o["due_date"] != n["due_date"]:
                changes.append("moved")
            if o["qty"] != n["qty"]:
                changes.append("resized")
            rows.append(_change(" and ".join(changes), key, o, n))
        for o in a[len(b) :]:
            rows.append(_change("removed", key, o, None))
        for n in b[len(a) :]:
            rows.append(_change("added", key, None, n))
    rows += _receipt_changes(was, now, fresh)
    was_short = {s["item"]: s for s in before["shortages"]}
    now_short = {s["item"]: s for s in after["shortages"]}
    for item in sorted(set(was_short) | set(now_short)):
        o, n = was_short.get(item), now_short.get(item)
        if o is None:
            change = "new"
        elif n is None:
            change = "gone"
        elif (o["qty"], o["first_date"]) != (n["qty"], n["first_date"]):
            change = "changed"
        else:
            continue
        rows.append(
            {
                "change": change,
                "item": item,
                "kind": "short",
                "qty_before": o and o["qty"],
                "qty_after": n and n["qty"],
                "due_before": o and o["first_date"],
                "due_after": n and n["first_date"],
                "order": None,
            }
        )
    return rows


def _receipt_changes(
    was: dict[str, dict], now: dict[str, dict], fresh: dict[tuple[str, str], list[dict]]
) -> list[dict[str, Any]]:
    """Receipts gone (``closed``), new ones no firmed planned order took (``opened``),
    and those in both whose due date or open quantity changed (``moved``, ``resized``,
    ``moved and resized``: updated, or received in part), by item and order."""
    left = {order_label(r) for receipts in fresh.values() for r in receipts}
    found = [("closed", r, None) for label, r in was.items() if label not in now]
    found += [("opened", None, r) for label, r in now.items() if label in left]
    for label, r in was.items():
        n = now.get(label)
        if n is None:
            continue
        changes = [w for w, k in (("moved", "due"), ("resized", "qty")) if r[k] != n[k]]
        if changes:
            found.append((" and ".join(changes), r, n))
    rows = []
    for change, o, n in found:
        r = o or n
        rows.append(
            {
                "change": change,
                "item": r["item"],
                "kind": KIND_OF_SOURCE[r["source"]],
                "qty_before": o and o["qty"],
                "qty_after": n and n["qty"],
                "due_before": o and o["due"],
                "due_after": n and n["due"],
                "order": order_label(r),
            }
        )
    return sorted(rows, key=lambda row: (row["item"], row["order"]))


def _firmed(key: tuple[str, str], o: dict, receipt: dict) -> dict[str, Any]:
    return {
        "change": "firmed",
        "item": key[0],
        "kind": key[1],
        "qty_before": o["qty"],
        "qty_after": receipt["qty"],
        "due_before": o["due_date"],
        "due_after": receipt["due"],
        "order": order_label(receipt),
    }


def _change(change: str, key: tuple[str, str], o: dict | None, n: dict | None) -> dict[str, Any]:
    return {
        "change": change,
        "item": key[0],
        "kind": key[1],
        "qty_before": o and o["qty"],
        "qty_after": n and n["qty"],
        "due_before": o and o["due_date"],
        "due_after": n and n["due_date"],
        "order": None,
    }


# -- firming ---------------------------------------------------------------------------------


def select(
    plan: Plan, ids: Collection[object], *, every: bool, until: object = None
) -> list[PlannedOrder]:
    """The planned orders to firm: those numbered, or all (released by ``until``)."""
    if bool(ids) == every:
        raise InvalidInput("name planned orders to firm, or give --all (not both)")
    last = timefmt.parse_date(until, what="--until") if until is not None else None
    if until is not None and not every:
        raise InvalidInput("--until goes with --all")
    by_id = {o.id: o for o in plan.planned}
    if every:
        return [o for o in plan.planned if last is None or o.release <= last]
    chosen = []
    for value in ids:
        number = codes.record_number(value, what="planned order")
        if number not in by_id:
            raise NotFound(
                f"no planned order {number} in this plan (mfgctl mrp lists them; give the "
                "same --start, --horizon and --bucket)"
            )
        if by_id[number] not in chosen:
            chosen.append(by_id[number])
    return chosen


def _ref(plan: Plan, o: PlannedOrder) -> str:
    """Sales references the order serves, else ``MRP``."""
    refs = [r.ref for r in plan.roots_of(o.demands) if r.kind == "sales" and r.ref]
    text = ", ".join(dict.fromkeys(refs))
    return text if text and len(text) <= 200 else "MRP"


def _arrivals(plan: Plan) -> Callable[[PlannedOrder], date]:
    """When a planned order, released now if it is late, can come: its due date if it
    can still be released on time; else when the supply its materials were pegged to
    comes (stock now, a scheduled receipt on its due date, a late planned order when it
    can come), plus its lead time."""
    start = plan.settings.start
    materials: dict[int, list] = defaultdict(list)  # planned order id -> its requirements
    for record in plan.records.values():
        for e in record.elements:
            if e.order is not None:
                materials[e.order.id].append(e)
    due_of = {r.label: max(r.due, start) for r in plan.snapshot.receipts}
    memo: dict[int, date] = {}

    def arrival(o: PlannedOrder) -> date:
        if o.release >= start:
            return o.due
        found = memo.get(o.id)
        if found is None:
            ready = start
            for e in materials.get(o.id, ()):
                for label, _qty, supply in e.supplied:
                    if supply is not None:
                        ready = max(ready, arrival(supply))
                    elif label != "stock":
                        ready = max(ready, due_of.get(label, start))
            lead = plan.snapshot.parts[o.item.upper()].lead_time_days
            found = memo[o.id] = ready + timedelta(days=lead)
        return found

    return arrival


def firm(
    db: sqlite3.Connection, plan: Plan, chosen: Sequence[PlannedOrder], *, user: str
) -> list[dict]:
    """Each planned order becomes a ``planned`` production order (make) or an open
    purchase order (buy), due on its due date; one that should have been released
    before the plan's start is due a lead time after the start (released now, it
    cannot come sooner: dated as planned, the next run would count on it and show no
    shortage), and its ``note`` says so.

    Raises:
        RuleViolation: nothing to firm, or a planned order larger than one order holds.
    """
    if not chosen:
        raise RuleViolation("no planned orders to firm")
    arrival = _arrivals(plan)
    rows = []
    for o in chosen:
        amount = q.dec(o.qty)
        if amount >= q.MAX_VALUE:
            raise RuleViolation(
                f"planned order {o.id} ({o.kind} {q.fmt(amount)} {o.item} due {o.due}) is "
                f"too large for one order (limit {q.MAX_VALUE:,}): give {o.item} a maximum "
                f"order quantity so MRP splits it (mfgctl item update {o.item} "
                "--max-order-qty N)"
            )
        ref = _ref(plan, o)
        due, note = o.due, None
        start = plan.settings.start
        if o.release < start:
            due = arrival(o)
            note = f"late: planned due {o.due}; released on {start} it comes {due}"
        if o.kind == "make":
            made = orders.create(db, item=o.item, qty=amount, due=due, user=user, ref=ref)
            created, unit = f"ORDER-{made.id}", made.unit
        else:
            bought = purchases.add(
                db,
                item=o.item,
                qty=amount,
                due=due,
                user=user,
                ref=ref,
                how=f"firmed from MRP planned order {o.id}",
            )
            created, unit = bought.reference, bought.unit
        rows.append(
            {
                "planned": o.id,
                "created": created,
                "item": o.item,
                "kind": o.kind,
                "qty": amount,
                "unit": unit,
                "due": due.isoformat(),
                "ref": ref,
                "note": note,
            }
        )
    return rows
