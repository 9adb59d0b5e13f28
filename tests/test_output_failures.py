"""mfgctl run from cron and shell scripts, as real processes: what a script is told when
its environment is not what it meant, or when the output cannot be written after the
command has done its work (a Latin-1 terminal, a reader that went away, a full disk,
Ctrl-C). The exit code and the ``Error:`` line must say whether the command's changes
were saved, so that a script that retries on failure never books twice."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import dump


def mfgctl(
    *args: str, cwd: Path, env: dict[str, str] | None = None, **kwargs: object
) -> subprocess.CompletedProcess[bytes]:
    """Run the real console entry point (``python -m mfgctl``) with a cron-like
    environment: no locale, no terminal, MFGCTL_USER set."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MFGCTL_USER": "cron"}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "mfgctl", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output="stdout" not in kwargs,
        **kwargs,
    )


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A database with one bought item, W, and nothing in stock."""
    db = tmp_path / "shop.db"
    for args in (
        ["init"],
        ["item", "add", "W", "--name", "Widget", "--type", "component", "--unit", "pcs",
         "--make-or-buy", "buy"],
    ):  # fmt: skip
        r = mfgctl("--db", str(db), *args, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    return db


def receipts(db: Path) -> int:
    """How many moves the ledger holds (each receipt is one)."""
    c = sqlite3.connect(db)
    try:
        return int(c.execute("SELECT count(*) FROM move").fetchone()[0])
    finally:
        c.close()


# -- An empty variable is not an unset one (finding t17 #9) -------------------------


def test_an_empty_mfgctl_user_is_refused_not_replaced_by_the_login_name(shop: Path) -> None:
    before = dump(shop)
    r = mfgctl("stock", "receive", "W", "1", cwd=shop.parent,
               env={"MFGCTL_DB": str(shop), "MFGCTL_USER": ""})  # fmt: skip
    assert r.returncode == 1
    assert r.stderr.decode() == (
        "Error: --user (or MFGCTL_USER) must be one line of printable text, 1 to 80 "
        "characters (leave it out for the login name)\n"
    )
    assert dump(shop) == before


def test_user_option_still_wins_over_an_empty_mfgctl_user(shop: Path) -> None:
    r = mfgctl("--user", "anna", "stock", "receive", "W", "1", cwd=shop.parent,
               env={"MFGCTL_DB": str(shop), "MFGCTL_USER": ""})  # fmt: skip
    assert r.returncode == 0, r.stderr
    c = sqlite3.connect(shop)
    assert c.execute("SELECT user FROM move").fetchall() == [("anna",)]
    c.close()


def test_an_empty_mfgctl_db_is_refused_not_taken_for_mfgctl_db_here(tmp_path: Path) -> None:
    r = mfgctl("init", cwd=tmp_path, env={"MFGCTL_DB": ""})
    assert r.returncode == 1
    assert r.stderr.decode() == (
        "Error: MFGCTL_DB is empty: set it to the database file, or unset it for ./mfgctl.db\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_db_option_still_wins_over_an_empty_mfgctl_db(shop: Path) -> None:
    r = mfgctl("--db", str(shop), "stock", "-f", "csv", cwd=shop.parent, env={"MFGCTL_DB": ""})
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().startswith("item,")
