"""Production orders in the domain: materials through phantoms, the state machine as
data, frozen materials, reservations taken at release and given back at cancel."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest
from bom_builders import bom, hd_shop, item, line
from conftest import day

from mfgctl import db as dbmod
from mfgctl.domain import checks, locations, orders, reservations
from mfgctl.domain import stock as ops
from mfgctl.domain.reservations import Shortage
from mfgctl.errors import InvalidInput, NotFound, RuleViolation


def shop(conn: sqlite3.Connection, stock: dict[str, str] | None = None) -> None:
    with dbmod.transaction(conn):
        hd_shop(conn)
        for code, amount in (stock or {}).items():
            ops.receive(conn, item=code, qty=amount, user="t")


def create(conn: sqlite3.Connection, qty: str = "10", **kw: object) -> orders.Order:
    with dbmod.transaction(conn):
        return orders.create(conn, item="HD", qty=qty, due=day(7), user="t", **kw)  # type: ignore[arg-type]


def needs(conn: sqlite3.Connection, order: orders.Order) -> dict[str, Decimal]:
    return {m.item.code: m.qty for m in orders.materials(conn, order)}


def test_materials_are_the_direct_components_with_phantoms_passed_through(
    conn: sqlite3.Connection,
) -> None:
    shop(conn)
    order = create(conn)
    # PCB is made by its own order: consumed as it is, not exploded. KIT is a phantom:
    # its SCREW (2 each) and R1 (1 each) are consumed directly. SCREW 4 each + 5 % scrap,
    # SOLDER 2 g each of a kg item, BOX 1 each + 2 per order.
    assert needs(conn, order) == {
        "PCB": Decimal(10),
        "SCREW": Decimal(62),
        "SOLDER": Decimal("0.02"),
        "BOX": Decimal(12),
        "R1": Decimal(10),
    }
    assert order.state == "planned" and order.location == f"ORDER-{order.id}"
    assert locations.get(conn, order.location).kind == "production"


def test_a_buy_item_or_an_item_without_bom_cannot_be_ordered(conn: sqlite3.Connection) -> None:
    shop(conn)
    with dbmod.transaction(conn):
        item(conn, "NOBOM", make=True)
    with pytest.raises(RuleViolation, match="SCREW is a buy item"), dbmod.transaction(conn):
        orders.create(conn, item="SCREW", qty="1", due=day(1), user="t")
    with pytest.raises(NotFound, match="NOBOM has no active BOM"), dbmod.transaction(conn):
        orders.create(conn, item="NOBOM", qty="1", due=day(1), user="t")
    with pytest.raises(NotFound, match="no BOM revision 'Z'"), dbmod.transaction(conn):
        orders.create(conn, item="HD", qty="1", due=day(1), user="t", revision="Z")
    with pytest.raises(InvalidInput, match="not a date"), dbmod.transaction(conn):
        orders.create(conn, item="HD", qty="1", due="tomorrow", user="t")
    assert conn.execute("SELECT count(*) FROM production_order").fetchone()[0] == 0


def test_the_state_machine_is_data_and_every_change_is_recorded(
    conn: sqlite3.Connection,
) -> None:
    shop(conn, {"PCB": "10", "SCREW": "62", "SOLDER": "1", "BOX": "12", "R1": "10"})
    order = create(conn)
    with dbmod.transaction(conn):
        order, _ = orders.release(conn, order.id, user="t")
        order = orders.transition(conn, order, "in_progress", user="t")
        order = orders.transition(conn, order, "completed", user="t")
    refusal = "order 1 is completed: it cannot be cancelled"
    with pytest.raises(RuleViolation, match=refusal), dbmod.transaction(conn):
        orders.cancel(conn, order.id, user="t")
    with dbmod.transaction(conn):
        order = orders.transition(conn, order, "closed", user="t")
    with pytest.raises(RuleViolation, match="closed order is finished"):
        orders.transition(conn, order, "released", user="t")
    assert [(e["from_state"], e["to_state"]) for e in orders.history(conn, order)] == [
        (None, "planned"),
        ("planned", "released"),
        ("released", "in_progress"),
        ("in_progress", "completed"),
        ("completed", "closed"),
    ]
    assert all(t in orders.STATES for pair in orders.TRANSITIONS for t in pair)


def test_released_materials_are_frozen_against_later_bom_changes(
    conn: sqlite3.Connection,
) -> None:
    shop(conn, {"PCB": "10", "SCREW": "100", "SOLDER": "1", "BOX": "12", "R1": "10"})
    order = create(conn)
    with dbmod.transaction(conn):
        orders.release(conn, order.id, user="t")
        bom(conn, "HD", [line("PCB", 2), line("BOX", 1)], revision="B")
    assert needs(conn, order)["PCB"] == Decimal(10)
    assert needs(conn, orders.get(conn, order.id)) == needs(conn, order)
    planned = create(conn, qty="1")
    assert needs(conn, planned) == {"PCB": Decimal(2), "BOX": Decimal(1)}
    assert planned.revision == "B"


def test_release_short_is_refused_unless_partial(conn: sqlite3.Connection) -> None:
    shop(conn, {"PCB": "4", "SCREW": "100", "SOLDER": "1", "BOX": "12", "R1": "10"})
    order = create(conn)
    with (
        pytest.raises(Shortage, match="order 1 is short of PCB 6 pcs") as caught,
        dbmod.transaction(conn),
    ):
        orders.release(conn, order.id, user="t")
    assert caught.value.rows[0]["short"] == Decimal(6)
    assert orders.get(conn, order.id).state == "planned"
    assert conn.execute("SELECT count(*) FROM reservation").fetchone()[0] == 0
    with dbmod.transaction(conn):
        released, result = orders.release(conn, order.id, user="t", partial=True)
    assert released.state == "released" and result.short["PCB"] == Decimal(6)
    rows = {r["item"]: r for r in orders.material_rows(conn, released)}
    assert rows["PCB"]["reserved"] == 4 and rows["PCB"]["short"] == 6
    assert rows["SCREW"]["reserved"] == 62 and rows["SCREW"]["free"] == 38
    # More PCBs arrive: reserving the order again takes only what it still lacks.
    with dbmod.transaction(conn):
        ops.receive(conn, item="PCB", qty="10", user="t")
        _, again = orders.reserve(conn, order.id, user="t")
    assert [(r.item, r.qty) for r in again.created] == [("PCB", Decimal(6))]
    assert checks.run(conn) == []


def test_cancel_releases_every_reservation(conn: sqlite3.Connection) -> None:
    shop(conn, {"PCB": "10", "SCREW": "62", "SOLDER": "1", "BOX": "12", "R1": "10"})
    order = create(conn)
    with dbmod.transaction(conn):
        orders.release(conn, order.id, user="t")
    assert reservations.free_qty(conn, orders.materials(conn, order)[0].item) == 0
    with dbmod.transaction(conn):
        cancelled, released = orders.cancel(conn, order.id, user="t", note="customer withdrew")
    assert cancelled.state == "cancelled" and len(released) == 5
    assert reservations.list_reservations(conn, order_id=order.id) == []
    assert all(m["free"] == m["required"] or m["item"] == "SOLDER" for m in
               orders.material_rows(conn, cancelled))  # fmt: skip
    assert orders.history(conn, cancelled)[-1]["note"] == "customer withdrew"


def test_a_planned_order_does_not_reserve(conn: sqlite3.Connection) -> None:
    shop(conn)
    order = create(conn)
    with pytest.raises(RuleViolation, match="order 1 is planned: only a released order"):
        orders.reserve(conn, order.id, user="t")


def test_late_orders_and_listing(conn: sqlite3.Connection) -> None:
    shop(conn)
    with dbmod.transaction(conn):
        late = orders.create(conn, item="HD", qty="1", due=day(-3), user="t")
        orders.create(conn, item="PCB", qty="5", due=day(3), user="t", priority=2)
    assert [o.id for o in orders.list_orders(conn, late=True)] == [late.id]
    assert [o.item for o in orders.list_orders(conn, item="PCB")] == ["PCB"]
    assert orders.list_orders(conn, state="released") == []
    with pytest.raises(InvalidInput, match="--state must be one of"):
        orders.list_orders(conn, state="done")


def test_order_numbers_are_parsed_strictly() -> None:
    assert orders.parse_id("12") == 12 and orders.parse_id("order-12") == 12
    for bad in ("0", "-1", "x", "12a", "١٢"):
        with pytest.raises(InvalidInput):
            orders.parse_id(bad)


def test_a_requirement_finer_than_a_millionth_is_rounded_up_and_releases(
    conn: sqlite3.Connection,
) -> None:
    # 43 x 0.35 g x 1.05 = 15.8025 g of a kg item = 0.0158025 kg: seven decimals.
    with dbmod.transaction(conn):
        item(conn, "SLD", unit="kg")
        item(conn, "MOD", make=True)
        bom(conn, "MOD", [line("SLD", "0.35", "g", scrap_pct="5")])
        ops.receive(conn, item="SLD", qty="1", user="t")
        order = orders.create(conn, item="MOD", qty="43", due=day(7), user="t")
    assert needs(conn, order) == {"SLD": Decimal("0.015803")}
    with dbmod.transaction(conn):
        orders.release(conn, order.id, user="t")
    assert needs(conn, order) == {"SLD": Decimal("0.015803")}
    assert reservations.reserved_for_order(conn, order.id) == {
        items_id(conn, "SLD"): Decimal("0.015803")
    }
    assert checks.run(conn) == []


def items_id(conn: sqlite3.Connection, code: str) -> int:
    from mfgctl.domain import items

    return items.get(conn, code).id
