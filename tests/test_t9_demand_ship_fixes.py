"""Findings t9 #4, #5, #6, #9: a sales reference's reservations follow its demand (a cut,
a cancel, a shipment lower them; ``check`` warns where they hold more); one shipment
fulfils several open lines of a reference; ``--expires`` on an untracked item is
refused; a receipt of an already expired lot warns."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import Cli, day, dump, import_yaml, ok, refused


def rows(cli: Cli, *args: object) -> list[dict]:
    return json.loads(ok(cli, *args, "-f", "json").stdout)


def reserved(cli: Cli) -> dict[int, tuple]:
    """Open reservations: id -> (ref, remaining)."""
    return {r["id"]: (r["ref"], r["remaining"]) for r in rows(cli, "reserve", "list")}


def planned(cli: Cli) -> list[tuple]:
    plan = json.loads(ok(cli, "mrp", "-f", "json").stdout)["planned_orders"]
    return [(p["item"], p["qty"]) for p in plan]


def warnings(cli: Cli, check: str) -> list[dict]:
    return [p for p in rows(cli, "check") if p["check"] == check]


@pytest.fixture
def wid(cli: Cli, initdb: Path) -> Path:
    """WID, a buy item, 10 in stock."""
    ok(cli, "item", "add", "WID", "--name", "Widget", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "buy", "--lead-time-days", "7", "--cost", "1")  # fmt: skip
    ok(cli, "stock", "receive", "WID", "10")
    return initdb


def sales(cli: Cli, qty: object, ref: str, due: int) -> None:
    ok(cli, "demand", "add", "WID", qty, "--due", day(due), "--kind", "sales", "--ref", ref)


# -- #4: a cut or a cancel frees what the reference no longer needs -----------------------


def test_cut_and_cancel_lower_the_references_reservations(cli: Cli, wid: Path) -> None:
    sales(cli, 8, "SO-1", 14)
    sales(cli, 5, "SO-2", 16)
    ok(cli, "reserve", "WID", "8", "--for", "SO-1")
    ok(cli, "reserve", "WID", "2", "--for", "TRANSFER-1")  # no demand: left alone
    r = ok(cli, "demand", "update", "1", "--qty", "3")
    assert r.stderr.strip().endswith(
        "open; leftover reservation(s) 1 lowered to 3 pcs (5 pcs WID freed for SO-1)"
    )
    assert reserved(cli) == {1: ("SO-1", 3), 2: ("TRANSFER-1", 2)}
    # 10 in stock: 3 held for SO-1 and 2 for the transfer, 5 free for SO-2: nothing to buy.
    assert planned(cli) == []
    assert "Over-committed" not in ok(cli, "atp", "WID").stderr
    assert warnings(cli, "reserved_beyond_demand") == []

    r = ok(cli, "demand", "cancel", "1")
    assert r.stderr.strip() == (
        "Cancelled demand 1: 3 pcs WID; leftover reservation(s) 1 cancelled "
        "(3 pcs WID freed for SO-1)"
    )
    assert reserved(cli) == {2: ("TRANSFER-1", 2)}
    [res] = rows(cli, "reserve", "list", "--all", "--for", "SO-1")
    assert (res["qty"], res["remaining"], res["status"]) == (8, 0, "cancelled")
    assert planned(cli) == []


def test_cut_keeps_what_the_references_other_open_lines_lack(cli: Cli, wid: Path) -> None:
    # Two lines under so-3 (any case): 4 + 3; 9 reserved, in two reservations.
    sales(cli, 4, "SO-3", 10)
    sales(cli, 3, "so-3", 20)
    ok(cli, "reserve", "WID", "6", "--for", "So-3")
    ok(cli, "reserve", "WID", "3", "--for", "SO-3")
    assert [w["subject"] for w in warnings(cli, "reserved_beyond_demand")] == ["WID for So-3"]
    # Cut the first line to 2: the reference lacks 2 + 3 = 5; the newest goes first.
    r = ok(cli, "demand", "update", "1", "--qty", "2")
    assert "leftover reservation(s) 2 cancelled and 1 lowered to 5 pcs" in r.stderr
    assert reserved(cli) == {1: ("So-3", 5)}
    # Cancel the second: 2 left.
    r = ok(cli, "demand", "cancel", "2")
    assert "leftover reservation(s) 1 lowered to 2 pcs (3 pcs WID freed for so-3)" in r.stderr
    assert reserved(cli) == {1: ("So-3", 2)}
    # A due-date move or a rise frees nothing; a forecast cancel touches no reservation.
    r = ok(cli, "demand", "update", "1", "--due", day(12), "--qty", "6")
    assert "freed" not in r.stderr
    ok(cli, "demand", "add", "WID", 1, "--due", day(30), "--kind", "forecast", "--ref", "SO-3")
    assert "freed" not in ok(cli, "demand", "cancel", "3").stderr
    assert reserved(cli) == {1: ("So-3", 2)}


def test_a_production_orders_reservation_is_never_lowered(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, """
items:
  - {code: PART, name: Part, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 5}
  - {code: KIT, name: Kit, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2}
