"""``mfgctl location add | list``: real locations, and the virtual places beside them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, refused


def codes(cli: Cli, *args: str) -> list[tuple[str, str]]:
    r = cli("location", "list", "-f", "json", *args)
    assert r.exit_code == 0, r.stderr
    return [(row["code"], row["kind"]) for row in json.loads(r.stdout)]


def test_a_new_database_has_stores_and_the_virtual_places(cli: Cli, initdb: Path) -> None:
    assert codes(cli) == [("STORES", "internal")]
    assert codes(cli, "--all") == [
        ("STORES", "internal"),
        ("ADJUSTMENT", "adjustment"),
        ("CUSTOMER", "customer"),
        ("OPENING", "opening"),
        ("SCRAP", "scrap"),
        ("SUPPLIER", "supplier"),
    ]


def test_add_a_location_and_use_it(cli: Cli, initdb: Path) -> None:
    r = cli("location", "add", " LINE-1 ", "--name", "Line-side rack 1")
    assert r.exit_code == 0
    assert r.stderr == "Added location LINE-1\n"
    rows = json.loads(cli("location", "list", "-f", "json").stdout)
    assert rows == [
        {"code": "LINE-1", "name": "Line-side rack 1", "kind": "internal", "active": True},
        {"code": "STORES", "name": "Main stores", "kind": "internal", "active": True},
    ]
    cli("item", "add", "X1", "--name", "x", "--type", "raw", "--unit", "kg", "--make-or-buy", "buy")
    assert cli("stock", "receive", "X1", "2", "--location", "line-1").exit_code == 0
    assert "LINE-1" in cli("stock", "history", "X1", "--location", "LINE-1").stdout


def test_the_name_defaults_to_the_code(cli: Cli, initdb: Path) -> None:
    cli("location", "add", "QC")
    assert cli("location", "list", "-f", "plain").stdout.splitlines()[1] == "QC\tQC\tinternal\tyes"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("STORES",), "location STORES already exists"),
        ((" stores ",), "location STORES already exists"),
        (("supplier",), "location SUPPLIER already exists"),
        (("Q C",), "location code 'Q C' may only contain letters A-Z"),
        (("QC'; DELETE FROM location;--",), "may only contain letters A-Z"),
        (("LAGER-Ü",), "location code 'LAGER-Ü' may only contain"),
        (("",), "location code must not be empty"),
        (("QC", "--name", "two\tcolumns"), "location name must be one line of printable text"),
    ],
)
def test_bad_locations_are_refused_and_change_nothing(
    cli: Cli, initdb: Path, args: tuple[str, ...], message: str
) -> None:
    assert message in refused(cli, initdb, "location", "add", *args)


def test_list_needs_a_database(cli: Cli, db_path: Path) -> None:
    r = cli("location", "list")
    assert r.exit_code == 6
    assert "run `mfgctl init`" in r.stderr
