"""A small shop with a routing, shared by the stage and wip tests: a device DEV made of a
PCB and a case through assembly, test and packaging."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from mfgctl import db as dbmod
from mfgctl.domain import items, ledger, orders

SHOP = """\
items:
  - {code: PCB, name: Board, type: component, unit: pcs, make_or_buy: buy, cost: 2.5}
  - {code: CASE, name: Case, type: component, unit: pcs, make_or_buy: buy, cost: 0.4}
  - {code: DEV, name: Device, type: finished, unit: pcs, make_or_buy: make, cost: 20}
boms:
  - item: DEV
    lines:
      - {item: PCB, qty: 1}
      - {item: CASE, qty: 1}
routings:
  - item: DEV
    stages:
      - {name: assembly, workcenter: ASSY, setup_min: 15, run_min: 12}
      - {name: test, workcenter: TEST, run_min: 2.5}
      - {name: pack}
stock:
  - {item: PCB, qty: 100}
  - {item: CASE, qty: 100}
"""


def write_shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP, encoding="utf-8")
    return path


def start(db_path: Path, order: int) -> None:
    """Put a released order in progress (``order start`` belongs to another slice)."""
    conn = dbmod.connect(db_path)
    try:
        with dbmod.transaction(conn):
            orders.transition(conn, orders.get(conn, order), "in_progress", user="t")
    finally:
        conn.close()


def consume(db_path: Path, order: int, item: str, qty: str) -> None:
    """Move available stock from STORES into the order's place (its WIP), as ``mfgctl
    consume ORDER --item ITEM --qty QTY`` writes it (kind ``consume``, the order's
    reference), without its checks of what the order needs."""
    conn = dbmod.connect(db_path)
    try:
        with dbmod.transaction(conn):
            ledger.post(
                conn,
                item=items.get(conn, item),
                qty=Decimal(qty),
                source=ledger.place(conn, "STORES"),
                target=ledger.place(conn, f"ORDER-{order}"),
                kind="consume",
                user="t",
                ref=f"ORDER-{order}",
            )
    finally:
        conn.close()


def stage_rows(conn: sqlite3.Connection, order: int) -> list[tuple[str, int, int]]:
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT name, good, rejected FROM order_stage WHERE order_id = ? ORDER BY position",
            (order,),
        )
    ]
