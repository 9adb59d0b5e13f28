"""No place holds 10^12 base units or more of an item: every quantity a user types is
below that, so what ``export`` writes as a place's opening balance is always one that
``import`` reads back. A move that would pass it is refused and changes nothing."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, ok, refused


def test_a_receipt_that_would_pass_the_limit_is_refused(cli: Cli, initdb: Path) -> None:
    ok(cli, "item", "add", "GRAIN", "--name", "Sand grain", "--type", "raw", "--unit", "pcs",
       "--make-or-buy", "buy")  # fmt: skip
    ok(cli, "stock", "receive", "GRAIN", "999999999999")
    err = refused(cli, initdb, "stock", "receive", "GRAIN", "1")
    assert err == (
        "Error: GRAIN at STORES/available would hold 1000000000000 pcs: more than one place "
        "can hold (limit 1,000,000,000,000)\n"
    )
    # Another place may hold as much again.
    ok(cli, "location", "add", "YARD", "--name", "Yard")
    ok(cli, "stock", "receive", "GRAIN", "999999999999", "--location", "YARD")


def test_the_largest_balance_exports_and_imports_back(
    cli: Cli, initdb: Path, tmp_path: Path, db_path: Path
) -> None:
    ok(cli, "item", "add", "GRAIN", "--name", "Sand grain", "--type", "raw", "--unit", "pcs",
       "--make-or-buy", "buy")  # fmt: skip
    ok(cli, "stock", "receive", "GRAIN", "999999999998.5")
    ok(cli, "stock", "receive", "GRAIN", "0.499999")
    exported = tmp_path / "shop.yaml"
    ok(cli, "export", "-o", exported)
    other = tmp_path / "other.db"
    ok(cli, "--db", other, "init")
    ok(cli, "--db", other, "import", exported)
    shown = ok(cli, "--db", other, "stock", "--item", "GRAIN", "-f", "plain").stdout
    assert "999999999998.999999" in shown
