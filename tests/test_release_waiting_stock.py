"""A release refused for a material that is in the house but not available names where
it waits (inspection, release, blocked): the way on is the quality step, not a purchase."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, day, dump, import_yaml, ok

SHOP = """
items:
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make}
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy, inspect_on_receipt: true}
boms:
  - {item: P, lines: [{item: A, qty: 1}]}
"""


def test_the_refusal_says_the_material_waits_for_inspection(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "A", "100")  # into pending_inspection
    ok(cli, "order", "create", "P", "10", "--due", day(5))
    before = dump(initdb)
    r = cli("order", "release", "1", "-f", "csv")
    assert r.exit_code == 1 and dump(initdb) == before
    assert r.stderr.splitlines()[-1] == (
        "Error: order 1 is short of A 10 pcs; nothing was reserved (receive the stock, or "
        "reserve what is free with --partial); in stock but not available: A 100 "
        "pending_inspection (see mfgctl inspect)"
    )
    ok(cli, "inspect", "A", "--pass")
    ok(cli, "order", "release", "1")
