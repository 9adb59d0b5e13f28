"""Acting on MRP and comparing runs: saved runs, their differences, and firming
planned orders into production and purchase orders.

A saved run (``mrp --save``) keeps its settings, the fingerprint of its inputs and its
result (planned orders with pegging, shortages, exceptions) as JSON; nothing else is
written. ``diff`` compares two results; ``firm`` turns planned orders of a plan
computed inside the caller's write transaction (so exactly what it saw) into
``planned`` production orders and open purchase orders.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
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
DIFF_COLUMNS = ["change", "item", "kind", "qty_before", "qty_after", "due_before", "due_after"]
FIRM_COLUMNS = ["planned", "created", "item", "kind", "qty", "unit", "due", "ref"]


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
    """What a saved run keeps: the JSON document without the bucket records."""
    doc = mrp_report.document(plan, fingerprint=fingerprint)
    del doc["records"]
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


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """What changed between two run results: planned orders ``added``, ``removed``,
    ``moved`` (another due date), ``resized`` (another quantity) or ``moved and
    resized``, and shortages (``kind`` short) ``new``, ``gone`` or ``changed``, the
    words the README gives scripts.

    Planned orders are matched per item and kind: identical orders (same due date and
    quantity) first, then the rest in due-date order; what is left over was added or
    removed.
    """
    rows: list[dict[str, Any]] = []
    old: dict[tuple[str, str], list[dict]] = defaultdict(list)
    new: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for o in before["planned_orders"]:
        old[(o["item"], o["kind"])].append(o)
    for o in after["planned_orders"]:
        new[(o["item"], o["kind"])].append(o)
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
    was = {s["item"]: s for s in before["shortages"]}
    now = {s["item"]: s for s in after["shortages"]}
    for item in sorted(set(was) | set(now)):
        o, n = was.get(item), now.get(item)
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
            }
        )
    return rows


def _change(change: str, key: tuple[str, str], o: dict | None, n: dict | None) -> dict[str, Any]:
    return {
        "change": change,
        "item": key[0],
        "kind": key[1],
        "qty_before": o and o["qty"],
        "qty_after": n and n["qty"],
        "due_before": o and o["due_date"],
        "due_after": n and n["due_date"],
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


def firm(
    db: sqlite3.Connection, plan: Plan, chosen: Sequence[PlannedOrder], *, user: str
) -> list[dict]:
    """Each planned order becomes a ``planned`` production order (make) or an open
    purchase order (buy), due on its due date.

    Raises:
        RuleViolation: nothing to firm, or a planned order larger than one order holds.
    """
    if not chosen:
        raise RuleViolation("no planned orders to firm")
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
        if o.kind == "make":
            made = orders.create(db, item=o.item, qty=amount, due=o.due, user=user, ref=ref)
            created, unit = f"ORDER-{made.id}", made.unit
        else:
            bought = purchases.add(db, item=o.item, qty=amount, due=o.due, user=user, ref=ref)
            created, unit = bought.reference, bought.unit
        rows.append(
            {
                "planned": o.id,
                "created": created,
                "item": o.item,
                "kind": o.kind,
                "qty": amount,
                "unit": unit,
                "due": o.due.isoformat(),
                "ref": ref,
            }
        )
    return rows
