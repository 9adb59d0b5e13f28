"""A costed two-level plant for valuation tests, built through the real CLI.

CHIP and SCREW are bought at known costs; PCB is made of 2 CHIP + 1 SCREW; HD of
1 PCB + 2 SCREW. Numbers are worked by hand in tests/test_valuation.py.

- CHIP: 10 @ 1.00 and 5 @ 1.30 (15 @ 1.1); SCREW: 100 @ 0.031.
- Order 1: 4 PCB; 3 good and 1 scrapped relieve 8 CHIP and 4 SCREW.
- CHIP: 4 more @ 1.45.
- Order 2: 4 PCB; 3 good and 1 scrapped relieve 8 CHIP and 4 SCREW.
- Order 3: 2 HD; 2 good relieve 2 PCB and 4 SCREW.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from conftest import Cli, day, ok


def build(cli: Cli, *, at: str = "") -> None:
    """The plant; ``at`` is a ``--db`` path to point the CLI at (default: MFGCTL_DB)."""
    db = ("--db", at) if at else ()
    for code, kind, buy in (
        ("CHIP", "component", "buy"),
        ("SCREW", "component", "buy"),
        ("PCB", "subassembly", "make"),
        ("HD", "finished", "make"),
    ):
        ok(cli, *db, "item", "add", code, "--name", code.title(), "--type", kind,
           "--unit", "pcs", "--make-or-buy", buy)  # fmt: skip
    boms = Path(tempfile.mkdtemp()) / "boms.yaml"
    boms.write_text(
        "boms:\n"
        "  - item: PCB\n    revision: A\n    lines:\n"
        "      - {item: CHIP, qty: 2}\n      - {item: SCREW, qty: 1}\n"
        "  - item: HD\n    revision: A\n    lines:\n"
        "      - {item: PCB, qty: 1}\n      - {item: SCREW, qty: 2}\n",
        encoding="utf-8",
    )
    ok(cli, *db, "import", boms)
    ok(cli, *db, "stock", "receive", "CHIP", "10", "--cost", "1.00")
    ok(cli, *db, "stock", "receive", "CHIP", "5", "--cost", "1.30")
    ok(cli, *db, "stock", "receive", "SCREW", "100", "--cost", "0.031")
    ok(cli, *db, "order", "create", "PCB", "4", "--due", day(3))
    ok(cli, *db, "order", "release", "1")
    ok(cli, *db, "consume", "1")
    ok(cli, *db, "order", "complete", "1", "--qty", "3", "--scrap", "1")
    ok(cli, *db, "stock", "receive", "CHIP", "4", "--cost", "1.45")
    ok(cli, *db, "order", "create", "PCB", "4", "--due", day(4))
    ok(cli, *db, "order", "release", "2")
    ok(cli, *db, "consume", "2")
    ok(cli, *db, "order", "complete", "2", "--qty", "3", "--scrap", "1")
    ok(cli, *db, "order", "create", "HD", "2", "--due", day(5))
    ok(cli, *db, "order", "release", "3")
    ok(cli, *db, "consume", "3")
    ok(cli, *db, "order", "complete", "3", "--qty", "2")
