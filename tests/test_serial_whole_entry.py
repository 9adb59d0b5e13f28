"""A serial is one unit and is never split: every command that moves, counts, reserves or
releases a quantity of a serial-tracked item refuses a fraction of one with the same
one-line whole-unit error (``items.check_whole``), exit 1, nothing written. Before,
``stock move SENS 0.5 --lot S1`` left half of serial S1 at each of two locations and
``reserve SENS 0.5 --for SO-1`` reserved half a sensor, both then reported by ``check``
as ``serial_fraction`` errors."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, import_yaml, ok, refused
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SHOP = """\
locations:
  - {code: QC, name: Quality control}
items:
  - {code: SENS, name: Sensor, type: component, unit: pcs, make_or_buy: buy,
     tracking: serial, lead_time_days: 5, cost: 20, units: {pair: 2}}
  - {code: DEV, name: Device, type: finished, unit: pcs, make_or_buy: make,
     tracking: serial, lead_time_days: 2}
stock:
  - {item: SENS, qty: 3, serials: [S1, S2, S3]}
"""


def whole_error(qty: str, what: str = "quantity", item: str = "SENS") -> str:
    return (
        f"Error: {item} is serial-tracked: {what} {qty} pcs must be a whole number of units "
        "(one serial each)\n"
    )


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    import_yaml(cli, tmp_path, SHOP)
    # One serial of DEV waiting for release (its output would land there).
    ok(cli, "stock", "adjust", "DEV", "--add", "1", "--lot", "D1",
       "--status", "awaiting_release", "--reason", "opening")  # fmt: skip
    return initdb


def serial_errors(cli: Cli) -> list[dict[str, str]]:
    r = cli("check", "-f", "json")
    return [p for p in json.loads(r.stdout) if p["check"] == "serial_fraction"]


REFUSED = [
    # The findings: half a serial moved to another location, half a serial reserved.
    (("stock", "move", "SENS", "0.5", "--from", "STORES", "--to", "QC", "--lot", "S1"),
     whole_error("0.5")),
    # A unit that converts to a fraction of a serial: 0.25 pair = 0.5 pcs.
    (("stock", "move", "SENS", "0.25", "--unit", "pair", "--from", "STORES", "--to", "QC",
      "--lot", "S1"), whole_error("0.5")),
    (("reserve", "SENS", "0.5", "--for", "SO-1"), whole_error("0.5")),
    # 1.5 would have been one serial and half of another.
    (("reserve", "SENS", "1.5", "--for", "SO-1"), whole_error("1.5")),
    (("reserve", "add", "SENS", "0.5", "--for", "SO-1", "--lot", "S3"), whole_error("0.5")),
    # The other entry points that took a fraction of a serial.
    (("stock", "count", "SENS", "0.5", "--lot", "S2"), whole_error("0.5", "counted quantity")),
    (("stock", "adjust", "SENS", "--remove", "0.5", "--lot", "S2", "--reason", "count"),
     whole_error("0.5")),
    (("stock", "adjust", "SENS", "--add", "0.5", "--lot", "S9", "--reason", "found"),
     whole_error("0.5")),
    (("release", "D1", "--item", "DEV", "--qty", "0.5"), whole_error("0.5", "--qty", "DEV")),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), REFUSED, ids=[" ".join(a[:5]) for a, _m in REFUSED])
def test_a_fraction_of_a_serial_is_refused(
    cli: Cli, shop: Path, args: tuple[str, ...], message: str
) -> None:
    assert refused(cli, shop, *args) == message
    assert serial_errors(cli) == []


def test_whole_serials_still_move_count_reserve_and_release(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "move", "SENS", "1", "--from", "STORES", "--to", "QC", "--lot", "S1")
    ok(cli, "stock", "count", "SENS", "0", "--lot", "S1", "--location", "QC")
    ok(cli, "stock", "adjust", "SENS", "--add", "1", "--lot", "S9", "--reason", "found")
    ok(cli, "reserve", "SENS", "2", "--for", "SO-1")
    ok(cli, "release", "D1", "--item", "DEV", "--qty", "1")
    stock = json.loads(ok(cli, "stock", "--item", "SENS", "-f", "json").stdout)
    assert [(r["available"], r["reserved"], r["free"]) for r in stock] == [(3, 2, 1)]
    assert serial_errors(cli) == []


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    qty=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(3), places=3).filter(
        lambda d: d != d.to_integral_value()
    ),
    command=st.sampled_from(["move", "reserve"]),
)
def test_no_fraction_of_a_serial_is_moved_or_reserved(
    cli: Cli, shop: Path, qty: Decimal, command: str
) -> None:
    if command == "move":
        args = ("stock", "move", "SENS", qty, "--from", "STORES", "--to", "QC", "--lot", "S1")
    else:
        args = ("reserve", "SENS", qty, "--for", "SO-1")
    err = refused(cli, shop, *args)
    assert err.endswith("must be a whole number of units (one serial each)\n"), err
