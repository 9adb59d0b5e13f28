"""A fixed lot above the maximum order quantity is refused like a minimum above it
(item add, item update, import), and ``check`` still warns of one stored before; and
``mrp can-build`` lists every path through nested phantoms."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from conftest import Cli, dump, import_yaml, ok, refused

START = "2025-06-02"
ADD = ("item", "add", "FX", "--name", "fixed", "--type", "component", "--unit", "pcs")
ADD += ("--make-or-buy", "buy", "--lead-time-days", "7")

FIXED_ABOVE_MAX = """
items:
  - {code: FX, name: fixed above max, type: component, unit: pcs, make_or_buy: buy,
     lead_time_days: 7, lot_sizing: fixed, fixed_order_qty: 100, max_order_qty: 40}
demand:
  - {item: FX, qty: 30, due: 2025-06-11, kind: sales, ref: SO-FX}
"""


def planned(cli: Cli, item: str) -> list[str]:
    """The planned order quantities of ``item`` in a run from START."""
    r = ok(cli, "mrp", "--start", START, "--horizon", "28", "-f", "json")
    return [str(p["qty"]) for p in json.loads(r.stdout)["planned_orders"] if p["item"] == item]


def test_item_add_refuses_a_fixed_lot_above_the_maximum(cli: Cli, initdb: Path) -> None:
    msg = refused(
        cli, initdb, *ADD, "--lot-sizing", "fixed", "--fixed-order-qty", "100",
        "--max-order-qty", "40",
    )  # fmt: skip
    assert msg == "Error: max_order_qty 40 is below fixed_order_qty 100\n"
    # Up to the maximum is fine.
    ok(cli, *ADD, "--lot-sizing", "fixed", "--fixed-order-qty", "40", "--max-order-qty", "40")


def test_item_update_refuses_a_fixed_lot_above_the_maximum(cli: Cli, initdb: Path) -> None:
    ok(cli, *ADD, "--lot-sizing", "fixed", "--fixed-order-qty", "30", "--max-order-qty", "40")
    msg = refused(cli, initdb, "item", "update", "FX", "--fixed-order-qty", "100")
    assert msg == "Error: max_order_qty 40 is below fixed_order_qty 100\n"
    msg = refused(cli, initdb, "item", "update", "FX", "--max-order-qty", "20")
    assert msg == "Error: max_order_qty 20 is below fixed_order_qty 30\n"
    # A fixed quantity kept under another lot sizing is not used, so it is let be, until
    # lot sizing turns fixed.
    ok(cli, "item", "update", "FX", "--lot-sizing", "lot_for_lot")
    ok(cli, "item", "update", "FX", "--fixed-order-qty", "100")
    msg = refused(cli, initdb, "item", "update", "FX", "--lot-sizing", "fixed")
    assert msg == "Error: max_order_qty 40 is below fixed_order_qty 100\n"


def test_import_refuses_a_fixed_lot_above_the_maximum(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    path = tmp_path / "f6.yaml"
    path.write_text(FIXED_ABOVE_MAX, encoding="utf-8")
    msg = refused(cli, initdb, "import", path, one_line=False)
    assert f"{path}:4: items[0].max_order_qty: 40 is below fixed_order_qty 100" in msg
    assert "nothing was written" in msg


def test_an_order_multiple_above_the_maximum_is_allowed(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # Every lot is one multiple and serves the need: a need of 30 is one order of 50.
    import_yaml(
        cli,
        tmp_path,
        FIXED_ABOVE_MAX.replace("fixed_order_qty: 100", "fixed_order_qty: 30").replace(
            "max_order_qty: 40", "max_order_qty: 40, order_multiple: 50"
        ),
    )
    assert planned(cli, "FX") == ["50"]


def test_check_warns_of_a_fixed_lot_above_the_maximum_stored_before(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(
        cli, tmp_path, FIXED_ABOVE_MAX.replace("fixed_order_qty: 100", "fixed_order_qty: 30")
    )
    assert planned(cli, "FX") == ["30"]
    # As a database written before the rule holds it (micro-units).
    with sqlite3.connect(initdb) as c:
        c.execute("UPDATE item SET fixed_order_qty = 100000000 WHERE code = 'FX'")
    assert planned(cli, "FX") == ["40", "40", "20"]
    rows = json.loads(ok(cli, "check", "-f", "json").stdout)
    found = [r for r in rows if r["check"] == "lot_rules"]
    assert [(r["severity"], r["subject"]) for r in found] == [("warning", "FX")]
    message = found[0]["message"]
    assert message.startswith(
        "fixed order quantity 100 is above the maximum order quantity 40: each fixed lot is "
        "split at the maximum, and the last split lots may serve nothing;"
    )
    assert "mfgctl item update FX --fixed-order-qty N or --max-order-qty N" in message
    # Another change is refused until it is put right; the way check names works.
    before = dump(initdb)
    r = cli("item", "update", "FX", "--name", "renamed")
    assert r.exit_code == 1 and "below fixed_order_qty 100" in r.stderr
    assert dump(initdb) == before
    ok(cli, "item", "update", "FX", "--fixed-order-qty", "40")
    rows = json.loads(ok(cli, "check", "-f", "json").stdout)
    assert [r for r in rows if r["check"] == "lot_rules"] == []
    assert planned(cli, "FX") == ["40"]


NESTED = """
items:
  - {code: FG, name: fg, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 7}
  - {code: PH, name: phantom, type: subassembly, unit: pcs, make_or_buy: make, lead_time_days: 5}
  - {code: PH2, name: phantom2, type: subassembly, unit: pcs, make_or_buy: make, lead_time_days: 5}
  - {code: R, name: raw, type: raw, unit: pcs, make_or_buy: buy, lead_time_days: 3}
