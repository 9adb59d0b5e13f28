"""Shipping against sales demand: what a partly shipped demand exports (what it still
lacks, so a rebuilt database plans and ships the same), over-shipping refused across
shipments, and references and customers matched ignoring case for any letter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import Cli, day, ok, refused


@pytest.fixture
def part(cli: Cli, initdb: Path) -> Path:
    """P, a buy item with a lead time, 10 in stock."""
    ok(cli, "item", "add", "P", "--name", "Part", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "buy", "--purchase-lead-time-days", "5")  # fmt: skip
    ok(cli, "stock", "receive", "P", "10")
    return initdb


def sales(cli: Cli, qty: int, ref: str, due: int = 20) -> None:
    ok(cli, "demand", "add", "P", qty, "--due", day(due), "--kind", "sales", "--ref", ref)


def ship(cli: Cli, qty: int, ref: str, *extra: object) -> list[dict]:
    r = ok(cli, "ship", "P", qty, "--to", "Acme", "--ref", ref, *extra, "-f", "json")
    return json.loads(r.stdout)


def planned(cli: Cli, *db: object) -> list[dict]:
    """MRP's planned orders, as ``mrp -f json`` writes them (with their pegging)."""
    return json.loads(ok(cli, *db, "mrp", "-f", "json").stdout)["planned_orders"]


def open_demand(cli: Cli, *db: object) -> list[tuple]:
    rows = json.loads(ok(cli, *db, "demand", "list", "-f", "json").stdout)
    return [(r["item"], r["qty"], r["ref"], r["state"]) for r in rows]


# -- export of partly shipped demand ----------------------------------------------------


def test_export_writes_what_a_partly_shipped_demand_still_lacks(
    cli: Cli, part: Path, tmp_path: Path
) -> None:
    sales(cli, 8, "SO-1", due=20)
    sales(cli, 12, "SO-2", due=30)
    sales(cli, 1, "SO-3", due=10)
    ship(cli, 6, "SO-1")
    ship(cli, 1, "SO-3")  # fully shipped: no longer open demand
    # 3 in stock; still owed 2 (SO-1) + 12 (SO-2): 11 to buy.
    before = planned(cli)
    assert [(p["item"], p["kind"], p["qty"]) for p in before] == [("P", "buy", 11)]

    export = tmp_path / "export.yaml"
    ok(cli, "export", "-o", export)
    demand = yaml.safe_load(export.read_text(encoding="utf-8"))["demand"]
    assert [(d["qty"], d["ref"]) for d in demand] == [(2, "SO-1"), (12, "SO-2")]

    fresh = tmp_path / "fresh.db"
    ok(cli, "--db", fresh, "init")
    ok(cli, "--db", fresh, "import", export)
    assert planned(cli, "--db", fresh) == before
    assert open_demand(cli, "--db", fresh) == [
        ("P", 2, "SO-1", "open"),
        ("P", 12, "SO-2", "open"),
    ]
    # The rebuilt database takes no more against SO-1 than it still owes.
    err = refused(cli, fresh, "--db", fresh, "ship", "P", "3", "--to", "Acme", "--ref", "SO-1")
    assert "demand 1 (SO-1) has 2 pcs left to ship" in err
    rows = json.loads(
        ok(
            cli, "--db", fresh, "ship", "P", "2", "--to", "Acme", "--ref", "SO-1", "-f", "json"
        ).stdout
    )
    assert rows[0]["demand_state"] == "shipped"


def test_the_export_imported_into_its_own_database_adds_no_demand(
    cli: Cli, part: Path, tmp_path: Path
) -> None:
    sales(cli, 8, "SO-1")
    ship(cli, 6, "SO-1")
    export = tmp_path / "export.yaml"
    ok(cli, "export", "-o", export)
    only_demand = tmp_path / "demand.yaml"
    data = yaml.safe_load(export.read_text(encoding="utf-8"))
    only_demand.write_text(yaml.safe_dump({"demand": data["demand"]}), encoding="utf-8")
    ok(cli, "import", only_demand)
    # The open 2 is the stored demand of 8 with 6 shipped, not a new demand.
    assert open_demand(cli) == [("P", 8, "SO-1", "open")]
    assert len(json.loads(ok(cli, "demand", "list", "--all", "-f", "json").stdout)) == 1


# -- over-shipping across shipments ------------------------------------------------------


