"""``mfgctl check``, ``init`` and ``--version``: proving the stock figures, and the
commands that exist before there is any stock. The data-quality checks are in
test_checks_quality.py."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import Cli, day, dump

from mfgctl import __version__


@pytest.fixture
def stocked(cli: Cli, initdb: Path) -> Path:
    cli("item", "add", "SOLDER", "--name", "Solder", "--type", "raw", "--unit", "kg",
        "--make-or-buy", "buy", "--lead-time-days", "14", "--cost", "60",
        "--planning-reviewed", day(0))  # fmt: skip
    cli("location", "add", "QC")
    cli("stock", "receive", "SOLDER", "5")
    cli("stock", "move", "SOLDER", "2", "--from", "STORES", "--to", "QC")
    cli("stock", "count", "SOLDER", "2.5")
    return initdb


def tamper(path: Path, sql: str) -> None:
    """What a stray script or a bug could do behind mfgctl's back."""
    with sqlite3.connect(path) as c:
        c.execute(sql)
    c.close()


def test_version(cli: Cli) -> None:
    r = cli("--version")
    assert (r.exit_code, r.stdout) == (0, f"mfgctl {__version__}\n")


def test_version_needs_no_database(cli: Cli, db_path: Path) -> None:
    assert cli("--version").exit_code == 0
    assert not db_path.exists()


def test_check_of_a_consistent_database(cli: Cli, stocked: Path) -> None:
    r = cli("check")
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "check: no problems found\n")
    r = cli("check", "-f", "json")
    assert (r.exit_code, r.stdout) == (0, "[]\n")


def test_check_of_an_empty_database(cli: Cli, initdb: Path) -> None:
    assert cli("check").exit_code == 0


def test_check_finds_a_balance_that_drifted(cli: Cli, stocked: Path) -> None:
    tamper(stocked, "UPDATE balance SET qty = qty + 500000 WHERE status = 'available' "
                    "AND location_id = (SELECT id FROM location WHERE code = 'QC')")  # fmt: skip
    r = cli("check", "-f", "json")
    assert r.exit_code == 4
    assert json.loads(r.stdout) == [
        {
            "severity": "error",
            "check": "zero_sum",
            "subject": "SOLDER",
            "message": "balances sum to 0.5, not 0",
        },
        {
            "severity": "error",
            "check": "balance",
            "subject": "SOLDER at QC/available lot -",
            "message": "balance table says 2.5, ledger says 2",
        },
    ]


def test_a_drifted_balance_of_a_lot_names_the_lot_by_its_code(cli: Cli, initdb: Path) -> None:
    for args in (
        ("item", "add", "MIC", "--name", "Mic", "--type", "component", "--unit", "pcs",
         "--make-or-buy", "buy", "--tracking", "lot"),
        ("stock", "receive", "MIC", "5", "--lot", "MX2405-118"),
    ):  # fmt: skip
        assert cli(*args).exit_code == 0
    tamper(initdb, "UPDATE balance SET qty = qty + 1000000 WHERE status = 'available'")
    rows = json.loads(cli("check", "-f", "json").stdout)
    (drift,) = [r for r in rows if r["check"] == "balance"]
    assert drift["subject"] == "MIC at STORES/available lot MX2405-118"


def test_check_lists_every_problem_as_a_table(cli: Cli, stocked: Path) -> None:
    tamper(stocked, "UPDATE balance SET qty = qty + 1 WHERE status IS NULL")
    r = cli("check")
    assert r.exit_code == 4
    assert r.stdout.count("balance table says") == 2  # SUPPLIER and ADJUSTMENT
    assert "zero_sum" in r.stdout


def test_check_finds_a_missing_balance_row(cli: Cli, stocked: Path) -> None:
    tamper(stocked, "DELETE FROM balance WHERE location_id = "
                    "(SELECT id FROM location WHERE code = 'QC')")  # fmt: skip
    r = cli("check", "-f", "plain")
    assert r.exit_code == 4
    assert "error\tbalance\tSOLDER at QC/available lot -\tbalance table says 0, ledger says 2" in (
        r.stdout
    )
    assert r.stderr == "Error: check: 2 errors, 0 warnings\n"  # the balance row, and zero_sum


def test_check_needs_a_database(cli: Cli, db_path: Path) -> None:
    r = cli("check")
    assert r.exit_code == 6
    assert "no database at" in r.stderr


def test_init_then_every_read_command_works_on_an_empty_database(cli: Cli, initdb: Path) -> None:
    for args in (("item", "list"), ("location", "list"), ("stock",), ("check",)):
        r = cli(*args)
        assert r.exit_code == 0, (args, r.stderr)


def test_the_sample_data_has_no_errors(cli: Cli, initdb: Path) -> None:
    sample = sorted((Path(__file__).parent.parent / "sample_data").glob("*.yaml"))
    assert cli("import", *sample).exit_code == 0
    before = dump(initdb)
    r = cli("check", "-f", "json")
    assert r.exit_code == 0, r.stdout
    rows = json.loads(r.stdout)
    assert [row for row in rows if row["severity"] == "error"] == []
    # What it does warn about: nobody has recorded a planning review yet, and the
    # opening stock in QC has been pending inspection since its date, 2025-12-31.
    assert {row["check"] for row in rows} <= {"planning_unreviewed", "inspection_age"}
    assert dump(initdb) == before
