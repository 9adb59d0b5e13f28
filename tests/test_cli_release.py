"""``mfgctl release``: finished goods become available only when every release criterion
is met; the end-to-end story from receipt and output to sellable stock."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, ok, refused


@pytest.fixture
def shop(cli: Cli, initdb: Path) -> Path:
    """A finished headset (lot-tracked, criteria inspection, labeling, packaging) with
    lot H1 awaiting release: 10 in STORES, 4 in QC; and a cable sharing the lot code X1."""
    make = ("--type", "finished", "--unit", "pcs", "--make-or-buy", "make")
    for args in [
        ("HS-1", "--name", "Headset", "--tracking", "lot", *make,
         "--release-criteria", "inspection,labeling,packaging"),
        ("CB-1", "--name", "Cable", "--tracking", "lot", *make),
        ("MIC-100", "--name", "Microphone", "--type", "component", "--unit", "pcs",
         "--make-or-buy", "buy", "--tracking", "lot", "--inspect-on-receipt"),
    ]:  # fmt: skip
        ok(cli, "item", "add", *args)
    ok(cli, "location", "add", "QC")
    for item, lot, qty, location in [
        ("HS-1", "H1", "10", "STORES"),
        ("HS-1", "H1", "4", "QC"),
        ("HS-1", "X1", "1", "STORES"),
        ("CB-1", "X1", "3", "STORES"),
    ]:
        ok(cli, "stock", "adjust", item, "--add", qty, "--lot", lot, "--location", location,
           "--status", "awaiting_release", "--reason", "production output")  # fmt: skip
    return initdb


def stock(cli: Cli, item: str) -> dict[str, Decimal]:
    [row] = json.loads(ok(cli, "stock", "-f", "json", "--item", item).stdout, parse_float=Decimal)
    return {k: v for k, v in row.items() if isinstance(v, int | Decimal) and v}


def test_end_to_end_inspection_and_release(cli: Cli, shop: Path) -> None:
    # A purchased part: received into inspection, not available until it passes.
    ok(cli, "stock", "receive", "MIC-100", "200", "--lot", "M1")
    assert stock(cli, "MIC-100") == {"physical": 200, "pending_inspection": 200}
    ok(cli, "inspect", "MIC-100", "--lot", "M1", "--pass")
    assert stock(cli, "MIC-100") == {"physical": 200, "available": 200, "free": 200}

    # Finished goods awaiting release: not sellable until every criterion is met.
    assert stock(cli, "HS-1") == {"physical": 15, "awaiting_release": 15}
    err = refused(cli, shop, "release", "H1")
    assert (
        "HS-1 lot H1 cannot be released: criteria not met: inspection, labeling, packaging" in err
    )
    r = ok(cli, "release", "check", "H1", "labeling", "--note", "labels verified")
    out = r.stdout + r.stderr
    assert (
        "Signed off labeling for HS-1 lot H1 (14 pcs awaiting release); still unmet: "
        "inspection, packaging" in out
    )
    ok(cli, "release", "check", "H1", "packaging")
    err = refused(cli, shop, "release", "H1")
    assert "criteria not met: inspection (met: labeling, packaging)" in err
    assert "mfgctl inspect HS-1 --lot H1 --pass" in err
    ok(cli, "inspect", "HS-1", "--lot", "H1", "--pass", "--location", "QC", "-m", "snr=62.5")
    assert stock(cli, "HS-1") == {"physical": 15, "awaiting_release": 15}  # a pass is not a release
    r = ok(cli, "release", "H1", "-f", "json")
    moves = json.loads(r.stdout)
    assert sorted((m["from"], m["to"], m["qty"]) for m in moves) == [
        ("QC/awaiting_release", "QC/available", 4),
        ("STORES/awaiting_release", "STORES/available", 10),
    ]
    assert stock(cli, "HS-1") == {
        "physical": 15,
        "available": 14,
        "free": 14,
        "awaiting_release": 1,
    }
    ok(cli, "check")  # no errors (warnings: planning never reviewed)


def test_release_at_one_location(cli: Cli, shop: Path) -> None:
    ok(cli, "inspect", "HS-1", "--lot", "H1", "--pass", "--location", "QC", "--qty", "1")
    ok(cli, "release", "check", "H1", "labeling")
    ok(cli, "release", "check", "H1", "packaging")
    ok(cli, "release", "lot", "H1", "--location", "QC")  # the explicit form
    assert stock(cli, "HS-1")["available"] == 4
    assert stock(cli, "HS-1")["awaiting_release"] == 11


def test_status_lists_waiting_lots_with_met_and_unmet(cli: Cli, shop: Path) -> None:
    ok(cli, "release", "check", "H1", "labeling")
    r = ok(cli, "release", "status", "--item", "HS-1", "-f", "json")
    rows = json.loads(r.stdout + r.stderr)
    assert rows == [
        {"item": "HS-1", "lot": "H1", "qty": 14, "locations": ["QC", "STORES"],
         "met": ["labeling"], "unmet": ["inspection", "packaging"], "releasable": False},
        {"item": "HS-1", "lot": "X1", "qty": 1, "locations": ["STORES"],
         "met": [], "unmet": ["inspection", "labeling", "packaging"], "releasable": False},
    ]  # fmt: skip
    plain = cli("release", "status", "-f", "plain").stdout.splitlines()
    assert plain[0] == "item\tlot\tqty\tlocations\tmet\tunmet\treleasable"
    assert "CB-1\tX1\t3\tSTORES\t\t\tyes" in plain


def test_an_item_without_criteria_is_released_at_once(cli: Cli, shop: Path) -> None:
    ok(cli, "release", "X1", "--item", "CB-1")
    assert stock(cli, "CB-1") == {"physical": 3, "available": 3, "free": 3}


# -- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("release", "NOPE"), "Error: no lot or serial 'NOPE'\n"),
        (("release", "X1"), "Error: lot X1 exists for several items (CB-1, HS-1): give --item\n"),
        (("release", "check", "X1", "labeling"), "lot X1 exists for several items"),
        (("release", "H1", "--item", "CB-1"), "Error: CB-1 has no lot 'H1'\n"),
        (("release", "check", "H1", "colour"),
         "Error: HS-1 has no release criterion 'colour' (its criteria: inspection, labeling, "
         "packaging)\n"),
        (("release", "check", "H1", "inspection"),
         "criterion inspection of HS-1 lot H1 is met by a recorded pass inspection"),
        (("release", "check", "X1", "labeling", "--item", "CB-1"),
         "Error: CB-1 has no release criteria: nothing to sign off\n"),
        (("release", "H1", "--location", "NOWHERE"), "unknown location 'NOWHERE'"),
        (("release", "status", "--item", "NOSUCH"), "unknown item 'NOSUCH'"),
    ],
)  # fmt: skip
def test_refusals_change_nothing(cli: Cli, shop: Path, args: tuple[str, ...], message: str) -> None:
    err = refused(cli, shop, *args)
    assert message in err


def test_signing_twice_is_refused(cli: Cli, shop: Path) -> None:
    ok(cli, "release", "check", "H1", "labeling")
    err = refused(cli, shop, "release", "check", "H1", "labeling")
    assert err.startswith(
        "Error: criterion labeling of HS-1 lot H1 was already signed off by tester"
    )


def test_a_released_lot_has_nothing_left_to_release(cli: Cli, shop: Path) -> None:
    ok(cli, "release", "X1", "--item", "CB-1")
    err = refused(cli, shop, "release", "X1", "--item", "CB-1")
    assert (
        err
        == "Error: CB-1 lot X1 has nothing awaiting release: it is available at STORES (3 pcs)\n"
    )


def test_a_serial_is_signed_off_and_released(cli: Cli, shop: Path) -> None:
    ok(cli, "item", "add", "HD-200", "--name", "Hearing device", "--type", "finished",
       "--unit", "pcs", "--make-or-buy", "make", "--tracking", "serial",
       "--release-criteria", "inspection,labeling")  # fmt: skip
    ok(cli, "stock", "adjust", "HD-200", "--add", "1", "--lot", "SN-1", "--status",
       "awaiting_release", "--reason", "output")  # fmt: skip
    ok(cli, "inspect", "HD-200", "--serial", "SN-1", "--pass", "-m", "snr=62.50")
    r = ok(cli, "release", "check", "SN-1", "labeling")
    out = r.stdout + r.stderr
    assert (
        "Signed off labeling for HD-200 serial SN-1 (1 pcs awaiting release); every criterion "
        "is met" in out
    )
    ok(cli, "release", "SN-1")
    assert stock(cli, "HD-200") == {"physical": 1, "available": 1, "free": 1}
