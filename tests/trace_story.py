"""A small plant for shipping and traceability tests, built through the real CLI.

CHIP (lot-tracked, bought) -> PCB (lot-tracked, 2 CHIP each) -> HD (serial-tracked,
1 PCB + 2 SCREW each, released after a packaging sign-off); SCREW is untracked.

- PO-1 from ACME: 10 CHIP, lot C1. Lot C2 (5) comes in later by stock receive (never used).
- Order 1 makes 4 PCB (lot P1) from 8 CHIP of C1: C1 keeps 2 in STORES.
- Order 2 makes 2 HD (serials S-1, S-2) from 2 PCB of P1 and 4 SCREW: P1 keeps 2.
- Both serials are released to STORES/available.
"""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, day, ok


def build(cli: Cli, path: Path, *, release: bool = True) -> None:
    ok(cli, "item", "add", "CHIP", "--name", "Chip", "--type", "component", "--unit", "pcs",
       "--make-or-buy", "buy", "--tracking", "lot")  # fmt: skip
    ok(cli, "item", "add", "SCREW", "--name", "Screw", "--type", "component", "--unit", "pcs",
       "--make-or-buy", "buy")  # fmt: skip
    ok(cli, "item", "add", "PCB", "--name", "Board", "--type", "subassembly", "--unit", "pcs",
       "--make-or-buy", "make", "--tracking", "lot")  # fmt: skip
    ok(cli, "item", "add", "HD", "--name", "Headphone", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "make", "--tracking", "serial",
       "--release-criteria", "packaging")  # fmt: skip
    (path.parent / "boms.yaml").write_text(
        "boms:\n"
        "  - item: PCB\n    revision: A\n    lines:\n      - {item: CHIP, qty: 2}\n"
        "  - item: HD\n    revision: A\n    lines:\n"
        "      - {item: PCB, qty: 1}\n      - {item: SCREW, qty: 2}\n"
    )
    ok(cli, "import", path.parent / "boms.yaml")
    ok(cli, "purchase", "add", "CHIP", "10", "--due", day(1), "--supplier", "ACME")
    ok(cli, "purchase", "receive", "1", "--lot", "C1")
    ok(cli, "stock", "receive", "SCREW", "100")
    ok(cli, "order", "create", "PCB", "4", "--due", day(3))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "complete", "1", "--qty", "4", "--lot", "P1")
    ok(cli, "stock", "receive", "CHIP", "5", "--lot", "C2")
    ok(cli, "order", "create", "HD", "2", "--due", day(5))
    ok(cli, "order", "release", "2")
    ok(cli, "consume", "2")
    ok(cli, "order", "complete", "2", "--qty", "2", "--serial", "S-1", "--serial", "S-2")
    if release:
        for serial in ("S-1", "S-2"):
            ok(cli, "release", "check", serial, "packaging")
            ok(cli, "release", serial)
