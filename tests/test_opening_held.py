"""An opening balance is for stock mfgctl does not hold yet: a ``stock:`` record for a
place that already holds stock received another way is not added on top of it. Held as
the file says (an export imported into the database it came from): unchanged; held
otherwise: refused, so stock is never counted twice."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, dump, import_yaml, ok, refused

ITEM = """
items:
  - {code: P, name: Part, type: component, unit: pcs, make_or_buy: buy, cost: 2}
  - {code: L, name: Lotted, type: component, unit: pcs, make_or_buy: buy, tracking: lot}
"""


def _physical(cli: Cli, item: str) -> str:
    rows = ok(cli, "stock", "-f", "csv").stdout.splitlines()
    header = rows[0].split(",")
    for row in rows[1:]:
        cells = dict(zip(header, row.split(","), strict=True))
        if cells["item"] == item:
            return cells["physical"]
    raise AssertionError(item)


def test_the_export_imported_into_its_own_database_changes_nothing(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, ITEM)
    ok(cli, "stock", "receive", "P", "10")
    ok(cli, "stock", "receive", "L", "5", "--lot", "A1")
    out = tmp_path / "export.yaml"
    ok(cli, "export", "-o", out)
    before = dump(initdb)
    ok(cli, "import", out)
    assert dump(initdb) == before
    assert _physical(cli, "P") == "10"  # it was 20: the receipt and the export's copy


def test_a_place_holding_other_stock_refuses_the_opening_balance(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, ITEM)
    ok(cli, "stock", "receive", "P", "10")
    opening = tmp_path / "opening.yaml"
    opening.write_text("stock:\n  - {item: P, qty: 4}\n")
    message = refused(cli, initdb, "import", opening, one_line=False)
    assert (
        "stock[0]: P at STORES/available already holds 10 pcs that did not come from an "
        "opening balance, not 4: an opening balance is for stock mfgctl does not hold yet; "
        "correct it with `mfgctl stock count` or `mfgctl stock adjust`"
    ) in message


def test_an_empty_place_or_a_new_lot_still_takes_its_opening_balance(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, ITEM)
    ok(cli, "stock", "receive", "L", "5", "--lot", "A1")
    ok(cli, "stock", "receive", "P", "3")
    ok(cli, "stock", "adjust", "P", "--remove", "3", "--reason", "used up")
    import_yaml(
        cli,
        tmp_path,
        "stock:\n  - {item: P, qty: 4}\n  - {item: L, qty: 2, lot: B1}\n",
        name="opening.yaml",
    )
    assert _physical(cli, "P") == "4"
    assert _physical(cli, "L") == "7"


def test_a_place_that_had_an_opening_balance_and_moved_since_reimports_its_export(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # Opening 5, then 3 received: the export says 8, which the place holds.
    import_yaml(cli, tmp_path, ITEM + "stock:\n  - {item: P, qty: 5}\n")
    ok(cli, "stock", "receive", "P", "3")
    out = tmp_path / "export.yaml"
    ok(cli, "export", "-o", out)
    before = dump(initdb)
    ok(cli, "import", out)
    assert dump(initdb) == before
    assert _physical(cli, "P") == "8"


def test_received_serials_reimport_from_the_export(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(
        cli,
        tmp_path,
        "items:\n  - {code: S, name: Sensor, type: component, unit: pcs, make_or_buy: buy,"
        " tracking: serial}\n",
    )
    ok(cli, "stock", "receive", "S", "2", "--serials", "X1,X2")
    out = tmp_path / "export.yaml"
    ok(cli, "export", "-o", out)
    before = dump(initdb)
    ok(cli, "import", out)
    assert dump(initdb) == before
    # A serial that left the place is still refused as an opening balance there.
    ok(cli, "location", "add", "LINE")
    ok(cli, "stock", "move", "S", "1", "--from", "STORES", "--to", "LINE", "--lot", "X1")
    message = refused(cli, initdb, "import", out, one_line=False)
    assert "serial X1 of S already exists outside this opening balance" in message
