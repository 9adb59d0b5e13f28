"""Crashes survived: kill -9 during a large import, an MRP firm and a recall.

Each command's database is prepared once (bench/crash.py builds it through mfgctl), then
for each kill a copy is made, the command started as a process and SIGKILLed after a
random delay, three in four of them inside its write transaction as measured on an
uninterrupted run. Afterwards the copy opens, `mfgctl check` exits 0, and its tables
equal the state before the command or after an uninterrupted run: all or nothing.
`bench/crash.py --kills N` is the long version.
"""

from __future__ import annotations

import random
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import crash  # bench/crash.py: the harness shared with the benchmark

KILLS = 10  # per command; bench/crash.py runs 100


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    work = tmp_path_factory.mktemp("crash")
    return work, {s.name: s for s in crash.prepare(work, size=1)}


@pytest.mark.parametrize("name", ["import", "mrp firm", "recall"])
def test_a_killed_command_leaves_all_or_nothing_and_check_passes(
    prepared: tuple[Path, dict[str, Any]], name: str
) -> None:
    work, scenarios = prepared
    s = scenarios[name]
    # The command is worth killing: it runs long enough and holds the write lock for
    # most of its run (measured on the uninterrupted run).
    assert s.write_until - s.write_from > 0.3 * s.seconds, (s.write_from, s.write_until)
    outcomes = [crash.attempt(s, work, d) for d in crash.delays(s, KILLS, random.Random(name))]
    for o in outcomes:
        assert o.check_code == 0, (o.delay, o.check_output)
        assert o.result in ("none", "all"), f"kill at {o.delay:.3f} s left part of {name}"
    killed = [o for o in outcomes if o.killed]
    # The delays lie within the measured run, so most attempts really kill the process
    # (a busy machine may shift a few), and most kills inside the write transaction
    # leave nothing.
    assert len(killed) >= KILLS // 2, [(o.delay, o.killed) for o in outcomes]
    assert sum(o.result == "none" for o in killed) >= len(killed) // 2


def test_an_uninterrupted_run_changes_the_tables(prepared: tuple[Path, dict[str, Any]]) -> None:
    # What "all" means for each command, so that "none" and "all" differ as they should.
    _, scenarios = prepared
    imported, firmed, recalled = (scenarios[n] for n in ("import", "mrp firm", "recall"))
    # import: 1,500 parts + 150 assemblies; every part's opening stock in two lots
    assert len(imported.after["item"]) - len(imported.before["item"]) == 1500 + 150
    assert len(imported.after["lot"]) - len(imported.before["lot"]) == 2 * 1500
    # mrp firm: every planned make order became a production order (200 products and
    # their 200 subassemblies, at least one order each)
    assert len(firmed.after["production_order"]) >= 400
    assert len(firmed.before["production_order"]) == 0
    # recall: lot B-17 sits in 1,500 racks; each is blocked by one inspection, B-18 not
    assert len(recalled.after["inspection"]) - len(recalled.before["inspection"]) == 1500


def test_a_state_that_is_neither_before_nor_after_is_caught(
    prepared: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    # The harness must be able to fail: one row more than before, and not the recall's
    # rows (as a command committing in two transactions would leave part of itself).
    _, scenarios = prepared
    s = scenarios["recall"]
    half = tmp_path / "half.db"
    crash.copy_db(s.db, half)
    c = sqlite3.connect(half, isolation_level=None)
    c.execute("INSERT INTO location (code, name, kind) VALUES ('EXTRA', 'x', 'internal')")
    c.close()
    now = crash.state(half)
    assert now != s.before and now != s.after
