"""Substitutes in production: ``consume ORDER`` (backflush) makes up a short material
from its substitutes' stock, one for one, and counts what they covered; ``order
complete`` relieves each material's share from its own WIP first and the rest from its
substitutes' WIP, so the output's stored cost includes the substitute and nothing of it
waits in WIP for the order's close."""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path

from conftest import Cli, day, dump, import_yaml, ok, refused
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from mfgctl.cli import app

SHOP = """
items:
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make}
  - {code: A, name: Part A, type: component, unit: pcs, make_or_buy: buy}
  - {code: S, name: Stand-in for A, type: component, unit: pcs, make_or_buy: buy}
  - {code: B, name: Part B, type: component, unit: pcs, make_or_buy: buy}
boms:
  - item: P
    lines:
      - {item: A, qty: 2, substitutes: [S]}
      - {item: B, qty: 1}
"""


def shop(cli: Cli, tmp_path: Path, text: str, *, release: bool = True, **stock: str) -> None:
    """Import ``text``, receive ``stock`` (item -> "qty" or "qty@cost") and create order 1:
    5 of the product, released (partly, if something is short) unless not ``release``."""
    import_yaml(cli, tmp_path, text)
    for code, amount in stock.items():
        qty, _, cost = amount.partition("@")
        ok(cli, "stock", "receive", code, qty, *(("--cost", cost) if cost else ()))
    product = "P" if "code: P," in text else "Q"
    ok(cli, "order", "create", product, "5", "--due", day(5))
    if release:
        ok(cli, "order", "release", "1", "--partial")


def valuation(cli: Cli) -> dict[str, dict]:
    rows = json.loads(ok(cli, "report", "valuation", "-f", "json").stdout, parse_float=Decimal)
    return {r["item"]: r for r in rows}


