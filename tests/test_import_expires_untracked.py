"""An opening balance's ``expires`` belongs to a lot: for an untracked item it would be
dropped without a word (no lot to hold it), so the import refuses it, naming the key."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, dump, import_yaml, ok

ITEMS = """
items:
  - {code: MILK, name: Milk, type: raw, unit: l, make_or_buy: buy, lead_time_days: 2}
  - {code: CREAM, name: Cream, type: raw, unit: l, make_or_buy: buy, lead_time_days: 2,
     tracking: lot}
"""


def test_expires_on_untracked_stock_is_refused(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, ITEMS)
    before = dump(initdb)
    path = tmp_path / "stock.yaml"
    path.write_text("stock:\n  - {item: MILK, qty: 3, expires: 2027-01-01}\n")
    r = cli("import", path)
    assert r.exit_code == 1
    assert r.stderr.splitlines()[0] == (
        f"Error: {path}:2: stock[0].expires: MILK is not lot- or serial-tracked: an expiry "
        "date needs a lot (make the item lot-tracked)"
    )
    assert dump(initdb) == before


def test_expires_on_a_lot_is_kept(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, ITEMS)
    path = tmp_path / "stock.yaml"
    path.write_text("stock:\n  - {item: CREAM, qty: 3, lot: C1, expires: 2027-01-01}\n")
    ok(cli, "import", path)
    assert "2027-01-01" in ok(cli, "stock", "lots", "CREAM").stdout
