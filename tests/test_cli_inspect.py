"""``mfgctl inspect``: what a quality inspector types, what the stock report then shows,
and that every refusal leaves the database exactly as it was."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, refused


@pytest.fixture
def shop(cli: Cli, initdb: Path) -> Path:
    """A lot-tracked microphone inspected on receipt (500 of lot M1 in QC), an untracked
    capacitor, a serial-tracked module, and a finished headset with release criteria."""
    buy = ("--make-or-buy", "buy", "--type", "component", "--unit", "pcs")
    for args in [
        ("MIC-100", "--name", "Microphone", "--tracking", "lot", "--inspect-on-receipt", *buy),
        ("CAP-10", "--name", "Capacitor", "--inspect-on-receipt", *buy),
        ("BT-7", "--name", "Module", "--tracking", "serial", "--inspect-on-receipt", *buy),
        ("HS-1", "--name", "Headset", "--type", "finished", "--unit", "pcs", "--make-or-buy",
         "make", "--tracking", "lot", "--release-criteria", "inspection,labeling"),
    ]:  # fmt: skip
        r = cli("item", "add", *args)
        assert r.exit_code == 0, r.stderr
    assert cli("location", "add", "QC").exit_code == 0
    assert (
        cli("stock", "receive", "MIC-100", "500", "--lot", "M1", "--location", "QC").exit_code == 0
    )
    return initdb


def stock(cli: Cli, item: str) -> dict[str, Decimal]:
    r = cli("stock", "-f", "json", "--item", item)
    assert r.exit_code == 0, r.stderr
    [row] = json.loads(r.stdout, parse_float=Decimal)
    return {k: v for k, v in row.items() if isinstance(v, int | Decimal) and v}


def inspect(cli: Cli, *args: object) -> list[dict]:
    r = cli("inspect", *args, "-f", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout, parse_float=Decimal)


def test_receive_pass_available(cli: Cli, shop: Path) -> None:
    assert stock(cli, "MIC-100") == {"physical": 500, "pending_inspection": 500}
    [rec] = inspect(cli, "MIC-100", "--lot", "M1", "--pass")
    assert (rec["from_status"], rec["to_status"], rec["qty"], rec["user"]) == (
        "pending_inspection",
        "available",
        500,
        "tester",
    )
    assert stock(cli, "MIC-100") == {"physical": 500, "available": 500, "free": 500}


@pytest.mark.parametrize(
    ("flag", "column"),
    [
        ("--pass", "available"),
        ("--fail", "rejected"),
        ("--rework", "rework"),
        ("--hold", "blocked"),
    ],
)
def test_each_decision_shows_on_the_stock_report(
    cli: Cli, shop: Path, flag: str, column: str
) -> None:
    inspect(cli, "MIC-100", "--lot", "M1", flag, "--qty", "120")
    after = stock(cli, "MIC-100")
    assert after["pending_inspection"] == 380
    assert after[column] == 120
    assert after["physical"] == 500


def test_reworked_units_come_back_through_inspection(cli: Cli, shop: Path) -> None:
    inspect(cli, "MIC-100", "--lot", "M1", "--rework", "--qty", "20")
    inspect(cli, "MIC-100", "--lot", "M1", "--pass")  # the other 480
    err = refused(cli, shop, "inspect", "MIC-100", "--lot", "M1", "--pass")
    assert "MIC-100 lot M1 is available at QC (480 pcs), rework at QC (20 pcs)" in err
    assert "--reworked" in err
    [rec] = inspect(cli, "MIC-100", "--lot", "M1", "--reworked")
    assert (rec["result"], rec["from_status"], rec["to_status"]) == (
        "reworked",
        "rework",
        "pending_inspection",
    )
    assert stock(cli, "MIC-100")["pending_inspection"] == 20
    inspect(cli, "MIC-100", "--lot", "M1", "--pass")
    assert stock(cli, "MIC-100")["available"] == 500


def test_hold_and_unblock_return_available_stock_to_available(cli: Cli, shop: Path) -> None:
    inspect(cli, "MIC-100", "--lot", "M1", "--pass")
    inspect(cli, "MIC-100", "--lot", "M1", "--hold", "--qty", "100", "--note", "supplier recall")
    assert stock(cli, "MIC-100") == {"physical": 500, "available": 400, "free": 400, "blocked": 100}
    [rec] = inspect(cli, "MIC-100", "--lot", "M1", "--unblock")
    assert rec["to_status"] == "available"
    assert stock(cli, "MIC-100")["available"] == 500


def test_measurements_are_kept_exactly(cli: Cli, shop: Path) -> None:
    inspect(cli, "MIC-100", "--lot", "M1", "--pass", "--qty", "0.5",
            "--measure", "sensitivity=-42.15", "-m", "thd=0.1", "-m", "visual=ok")  # fmt: skip
    r = cli("inspect", "list", "-f", "json")
    [rec] = json.loads(r.stdout, parse_float=Decimal)
    assert rec["measurements"] == {
        "sensitivity": Decimal("-42.15"),
        "thd": Decimal("0.1"),
        "visual": "ok",
    }
    assert rec["qty"] == Decimal("0.5")
    assert '"thd":0.1' in r.stdout
    plain = cli("inspect", "list", "-f", "plain").stdout
    assert "sensitivity=-42.15; thd=0.1; visual=ok" in plain


def test_list_filters(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "CAP-10", "50")
    inspect(cli, "MIC-100", "--lot", "M1", "--fail", "--qty", "1", "--note", "cracked")
    inspect(cli, "CAP-10", "--pass")
    rows = json.loads(cli("inspect", "list", "--item", "MIC-100", "-f", "json").stdout)
    assert [(r["item"], r["result"], r["note"]) for r in rows] == [("MIC-100", "fail", "cracked")]
    assert len(json.loads(cli("inspect", "list", "-f", "json").stdout)) == 2
    assert json.loads(cli("inspect", "list", "--lot", "M1", "-f", "json").stdout)[0]["lot"] == "M1"
    assert cli("inspect", "list", "--since", "2999-01-01", "-f", "json").stdout == "[]\n"


def test_a_serial_is_inspected(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "BT-7", "2", "--serial", "S1", "--serial", "S2")
    inspect(cli, "BT-7", "--serial", "S1", "--pass")
    assert stock(cli, "BT-7") == {"physical": 2, "available": 1, "free": 1, "pending_inspection": 1}


def test_pass_of_a_finished_item_waits_for_release(cli: Cli, shop: Path) -> None:
    cli("stock", "adjust", "HS-1", "--add", "5", "--lot", "H1", "--status", "pending_inspection",
        "--reason", "output")  # fmt: skip
    inspect(cli, "HS-1", "--lot", "H1", "--pass")
    assert stock(cli, "HS-1") == {"physical": 5, "awaiting_release": 5}


# -- refusals ----------------------------------------------------------------------------


def test_wrong_from_status_names_where_the_stock_is(cli: Cli, shop: Path) -> None:
    inspect(cli, "MIC-100", "--lot", "M1", "--pass")
    err = refused(cli, shop, "inspect", "MIC-100", "--lot", "M1", "--location", "QC", "--fail")
    assert err == (
        "Error: MIC-100 lot M1 at QC is available (500 pcs), not pending_inspection or rework "
        "or awaiting_release: nothing to fail\n"
    )
    err = refused(cli, shop, "inspect", "MIC-100", "--lot", "M1", "--unblock")
    assert "is available at QC (500 pcs), not blocked: nothing to unblock" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("MIC-100", "--pass"), "MIC-100 is lot-tracked: give --lot"),
        (("MIC-100", "--lot", "NOPE", "--pass"), "MIC-100 has no lot 'NOPE'"),
        (("BT-7", "--pass"), "BT-7 is serial-tracked: give --serial"),
        (("CAP-10", "--lot", "X", "--pass"), "CAP-10 is not lot- or serial-tracked"),
        (("CAP-10", "--pass"), "CAP-10 has no stock: nothing to pass"),
        (("NOSUCH", "--pass"), "unknown item 'NOSUCH'"),
        (("MIC-100", "--lot", "M1", "--pass", "--qty", "600"),
         "only 500 pcs of MIC-100 lot M1 at QC are pending_inspection, not 600"),
        (("MIC-100", "--lot", "M1", "--pass", "--qty", "-1"), "--qty must not be negative"),
        (("MIC-100", "--lot", "M1", "--pass", "--location", "NOWHERE"), "unknown location"),
        (("MIC-100", "--lot", "M1", "--pass", "--location", "STORES"),
         "MIC-100 lot M1 has no stock at STORES: nothing to pass"),
        (("MIC-100", "--lot", "M1", "--pass", "-m", "bad"), "must be NAME=VALUE"),
        (("MIC-100", "--lot", "M1", "--hold", "--status", "rejected"),
         "--hold takes stock from available or pending_inspection or awaiting_release"),
    ],
)  # fmt: skip
def test_refusals_change_nothing(cli: Cli, shop: Path, args: tuple[str, ...], message: str) -> None:
    err = refused(cli, shop, "inspect", *args)
    assert message in err


def test_exactly_one_decision_is_a_usage_error(cli: Cli, shop: Path) -> None:
    refused(cli, shop, "inspect", "MIC-100", "--lot", "M1", code=2)
    err = refused(cli, shop, "inspect", "MIC-100", "--lot", "M1", "--pass", "--fail", code=2)
    assert "give exactly one of --pass, --fail" in err


def test_the_explicit_form_and_help(cli: Cli, shop: Path) -> None:
    r = cli("inspect", "decide", "MIC-100", "--lot", "M1", "--pass", "--qty", "1")
    assert r.exit_code == 0, r.stderr
    r = cli("inspect", "--help")
    assert r.exit_code == 0 and "--pass" in r.stdout and "list" in r.stdout