def test_the_substitute_is_relieved_for_the_material_it_replaced(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # 5 P need 10 A: only 4 in stock, so 6 S go in instead.
    shop(cli, tmp_path, SHOP, A="4@1", S="10@3", B="5@0.5")
    ok(cli, "consume", "1", "--item", "A", "--qty", "4")
    ok(cli, "consume", "1", "--item", "S", "--qty", "6")
    ok(cli, "consume", "1", "--item", "B", "--qty", "5")
    ok(cli, "order", "complete", "1", "--qty", "5")
    # Relieved: 4 A (1 each), 6 S (3 each), 5 B (0.5 each) = 24.5 for 5 P: 4.9 each.
    value = valuation(cli)
    assert (value["P"]["qty"], value["P"]["average_cost"]) == (5, Decimal("4.9"))
    # Nothing of S waits in WIP: its 4 left are in stock. A and B are all used.
    assert (value["S"]["qty"], value["S"]["wip"]) == (4, 0)
    assert "A" not in value and "B" not in value
    history = json.loads(ok(cli, "stock", "history", "S", "-f", "json").stdout)
    assert [(m["kind"], m["qty"]) for m in history] == [
        ("receipt", 10),
        ("consume", 6),
        ("relieve", 6),
    ]
    closed = ok(cli, "order", "close", "1").stderr
    assert "left in WIP" not in closed
    assert ok(cli, "check").exit_code == 0


def test_a_material_takes_its_own_wip_before_a_substitute_does(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    shop(cli, tmp_path, SHOP, A="20@1", S="10@3", B="5@0.5")
    ok(cli, "consume", "1")  # 10 A and 5 B, as planned
    ok(cli, "consume", "1", "--item", "S", "--qty", "2")  # 2 S more, by mistake
    ok(cli, "order", "complete", "1", "--qty", "5")
    # A covers its whole share: S is not relieved, and stays in WIP for the close.
    history = json.loads(ok(cli, "stock", "history", "S", "-f", "json").stdout)
    assert [m["kind"] for m in history] == ["receipt", "consume"]
    value = valuation(cli)
    assert (value["P"]["average_cost"], value["S"]["wip"]) == (Decimal("2.5"), Decimal(6))


SHARED = """
items:
  - {code: Q, name: Product Q, type: finished, unit: pcs, make_or_buy: make}
  - {code: A, name: Part A, type: component, unit: pcs, make_or_buy: buy}
  - {code: C, name: Part C, type: component, unit: pcs, make_or_buy: buy}
  - {code: S, name: Stand-in for A and C, type: component, unit: pcs, make_or_buy: buy}
boms:
  - item: Q
    lines:
      - {item: A, qty: 2, substitutes: [S]}
      - {item: C, qty: 1, substitutes: [S]}
"""


def moves_of(cli: Cli, item: str) -> list[tuple[str, int]]:
    rows = json.loads(ok(cli, "stock", "history", item, "-f", "json").stdout)
    return [(m["kind"], m["qty"]) for m in rows]


def test_backflush_makes_up_a_short_material_from_its_substitute(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    shop(cli, tmp_path, SHOP, A="4@1", S="10@3", B="5@0.5")  # 4 A, and 6 S for A
    rows = json.loads(ok(cli, "consume", "1", "-f", "json").stdout)
    # Every material's own stock first, then what substitutes make up.
    assert [(m["item"], m["qty"]) for m in rows] == [("A", 4), ("B", 5), ("S", 6)]
    # What S covered counts: nothing is left to consume.
    r = cli("consume", "1")
    assert r.exit_code == 1 and "has consumed all its materials already" in r.stderr
    # MRP sees nothing more of A needed for the order: S covered what A lacked.
    plan = json.loads(ok(cli, "mrp", "-f", "json").stdout)
    assert [o for o in plan["planned_orders"] if o["item"] in ("A", "S")] == []
    assert [x for x in plan["shortages"] if x["item"] in ("A", "S")] == []
    ok(cli, "order", "complete", "1", "--qty", "5")
    assert valuation(cli)["P"]["average_cost"] == Decimal("4.9")  # (4 + 18 + 2.5) / 5
    assert moves_of(cli, "S") == [("receipt", 10), ("consume", 6), ("relieve", 6)]


def test_two_materials_never_count_the_same_substitute_stock_twice(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    shop(cli, tmp_path, SHARED, S="12")
    # 10 A and 5 C, none in stock: S would have to cover 15, and has 12.
    err = refused(cli, initdb, "consume", "1")
    assert err.startswith("Error: not enough available C for order 1: need 5 pcs"), err
    ok(cli, "stock", "receive", "S", "3")
    rows = json.loads(ok(cli, "consume", "1", "-f", "json").stdout)
    # The release reserved S 10 for A and the last 2 for C; C's other 3 are free stock.
    assert [(m["item"], m["qty"]) for m in rows] == [("S", 10), ("S", 2), ("S", 3)]
    assert ok(cli, "check").exit_code == 0


def reserved(cli: Cli) -> list[tuple[str, int]]:
    rows = json.loads(ok(cli, "reserve", "list", "--order", "1", "-f", "json").stdout)
    return [(r["item"], r["remaining"]) for r in rows]


def test_release_reserves_a_substitute_for_what_a_material_lacks(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    shop(cli, tmp_path, SHOP, release=False, A="4@1", S="10@3", B="5@0.5")
    # 10 A needed, 4 free: the release is not refused, S stands in for the other 6.
    ok(cli, "order", "release", "1")
    assert reserved(cli) == [("A", 4), ("B", 5), ("S", 6)]
    shown = json.loads(ok(cli, "order", "show", "1", "-f", "json").stdout)
    a = next(m for m in shown["materials"] if m["item"] == "A")
    assert (a["reserved"], a["substituted"], a["short"]) == (4, 6, 0)
    # Reserving the order again finds nothing more to reserve (S counts for A).
    r = ok(cli, "reserve", "ORDER-1")
    assert r.stderr.endswith("Order 1: 0 new reservations\n"), r.stderr
    plan = json.loads(ok(cli, "mrp", "-f", "json").stdout)
    assert [o for o in plan["planned_orders"] if o["item"] in ("A", "S")] == []
    rows = json.loads(ok(cli, "consume", "1", "-f", "json").stdout)
    # Every material's own stock first, then what substitutes make up.
    assert [(m["item"], m["qty"]) for m in rows] == [("A", 4), ("B", 5), ("S", 6)]
    assert reserved(cli) == []  # every reservation consumed
    assert ok(cli, "check").exit_code == 0


def test_a_shortage_the_substitutes_cannot_cover_still_refuses_the_release(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    shop(cli, tmp_path, SHARED, release=False, S="12")
    # The shortage table on stderr: C lacks 3 (S had 12 for A's 10 and C's 5).
    before = dump(initdb)
    r = cli("order", "release", "1", "-f", "csv")
    assert (r.exit_code, r.stdout) == (1, "")
    assert "item,unit,required,reserved,to_reserve,free,short\nC,pcs,5,0,5,2,3\n" in r.stderr
    assert r.stderr.splitlines()[-1].startswith("Error: order 1 is short of C 3 pcs")
    assert dump(initdb) == before
    ok(cli, "order", "release", "1", "--partial")
    assert reserved(cli) == [("S", 10), ("S", 2)]  # for A, then for C


@settings(max_examples=25, deadline=None)
@given(
    stock=st.tuples(*[st.integers(0, 14)] * 3),
    orders=st.lists(st.integers(1, 6), min_size=1, max_size=3),
)
def test_substitutes_never_over_reserve_nor_over_consume(
    stock: tuple[int, int, int], orders: list[int]
) -> None:
    """Random stock of A, C and their shared substitute S, and orders of Q released
    with --partial and consumed: free stock never goes negative, each order's materials
    are never covered beyond what they need, and the ledger stays balanced."""
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "shop.db"

        def run(*args: object) -> Result:
            return runner.invoke(app, ["--db", str(db), *map(str, args)])

        path = Path(tmp) / "shop.yaml"
        path.write_text(SHARED, encoding="utf-8")
        assert run("init").exit_code == 0
        assert run("import", path).exit_code == 0
        for code, qty in zip(("A", "C", "S"), stock, strict=True):
            if qty:
                assert run("stock", "receive", code, qty).exit_code == 0
        for n, qty in enumerate(orders, start=1):
            assert run("order", "create", "Q", qty, "--due", day(5)).exit_code == 0
            r = run("order", "release", n, "--partial")
            assert r.exit_code == 0, r.stderr
            run("consume", n)  # may be refused for a shortage: then nothing moves
            shown = json.loads(run("order", "show", n, "-f", "json").stdout)
            for m in shown["materials"]:
                had = m["consumed"] + m["reserved"] + m["substituted"]
                assert had <= m["required"], (stock, orders, m)
        check = run("check", "-f", "json")
        assert check.exit_code == 0, check.stdout
        for r in json.loads(run("stock", "-f", "json").stdout):
            assert r["free"] >= 0, r


OWN_LINE = """
items:
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make}
  - {code: A, name: Part A, type: component, unit: pcs, make_or_buy: buy}
  - {code: S, name: Stand-in for A and a material, type: component, unit: pcs, make_or_buy: buy}
boms:
  - item: P
    lines:
      - {item: A, qty: 2, substitutes: [S]}
      - {item: S, qty: 1}
"""


def test_a_substitute_that_is_a_material_too_keeps_its_own_lines_share(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # 5 P need 10 A and 5 S: 4 A, so 6 S stand in for A; 11 S cover both. The release
    # reserves all of it; the backflush must not give S's own line's stock to A first.
    shop(cli, tmp_path, OWN_LINE, A="4", S="11")
    rows = json.loads(ok(cli, "consume", "1", "-f", "json").stdout)
    assert [(m["item"], m["qty"]) for m in rows] == [("A", 4), ("S", 5), ("S", 6)]
    r = cli("consume", "1")
    assert r.exit_code == 1 and "has consumed all its materials already" in r.stderr


def test_one_short_of_a_substitute_that_is_a_material_too_is_refused_whole(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    shop(cli, tmp_path, OWN_LINE, A="4", S="10")  # released with A one short
    before = dump(initdb)
    err = refused(cli, initdb, "consume", "1")
    assert err == (
        "Error: not enough available A for order 1: need 10 pcs; its own stock and its "
        "substitutes' (S), reserved for the order or free, give 9; nothing was consumed "
        "(receive or release the stock, or consume less)\n"
    )
    assert dump(initdb) == before


def test_scrap_straight_from_stock_still_leaves_the_material_to_bring_in(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # 5 P need 10 A. Dropping 3 S in the stores is a loss for the order (its cost and
    # variance) but brings nothing into its WIP: the backflush still brings 10 A.
    shop(cli, tmp_path, SHOP, A="10", S="5", B="5")
    ok(cli, "consume", "1", "--item", "S", "--scrap", "3", "--reason", "dropped", "--from-stock")
    rows = json.loads(ok(cli, "consume", "1", "-f", "json").stdout)
    assert sorted((m["item"], m["qty"]) for m in rows) == [("A", 10), ("B", 5)]
    shown = {m["item"]: m for m in json.loads(ok(cli, "order", "show", "1", "-f", "json").stdout)[
        "materials"]}  # fmt: skip
    assert (shown["A"]["consumed"], shown["A"]["substituted"], shown["A"]["short"]) == (10, 0, 0)


def test_close_lists_and_clears_a_substitute_like_any_material(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # 5 P: 4 A, 6 S for A, 5 B consumed; only 4 P made, so 8 A are relieved (4 A and
    # 4 S) and 4 B: 2 S and 1 B are left in WIP, and the close returns both.
    shop(cli, tmp_path, SHOP, A="4@1", S="10@3", B="5@0.5")
    ok(cli, "consume", "1")
    ok(cli, "order", "complete", "1", "--qty", "4", "--final")
    r = ok(cli, "order", "close", "1", "--return-unconsumed", "-f", "json")
    rows = {x["item"]: x for x in json.loads(r.stdout, parse_float=Decimal)}
    # S used for A counts as use of A (orders.usage, as order show and report variance
    # count it): A used 8 for 8, 4 of them S; S keeps a row for the 2 it gets back.
    assert [(x["item"], x["required"], x["consumed"], x["substituted"], x["variance"],
             x["returned"]) for x in rows.values()] == [
        ("A", 8, 8, 4, 0, 0),
        ("B", 4, 4, 0, 0, 1),
        ("S", 0, 0, 0, 0, 2),
    ]  # fmt: skip
    # The rows' actual cost adds up to the order's (4 x 1 + 4 x 0.5 + 4 x 3 = 18).
    assert sum(x["actual_cost"] for x in rows.values()) == 18
    assert "actual 18" in r.stderr
    # Nothing is left in the order's WIP: the 2 S are back in stock.
    assert valuation(cli)["S"]["wip"] == 0 and valuation(cli)["S"]["qty"] == 6
    assert ok(cli, "check").exit_code == 0
