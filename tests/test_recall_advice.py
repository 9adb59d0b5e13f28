"""The recall's advice for recalled units in a completed order's WIP works (scrap them
before the close), and the recall prints its tables as the multi-table reports do."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from conftest import Cli, day, import_yaml, ok, refused

SHOP = """
items:
  - {code: C, name: Cap, type: component, unit: pcs, make_or_buy: buy, tracking: lot}
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make, tracking: lot}
boms:
  - {item: P, lines: [{item: C, qty: 1}]}
"""


def completed_short(cli: Cli, tmp_path: Path) -> None:
    """20 C of lot L1; order 1 for 10 P consumes 10, makes 6 (lot P1) and is finished
    short with --final: 4 of L1 are left in its WIP, 10 in STORES."""
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "C", "20", "--lot", "L1")
    ok(cli, "order", "create", "P", "10", "--due", day(30))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "complete", "1", "--qty", "6", "--lot", "P1")
    ok(cli, "order", "complete", "1", "--final")


def recall(cli: Cli, lot: str = "L1", fmt: str = "json") -> Any:
    r = ok(cli, "trace", lot, "--forward", "--hold", "--reason", "bad caps", "-f", fmt)
    return json.loads(r.stdout, parse_float=Decimal) if fmt == "json" else r.stdout


def stock_of(cli: Cli, item: str) -> dict[str, Any]:
    rows = json.loads(ok(cli, "stock", "--item", item, "-f", "json").stdout, parse_float=Decimal)
    return rows[0]


def test_following_the_advice_for_a_completed_order_leaves_nothing_recalled_available(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    completed_short(cli, tmp_path)
    doc = recall(cli)
    rows = {(r["lot"], r["where"]): r for r in doc["in_house"]}
    assert (rows["L1", "STORES"]["qty"], rows["L1", "STORES"]["action"]) == (10, "blocked")
    assert (rows["P1", "STORES"]["qty"], rows["P1", "STORES"]["action"]) == (6, "blocked")
    wip = rows["L1", "ORDER-1"]
    assert (wip["qty"], wip["status"], wip["action"]) == (4, "wip (completed)", "check")
    command = "mfgctl consume 1 --item C --lot L1 --scrap 4 --reason ..."
    assert command in wip["detail"]
    assert "before closing the order" in wip["detail"]
    assert "order close --return-unconsumed would return it available" in wip["detail"]

    # The advice, as printed (with a reason), works on the completed order.
    r = ok(cli, *command.split()[1:-1], "recalled: bad caps")
    assert "Order 1 (completed): 0 consume moves, 1 scrap moves" in r.stderr
    [closing] = json.loads(ok(cli, "order", "close", "1", "-f", "json").stdout)
    # Nothing of C was left in the WIP to use up or return.
    assert (closing["item"], closing["returned"], closing["used_up"]) == ("C", 0, 0)
    [order] = json.loads(ok(cli, "order", "show", "1", "-f", "json").stdout)["order"]
    assert order["state"] == "closed"

    # Nothing recalled is available: C and P are blocked, the 4 caps scrapped.
    c, p = stock_of(cli, "C"), stock_of(cli, "P")
    assert (c["available"], c["free"], c["blocked"], c["wip"]) == (0, 0, 10, 0)
    assert (p["available"], p["free"], p["blocked"]) == (0, 0, 6)
    tree = json.loads(ok(cli, "trace", "L1", "--forward", "-f", "json").stdout)
    where = [(n["type"], n.get("status"), n["qty"]) for n in tree["children"] if "qty" in n]
    assert sorted(where) == [("scrapped", None, 4), ("stock", "blocked", 10)]
    again = recall(cli)
    assert {r["action"] for r in again["in_house"]} == {"already blocked"}
    check = cli("check")
    assert check.exit_code == 0 and "0 errors" in check.stderr


def test_a_completed_order_takes_only_scrap_out_of_its_wip(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    completed_short(cli, tmp_path)
    hint = "what is left in its WIP can still be scrapped: mfgctl consume 1 --item I --scrap Q"
    err = refused(cli, initdb, "consume", "1", "--item", "C", "--qty", "1")
    assert "order 1 is completed: only a released or started order can consume" in err
    assert hint in err
    err = refused(
        cli, initdb, "consume", "1", "--item", "C", "--scrap", "1", "--reason", "x", "--from-stock"
    )
    assert "order 1 is completed" in err and hint in err
    err = refused(cli, initdb, "consume", "1")
    assert "order 1 is completed" in err
    # More than the WIP holds is refused as for a started order.
    err = refused(cli, initdb, "consume", "1", "--item", "C", "--scrap", "5", "--reason", "x")
    assert "order 1 holds only 4 pcs of C in its WIP (ORDER-1), not 5" in err
    # Once closed, the WIP is gone and nothing can be scrapped from it.
    ok(cli, "order", "close", "1")
    err = refused(cli, initdb, "consume", "1", "--item", "C", "--scrap", "1", "--reason", "x")
    assert "order 1 is closed: only a released or started order" in err


def test_a_return_at_close_comes_back_available_and_a_second_recall_blocks_it(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    """The documented rule: a hold blocks stock where it is, not the lot; what comes into
    stock later (here the WIP returned at the close) comes in as usual."""
    completed_short(cli, tmp_path)
    recall(cli)
    ok(cli, "order", "close", "1", "--return-unconsumed")
    c = stock_of(cli, "C")
    assert (c["available"], c["blocked"]) == (4, 10)
    doc = recall(cli)
    assert [(r["qty"], r["status"], r["action"]) for r in doc["in_house"] if r["lot"] == "L1"] == [
        (4, "available", "blocked"),
        (10, "blocked", "already blocked"),
    ]
    assert stock_of(cli, "C")["available"] == 0


def shipped_lot(cli: Cli) -> None:
    """Lot L1 of P: 10 received, 4 shipped to Cust, 6 in STORES (the finding's shape)."""
    ok(cli, "item", "add", "P", "--name", "Part", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "buy", "--tracking", "lot")  # fmt: skip
    ok(cli, "stock", "receive", "P", "10", "--lot", "L1")
    ok(cli, "ship", "P", "4", "--to", "Cust")


def test_recall_csv_has_a_blank_line_between_its_tables(cli: Cli, initdb: Path) -> None:
    shipped_lot(cli)
    out = recall(cli, fmt="csv")
    tree, in_house, shipped = out.rstrip("\n").split("\n\n")
    assert tree.splitlines()[0] == "depth,text"
    assert tree.splitlines()[1] == "0,P lot L1"
    assert in_house.splitlines() == [
        "item,lot,qty,unit,where,status,action,detail",
        "P,L1,6,pcs,STORES,available,blocked,inspection 1",
    ]
    lines = shipped.splitlines()
    assert lines[0] == "customer,shipment,ref,item,lot,qty,unit,shipped_at"
    assert lines[1].startswith("Cust,SHIP-1,,P,L1,4,pcs,")
    assert len(lines) == 2
    # No table names in CSV, and the same separator as report yield's.
    assert "In house" not in out and "Shipped" not in out


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_recall_markdown_heads_each_table_so_none_runs_into_another(cli: Cli, initdb: Path) -> None:
    shipped_lot(cli)
    out = recall(cli, fmt="markdown")
    blocks = [b.splitlines() for b in out.rstrip("\n").split("\n\n")]
    assert len(blocks) == 5
    tree, head1, in_house, head2, shipped = blocks
    assert (head1, head2) == (["## In house"], ["## Shipped"])
    assert cells(tree[0]) == ["depth", "text"]
    assert cells(in_house[0]) == ["item", "lot", "qty", "unit", "where", "status", "action",
                                  "detail"]  # fmt: skip
    assert cells(in_house[2]) == ["P", "L1", "6", "pcs", "STORES", "available", "blocked",
                                  "inspection 1"]  # fmt: skip
    assert cells(shipped[0])[:3] == ["customer", "shipment", "ref"]
    assert cells(shipped[2])[:6] == ["Cust", "SHIP-1", "", "P", "L1", "4"]
    # Each table is its header, its rule and its rows: no other table's header among them.
    for table, rows in ((tree, None), (in_house, 1), (shipped, 1)):
        assert all(set(c) <= set(":-") for c in cells(table[1]))
        assert all(line.startswith("|") for line in table)
        if rows is not None:
            assert len(table) == 2 + rows


def test_recall_plain_names_its_tables(cli: Cli, initdb: Path) -> None:
    shipped_lot(cli)
    out = recall(cli, fmt="plain")
    tree, in_house, shipped = out.rstrip("\n").split("\n\n")
    assert tree.splitlines()[0] == "P lot L1"
    assert in_house.splitlines()[:2] == [
        "In house",
        "item\tlot\tqty\tunit\twhere\tstatus\taction\tdetail",
    ]
    assert shipped.splitlines()[:2] == [
        "Shipped",
        "customer\tshipment\tref\titem\tlot\tqty\tunit\tshipped_at",
    ]
