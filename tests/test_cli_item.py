"""``mfgctl item``: add, list, show, update, deactivate, through the real CLI."""

from __future__ import annotations

import json
import shlex
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, refused

MIC = ("--name", "Electret microphone", "--type", "component", "--unit", "pcs")


def add_mic(cli: Cli, code: str = "MIC-100", *extra: str) -> None:
    r = cli("item", "add", code, *MIC, "--make-or-buy", "buy", *extra)
    assert r.exit_code == 0, r.stderr


def test_add_then_show_every_field(cli: Cli, initdb: Path) -> None:
    r = cli(
        "item", "add", "MIC-100", *MIC, "--make-or-buy", "buy",
        "--units", "reel=5000", "--lead-time-days", "14", "--safety-stock", "250",
        "--cost", "0.35", "--inspect-on-receipt",
    )  # fmt: skip
    assert r.exit_code == 0
    assert "Added item MIC-100 (Electret microphone)" in r.stderr

    shown = json.loads(cli("item", "show", "mic-100", "-f", "json").stdout, parse_float=Decimal)
    assert shown == [
        {
            "code": "MIC-100",
            "name": "Electret microphone",
            "type": "component",
            "unit": "pcs",
            "make_or_buy": "buy",
            "units": {"reel": 5000},
            "method": None,
            "tracking": "none",
            "purchase_lead_time_days": 14,
            "mfg_lead_time_days": 0,
            "moq": None,
            "max_order_qty": None,
            "order_multiple": None,
            "safety_stock": 250,
            "lot_sizing": "lot_for_lot",
            "fixed_order_qty": None,
            "period_days": None,
            "cost": Decimal("0.35"),
            "inspect_on_receipt": True,
            "release_criteria": [],
            "planning_reviewed": None,
            "active": True,
            "serial_pattern": None,
            "backflush": False,
        }
    ]


def test_show_as_a_table_lists_fields_and_units(cli: Cli, initdb: Path) -> None:
    add_mic(cli, "MIC-100", "--units", "reel=5000")
    r = cli("item", "show", "MIC-100", "-f", "plain")
    assert r.exit_code == 0
    assert "units\t1 reel = 5000\n" in r.stdout
    assert "make_or_buy\tbuy\n" in r.stdout


def test_list_filters_by_type_search_and_activity(cli: Cli, initdb: Path) -> None:
    add_mic(cli, "MIC-100")
    cli("item", "add", "SOLDER", "--name", "Solder wire", "--type", "raw", "--unit", "kg",
        "--make-or-buy", "buy")  # fmt: skip
    cli("item", "add", "HS-1", "--name", "Headset", "--type", "finished", "--unit", "pcs",
        "--make-or-buy", "make")  # fmt: skip

    def codes(*args: str) -> list[str]:
        r = cli("item", "list", "-f", "json", *args)
        assert r.exit_code == 0, r.stderr
        return [row["code"] for row in json.loads(r.stdout)]

    assert codes() == ["HS-1", "MIC-100", "SOLDER"]
    assert codes("--type", "raw") == ["SOLDER"]
    assert codes("--make-or-buy", "make") == ["HS-1"]
    assert codes("--search", "wire") == ["SOLDER"]
    cli("item", "deactivate", "SOLDER")
    assert codes() == ["HS-1", "MIC-100"]
    assert codes("--all") == ["HS-1", "MIC-100", "SOLDER"]


def test_list_of_no_items_is_an_empty_json_list(cli: Cli, initdb: Path) -> None:
    r = cli("item", "list", "-f", "json")
    assert r.exit_code == 0
    assert r.stdout.strip() == "[]"


HEADER = "code,name,type,unit,make_or_buy,tracking,lead_time_days,safety_stock,cost,active"


@pytest.mark.parametrize("args", [(), ("--search", "zzzz")])
def test_list_of_no_items_prints_the_header_alone_in_csv_and_plain(
    cli: Cli, initdb: Path, args: tuple[str, ...]
) -> None:
    # As every other list: a script reading the columns by name sees them with no rows.
    if args:
        add_mic(cli)
    r = cli("item", "list", *args, "-f", "csv")
    assert (r.exit_code, r.stdout) == (0, HEADER + "\n")
    r = cli("item", "list", *args, "-f", "plain")
    assert (r.exit_code, r.stdout) == (0, HEADER.replace(",", "\t") + "\n")
    assert cli("item", "list", "-f", "csv").stdout.splitlines()[0] == HEADER


def test_a_make_item_gets_make_to_stock(cli: Cli, initdb: Path) -> None:
    cli("item", "add", "HS-1", "--name", "Headset", "--type", "finished", "--unit", "pcs",
        "--make-or-buy", "make", "--lead-time-days", "3")  # fmt: skip
    shown = json.loads(cli("item", "show", "HS-1", "-f", "json").stdout)[0]
    assert shown["method"] == "make_to_stock"
    assert shown["mfg_lead_time_days"] == 3


def test_update_changes_only_the_given_fields(cli: Cli, initdb: Path) -> None:
    add_mic(cli)
    r = cli("item", "update", " mic-100 ", "--name", "Mic v2", "--safety-stock", "10.5")
    assert r.exit_code == 0
    assert "Updated MIC-100: name, safety_stock" in r.stderr
    shown = json.loads(cli("item", "show", "MIC-100", "-f", "json").stdout, parse_float=Decimal)[0]
    assert (shown["name"], shown["safety_stock"], shown["unit"]) == (
        "Mic v2",
        Decimal("10.5"),
        "pcs",
    )


