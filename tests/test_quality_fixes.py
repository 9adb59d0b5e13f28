"""Quality decisions, from a tester's findings: a serial is decided in whole units, an
unblock sends only what a hold record vouches for back to where it was held from, a
``--reworked`` decision is listed as such, and measurements keep their digits in JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, import_yaml, ok, refused

SHOP = """
locations:
  - {code: STORES, name: Stores}
  - {code: LINE, name: Line}
items:
  - {code: R, name: Raw, type: raw, unit: pcs, make_or_buy: buy, tracking: lot,
     inspect_on_receipt: true, cost: 1}
  - {code: SN, name: Serial part, type: component, unit: pcs, make_or_buy: buy,
     tracking: serial, inspect_on_receipt: true, cost: 5}
"""


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    """A lot-tracked raw material and a serial-tracked part, both inspected on receipt."""
    import_yaml(cli, tmp_path, SHOP)
    return initdb


def stock(cli: Cli, item: str, location: str | None = None) -> dict[str, Decimal]:
    """The non-zero numbers of the item's stock row (at one location, if given)."""
    args = ["stock", "-f", "json", "--item", item]
    if location:
        args += ["--location", location]
    rows = json.loads(ok(cli, *args).stdout, parse_float=Decimal)
    if not rows:
        return {}
    [row] = rows
    return {k: v for k, v in row.items() if isinstance(v, int | Decimal) and v}


def decide(cli: Cli, *args: object) -> list[dict]:
    return json.loads(ok(cli, "inspect", *args, "-f", "json").stdout, parse_float=Decimal)


# -- 1. a serial is one unit -------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "qty"),
    [
        (("--pass",), "0.5"),
        (("--fail",), "0.5"),
        (("--rework",), "0.25"),
        (("--hold",), "0.999999"),
    ],
)
def test_a_fraction_of_a_serial_is_refused(
    cli: Cli, shop: Path, args: tuple[str, ...], qty: str
) -> None:
    ok(cli, "stock", "receive", "SN", "1", "--serial", "X1")
    err = refused(cli, shop, "inspect", "SN", "--serial", "X1", *args, "--qty", qty)
    assert err == (
        f"Error: SN is serial-tracked: --qty {qty} pcs must be a whole number of units "
        "(one serial each)\n"
    )
    assert stock(cli, "SN") == {"physical": 1, "pending_inspection": 1}


def test_a_fraction_of_a_blocked_or_reworked_serial_is_refused(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "SN", "2", "--serial", "X1", "--serial", "X2")
    ok(cli, "inspect", "SN", "--serial", "X1", "--hold", "--qty", "1")
    ok(cli, "inspect", "SN", "--serial", "X2", "--rework")
    for args in (("--serial", "X1", "--unblock"), ("--serial", "X2", "--reworked")):
        err = refused(cli, shop, "inspect", "SN", *args, "--qty", "0.5")
        assert "SN is serial-tracked: --qty 0.5 pcs must be a whole number of units" in err


def test_a_whole_serial_is_decided_as_before(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "SN", "1", "--serial", "X1")
    [rec] = decide(cli, "SN", "--serial", "X1", "--pass", "--qty", "1")
    assert (rec["qty"], rec["to_status"]) == (1, "available")
    assert stock(cli, "SN") == {"physical": 1, "available": 1, "free": 1}


# -- 4. an unblock trusts a hold record only for the units it blocked ---------------------


def receive_and_pass(cli: Cli, qty: int = 10) -> None:
    ok(cli, "stock", "receive", "R", qty, "--lot", "L1")
    ok(cli, "inspect", "R", "--lot", "L1", "--pass")


def test_blocked_units_added_after_the_held_ones_left_are_inspected_again(
    cli: Cli, shop: Path
) -> None:
    receive_and_pass(cli)
    ok(cli, "inspect", "R", "--lot", "L1", "--hold", "--qty", "5")
    adjust = ("stock", "adjust", "R", "--lot", "L1", "--status", "blocked", "--reason")
    ok(cli, *adjust, "destroyed", "--remove", "5")
    ok(cli, *adjust, "found in returns bin", "--add", "3")
    [rec] = decide(cli, "R", "--lot", "L1", "--unblock")
    assert (rec["qty"], rec["from_status"], rec["to_status"]) == (
        3,
        "blocked",
        "pending_inspection",
    )
    assert stock(cli, "R") == {
        "physical": 8,
        "available": 5,
        "free": 5,
        "pending_inspection": 3,
    }


def test_held_units_are_counted_gone_first_when_some_blocked_stock_leaves(
    cli: Cli, shop: Path
) -> None:
    receive_and_pass(cli)
    ok(cli, "inspect", "R", "--lot", "L1", "--hold", "--qty", "4")
    ok(cli, "stock", "adjust", "R", "--lot", "L1", "--status", "blocked", "--add", "2",
       "--reason", "found")  # fmt: skip
    ok(cli, "stock", "adjust", "R", "--lot", "L1", "--status", "blocked", "--remove", "3",
       "--reason", "scrapped")  # fmt: skip
    # 3 blocked are left: 1 of the 4 held, and the 2 that nobody vouches for.
    recs = decide(cli, "R", "--lot", "L1", "--unblock")
    assert [(r["to_status"], r["qty"]) for r in recs] == [
        ("pending_inspection", 2),
        ("available", 1),
    ]


