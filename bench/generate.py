"""Deterministic synthetic plant for the mfgctl benchmarks.

Two products, both from one seed:

* ``plant.yaml``: an mfgctl import file with ``items:`` (10,000 by default) and ``boms:``
  (about 40,000 lines over 6 levels). A BOM line only points from level k to a deeper
  level, so the BOM graph is acyclic by construction.
* ``moves.db``: a database made with ``mfgctl init``, holding the same items and one
  million ledger moves, with the ``balance`` rows that match them exactly. Items, moves
  and balances are written directly with SQL (one transaction, one ``executemany`` per
  table), so building it takes seconds instead of hours of ``mfgctl stock receive``.

Usage::

    python bench/generate.py yaml OUT.yaml [--items N] [--lines N] [--seed S]
    python bench/generate.py moves OUT.db [--items N] [--moves N] [--seed S]

``moves`` refuses to overwrite an existing file and runs ``mfgctl check`` on the result.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import subprocess
import sys
import time
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 20240601
N_ITEMS = 10_000
N_LINES = 40_000
N_MOVES = 1_000_000
LEVELS = 6
# Share of the items on each BOM level (0 = finished goods ... 5 = purchased).
LEVEL_SHARE = (0.05, 0.10, 0.15, 0.20, 0.20, 0.30)
MICRO = 1_000_000


@dataclass(slots=True)
class Item:
    code: str
    name: str
    type: str
    unit: str
    make_or_buy: str
    level: int
    lead_time_days: int
    cost: str
    inspect: bool


@dataclass(slots=True)
class Line:
    item: str
    qty: str
    unit: str
    scrap_pct: str


@dataclass(slots=True)
class Bom:
    item: str
    revision: str
    output_qty: int
    lines: list[Line] = field(default_factory=list)


@dataclass(slots=True)
class Plant:
    items: list[Item]
    boms: list[Bom]

    @property
    def n_lines(self) -> int:
        return sum(len(b.lines) for b in self.boms)


# -- the plant ---------------------------------------------------------------------------

_PREFIX = ("FG", "SA", "AS", "CP", "PT", "RM")
_TYPE = ("finished", "subassembly", "subassembly", "component", "component", "raw")
_NOUNS = ("bracket", "housing", "shaft", "panel", "gear", "cover", "frame", "valve", "spring")
_ADJ = ("steel", "alloy", "coated", "small", "large", "left", "right", "sealed", "rigid")


def _level_sizes(n_items: int) -> list[int]:
    sizes = [max(1, round(n_items * s)) for s in LEVEL_SHARE]
    sizes[-1] = n_items - sum(sizes[:-1])
    return sizes


def plant(n_items: int = N_ITEMS, n_lines: int = N_LINES, seed: int = SEED) -> Plant:
    """Items on LEVELS levels and BOMs for every made item, ``n_lines`` lines in all."""
    rng = random.Random(seed)
    by_level: list[list[Item]] = []
    number = 0
    for level, size in enumerate(_level_sizes(n_items)):
        row = []
        for _ in range(size):
            number += 1
            buy = level == LEVELS - 1
            if buy:
                unit = rng.choices(("pcs", "kg", "m"), (70, 20, 10))[0]
                kind = "packaging" if rng.random() < 0.1 else "raw"
            else:
                unit, kind = "pcs", _TYPE[level]
            row.append(
                Item(
                    code=f"{_PREFIX[level]}-{number:05d}",
                    name=f"{rng.choice(_ADJ)} {rng.choice(_NOUNS)} {number}",
                    type=kind,
                    unit=unit,
                    make_or_buy="buy" if buy else "make",
                    level=level,
                    lead_time_days=rng.randint(1, 30),
                    cost=f"{rng.randint(1, 50000) / 100:.2f}",
                    inspect=buy and rng.random() < 0.15,
                )
            )
        by_level.append(row)
    made = [it for row in by_level[:-1] for it in row]
    if n_lines < 2 * len(made):
        raise ValueError(f"{n_lines} lines is too few: every one of {len(made)} BOMs gets 2")
    # Spread n_lines over the made items: every BOM gets at least 2 lines.
    counts = [2] * len(made)
    for _ in range(n_lines - 2 * len(made)):
        counts[rng.randrange(len(made))] += 1
    boms = []
    for parent, count in zip(made, counts, strict=True):
        deeper = by_level[parent.level + 1 :]
        # Mostly the next level down, sometimes further (a screw straight into a product).
        weights = [8 if i == 0 else 1 for i in range(len(deeper))]
        chosen: dict[str, Item] = {}
        count = min(count, sum(len(row) for row in deeper))
        while len(chosen) < count:
            child = rng.choice(rng.choices(deeper, weights)[0])
            chosen.setdefault(child.code, child)
        bom = Bom(item=parent.code, revision="A", output_qty=rng.choice((1, 1, 1, 10)))
        for child in chosen.values():
            if child.unit == "kg":
                qty, unit = str(rng.randint(5, 900)), "g"
            elif child.unit == "m":
                qty, unit = f"{rng.randint(1, 250) / 100:g}", "m"
            else:
                qty, unit = str(rng.choice((1, 1, 2, 4, 8))), "pcs"
            scrap = rng.choice(("0", "0", "0", "1", "2.5"))
            bom.lines.append(Line(child.code, qty, unit, scrap))
        boms.append(bom)
    return Plant([it for row in by_level for it in row], boms)


def yaml_text(p: Plant) -> Iterator[str]:
    """The plant as an mfgctl import file (block style, as an export would look)."""
    yield "# Synthetic plant for mfgctl benchmarks (bench/generate.py); do not edit.\n"
    yield "items:\n"
    for it in p.items:
        yield (
            f"  - code: {it.code}\n    name: {it.name}\n    type: {it.type}\n"
            f"    unit: {it.unit}\n    make_or_buy: {it.make_or_buy}\n"
            f"    lead_time_days: {it.lead_time_days}\n    cost: {it.cost}\n"
        )
        if it.inspect:
            yield "    inspect_on_receipt: true\n"
    yield "boms:\n"
    for b in p.boms:
        yield (
            f"  - item: {b.item}\n    revision: {b.revision}\n"
            f"    output_qty: {b.output_qty}\n    lines:\n"
        )
        for ln in b.lines:
            yield (
                f"      - item: {ln.item}\n        qty: {ln.qty}\n        unit: {ln.unit}\n"
                f"        scrap_pct: {ln.scrap_pct}\n"
            )


def write_yaml(p: Plant, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(yaml_text(p))


def validate_yaml(path: Path) -> tuple[int, int]:
    """Parse the file back and run every entry through mfgctl's own field parsers.

    Proves the generator speaks the import format (keys and values) even before an
    importer exists. Returns (items, BOM lines).
    """
    import yaml

    from mfgctl.domain import bom, items

    with open(path, encoding="utf-8") as f:
        data = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    assert set(data) == {"items", "boms"}, set(data)
    codes = set()
    for n, raw in enumerate(data["items"]):
        fields = dict(raw)
        item = items.build(fields.pop("code"), fields, where=f"items[{n}].")
        codes.add(item.code)
    n_lines = 0
    for n, raw in enumerate(data["boms"]):
        assert set(raw) <= set(bom.BOM_KEYS), raw.keys()
        assert raw["item"] in codes
        for m, line in enumerate(raw["lines"]):
            parsed = bom.parse_line(line, where=f"boms[{n}].lines[{m}].")
            assert parsed.item in codes and parsed.item != raw["item"]
            n_lines += 1
    return len(codes), n_lines


# -- the ledger ---------------------------------------------------------------------------

# Location ids of a new database (schema.sql inserts them in this order).
STORES, SUPPLIER, CUSTOMER, SCRAP = 1, 2, 3, 4
EXTRA_LOCATIONS = (("QC", "Incoming inspection"), ("LINE-1", "Line-side rack 1"))
QC, LINE = 7, 8

_MOVE_SQL = (
    "INSERT INTO move (seq, item_id, lot_id, qty, from_location_id, from_status, "
    "to_location_id, to_status, kind, unit_cost, effective_at, recorded_at, user, reason, ref) "
    "VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)"
)
_ITEM_SQL = (
    "INSERT INTO item (id, code, name, type, unit, make_or_buy, method, "
    "purchase_lead_time_days, mfg_lead_time_days, std_cost, inspect_on_receipt) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


# The places a move goes between: (location id, status); status None = virtual.
PLACES = (
    (SUPPLIER, None),
    (QC, "pending_inspection"),
    (QC, "rejected"),
    (STORES, "available"),
    (STORES, "blocked"),
    (LINE, "available"),
    (CUSTOMER, None),
    (SCRAP, None),
)
_SUP, _QCP, _QCR, _STA, _STB, _LIN, _CUS, _SCR = range(len(PLACES))
# What the shop does, by cumulative probability: (upper bound, from, to, kind).
# A move out of a real place that holds nothing becomes a receipt instead.
ACTIONS = (
    (0.40, _SUP, _STA, "receipt"),
    (0.46, _QCP, _STA, "release"),
    (0.48, _QCP, _QCR, "reject"),
    (0.50, _QCR, _SCR, "scrap"),
    (0.55, _STA, _STB, "block"),
    (0.58, _STB, _STA, "unblock"),
    (0.73, _STA, _LIN, "transfer"),
    (0.77, _LIN, _SCR, "scrap"),
    (0.87, _STA, _CUS, "ship"),
    (1.00, _LIN, _CUS, "ship"),
)


class Ledger:
    """Simulates the shop's moves, keeping every place's balance as it goes.

    A move out of a real place never takes more than is there, so no real balance
    ever goes negative; virtual places (SUPPLIER, CUSTOMER, SCRAP) carry the
    opposite sums, so every item's balances add up to zero.
    """

    def __init__(self, p: Plant, n_moves: int, seed: int) -> None:
        self.items = p.items
        self.n_moves = n_moves
        self.rng = random.Random(seed + 1)
        # balance[(item_id - 1) * len(PLACES) + place]; None = never touched.
        self.balance: list[int | None] = [None] * (len(p.items) * len(PLACES))

    def balances(self) -> Iterator[tuple[int, int, str | None, int]]:
        """(item_id, location_id, status, qty) of every place a move touched."""
        width = len(PLACES)
        for n, qty in enumerate(self.balance):
            if qty is not None:
                loc, status = PLACES[n % width]
                yield n // width + 1, loc, status, qty

    def moves(self) -> Iterator[tuple]:
        """Yield move rows (for executemany); fills ``self.balance`` as a side effect."""
        rand = self.rng.random
        bal = self.balance
        width = len(PLACES)
        n_items = len(self.items)
        pcs = [it.unit == "pcs" for it in self.items]
        inspect = [it.inspect for it in self.items]
        finished = [it.type == "finished" for it in self.items]
        bounds = [a[0] for a in ACTIONS]
        popular = list(range(n_items))
        self.rng.shuffle(popular)  # busy items on every level, not just finished goods
        step = 2 * 365 * 86400 / max(self.n_moves, 1)  # two years of history
        start = datetime(2024, 1, 1, tzinfo=UTC)
        day_prefix = [
            (start + timedelta(days=d)).strftime("%Y-%m-%dT")
            for d in range(int(self.n_moves * step // 86400) + 2)
        ]
        for seq in range(1, self.n_moves + 1):
            # Some items move far more than others: the product of two uniform draws.
            idx = popular[int(rand() * rand() * n_items)]
            base = idx * width
            _, src, dst, kind = ACTIONS[bisect_right(bounds, rand())]
            if finished[idx] and dst == _LIN:
                dst, kind = _CUS, "ship"  # finished goods go to customers, not the line
            have = bal[base + src] or 0
            if src != _SUP and have <= 0:
                src, dst, kind = _SUP, _STA, "receipt"
            if kind == "receipt":
                if inspect[idx]:
                    dst = _QCP
                if pcs[idx]:
                    qty = int(rand() * 500 + 1) * MICRO
                else:
                    qty = int(rand() * 500_000 + 100) * 1000  # 0.1 .. 500 kg or m
                cost = int(rand() * 50_000_000) + 10_000
                ref = f"PO-{seq // 7:06d}"
            else:
                # Part of what is there (all of it now and then), never more.
                qty = have if rand() < 0.1 else int(have * rand()) or have
                if pcs[idx]:
                    qty = max(MICRO, qty - qty % MICRO)  # whole pieces: have is whole too
                cost = None
                ref = f"SO-{seq // 5:06d}" if kind == "ship" else None
            bal[base + src] = (bal[base + src] or 0) - qty
            bal[base + dst] = (bal[base + dst] or 0) + qty
            day, secs = divmod(int(seq * step), 86400)
            h, rem = divmod(secs, 3600)
            stamp = f"{day_prefix[day]}{h:02d}:{rem // 60:02d}:{rem % 60:02d}.{seq % 1000:06d}Z"
            from_loc, from_status = PLACES[src]
            to_loc, to_status = PLACES[dst]
            yield (seq, idx + 1, qty, from_loc, from_status, to_loc, to_status, kind, cost,
                   stamp, stamp, "bench", ref)  # fmt: skip


def build_moves_db(
    path: Path,
    p: Plant,
    *,
    n_moves: int = N_MOVES,
    seed: int = SEED,
    mfgctl: str = "mfgctl",
    check: bool = True,
) -> dict[str, float]:
    """A new database at ``path`` with the plant's items and ``n_moves`` moves.

    Returns timings in seconds (init, load, check).
    """
    if path.exists():
        raise SystemExit(f"{path} already exists: not overwriting it")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    subprocess.run([mfgctl, "--db", str(path), "init"], check=True, capture_output=True)
    timings["init"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    db = sqlite3.connect(path, isolation_level=None)
    # A scratch file for benchmarks: load it without a journal's copy or fsyncs (WAL
    # mode, as `mfgctl init` made it, comes back at the end), and build the ledger's
    # indexes once after the rows instead of row by row (2-3x faster).
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -262144")  # 256 MiB
    move_indexes = dict(
        db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'move' "
            "AND sql IS NOT NULL"
        )
    )
    db.execute("BEGIN IMMEDIATE")
    for name in move_indexes:
        db.execute(f"DROP INDEX {name}")
    for code, name in EXTRA_LOCATIONS:
        db.execute(
            "INSERT INTO location (code, name, kind) VALUES (?, ?, 'internal')", (code, name)
        )
    ids = dict(db.execute("SELECT code, id FROM location"))
    assert (ids["STORES"], ids["SUPPLIER"], ids["CUSTOMER"], ids["SCRAP"]) == (
        STORES,
        SUPPLIER,
        CUSTOMER,
        SCRAP,
    ), ids
    assert (ids["QC"], ids["LINE-1"]) == (QC, LINE), ids
    db.executemany(
        _ITEM_SQL,
        (
            (
                n,
                it.code,
                it.name,
                it.type,
                it.unit,
                it.make_or_buy,
                "make_to_stock" if it.make_or_buy == "make" else None,
                it.lead_time_days if it.make_or_buy == "buy" else 0,
                it.lead_time_days if it.make_or_buy == "make" else 0,
                int(it.cost.replace(".", "")) * 10_000,
                int(it.inspect),
            )
            for n, it in enumerate(p.items, start=1)
        ),
    )
    ledger = Ledger(p, n_moves, seed)
    db.executemany(_MOVE_SQL, ledger.moves())
    for sql in move_indexes.values():
        db.execute(sql)
    db.executemany(
        "INSERT INTO balance (item_id, location_id, status, lot_id, qty) VALUES (?, ?, ?, NULL, ?)",
        ledger.balances(),
    )
    db.execute("COMMIT")
    assert db.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
    db.execute("ANALYZE")
    db.close()
    timings["load"] = time.perf_counter() - t0
    negative = [b for b in ledger.balances() if b[2] is not None and b[3] < 0]
    assert not negative, negative[:5]
    if check:
        t0 = time.perf_counter()
        r = subprocess.run([mfgctl, "--db", str(path), "check"], capture_output=True, text=True)
        timings["check"] = time.perf_counter() - t0
        if r.returncode != 0:
            raise SystemExit(f"mfgctl check failed on {path}:\n{r.stdout}{r.stderr}")
    return timings


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=("yaml", "moves"))
    ap.add_argument("out", type=Path)
    ap.add_argument("--items", type=int, default=N_ITEMS)
    ap.add_argument("--lines", type=int, default=N_LINES)
    ap.add_argument("--moves", type=int, default=N_MOVES)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--validate", action="store_true", help="yaml: parse it back and check it")
    ap.add_argument("--mfgctl", default=str(Path(sys.executable).parent / "mfgctl"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    p = plant(args.items, args.lines, args.seed)
    print(
        f"plant: {len(p.items)} items, {len(p.boms)} BOMs, {p.n_lines} lines "
        f"({time.perf_counter() - t0:.2f} s)",
        file=sys.stderr,
    )
    if args.what == "yaml":
        write_yaml(p, args.out)
        print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
        if args.validate:
            n_items, n_lines = validate_yaml(args.out)
            print(f"valid: {n_items} items, {n_lines} BOM lines", file=sys.stderr)
    else:
        timings = build_moves_db(
            args.out, p, n_moves=args.moves, seed=args.seed, mfgctl=args.mfgctl
        )
        print(
            f"wrote {args.out}: {args.moves} moves; "
            + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()),
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
