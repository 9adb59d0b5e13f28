"""``mfgctl backup FILE``: a consistent copy while other processes write.

The copy is one instant of the database: it passes ``mfgctl check`` and holds a prefix
of the ledger (every move up to its last one, exactly as in the source, nothing after).
An existing file is never overwritten without ``--force``, and a refused backup leaves
nothing behind.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import sqlite3
import time
from pathlib import Path

from conftest import Cli, dump, refused
from typer.testing import CliRunner

from mfgctl import db as dbmod
from mfgctl.cli import app
from mfgctl.domain import items
from mfgctl.domain import stock as ops

ITEM = {"name": "Solder wire", "type": "raw", "unit": "kg", "make_or_buy": "buy"}


def receive_forever(path: str, stop: mp.synchronize.Event, started: mp.synchronize.Event) -> None:
    """A writer: one receipt per transaction, as `mfgctl stock receive` commits it."""
    conn = dbmod.connect(path)
    n = 0
    try:
        while not stop.is_set():
            n += 1
            with dbmod.transaction(conn, path):
                ops.receive(conn, item="SLD", qty=f"0.{n % 997 + 1:03d}", user="w", ref=f"R{n}")
            if n == 20:
                started.set()
    finally:
        conn.close()


def moves(path: Path) -> list[tuple[object, ...]]:
    c = sqlite3.connect(path)
    try:
        return c.execute("SELECT * FROM move ORDER BY seq").fetchall()
    finally:
        c.close()


def check(copy: Path) -> tuple[int, list[dict[str, str]]]:
    r = CliRunner().invoke(app, ["--db", str(copy), "check", "-f", "json"])
    return r.exit_code, json.loads(r.stdout or "[]")


def test_backup_while_another_process_writes_is_a_consistent_prefix(
    initdb: Path, cli: Cli, tmp_path: Path
) -> None:
    conn = dbmod.connect(initdb)
    with dbmod.transaction(conn):
        items.add(conn, "SLD", ITEM)
    conn.close()
    ctx = mp.get_context("fork")
    stop, started = ctx.Event(), ctx.Event()
    writer = ctx.Process(target=receive_forever, args=(str(initdb), stop, started), daemon=True)
    writer.start()
    copies = []
    try:
        assert started.wait(30), "the writer never got going"
        for n in range(3):
            copy = tmp_path / f"copy-{n}.db"
            r = cli("backup", copy, "-f", "json")
            assert r.exit_code == 0, r.stderr
            [row] = json.loads(r.stdout)
            assert row["backup"] == str(copy) and row["integrity"] == "ok"
            copies.append((copy, row))
            time.sleep(0.05)
    finally:
        stop.set()
        writer.join(30)
    assert writer.exitcode == 0
    source = moves(initdb)
    assert len(source) > copies[-1][1]["moves"], "the writer went on after the last backup"
    by_seq = {m[0]: m for m in source}
    last_seqs = []
    for copy, row in copies:
        code, problems = check(copy)
        assert code == 0, problems
        assert not [p for p in problems if p["severity"] == "error"]
        held = moves(copy)
        # A prefix: seq 1..last, each move identical to the source's.
        assert [m[0] for m in held] == list(range(1, row["last_seq"] + 1))
        assert len(held) == row["moves"] >= 20
        assert all(by_seq[m[0]] == m for m in held)
        # The copy's balances are the ledger's (check above) and its stock of SLD is the
        # sum of the receipts it holds (qty in micro-units).
        c = sqlite3.connect(copy)
        total = c.execute("SELECT sum(qty) FROM balance WHERE qty > 0").fetchone()[0]
        c.close()
        assert total == sum(m[3] for m in held)
        last_seqs.append(row["last_seq"])
    assert last_seqs == sorted(last_seqs)
    # No temporary file left beside the copies.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_backup_refuses_to_overwrite_without_force(initdb: Path, cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "old-backup.db"
    target.write_bytes(b"last week's backup")
    err = refused(cli, initdb, "backup", target)
    assert "already exists" in err and "--force" in err
    assert target.read_bytes() == b"last week's backup"
    r = cli("backup", target, "--force", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)[0]["moves"] == 0
    code, problems = check(target)
    assert code == 0 and not [p for p in problems if p["severity"] == "error"]


def test_backup_into_a_missing_directory_or_onto_itself_is_refused(
    initdb: Path, cli: Cli, tmp_path: Path
) -> None:
    err = refused(cli, initdb, "backup", tmp_path / "no" / "such" / "b.db")
    assert "directory" in err and "does not exist" in err
    before = dump(initdb)
    err = refused(cli, initdb, "backup", initdb, "--force")
    assert "the database itself" in err
    assert dump(initdb) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [initdb.name]


def test_backup_of_a_missing_database_exits_6(db_path: Path, cli: Cli, tmp_path: Path) -> None:
    r = cli("backup", tmp_path / "b.db")
    assert r.exit_code == 6
    assert "no database" in r.stderr
    assert not (tmp_path / "b.db").exists()


def test_an_old_database_is_copied_as_it_is_not_upgraded(cli: Cli, db_path: Path) -> None:
    """The backup an administrator takes before trying a new mfgctl keeps the old schema:
    the source is not upgraded by the backup, and the copy upgrades when it is used."""
    from test_migrations import make_v1, user_version

    make_v1(db_path)
    before = db_path.read_bytes()
    copy = db_path.parent / "before-upgrade.db"
    r = cli("backup", copy, "-f", "json")
    assert r.exit_code == 0, r.stderr
    [row] = json.loads(r.stdout)
    assert (row["schema_version"], row["moves"]) == (1, 1)
    assert db_path.read_bytes() == before  # the source: untouched, still schema 1
    assert (user_version(db_path), user_version(copy)) == (1, 1)
    r = cli("--db", copy, "stock", "-f", "json")  # used, the copy upgrades itself
    assert r.exit_code == 0, r.stderr
    assert [(s["item"], s["available"]) for s in json.loads(r.stdout)] == [("MIC-100", 100)]
    assert user_version(copy) == dbmod.SCHEMA_VERSION