def test_blocked_stock_moved_or_counted_in_goes_back_to_inspection(cli: Cli, shop: Path) -> None:
    receive_and_pass(cli)
    ok(cli, "inspect", "R", "--lot", "L1", "--hold", "--qty", "5")
    ok(cli, "stock", "move", "R", "5", "--from", "STORES", "--to", "LINE", "--lot", "L1",
       "--status", "blocked")  # fmt: skip
    ok(cli, "stock", "count", "R", "5", "--lot", "L1", "--status", "blocked")
    for location in ("STORES", "LINE"):
        [rec] = decide(cli, "R", "--lot", "L1", "--unblock", "--location", location)
        assert (rec["location"], rec["qty"], rec["to_status"]) == (
            location,
            5,
            "pending_inspection",
        )
    assert stock(cli, "R", "STORES") == {
        "physical": 10,
        "available": 5,
        "free": 5,
        "pending_inspection": 5,
    }
    assert stock(cli, "R", "LINE") == {"physical": 5, "pending_inspection": 5}


def test_earlier_unblocks_are_taken_into_account(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "R", "10", "--lot", "L1")
    ok(cli, "inspect", "R", "--lot", "L1", "--pass", "--qty", "6")
    ok(cli, "inspect", "R", "--lot", "L1", "--hold", "--status", "available", "--qty", "4")
    ok(cli, "inspect", "R", "--lot", "L1", "--hold", "--status", "pending_inspection", "--qty", "2")
    ok(cli, "stock", "adjust", "R", "--lot", "L1", "--status", "blocked", "--add", "1",
       "--reason", "found")  # fmt: skip
    # The least trusted first: the 2 held from pending_inspection and the 1 nobody
    # vouches for go to pending_inspection; the 4 held from available come back last.
    recs = decide(cli, "R", "--lot", "L1", "--unblock", "--qty", "3")
    assert [(r["to_status"], r["qty"]) for r in recs] == [("pending_inspection", 3)]
    recs = decide(cli, "R", "--lot", "L1", "--unblock")
    assert [(r["to_status"], r["qty"]) for r in recs] == [("available", 4)]
    assert stock(cli, "R") == {
        "physical": 11,
        "available": 6,
        "free": 6,
        "pending_inspection": 5,
    }


def test_held_units_still_go_back_where_they_were_held_from(cli: Cli, shop: Path) -> None:
    receive_and_pass(cli)
    ok(cli, "inspect", "R", "--lot", "L1", "--hold", "--qty", "5")
    ok(cli, "stock", "adjust", "R", "--lot", "L1", "--status", "blocked", "--remove", "2",
       "--reason", "scrapped")  # fmt: skip
    [rec] = decide(cli, "R", "--lot", "L1", "--unblock")
    assert (rec["qty"], rec["to_status"]) == (3, "available")


# -- 7. a --reworked decision is listed as reworked -------------------------------------


def test_a_reworked_decision_is_listed_as_reworked_in_every_format(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "R", "10", "--lot", "L1")
    ok(cli, "inspect", "R", "--lot", "L1", "--rework", "--qty", "2")
    [rec] = decide(cli, "R", "--lot", "L1", "--reworked", "--qty", "2")
    assert (rec["result"], rec["from_status"], rec["to_status"]) == (
        "reworked",
        "rework",
        "pending_inspection",
    )
    ok(cli, "inspect", "R", "--lot", "L1", "--pass", "--qty", "2")

    listed = json.loads(ok(cli, "inspect", "list", "-f", "json").stdout)
    assert [(r["result"], r["from_status"], r["to_status"]) for r in listed] == [
        ("rework", "pending_inspection", "rework"),
        ("reworked", "rework", "pending_inspection"),
        ("pass", "pending_inspection", "available"),
    ]
    csv_lines = ok(cli, "inspect", "list", "-f", "csv").stdout.splitlines()
    assert [line.split(",")[7] for line in csv_lines] == ["result", "rework", "reworked", "pass"]
    plain = ok(cli, "inspect", "list", "-f", "plain").stdout.splitlines()
    assert [line.split("\t")[7] for line in plain] == ["result", "rework", "reworked", "pass"]
    for fmt in ("table", "markdown"):
        out = ok(cli, "inspect", "list", "-f", fmt).stdout
        assert out.count(" reworked ") == 1 and out.count(" pass ") == 1, out
    ok(cli, "inspect", "R", "--lot", "L1", "--rework", "--qty", "1")
    out = ok(cli, "inspect", "R", "--lot", "L1", "--reworked", "-f", "csv").stdout
    assert out.splitlines()[1].split(",")[7:10] == ["reworked", "rework", "pending_inspection"]


# -- 8. measurements keep their digits in JSON ---------------------------------------------


def test_json_writes_measurements_with_the_digits_as_typed(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "R", "10.50", "--lot", "L1")
    measures = ["gain_db=-42.50", "offset=+3", "tiny=0.00000010", "half=.5", "visual=ok"]
    args = [a for m in measures for a in ("--measure", m)]
    out = ok(cli, "inspect", "R", "--lot", "L1", "--pass", "--qty", "1.50", *args, "-f", "json")
    expected = (
        '"measurements":{"gain_db":-42.50,"offset":3,"tiny":0.00000010,"half":0.5,"visual":"ok"}'
    )
    assert expected in out.stdout
    assert '"qty":1.5,' in out.stdout  # quantities are written as before
    listed = ok(cli, "inspect", "list", "-f", "json").stdout
    assert expected in listed
    [rec] = json.loads(listed, parse_float=Decimal)
    assert str(rec["measurements"]["gain_db"]) == "-42.50"
    plain = ok(cli, "inspect", "list", "-f", "plain").stdout.splitlines()[1].split("\t")
    assert plain[11] == "gain_db=-42.50; offset=3; tiny=0.00000010; half=0.5; visual=ok"


def test_only_exact_decimals_keep_their_trailing_zeros_in_json() -> None:
    from mfgctl.render import Exact, to_json

    assert to_json({"a": Exact("-42.50"), "b": Decimal("-42.50"), "c": Exact("1E-7")}) == (
        '{"a":-42.50,"b":-42.5,"c":0.0000001}'
    )
