"""An item that an open production order still needs as a material stays active: a
planned order keeps the BOM revision it was made with (an engineer replaces P1 by P2 in
revision B while an order is open on revision A) and a released one its frozen
materials, so deactivating P1 would make MRP leave the order's requirement out while
the order can no longer get P1 (tester t16 #2). ``check`` reports such an order of a
database written before the rule (``inactive_open``)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from conftest import Cli, day, import_yaml, ok, refused

SHOP = """
items:
  - {code: FG, name: Widget, type: finished, unit: pcs, make_or_buy: make}
  - {code: KIT, name: Kit, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: P1, name: Part 1 old, type: component, unit: pcs, make_or_buy: buy,
     lead_time_days: 5}
  - {code: P2, name: Part 2 new, type: component, unit: pcs, make_or_buy: buy,
     lead_time_days: 5}
boms:
  - item: FG
    revision: A
    lines:
      - {item: P1, qty: 1}
"""

REV_B = """
boms:
  - item: FG
    revision: B
    lines:
      - {item: P2, qty: 1}
"""

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def refusal(*parts: str) -> str:
    return (
        "Error: item P1 cannot be deactivated while it has open work (planning would leave "
        f"it out): {', '.join(parts)}\n"
    )


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    import_yaml(cli, tmp_path, SHOP)
    return initdb


def planned_on_a(cli: Cli, tmp_path: Path, qty: str = "10") -> None:
    """A planned order made with revision A, then revision B (without P1) active."""
    ok(cli, "order", "create", "FG", qty, "--due", day(60))
    import_yaml(cli, tmp_path, REV_B, "rev_b.yaml")


def mrp_orders(cli: Cli) -> list[dict]:
    return json.loads(ok(cli, "mrp", "-f", "json").stdout)["planned_orders"]


def test_a_planned_order_on_the_old_revision_keeps_its_material_active(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    planned_on_a(cli, tmp_path)
    assert [(p["item"], p["qty"]) for p in mrp_orders(cli)] == [("P1", 10)]
    expected = refusal(
        "planned production order 1 of FG still needs 10 pcs of it "
        "(revision A; mfgctl order cancel 1)"
    )
    assert refused(cli, shop, "item", "deactivate", "P1") == expected
    assert refused(cli, shop, "item", "update", "P1", "--no-active") == expected
    path = tmp_path / "obsolete.yaml"
    path.write_text(
        "items:\n  - {code: P1, name: Part 1 old, type: component, unit: pcs, "
        "make_or_buy: buy, lead_time_days: 5, active: false}\n",
        encoding="utf-8",
    )
    err = refused(cli, shop, "import", path, one_line=False)
    assert f"Error: {path}:2: items[0]: {expected.removeprefix('Error: ')}" in err
    # MRP still plans the purchase the order needs.
    assert [(p["item"], p["qty"]) for p in mrp_orders(cli)] == [("P1", 10)]
    ok(cli, "order", "cancel", "1")
    ok(cli, "item", "deactivate", "P1")


def test_the_readme_quotes_the_refusal_as_printed(cli: Cli, shop: Path, tmp_path: Path) -> None:
    planned_on_a(cli, tmp_path)
    flat = re.sub(r"\s+", " ", README)
    quote = re.findall(r"`(Error: item P1 cannot be deactivated[^`]*)`", flat)
    assert quote == [cli("item", "deactivate", "P1").stderr.strip()]


def test_an_order_made_again_on_the_new_revision_lets_it_go(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    planned_on_a(cli, tmp_path)
    ok(cli, "order", "cancel", "1")
    ok(cli, "order", "create", "FG", "10", "--due", day(60))  # revision B: P2
    ok(cli, "item", "deactivate", "P1")
    assert [(p["item"], p["qty"]) for p in mrp_orders(cli)] == [("P2", 10)]


def test_a_released_order_names_what_its_frozen_materials_still_lack(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    ok(cli, "stock", "receive", "P1", "4")
    ok(cli, "order", "create", "FG", "10", "--due", day(60))
    ok(cli, "order", "release", "1", "--partial")  # 4 reserved, 6 short
    import_yaml(cli, tmp_path, REV_B, "rev_b.yaml")  # the frozen materials keep P1
    assert refused(cli, shop, "item", "deactivate", "P1") == refusal(
        "released production order 1 of FG still needs 6 pcs of it "
        "(revision A; mfgctl order cancel 1)"
    )
    ok(cli, "stock", "receive", "P1", "6")
    ok(cli, "reserve", "add", "1")  # reserves the other 6: nothing lacking
    ok(cli, "item", "deactivate", "P1")


def test_a_started_order_that_consumed_it_all_lets_it_go(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "P1", "10")
    ok(cli, "order", "create", "FG", "10", "--due", day(60))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")  # started, every material consumed into its WIP
    ok(cli, "item", "deactivate", "P1")  # the open order lacks nothing of it


def test_an_in_progress_order_short_of_it_is_named(cli: Cli, shop: Path, tmp_path: Path) -> None:
    ok(cli, "stock", "receive", "P1", "10")
    ok(cli, "order", "create", "FG", "10", "--due", day(60))
    ok(cli, "order", "release", "1")
    ok(cli, "order", "start", "1")
    ok(cli, "consume", "1", "--item", "P1", "--qty", "4")
    ok(cli, "reserve", "cancel", "1")  # the other 6 are no longer held for it
    assert refused(cli, shop, "item", "deactivate", "P1") == refusal(
        "in-progress production order 1 of FG still needs 6 pcs of it "
        "(revision A; mfgctl order complete 1 --final)"
    )
    ok(cli, "order", "complete", "1", "--qty", "4", "--final")
    ok(cli, "item", "deactivate", "P1")


def test_a_material_reached_through_a_phantom_counts(cli: Cli, shop: Path, tmp_path: Path) -> None:
    import_yaml(
        cli,
        tmp_path,
        "boms:\n  - item: KIT\n    lines:\n      - {item: P1, qty: 2}\n"
        "  - item: FG\n    revision: K\n    lines:\n      - {item: KIT, qty: 1, phantom: true}\n",
        "phantom.yaml",
    )
    ok(cli, "order", "create", "FG", "3", "--due", day(60))
    import_yaml(cli, tmp_path, REV_B, "rev_b.yaml")
    assert refused(cli, shop, "item", "deactivate", "P1") == refusal(
        "planned production order 1 of FG still needs 6 pcs of it "
        "(revision K; mfgctl order cancel 1)"
    )
    ok(cli, "item", "deactivate", "KIT")  # passed through: the order never needs KIT


def test_a_material_covered_by_its_substitute_is_not_needed(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    import_yaml(
        cli,
        tmp_path,
        "boms:\n  - item: FG\n    revision: S\n    lines:\n"
        "      - {item: P1, qty: 1, substitutes: [P2]}\n"
        "stock:\n  - {item: P2, qty: 10}\n",
        "subs.yaml",
    )
    ok(cli, "order", "create", "FG", "10", "--due", day(60))
    ok(cli, "order", "release", "1")  # P2 reserved in P1's place
    import_yaml(cli, tmp_path, REV_B, "rev_b.yaml")
    ok(cli, "item", "deactivate", "P1")


def test_more_than_five_records_name_the_orders_left_over(cli: Cli, shop: Path) -> None:
    for _ in range(4):
        ok(cli, "demand", "add", "P1", "1", "--due", day(20), "--kind", "forecast")
    for _ in range(3):
        ok(cli, "order", "create", "FG", "1", "--due", day(60))
    err = refused(cli, shop, "item", "deactivate", "P1")
    assert "forecast 4 (mfgctl demand cancel 4), planned production order 1 of FG" in err
    assert err.endswith(
        "and 2 more (mfgctl demand list, purchase list, order list --item P1; orders 2, 3 "
        "need it: mfgctl order show N)\n"
    )
    ok(cli, "order", "cancel", "3")
    err = refused(cli, shop, "item", "deactivate", "P1")
    assert err.endswith("; order 2 needs it: mfgctl order show 2)\n")


def test_check_reports_an_order_that_needs_a_deactivated_material(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    planned_on_a(cli, tmp_path)
    assert "inactive_open" not in ok(cli, "check").stdout
    # An older mfgctl let P1 be deactivated; MRP then leaves the order's need out.
    with sqlite3.connect(shop) as c:
        c.execute("UPDATE item SET active = 0 WHERE code = 'P1'")
    c.close()
    assert mrp_orders(cli) == []
    r = ok(cli, "check", "-f", "json")  # P1 is in no active BOM: warnings only, exit 0
    found = [p for p in json.loads(r.stdout) if p["check"] == "inactive_open"]
    assert found == [
        {
            "severity": "warning",
            "check": "inactive_open",
            "subject": "ORDER-1",
            "message": f"open production order 1 of 10 pcs FG (revision A, planned) due "
            f"{day(60)} still needs 10 pcs P1, but P1 is deactivated: planning leaves it out "
            "and it can no longer be received; end it (mfgctl order cancel 1) or reactivate "
            "P1 (mfgctl item update P1 --active)",
        }
    ]
    ok(cli, "order", "cancel", "1")
    assert "inactive_open" not in ok(cli, "check").stdout


def test_check_reports_an_order_made_from_an_active_bom_with_a_deactivated_item(
    cli: Cli, shop: Path
) -> None:
    # Created by an older mfgctl, which let an order be made from a BOM using a
    # deactivated item (order create refuses it now).
    ok(cli, "order", "create", "FG", "2", "--due", day(60))
    with sqlite3.connect(shop) as c:
        c.execute("UPDATE item SET active = 0 WHERE code = 'P1'")
    c.close()
    r = cli("check", "-f", "json")
    assert r.exit_code == 4  # bom_inactive is an error
    checks = [(p["check"], p["subject"]) for p in json.loads(r.stdout)]
    assert ("bom_inactive", "FG rev A") in checks
    assert ("inactive_open", "ORDER-1") in checks


def test_mrp_says_when_an_order_needs_a_deactivated_material(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    planned_on_a(cli, tmp_path)
    with sqlite3.connect(shop) as c:  # deactivated by an older mfgctl
        c.execute("UPDATE item SET active = 0 WHERE code = 'P1'")
    c.close()
    r = ok(cli, "mrp", "-f", "json")
    found = [e for e in json.loads(r.stdout)["exceptions"] if e["code"] == "inactive_material"]
    # Before: nothing planned and nothing said.
    assert [(e["item"], e["ref"]) for e in found] == [("P1", "ORDER-1")]
    assert found[0]["message"] == (
        "ORDER-1 (FG) still needs 10 P1, which is deactivated: MRP plans nothing for it "
        "(reactivate it: mfgctl item update P1 --active, or cancel the order: mfgctl order "
        "cancel 1)"
    )


def test_order_create_refuses_a_bom_that_uses_a_deactivated_material(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    # P1 deactivated while no order needs it; revision A (still active) uses it.
    ok(cli, "item", "deactivate", "P1")
    msg = refused(cli, shop, "order", "create", "FG", "10", "--due", day(60))
    # Before: created, short of P1 for good (MRP plans nothing for it).
    assert msg == (
        "Error: FG BOM revision A uses P1, deactivated: reactivate it (mfgctl item update P1 "
        "--active) or store a revision without it\n"
    )
    import_yaml(cli, tmp_path, REV_B, "rev_b.yaml")
    ok(cli, "order", "create", "FG", "10", "--due", day(60))


def test_mrp_says_when_a_planned_order_needs_a_deactivated_material(cli: Cli, shop: Path) -> None:
    ok(cli, "item", "deactivate", "P1")  # no open order: allowed; check's bom_inactive
    ok(cli, "demand", "add", "FG", "4", "--due", day(30), "--kind", "sales", "--ref", "SO-1")
    doc = json.loads(ok(cli, "mrp", "-f", "json").stdout)
    assert [(o["item"], o["qty"]) for o in doc["planned_orders"]] == [("FG", 4)]
    found = [e for e in doc["exceptions"] if e["code"] == "inactive_material"]
    # Before: FG planned, and nothing said of the P1 it cannot be made without.
    assert [(e["item"], e["ref"], e["message"]) for e in found] == [
        (
            "P1",
            "planned 1 (FG)",
            "planned 1 (FG) needs 4 P1, which is deactivated: MRP plans nothing for it "
            "(reactivate it: mfgctl item update P1 --active, or store revisions without it)",
        )
    ]


def test_can_build_refuses_as_order_create_does(cli: Cli, shop: Path) -> None:
    """Stock of a deactivated material does not make the item buildable: it could not
    be ordered (tester t20 #5)."""
    ok(cli, "stock", "receive", "P1", "100")
    assert json.loads(ok(cli, "mrp", "can-build", "FG", "10", "-f", "json").stdout)["buildable"]
    ok(cli, "item", "deactivate", "P1")
    msg = refused(cli, shop, "mrp", "can-build", "FG", "10")
    # Before: "Yes: 10 pcs of FG can be built now from free stock".
    assert msg == (
        "Error: FG's BOM uses P1, deactivated: it cannot be ordered (mfgctl item update P1 "
        "--active, or store a revision without it)\n"
    )
