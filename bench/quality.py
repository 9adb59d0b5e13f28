"""The trace benchmark's database (issue 5): one supplier lot used across 1,000 orders.

``python bench/quality.py build FILE.db`` builds it by hand; bench/run.py builds it as
``out/trace.db`` and times ``mfgctl trace LOT --forward`` on it (and a recall on a copy),
beside ``report valuation`` and ``check`` on the million-move database.

The plant: a resistor ``RES`` (bought, lot-tracked) received once as lot ``RES-LOT-1``
from the supplier; an amplifier ``AMP`` (2 RES each) and a box ``BOX`` (1 AMP and 1 RES
each), both made and lot-tracked. ``TRACE_ORDERS`` production orders of ``ORDER_QTY``
each, made in one transaction with the domain functions the commands call
(``orders.create``, ``orders.release``, ``production.backflush``,
``production.complete``): seven in ten make AMP, three in ten BOX, interleaved, so every
order consumes the one RES lot and every order makes a lot of its own (``AMP-0001``,
``BOX-0004``...); the BOX orders also consume AMP lots made before (first expiry, then
first in: the oldest AMP lots). ``SHIPPED`` BOX lots are shipped (``shipping.ship``) to
three customers. ``mfgctl check`` must pass.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TRACE_ORDERS = 1_000
ORDER_QTY = 10
SHIPPED = 20
CUSTOMERS = ("Tonwerk", "Klangbau", "Audiohaus")
LOT = "RES-LOT-1"
USER = "bench"
# Enough for every order and some left in stores: 700 AMP orders x 10 x 2 + 300 BOX
# orders x 10 x 1 = 17,000 RES.
RECEIVED = 20_000

_BOMS = """boms:
  - {item: AMP, revision: A, lines: [{item: RES, qty: 2}]}
  - {item: BOX, revision: A, lines: [{item: AMP, qty: 1}, {item: RES, qty: 1}]}
"""


def _run_cmd(argv: list[str]) -> None:
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.strip()[-2000:]}")


def is_box(n: int) -> bool:
    """Order ``n`` (1-based) makes BOX: three in ten, never before some AMP exists."""
    return n % 10 in (3, 6, 9)


def build_db(path: Path, *, mfgctl: str, n_orders: int = TRACE_ORDERS) -> dict[str, Any]:
    """A new trace database at ``path`` (see the module's docstring); what it holds and
    how long each step took."""
    from mfgctl import db as dbmod
    from mfgctl.domain import orders, production, shipping, stock

    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    info: dict[str, Any] = {"orders": n_orders}
    t0 = time.perf_counter()
    base = [mfgctl, "--db", str(path)]
    _run_cmd([*base, "init"])
    for code, kind, make in (
        ("RES", "component", "buy"),
        ("AMP", "subassembly", "make"),
        ("BOX", "finished", "make"),
    ):
        _run_cmd([*base, "item", "add", code, "--name", f"{code} (trace bench)", "--type", kind,
                  "--unit", "pcs", "--make-or-buy", make, "--tracking", "lot"])  # fmt: skip
    boms = path.with_suffix(".yaml")
    boms.write_text(_BOMS)
    _run_cmd([*base, "import", str(boms)])
    boms.unlink()
    info["plant s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    db = dbmod.connect(path)
    try:
        with dbmod.transaction(db, path):
            stock.receive(db, item="RES", qty=RECEIVED, user=USER, lot=LOT, cost="0.05",
                          ref="PO-BENCH")  # fmt: skip
            made: list[str] = []
            for n in range(1, n_orders + 1):
                code = "BOX" if is_box(n) else "AMP"
                order = orders.create(db, item=code, qty=ORDER_QTY, due="2027-01-01", user=USER)
                orders.release(db, order.id, user=USER)
                production.backflush(db, order.id, user=USER)
                lot = f"{code}-{n:04d}"
                production.complete(db, order.id, qty=ORDER_QTY, user=USER, lot=lot)
                if code == "BOX":
                    made.append(lot)
            # Every so many BOX lots, one shipped whole, to the customers in turn.
            step = max(len(made) // SHIPPED, 1)
            for k, lot in enumerate(made[::step][:SHIPPED]):
                shipping.ship(db, item="BOX", qty=ORDER_QTY, customer=CUSTOMERS[k % 3],
                              user=USER, lot=lot, ref=f"SO-{k + 1}")  # fmt: skip
        info["orders s"] = time.perf_counter() - t0
        info["moves"] = db.execute("SELECT count(*) FROM move").fetchone()[0]
        info["lots"] = db.execute("SELECT count(*) FROM lot").fetchone()[0]
        info["completed"] = db.execute(
            "SELECT count(*) FROM production_order WHERE state = 'completed'"
        ).fetchone()[0]
        # Orders that consumed the RES lot, and AMP lots consumed by BOX orders.
        info["orders using the lot"] = db.execute(
            "SELECT count(DISTINCT m.to_location_id) FROM move AS m JOIN lot AS l "
            "ON l.id = m.lot_id WHERE l.code = ? AND m.kind = 'consume'",
            (LOT,),
        ).fetchone()[0]
        info["AMP lots used by BOX orders"] = db.execute(
            "SELECT count(DISTINCT m.lot_id) FROM move AS m JOIN item AS i ON i.id = m.item_id "
            "WHERE i.code = 'AMP' AND m.kind = 'consume'"
        ).fetchone()[0]
        info["shipped lots"] = db.execute(
            "SELECT count(DISTINCT lot_id) FROM move WHERE kind = 'ship'"
        ).fetchone()[0]
    finally:
        db.close()
    if info["completed"] != n_orders or info["orders using the lot"] != n_orders:
        raise RuntimeError(f"{path}: {info} (expected {n_orders} completed orders using {LOT})")
    t0 = time.perf_counter()
    _run_cmd([*base, "check"])
    info["check s"] = time.perf_counter() - t0
    return info


def trace_argv(mfgctl: str, db: Path) -> list[str]:
    return [mfgctl, "--db", str(db), "trace", LOT, "--forward", "--format", "json"]


def recall_argv(mfgctl: str, db: Path) -> list[str]:
    return [*trace_argv(mfgctl, db), "--hold", "--reason", "supplier recall (benchmark)"]


def tree_counts(document: dict[str, Any]) -> dict[str, int]:
    """Nodes of a trace tree by type (``repeat`` lots counted apart)."""
    counts: dict[str, int] = {}
    todo = [document]
    while todo:
        node = todo.pop()
        kind = node["type"] + (" (repeat)" if node.get("repeat") else "")
        counts[kind] = counts.get(kind, 0) + 1
        todo.extend(node.get("children", []))
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build a trace database")
    b.add_argument("db", type=Path)
    b.add_argument("--orders", type=int, default=TRACE_ORDERS)
    b.add_argument("--mfgctl", default=str(Path(sys.executable).parent / "mfgctl"))
    args = ap.parse_args(argv)
    info = build_db(args.db, mfgctl=args.mfgctl, n_orders=args.orders)
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
