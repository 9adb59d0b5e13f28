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