boms:
  - item: FG
    lines:
      - {item: PH, qty: 1, scrap_pct: 10, phantom: true}
  - item: PH
    output_qty: 2
    lines:
      - {item: R, qty: 4, scrap_pct: 5, fixed_qty: 1}
      - {item: PH2, qty: 1, phantom: true}
  - item: PH2
    lines:
      - {item: R, qty: 1}
"""


def test_can_build_lists_every_path_through_nested_phantoms(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, NESTED)
    doc = json.loads(ok(cli, "mrp", "can-build", "FG", "10", "-f", "json").stdout)
    [limit] = doc["limiting"]
    assert (limit["item"], str(limit["needed"])) == ("R", "29.6")
    assert limit["path"] == ["FG > PH", "FG > PH > PH2"]
    assert limit["more_paths"] == 0
    r = ok(cli, "mrp", "can-build", "FG", "10", "-f", "plain")
    assert r.stdout.splitlines()[-1] == "R\t29.6\t0\t\t29.6\tpcs\tFG > PH; FG > PH > PH2"


NESTED_FOUR = """
items:
  - {code: FG, name: fg, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 7}
  - {code: PH, name: p1, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: PH2, name: p2, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: PH3, name: p3, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: R, name: raw, type: raw, unit: pcs, make_or_buy: buy, lead_time_days: 3}
boms:
  - item: FG
    lines:
      - {item: R, qty: 1}
      - {item: PH, qty: 1, phantom: true}
  - item: PH
    lines:
      - {item: R, qty: 1}
      - {item: PH2, qty: 1, phantom: true}
  - item: PH2
    lines:
      - {item: R, qty: 1}
      - {item: PH3, qty: 1, phantom: true}
  - item: PH3
    lines:
      - {item: R, qty: 1}
"""


def test_can_build_counts_the_paths_beyond_three(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    # R is needed by FG itself, through PH, PH > PH2 and PH > PH2 > PH3: 4 per FG.
    import_yaml(cli, tmp_path, NESTED_FOUR)
    doc = json.loads(ok(cli, "mrp", "can-build", "FG", "1", "-f", "json").stdout)
    [limit] = doc["limiting"]
    assert (limit["item"], limit["needed"]) == ("R", 4)
    assert limit["path"] == ["FG", "FG > PH", "FG > PH > PH2"]
    assert limit["more_paths"] == 1
    r = ok(cli, "mrp", "can-build", "FG", "1", "-f", "plain")
    assert r.stdout.splitlines()[-1] == "R\t4\t0\t\t4\tpcs\tFG; FG > PH; FG > PH > PH2 (+1 more)"


def test_a_fixed_lot_rounded_above_the_maximum_is_refused(cli: Cli, initdb: Path) -> None:
    """Fixed 40, order multiple 25, max 40: MRP orders the lot as 50 and splits it into
    25 + 25, the second of which may serve nothing; refused like a fixed lot above the
    maximum (the old rule compared only the typed 40 with 40)."""
    fixed = (*ADD, "--lot-sizing", "fixed", "--fixed-order-qty", "40", "--max-order-qty", "40")
    msg = refused(cli, initdb, *fixed, "--order-multiple", "25")
    assert msg == (
        "Error: fixed_order_qty 40, ordered as 50 (rounded up to order_multiple 25), is above "
        "the largest order max_order_qty 40 allows in multiples of 25 (25): MRP would split "
        "each fixed lot, and a part may serve nothing\n"
    )
    msg = refused(cli, initdb, *fixed, "--moq", "45", "--max-order-qty", "44")
    assert msg == "Error: max_order_qty 44 is below moq 45\n"
    ok(cli, *fixed[:-2], "--max-order-qty", "50", "--moq", "45")
    upd = ("item", "update", "FX", "--order-multiple", "10", "--max-order-qty", "45")
    msg = refused(cli, initdb, *upd)
    assert msg == (
        "Error: fixed_order_qty 40, ordered as 50 (raised to moq 45 and rounded up to "
        "order_multiple 10), is above the largest order max_order_qty 45 allows in multiples "
        "of 10 (40): MRP would split each fixed lot, and a part may serve nothing\n"
    )
    # A multiple the raised lot fits under the maximum with is fine: one order of 45.
    ok(cli, "item", "update", "FX", "--order-multiple", "5")


def test_check_warns_of_a_rounded_fixed_lot_stored_before(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(
        cli,
        tmp_path,
        FIXED_ABOVE_MAX.replace("fixed_order_qty: 100", "fixed_order_qty: 40").replace(
            "max_order_qty: 40", "max_order_qty: 40, order_multiple: 20"
        ),
    )
    with sqlite3.connect(initdb) as c:  # as stored before the rule: multiple 25
        c.execute("UPDATE item SET order_multiple = 25000000 WHERE code = 'FX'")
    # A need of 30 is one fixed lot of 50, split into two orders of 25.
    assert planned(cli, "FX") == ["25", "25"]
    rows = json.loads(ok(cli, "check", "-f", "json").stdout)
    [found] = [r for r in rows if r["check"] == "lot_rules"]
    assert found["message"].startswith(
        "fixed_order_qty 40, ordered as 50 (rounded up to order_multiple 25), is above the "
        "largest order max_order_qty 40 allows in multiples of 25 (25)"
    )