def test_update_with_the_same_values_says_nothing_changed(cli: Cli, initdb: Path) -> None:
    add_mic(cli)
    r = cli("item", "update", "MIC-100", "--unit", "pcs")
    assert r.exit_code == 0
    assert "MIC-100: nothing changed" in r.stderr


def test_deactivate_then_reactivate(cli: Cli, initdb: Path) -> None:
    add_mic(cli)
    r = cli("item", "deactivate", "MIC-100")
    assert r.exit_code == 0 and "Deactivated MIC-100" in r.stderr
    refused = cli("stock", "receive", "MIC-100", "5")
    assert refused.exit_code == 1
    assert "MIC-100 is deactivated" in refused.stderr
    r = cli("item", "update", "MIC-100", "--active")
    assert r.exit_code == 0, r.stderr
    assert cli("stock", "receive", "MIC-100", "5").exit_code == 0


# -- refusals: one line on stderr, exit 1 (or 2 for usage), the database unchanged -----


MIC_ARGS = "--name Mic --type component --unit pcs"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (f"item add MIC-100 {MIC_ARGS} --make-or-buy buy", "item MIC-100 already exists"),
        (f"item add ' mic-100 ' {MIC_ARGS} --make-or-buy buy", "item MIC-100 already exists"),
        (f"item add X1 {MIC_ARGS}", "item X1 needs make_or_buy"),
        (f"item add X1 {MIC_ARGS} --make-or-buy rent", "make_or_buy must be one of make, buy"),
        ("item add X1 --name x --type gizmo --unit pcs --make-or-buy buy", "type must be one of"),
        (
            f'item add "X\'; DROP TABLE item;--" {MIC_ARGS} --make-or-buy buy',
            'item code "X\'; DROP TABLE item;--" may only contain',
        ),
        (f"item add MÏC-1 {MIC_ARGS} --make-or-buy buy", "item code 'MÏC-1' may only contain"),
        (f"item add {'A' * 41} {MIC_ARGS} --make-or-buy buy", "is longer than 40 characters"),
        (
            f"item add X1 {MIC_ARGS} --make-or-buy buy --units reel=5e3",
            "units.reel factor '5e3' is not a plain decimal",
        ),
        (
            f"item add X1 {MIC_ARGS} --make-or-buy buy --safety-stock NaN",
            "safety_stock 'NaN' is not a plain decimal",
        ),
        (
            f"item add X1 {MIC_ARGS} --make-or-buy buy --moq 10 --max-order-qty 5",
            "max_order_qty 5 is below moq 10",
        ),
        (
            f"item add X1 {MIC_ARGS} --make-or-buy buy --lot-sizing fixed",
            "lot_sizing fixed needs fixed_order_qty",
        ),
        ("item show MIC-10", "unknown item 'MIC-10' (did you mean MIC-100?)"),
        ("item update NOPE --name x", "unknown item 'NOPE'"),
        ("item update MIC-100", "nothing to update"),
        ("item deactivate NOPE", "unknown item 'NOPE'"),
    ],
)
def test_bad_item_commands_are_refused_and_change_nothing(
    cli: Cli, initdb: Path, command: str, message: str
) -> None:
    add_mic(cli)
    assert message in refused(cli, initdb, *shlex.split(command))


def test_a_units_option_without_a_factor_is_a_usage_error(cli: Cli, initdb: Path) -> None:
    args = ("item", "add", "X1", *MIC, "--make-or-buy", "buy", "--units", "reel")
    assert "'reel' is not NAME=FACTOR" in refused(cli, initdb, *args, code=2)


def test_the_base_unit_cannot_change_once_stock_moved(cli: Cli, initdb: Path) -> None:
    add_mic(cli)
    cli("stock", "receive", "MIC-100", "10")
    err = refused(cli, initdb, "item", "update", "MIC-100", "--unit", "kg")
    assert "cannot change the base unit of MIC-100 from pcs to kg" in err


def test_tracking_cannot_change_once_stock_moved(cli: Cli, initdb: Path) -> None:
    add_mic(cli)
    cli("stock", "receive", "MIC-100", "10")
    err = refused(cli, initdb, "item", "update", "MIC-100", "--tracking", "lot")
    assert "cannot change tracking of MIC-100 from none to lot" in err


def test_deactivating_twice_is_refused(cli: Cli, initdb: Path) -> None:
    add_mic(cli)
    cli("item", "deactivate", "MIC-100")
    err = refused(cli, initdb, "item", "deactivate", "mic-100")
    assert err == "Error: item MIC-100 is already deactivated\n"


@pytest.mark.parametrize("flag", ["--active", "--no-active"])
def test_add_does_not_offer_the_activity_flags_of_update(cli: Cli, initdb: Path, flag: str) -> None:
    # An item is added active; only update (and deactivate) change that, so add's
    # --help does not list the flags, and giving one is a usage error.
    assert "--active" not in cli("item", "add", "--help").stdout
    assert "--active / --no-active" in cli("item", "update", "--help").stdout
    err = refused(cli, initdb, "item", "add", "P", "--name", "p", "--type", "component",
                  "--unit", "pcs", "--make-or-buy", "buy", flag, code=2)  # fmt: skip
    assert f"No such option: {flag}" in err
