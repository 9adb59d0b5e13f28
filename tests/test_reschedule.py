"""Rescheduling what MRP asks to expedite, delay or cancel: ``purchase update``,
``order update``, ``demand update``; ``purchase receive --expires/--date``; what
``demand list`` still owes; and the refusal that names how to stop a started order."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, import_yaml, ok, refused

SHOP = """
items:
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 1}
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 3}
  - {code: RESIN, name: Resin, type: raw, unit: kg, make_or_buy: buy, tracking: lot,
     units: {g: 0.001}}
  - {code: SER, name: Serial part, type: component, unit: pcs, make_or_buy: buy,
     tracking: serial}
boms:
  - {item: P, lines: [{item: A, qty: 1}]}
stock:
  - {item: A, qty: 10}
"""


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    import_yaml(cli, tmp_path, SHOP)
    return initdb


def rows(cli: Cli, *args: object) -> list[dict]:
    return json.loads(ok(cli, *args, "-f", "json").stdout, parse_float=Decimal)


def mrp_codes(cli: Cli) -> list[tuple[str, str]]:
    plan = json.loads(ok(cli, "mrp", "--start", "2027-03-01", "-f", "json").stdout)
    return [(e["code"], e["message"]) for e in plan["exceptions"]]


# -- the repro: MRP says delay / cancel; now there is a command for it ---------------------


def test_mrp_messages_go_away_once_the_dates_are_moved(cli: Cli, shop: Path) -> None:
    ok(cli, "demand", "add", "P", "5", "--due", "2027-03-20", "--kind", "sales", "--ref", "SO-1")
    ok(cli, "purchase", "add", "A", "20", "--due", "2027-03-03")
    ok(cli, "order", "create", "P", "5", "--due", "2027-03-05")
    ok(cli, "order", "release", "1")
    ok(cli, "order", "start", "1")
    codes = [c for c, _m in mrp_codes(cli)]
    assert "delay" in codes and "cancel" in codes

    # The started order cannot be cancelled: the refusal names the way out.
    err = refused(cli, shop, "order", "cancel", "1")
    assert "order 1 is in_progress: it cannot be cancelled" in err
    assert "mfgctl order complete 1 --final, then mfgctl order close 1" in err

    r = ok(cli, "order", "update", "1", "--due", "2027-03-19", "-f", "json")
    assert json.loads(r.stdout)[0]["due"] == "2027-03-19"
    assert "was due 2027-03-05" in r.stderr
    ok(cli, "purchase", "update", "PO-1", "--due", "2027-03-18", "--qty", "1")
    # The order (due 03-19) covers the demand (03-20); the PO is still not needed.
    assert [c for c, _m in mrp_codes(cli)] == ["cancel"]
    ok(cli, "purchase", "cancel", "1")
    assert mrp_codes(cli) == []


# -- order update ------------------------------------------------------------------------


def test_order_update_keeps_history_and_moves_reservation_priority(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "P", "4", "--due", "2027-03-05")
    ok(cli, "order", "update", "1", "--priority", "7")  # planned
    ok(cli, "order", "release", "1")
    ok(cli, "order", "update", "ORDER-1", "--due", "2027-04-01", "--priority", "9")
    (order,) = rows(cli, "order", "list")
    assert (order["due"], order["priority"], order["state"]) == ("2027-04-01", 9, "released")
    assert {r["priority"] for r in rows(cli, "reserve", "list")} == {9}
    shown = json.loads(ok(cli, "order", "show", "1", "-f", "json").stdout)
    assert [(e["from_state"], e["to_state"], e["note"]) for e in shown["history"]] == [
        (None, "planned", None),
        ("planned", "planned", "priority 0 -> 7"),
        ("planned", "released", None),
        ("released", "released", "due 2027-03-05 -> 2027-04-01; priority 7 -> 9"),
    ]


def test_updating_a_started_order_keeps_its_start(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "P", "4", "--due", "2027-03-05")
    ok(cli, "order", "release", "1")
    ok(cli, "order", "start", "1")
    ok(cli, "order", "update", "1", "--due", "2027-03-06")
    (wip,) = rows(cli, "wip")
    assert wip["age_from"] == "started" and wip["due"] == "2027-03-06"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1",), "give --due DATE or --priority N (or both): nothing to change"),
        (("1", "--due", "2027-03-05"), "order 1 is already due 2027-03-05 with priority 0"),
        (("1", "--due", "2027-02-30"), "--due '2027-02-30' is not a date"),
        (("9", "--due", "2027-03-06"), "no production order 9"),
    ],
)
def test_order_update_refusals(cli: Cli, shop: Path, args: tuple, message: str) -> None:
    ok(cli, "order", "create", "P", "4", "--due", "2027-03-05")
    assert message in refused(cli, shop, "order", "update", *args)


def test_a_finished_order_is_not_updated(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "P", "4", "--due", "2027-03-05")
    ok(cli, "order", "cancel", "1")
    err = refused(cli, shop, "order", "update", "1", "--due", "2027-03-09")
    assert "order 1 is cancelled: only a planned, released or in-progress order is updated" in err


# -- purchase update ---------------------------------------------------------------------


def test_purchase_update_due_and_quantity(cli: Cli, shop: Path) -> None:
    ok(cli, "purchase", "add", "A", "20", "--due", "2027-03-03")
    ok(cli, "purchase", "receive", "1", "--qty", "5")
    r = ok(cli, "purchase", "update", "1", "--due", "2027-03-12", "--qty", "12")
    assert "Updated purchase order 1: 12 pcs A due 2027-03-12 (was 20 due 2027-03-03), open" in (
        r.stderr
    )
    (po,) = rows(cli, "purchase", "list")
    assert (po["qty"], po["received"], po["open"], po["due"]) == (12, 5, 7, "2027-03-12")
    assert rows(cli, "stock", "--item", "A")[0]["on_order"] == 7
    # Cut to what came: the order is received.
    ok(cli, "purchase", "update", "1", "--qty", "5")
    assert rows(cli, "purchase", "list") == []
    assert rows(cli, "purchase", "list", "--all")[0]["state"] == "received"


def test_purchase_update_in_another_unit(cli: Cli, shop: Path) -> None:
    ok(cli, "purchase", "add", "RESIN", "2", "--due", "2027-03-03")
    ok(cli, "purchase", "update", "1", "--qty", "2500", "--unit", "g")
    assert rows(cli, "purchase", "list")[0]["qty"] == Decimal("2.5")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1",), "give --due DATE or --qty Q (or both): nothing to change"),
        (("1", "--qty", "20", "--due", "2027-03-03"), "is already 20 pcs A due 2027-03-03"),
        (("1", "--qty", "4"), "purchase order 1 has 5 pcs A received: its quantity cannot be 4"),
        (("1", "--qty", "0"), "quantity must be greater than zero"),
        (("1", "--due", "tomorrow"), "--due 'tomorrow' is not a date"),
        (("1", "--unit", "g"), "--unit g is the unit of --qty: give --qty too"),
        (("2", "--qty", "1.5"), "SER is serial-tracked"),
        (("3", "--due", "2027-03-09"), "purchase order 3 is cancelled: only an open one"),
    ],
)
def test_purchase_update_refusals(cli: Cli, shop: Path, args: tuple, message: str) -> None:
    ok(cli, "purchase", "add", "A", "20", "--due", "2027-03-03")
    ok(cli, "purchase", "receive", "1", "--qty", "5")
    ok(cli, "purchase", "add", "SER", "2", "--due", "2027-03-03")
    ok(cli, "purchase", "add", "A", "1", "--due", "2027-03-03")
    ok(cli, "purchase", "cancel", "3")
    assert message in refused(cli, shop, "purchase", "update", *args)


# -- purchase receive --expires --date ---------------------------------------------------


def test_purchase_receive_records_expiry_and_date(cli: Cli, shop: Path) -> None:
    ok(cli, "purchase", "add", "RESIN", "5", "--due", "2026-12-01")
    ok(cli, "purchase", "receive", "1", "--qty", "2", "--lot", "R1", "--expires", "2027-05-31",
       "--date", "2026-11-20")  # fmt: skip
    (move,) = rows(cli, "stock", "history", "RESIN")
    assert (move["effective_at"], move["lot"], move["ref"]) == ("2026-11-20 00:00:00", "R1", "PO-1")
    assert "lot: R1, qty: 2, expires: 2027-05-31}" in ok(cli, "export").stdout
    assert "--expires '2027-13-01' is not a date" in refused(
        cli, shop, "purchase", "receive", "1", "--lot", "R2", "--expires", "2027-13-01"
    )


# -- demand update and list --------------------------------------------------------------


def test_demand_list_shows_shipped_and_still_owed(cli: Cli, shop: Path) -> None:
    ok(cli, "demand", "add", "A", "8", "--due", "2027-03-20", "--kind", "sales", "--ref", "SO-1")
    ok(cli, "ship", "A", "3", "--to", "Acme", "--ref", "SO-1")
    (d,) = rows(cli, "demand", "list")
    assert (d["qty"], d["shipped"], d["open"], d["state"]) == (8, 3, 5, "open")
    csv = ok(cli, "demand", "list", "-f", "csv").stdout.splitlines()
    assert csv[0].startswith("demand,item,name,qty,shipped,open,unit,due")
    ok(cli, "demand", "cancel", "1")
    (d,) = rows(cli, "demand", "list", "--all")
    assert (d["shipped"], d["open"], d["state"]) == (3, 0, "cancelled")


def test_demand_update_due_and_quantity(cli: Cli, shop: Path) -> None:
    ok(cli, "demand", "add", "A", "8", "--due", "2027-03-20", "--kind", "sales", "--ref", "SO-1")
    ok(cli, "reserve", "A", "7", "--for", "SO-1")
    ok(cli, "ship", "A", "3", "--to", "Acme", "--ref", "SO-1")
    r = ok(cli, "demand", "update", "1", "--due", "2027-03-25", "--qty", "6")
    assert "Updated demand 1 (sales): 6 pcs A due 2027-03-25 (was 8 due 2027-03-20), open" in (
        r.stderr
    )
    (d,) = rows(cli, "demand", "list")
    assert (d["qty"], d["shipped"], d["open"], d["due"]) == (6, 3, 3, "2027-03-25")
    # Cut to what was shipped: it is shipped, and SO-1's leftover reservation is freed.
    ok(cli, "demand", "update", "1", "--qty", "3")
    assert rows(cli, "demand", "list") == []
    assert rows(cli, "demand", "list", "--all")[0]["state"] == "shipped"
    assert rows(cli, "reserve", "list") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1",), "give --due DATE or --qty Q (or both): nothing to change"),
        (("1", "--due", "2027-03-20"), "demand 1 is already 8 pcs A due 2027-03-20"),
        (("1", "--qty", "2"), "demand 1 has 3 pcs A shipped: its quantity cannot be 2"),
        (("1", "--due", "2027-3-40"), "is not a date"),
        (("2", "--qty", "4"), "demand 2 is cancelled: only open demand is updated"),
    ],
)
def test_demand_update_refusals(cli: Cli, shop: Path, args: tuple, message: str) -> None:
    ok(cli, "demand", "add", "A", "8", "--due", "2027-03-20", "--kind", "sales", "--ref", "SO-1")
    ok(cli, "ship", "A", "3", "--to", "Acme", "--ref", "SO-1")
    ok(cli, "demand", "add", "A", "1", "--due", "2027-03-20", "--kind", "forecast")
    ok(cli, "demand", "cancel", "2")
    assert message in refused(cli, shop, "demand", "update", *args)