boms:
  - {item: KIT, lines: [{item: PART, qty: 1}]}
stock:
  - {item: PART, qty: 10}
""")  # fmt: skip
    ok(cli, "order", "create", "KIT", "4", "--due", day(20), "--ref", "SO-5")
    ok(cli, "order", "release", "1")
    ok(cli, "demand", "add", "PART", "5", "--due", day(20), "--kind", "sales", "--ref", "SO-5")
    ok(cli, "reserve", "PART", "5", "--for", "SO-5")
    r = ok(cli, "demand", "cancel", "1")
    assert "leftover reservation(s) 2 cancelled" in r.stderr
    assert [(x["ref"], x["remaining"]) for x in rows(cli, "reserve", "list")] == [("ORDER-1", 4)]


def test_a_line_shipped_in_full_frees_only_beyond_the_other_lines(cli: Cli, wid: Path) -> None:
    ok(cli, "location", "add", "DOCK")
    ok(cli, "stock", "move", "WID", "4", "--from", "STORES", "--to", "DOCK")
    sales(cli, 4, "SO-4", 10)
    sales(cli, 2, "SO-4", 20)
    ok(cli, "reserve", "WID", "6", "--for", "SO-4", "--location", "STORES")
    # A partial shipment from the dock (free stock) lowers the reservation to what is lacking.
    r = ok(cli, "ship", "WID", "1", "--to", "Acme", "--ref", "SO-4", "--location", "DOCK")
    assert r.stderr.strip().endswith(
        "demand 1 is open; leftover reservation(s) 1 lowered to 5 pcs (1 pcs WID freed for SO-4)"
    )
    assert reserved(cli) == {1: ("SO-4", 5)}
    assert warnings(cli, "reserved_beyond_demand") == []
    # Demand 1 shipped in full (from the dock again): only demand 2's 2 stay held.
    r = ok(cli, "ship", "WID", "3", "--to", "Acme", "--ref", "SO-4", "--location", "DOCK")
    assert r.stderr.strip().endswith(
        "demand 1 is shipped; leftover reservation(s) 1 lowered to 2 pcs (3 pcs WID freed for SO-4)"
    )
    assert reserved(cli) == {1: ("SO-4", 2)}
    assert warnings(cli, "reserved_beyond_demand") == []


def test_check_warns_about_a_reference_holding_more_than_it_lacks(
    cli: Cli, wid: Path, db_path: Path
) -> None:
    sales(cli, 8, "SO-1", 14)
    sales(cli, 1, "SO-9", 14)
    ok(cli, "reserve", "WID", "6", "--for", "SO-1")
    ok(cli, "reserve", "WID", "2", "--for", "SO-9")  # 1 beyond what SO-9 ordered
    ok(cli, "reserve", "WID", "2", "--for", "HOLD")  # no demand: another kind of hold
    # As stored before the cut freed it: SO-1 lowered to 3 behind the commands' back.
    with sqlite3.connect(db_path) as c:
        c.execute("UPDATE demand SET qty = 3000000 WHERE id = 1")
    c.close()
    found = warnings(cli, "reserved_beyond_demand")
    assert [(w["severity"], w["subject"]) for w in found] == [
        ("warning", "WID for SO-1"),
        ("warning", "WID for SO-9"),
    ]
    assert found[0]["message"] == (
        "open reservation 1 for SO-1 hold 6 pcs WID, but the open sales demand of WID under "
        "SO-1 lacks 3: 3 pcs held for nothing (not free, so MRP buys it again); free it "
        "(mfgctl reserve cancel 1, then mfgctl reserve WID 3 --for SO-1), or record the "
        "demand it is for (mfgctl demand add, demand update)"
    )
    assert ok(cli, "check").exit_code == 0  # a warning
    # Cancelled: it lacks nothing, and the way out is only the cancel.
    with sqlite3.connect(db_path) as c:
        c.execute("UPDATE demand SET state = 'cancelled' WHERE id = 1")
    c.close()
    msg = warnings(cli, "reserved_beyond_demand")[0]["message"]
    assert "lacks nothing (shipped or cancelled): 6 pcs held" in msg
    assert "(mfgctl reserve cancel 1), or record" in msg
    ok(cli, "reserve", "cancel", "1")
    ok(cli, "demand", "update", "2", "--qty", "2")
    assert warnings(cli, "reserved_beyond_demand") == []


# -- #5: one shipment over several open lines of a reference ------------------------------


def test_ship_fulfils_the_references_open_lines_earliest_due_first(cli: Cli, wid: Path) -> None:
    sales(cli, 1, "SO-8", 20)
    sales(cli, 2, "SO-8", 10)  # demand 2 is due first
    sales(cli, 4, "SO-8", 30)
    ok(cli, "reserve", "WID", "7", "--for", "SO-8")
    r = ok(cli, "ship", "WID", "4", "--to", "Cust", "--ref", "so-8", "-f", "json")
    out = json.loads(r.stdout)
    assert [(x["shipment"], x["qty"], x["reserved"], x["demand"], x["demand_state"])
            for x in out] == [
        ("SHIP-1", 2, 2, 2, "shipped"),
        ("SHIP-2", 1, 1, 1, "shipped"),
        ("SHIP-3", 1, 1, 3, "open"),
    ]  # fmt: skip
    assert r.stderr.strip() == (
        "Shipped 4 pcs WID to Cust as SHIP-1, SHIP-2, SHIP-3 for so-8; "
        "demand 2 is shipped (SHIP-1: 2 pcs); demand 1 is shipped (SHIP-2: 1 pcs); "
        "demand 3 is open (SHIP-3: 1 pcs)"
    )
    listed = rows(cli, "shipments")
    assert [(s["shipment"], s["qty"], s["demand"]) for s in listed] == [
        ("SHIP-1", 2, 2),
        ("SHIP-2", 1, 1),
        ("SHIP-3", 1, 3),
    ]
    assert [(d["demand"], d["shipped"], d["open"]) for d in rows(cli, "demand", "list")] == [
        (3, 1, 3)
    ]
    assert reserved(cli) == {1: ("SO-8", 3)}  # what demand 3 still lacks stays held
    assert [h["note"] for h in rows(cli, "demand", "show", "1")["history"]][-1] == (
        "SHIP-2: 1 pcs to Cust; 1 of 1 shipped"
    )
    # Stock 10 - 4; still owed 3 (held): nothing to buy.
    assert planned(cli) == []
    assert [p for p in rows(cli, "check") if p["severity"] == "error"] == []


def test_over_shipping_all_open_lines_is_refused_naming_them(cli: Cli, wid: Path) -> None:
    sales(cli, 1, "SO-8", 10)
    sales(cli, 1, "SO-8", 20)
    err = refused(cli, wid, "ship", "WID", "3", "--to", "Cust", "--ref", "SO-8")
    assert err == (
        "Error: SO-8 has 2 pcs WID left to ship over its open sales demands "
        f"(demand 1: 1 of 1 due {day(10)}; demand 2: 1 of 1 due {day(20)}): cannot ship 3 "
        "under it; ship the extra under another reference, or add a sales demand for it\n"
    )
    # Named with --demand: that line only.
    err = refused(cli, wid, "ship", "WID", "2", "--to", "Cust", "--demand", "2")
    assert "demand 2 (SO-8) has 1 pcs left to ship (ordered 1, shipped 0)" in err
    r = ok(cli, "ship", "WID", "2", "--to", "Cust", "--ref", "SO-8")
    assert "demand 1 is shipped (SHIP-1: 1 pcs); demand 2 is shipped (SHIP-2: 1 pcs)" in (r.stderr)
    err = refused(cli, wid, "ship", "WID", "1", "--to", "Cust", "--ref", "SO-8")
    assert "SO-8 is fully shipped for WID: ordered 2 pcs, shipped 2 under SO-8" in err


def test_one_shipment_of_serials_over_two_lines(cli: Cli, initdb: Path) -> None:
    ok(cli, "item", "add", "SENS", "--name", "Sensor", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "buy", "--tracking", "serial", "--lead-time-days", "5")  # fmt: skip
    ok(cli, "stock", "receive", "SENS", "3", "--serials", "S1,S2,S3")
    for due in (10, 20):
        ok(cli, "demand", "add", "SENS", "1", "--due", day(due), "--kind", "sales", "--ref", "A")
    out = rows(cli, "ship", "SENS", "2", "--to", "Cust", "--ref", "A", "--serials", "S3,S1")
    assert [(x["shipment"], x["lot"], x["demand"]) for x in out] == [
        ("SHIP-1", "S3", 1),
        ("SHIP-2", "S1", 2),
    ]
    assert [s["lots"] for s in rows(cli, "shipments")] == ["S3", "S1"]
    ok(cli, "return", "SHIP-2", "1", "--reason", "dented", "--serial", "S1")


# -- #6: --expires needs a lot ------------------------------------------------------------


@pytest.fixture
def milk(cli: Cli, initdb: Path) -> Path:
    ok(cli, "item", "add", "MILK", "--name", "Milk", "--type", "raw", "--unit", "l",
       "--make-or-buy", "buy", "--lead-time-days", "2", "--cost", "1")  # fmt: skip
    ok(cli, "purchase", "add", "MILK", "5", "--due", day(5))
    return initdb


EXPIRES_UNTRACKED = (
    "Error: MILK is not lot- or serial-tracked: --expires needs a lot (its stock has no lot "
    "to carry an expiry date); leave out --expires\n"
)


def test_expires_on_an_untracked_item_is_refused(cli: Cli, milk: Path) -> None:
    err = refused(cli, milk, "stock", "receive", "MILK", "10", "--expires", day(30))
    assert err == EXPIRES_UNTRACKED
    err = refused(cli, milk, "purchase", "receive", "1", "--expires", day(30))
    assert err == EXPIRES_UNTRACKED
    ok(cli, "stock", "receive", "MILK", "10")
    ok(cli, "purchase", "receive", "1")
    assert rows(cli, "stock", "--item", "MILK")[0]["free"] == 15


# -- #9: a receipt of an expired lot is kept, with a warning ------------------------------


@pytest.fixture
def glue(cli: Cli, initdb: Path) -> Path:
    ok(cli, "item", "add", "GLUE", "--name", "Glue", "--type", "raw", "--unit", "kg",
       "--make-or-buy", "buy", "--tracking", "lot", "--lead-time-days", "7",
       "--cost", "3")  # fmt: skip
    return initdb


def test_purchase_receipt_of_an_expired_lot_warns(cli: Cli, glue: Path) -> None:
    ok(cli, "purchase", "add", "GLUE", "5", "--due", day(5))
    r = ok(cli, "purchase", "receive", "1", "--lot", "OLD", "--expires", day(-56))
    lines = r.stderr.splitlines()
    assert lines == [
        f"Warning: lot OLD expired on {day(-56)}: it will not be used; hold or reject it "
        "(mfgctl inspect GLUE --lot OLD --location STORES --hold)",
        "Received 5 kg GLUE against purchase order 1: 5 of 5 received, received",
    ]
    [row] = rows(cli, "stock", "--item", "GLUE")
    assert (row["available"], row["expired"], row["free"]) == (5, 5, 0)
    # A good lot, or one good through today, says nothing.
    assert "Warning" not in ok(cli, "stock", "receive", "GLUE", "2", "--lot", "NEW",
                               "--expires", day(0)).stderr  # fmt: skip
    # More of the expired lot (its date is stored): warned again.
    r = ok(cli, "stock", "receive", "GLUE", "1", "--lot", "OLD")
    assert r.stderr.startswith(f"Warning: lot OLD expired on {day(-56)}: it will not be used")
    assert r.exit_code == 0


def test_expired_serials_into_inspection_warn_once(cli: Cli, initdb: Path) -> None:
    ok(cli, "item", "add", "SENS", "--name", "Sensor", "--type", "component", "--unit", "pcs",
       "--make-or-buy", "buy", "--tracking", "serial", "--lead-time-days", "5",
       "--inspect-on-receipt")  # fmt: skip
    r = ok(cli, "stock", "receive", "SENS", "2", "--serials", "S1,S2", "--expires", day(-1))
    assert r.stderr.splitlines() == [
        f"Warning: serials S1, S2 expired on {day(-1)}: they will not be used; hold or reject "
        "each (mfgctl inspect SENS --serial S1 --location STORES --fail)"
    ]


def test_refused_receipt_changes_nothing_and_no_warning(cli: Cli, glue: Path) -> None:
    before = dump(glue)
    r = cli("stock", "receive", "GLUE", "5", "--expires", day(-3))  # no lot given
    assert r.exit_code == 1 and "Warning" not in r.stderr
    assert dump(glue) == before
