"""``mfgctl order create | release | list | show | cancel``: what a planner types, what
he sees, and that every refusal leaves the database exactly as it was."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from bom_builders import hd_shop, item
from conftest import Cli, day, dump, refused

from mfgctl import db as dbmod


@pytest.fixture
def shop(cli: Cli, initdb: Path) -> Path:
    conn = dbmod.connect(initdb)
    try:
        with dbmod.transaction(conn):
            hd_shop(conn)
            item(conn, "NOBOM", make=True)
    finally:
        conn.close()
    for code, qty in (("PCB", "4"), ("SCREW", "100"), ("SOLDER", "1"), ("BOX", "20"), ("R1", "50")):
        assert cli("stock", "receive", code, qty).exit_code == 0
    return initdb


def as_json(cli: Cli, *args: object) -> object:
    r = cli(*args, "-f", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout, parse_float=Decimal)


def test_create_prints_the_order_and_its_materials(cli: Cli, shop: Path) -> None:
    r = cli("order", "create", "HD", "10", "--due", day(7), "--ref", "SO-1", "--priority", "3")
    assert r.exit_code == 0, r.stderr
    assert "Created order 1 (planned): 10 pcs HD" in r.stderr
    assert "ORDER-1" in r.stdout and "SCREW" in r.stdout
    shown = as_json(cli, "order", "show", "1")
    assert shown["order"][0]["state"] == "planned" and shown["order"][0]["priority"] == 3
    mats = {m["item"]: m for m in shown["materials"]}
    assert {k: m["required"] for k, m in mats.items()} == {
        "PCB": 10, "SCREW": 62, "SOLDER": Decimal("0.02"), "BOX": 12, "R1": 10,
    }  # fmt: skip
    assert (mats["PCB"]["free"], mats["PCB"]["short"], mats["PCB"]["reserved"]) == (4, 6, 0)
    assert mats["R1"]["substitutes"] == []
    assert [e["to_state"] for e in shown["history"]] == ["planned"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("SCREW", "1"), "SCREW is a buy item: production orders are for make items"),
        (("NOBOM", "1"), "NOBOM has no active BOM"),
        (("NOPE", "1"), "unknown item 'NOPE'"),
        (("HD", "0"), "quantity must be greater than zero"),
        (("HD", "1", "--revision", "Q"), "HD has no BOM revision 'Q'"),
    ],
)
def test_create_refusals(cli: Cli, shop: Path, args: tuple[str, ...], message: str) -> None:
    assert message in refused(cli, shop, "order", "create", *args, "--due", day(3))


def test_create_with_a_bad_date_is_refused(cli: Cli, shop: Path) -> None:
    assert "not a date" in refused(cli, shop, "order", "create", "HD", "1", "--due", "soon")


def test_release_short_is_refused_with_the_shortage_table(cli: Cli, shop: Path) -> None:
    cli("order", "create", "HD", "10", "--due", day(7))
    before = dump(shop)
    r = cli("order", "release", "1", "-f", "csv")
    assert r.exit_code == 1 and r.stdout == ""
    assert "item,unit,required,reserved,to_reserve,free,short\nPCB,pcs,10,0,10,4,6\n" in r.stderr
    assert r.stderr.splitlines()[-1].startswith("Error: order 1 is short of PCB 6 pcs")
    assert dump(shop) == before


def test_release_partial_then_show_and_cancel(cli: Cli, shop: Path) -> None:
    cli("order", "create", "HD", "10", "--due", day(7))
    r = cli("order", "release", "1", "--partial")
    assert r.exit_code == 0, r.stderr
    assert "Released order 1: 5 reservations; still short: PCB 6" in r.stderr
    shown = as_json(cli, "order", "show", "ORDER-1")
    mats = {m["item"]: m for m in shown["materials"]}
    assert (mats["PCB"]["reserved"], mats["PCB"]["short"]) == (4, 6)
    assert (mats["SCREW"]["reserved"], mats["SCREW"]["free"], mats["SCREW"]["consumed"]) == (
        62, 38, 0,
    )  # fmt: skip
    stock = {row["item"]: row for row in as_json(cli, "stock")}
    assert (stock["SCREW"]["reserved"], stock["SCREW"]["free"]) == (62, 38)
    assert "Error: order 1 is released: it cannot be released" in refused(
        cli, shop, "order", "release", "1"
    )
    r = cli("order", "cancel", "1", "--note", "customer withdrew")
    assert r.exit_code == 0 and "Cancelled order 1; released 5 reservations" in r.stderr
    stock = {row["item"]: row for row in as_json(cli, "stock")}
    assert (stock["SCREW"]["reserved"], stock["SCREW"]["free"]) == (0, 100)
    shown = as_json(cli, "order", "show", "1")
    assert [(e["from_state"], e["to_state"]) for e in shown["history"]] == [
        (None, "planned"), ("planned", "released"), ("released", "cancelled"),
    ]  # fmt: skip
    assert shown["history"][-1]["note"] == "customer withdrew"
    assert "order 1 is cancelled: it cannot be cancelled" in refused(
        cli, shop, "order", "cancel", "1"
    )
    assert cli("check").exit_code == 0


def test_release_in_full_reserves_everything(cli: Cli, shop: Path) -> None:
    cli("order", "create", "HD", "4", "--due", day(7))
    r = cli("order", "release", "1", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert all(m["short"] == 0 and m["reserved"] == m["required"] for m in json.loads(r.stdout))
    assert "all materials reserved" in r.stderr


def test_list_filters(cli: Cli, shop: Path) -> None:
    cli("order", "create", "HD", "1", "--due", day(-2))
    cli("order", "create", "PCB", "10", "--due", day(5))
    cli("order", "cancel", "2")
    assert [o["order"] for o in as_json(cli, "order", "list")] == [1, 2]
    assert [o["order"] for o in as_json(cli, "order", "list", "--late")] == [1]
    assert [o["order"] for o in as_json(cli, "order", "list", "--state", "cancelled")] == [2]
    assert [o["order"] for o in as_json(cli, "order", "list", "--item", "PCB")] == [2]
    r = cli("order", "list", "--state", "released")
    assert r.exit_code == 0 and "No rows" in r.stderr
    assert "--state must be one of" in refused(cli, shop, "order", "list", "--state", "done")


@pytest.mark.parametrize("command", ["show", "release", "cancel"])
def test_unknown_order_is_refused(cli: Cli, shop: Path, command: str) -> None:
    assert "no production order 9" in refused(cli, shop, "order", command, "9")
    assert "'x1' is not an order number" in refused(cli, shop, "order", command, "x1")


def test_order_places_are_not_user_locations(cli: Cli, shop: Path) -> None:
    assert "ORDER-3 is kept for production orders" in refused(
        cli, shop, "location", "add", "ORDER-3"
    )
    cli("order", "create", "HD", "1", "--due", day(1))
    conn = sqlite3.connect(shop)
    try:
        assert conn.execute("SELECT kind FROM location WHERE code = 'ORDER-1'").fetchone() == (
            "production",
        )
    finally:
        conn.close()


def test_a_started_order_can_be_finished_short_with_final_alone(cli: Cli, shop: Path) -> None:
    for args in (("order", "create", "HD", "3", "--due", day(7)),
                 ("order", "release", "1", "--partial"), ("order", "start", "1"),
                 ("consume", "1", "--item", "PCB", "--qty", "3"),
                 ("order", "complete", "1", "--qty", "1")):  # fmt: skip
        r = cli(*args)
        assert r.exit_code == 0, r.stderr
    err = refused(cli, shop, "order", "complete", "1", "--qty", "0")
    assert err == (
        "Error: give a --qty (or --scrap) greater than zero, or --final alone to finish the "
        "order short\n"
    )
    r = cli("order", "complete", "1", "--final")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert "Finished order 1 short: it is completed" in r.stderr
    shown = as_json(cli, "order", "show", "1")
    assert shown["order"][0]["state"] == "completed"
    assert shown["history"][-1]["note"] == "finished short: 1 good, 0 scrapped of 3"
    # The close returns the 2 PCB that the two units never made left in the WIP.
    r = cli("order", "close", "1", "--return-unconsumed", "-f", "json")
    assert r.exit_code == 0, r.stderr
    (pcb,) = [row for row in json.loads(r.stdout) if row["item"] == "PCB"]
    assert (pcb["required"], pcb["returned"]) == (1, 2)