def test_a_fully_shipped_reference_takes_no_more_of_the_item(cli: Cli, part: Path) -> None:
    sales(cli, 4, "SO-1")
    err = refused(cli, part, "ship", "P", "5", "--to", "Acme", "--ref", "SO-1")
    assert "has 4 pcs left to ship (ordered 4, shipped 0): cannot ship 5" in err
    assert ship(cli, 4, "SO-1")[0]["demand_state"] == "shipped"
    # The second shipment finds no open demand, but SO-1 has demand of P, all shipped.
    err = refused(cli, part, "ship", "P", "1", "--to", "Acme", "--ref", "so-1")
    assert err == (
        "Error: so-1 is fully shipped for P: ordered 4 pcs, shipped 4 under so-1 (demand 1 is "
        "shipped): ship more under another reference, or add a sales demand for it\n"
    )
    rows = json.loads(ok(cli, "shipments", "--ref", "SO-1", "-f", "json").stdout)
    assert sum(r["qty"] for r in rows) == 4
    # Another reference, or one without sales demand, still ships.
    assert ship(cli, 1, "SO-9")[0]["demand"] is None


def test_several_demands_under_one_reference_are_counted_together(cli: Cli, part: Path) -> None:
    sales(cli, 3, "SO-1", due=10)
    sales(cli, 2, "SO-1", due=20)
    ship(cli, 3, "SO-1")  # the earliest demand first
    assert ship(cli, 2, "SO-1")[0]["demand"] == 2
    err = refused(cli, part, "ship", "P", "1", "--to", "Acme", "--ref", "SO-1")
    assert "ordered 5 pcs, shipped 5 under SO-1 (demands 1, 2 are shipped)" in err


def test_a_reference_with_only_cancelled_demand_ships_unchecked(cli: Cli, part: Path) -> None:
    sales(cli, 4, "SO-1")
    ok(cli, "demand", "cancel", "1")
    assert ship(cli, 5, "SO-1")[0]["demand"] is None


# -- case for any letter -------------------------------------------------------------------


def test_shipments_find_customer_and_reference_in_any_case(cli: Cli, part: Path) -> None:
    ok(cli, "ship", "P", "1", "--to", "Kunde Müller GmbH", "--ref", "Auftrag-Ä1")
    ok(cli, "ship", "P", "1", "--to", "Straße AG")
    ok(cli, "ship", "P", "1", "--to", "Other")

    def found(*args: str) -> list[str]:
        rows = json.loads(ok(cli, "shipments", *args, "-f", "json").stdout)
        return [r["shipment"] for r in rows]

    assert found("--customer", "KUNDE MÜLLER GMBH") == ["SHIP-1"]
    assert found("--customer", "kunde müller gmbh") == ["SHIP-1"]
    assert found("--to", "STRASSE AG") == ["SHIP-2"]  # casefold: ß is ss
    assert found("--ref", "AUFTRAG-ä1") == ["SHIP-1"]
    assert found("--customer", "Kunde Muller GmbH") == []  # u is not ü


def test_ship_ref_matches_demand_and_reservations_in_any_case(cli: Cli, part: Path) -> None:
    sales(cli, 5, "Bestellung-Ü7")
    ok(cli, "reserve", "P", "2", "--for", "Bestellung-Ü7")
    ok(cli, "reserve", "P", "8", "--for", "OTHER")  # all 10 held: only Ü7's 2 are shippable
    err = refused(cli, part, "ship", "P", "3", "--to", "Acme", "--ref", "BESTELLUNG-ü7")
    assert "reserved for BESTELLUNG-ü7 2" in err and "reserved for OTHER 8" in err
    rows = ship(cli, 2, "BESTELLUNG-ü7")
    assert (rows[0]["reserved"], rows[0]["demand"], rows[0]["demand_state"]) == (2, 1, "open")
    ok(cli, "reserve", "cancel", "--for", "OTHER")
    ok(cli, "reserve", "P", "4", "--for", "Bestellung-Ü7")
    r = ok(cli, "ship", "P", "3", "--to", "Acme", "--ref", "bestellung-ü7")
    # 2 + 3 = 5 shipped; the 1 still reserved under the reference (in another case) is freed.
    assert "demand 1 is shipped; leftover reservation(s) 3 cancelled" in r.stderr
    rows = json.loads(ok(cli, "reserve", "list", "-f", "json").stdout)
    assert rows == []
