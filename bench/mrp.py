"""MRP benchmark: the synthetic plant with stock, purchase orders, planning data and demand.

bench/run.py uses this module; it also runs on its own::

    python bench/mrp.py build OUT.db [--items N] [--seed S]   # build a database
    python bench/mrp.py phases DB [--runs N]                    # in-process timings (JSON)
    python bench/mrp.py profile DB [--top N]                    # cProfile of one run

``build`` makes the plant of bench/generate.py (``--items`` items, 4 BOM lines an item,
so 10,000 items give its 40,000 lines) and imports it with ``mfgctl import``, items,
BOMs, opening stock, demand and purchase orders in one file, then runs ``mfgctl check``.
On top of the plant, all seeded:

* planning data: safety stock on a fifth of the items; lot sizing lot-for-lot (60 %),
  fixed (15 %), period (10 %) and lot-for-lot raised to a minimum order quantity or an
  order multiple (the rest); minimum order quantities, order multiples and, rarely,
  maximum order quantities on top of any of them; a tenth of the finished goods made to
  order, a twentieth assembled to order;
* free stock (opening balances) on 40 % of the items;
* open purchase orders on buy items, one for every 20 items, due from 20 days before
  the start to 120 days after it (some overdue);
* open demand, one line for every 5 items (2,000 on 10,000 items), on finished goods
  (70 %) and level-1 subassemblies: 55 % sales orders due from 10 days before the start
  to 150 days after it, 45 % forecasts over the whole 365-day horizon.

``phases`` times, inside one process and in one read transaction each, the raw read of
the tables MRP reads (``READ_SOURCE``: every row as tuples, nothing converted),
``mrp_data.load``, ``mrp.plan``, ``mrp_data.fingerprint`` and the JSON rendering of
``mfgctl mrp --format json``, and prints the medians as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (bench/generate.py, next to this file)

SEED = generate.SEED + 11
START = date(2026, 12, 1)  # the plan's --start: fixed, so every run plans the same
HORIZON_DAYS = 365
BUCKET = "week"
LINES_PER_ITEM = 4  # 10,000 items: the foundation plant's 40,000 BOM lines
DEMAND_PER_ITEM = 0.2  # 2,000 demand lines on 10,000 items
PO_PER_ITEM = 0.05
STOCKED_SHARE = 0.5
STOCK_WEEKS = (3, 12)  # free stock covers this many weeks of an item's need
SCALES = (1_000, 10_000, 50_000)

# The raw read: every row of every table MRP reads, as tuples, nothing converted. One
# source, run in-process by ``phases`` and as a whole process (``python -c``) by run.py.
READ_SOURCE = """
import sqlite3, sys
TABLES = ("item", "bom", "bom_line", "bom_substitute", "balance", "reservation", "demand",
          "purchase_order", "production_order", "order_material")
def read_all(path):
    db = sqlite3.connect(path)
    try:
        db.execute("BEGIN")
        return {t: db.execute(f"SELECT * FROM {t}").fetchall() for t in TABLES}
    finally:
        db.close()
if __name__ == "__main__":
    read_all(sys.argv[1])
"""


def mrp_argv(mfgctl: str, db: Path) -> list[str]:
    """The benchmarked command (output to /dev/null by the runner)."""
    return [mfgctl, "--db", str(db), "mrp", "run", "--start", START.isoformat(),
            "--horizon", str(HORIZON_DAYS), "--bucket", BUCKET, "--format", "json"]  # fmt: skip


def read_argv(python: str, db: Path) -> list[str]:
    return [python, "-c", READ_SOURCE, str(db)]


# -- the data -----------------------------------------------------------------------------


def _amount(it: generate.Item, value: float) -> str:
    """A quantity in the item's base unit: whole pieces, else 3 decimals."""
    if it.unit == "pcs":
        return str(max(1, round(value)))
    return f"{max(value, 0.001):.3f}"


def _demand(p: generate.Plant, rng: random.Random, start: date) -> list[tuple]:
    """(item, qty, due, kind, ref) of the open demand lines."""
    finished = [it for it in p.items if it.level == 0]
    level1 = [it for it in p.items if it.level == 1]
    out = []
    for k in range(round(len(p.items) * DEMAND_PER_ITEM)):
        it = rng.choice(finished if rng.random() < 0.7 else level1)
        qty = rng.randint(1, 200 if it.level == 0 else 400)
        if rng.random() < 0.55:
            due = start + timedelta(days=rng.randint(-10, 150))
            out.append((it, qty, due, "sales", f"SO-{k:05d}"))
        else:
            due = start + timedelta(days=rng.randint(0, HORIZON_DAYS - 1))
            out.append((it, qty, due, "forecast", f"FC-{due.isocalendar().week:02d}"))
    return out


def weekly_need(p: generate.Plant, demand: list[tuple]) -> dict[str, float]:
    """Each item's average weekly requirement in its base unit: the year's demand
    exploded through the BOMs (scrap included, lot sizing left out). Lot sizes, safety
    stock, stock and purchase orders are sized from it, so that every level of the
    plant sees orders of a sensible size however quantities multiply down the BOMs."""
    need = dict.fromkeys((it.code for it in p.items), 0.0)
    for it, qty, *_ in demand:
        need[it.code] += qty
    # Lines point only to deeper levels: parents by level are a topological order.
    level = {it.code: it.level for it in p.items}
    for b in sorted(p.boms, key=lambda b: level[b.item]):
        per = need[b.item] / b.output_qty
        for ln in b.lines:
            factor = 0.001 if ln.unit == "g" else 1.0
            need[ln.item] += per * float(ln.qty) * factor * (1 + float(ln.scrap_pct) / 100)
    return {code: n / 52 for code, n in need.items()}


def _planning(it: generate.Item, week: float, rng: random.Random) -> dict[str, str]:
    """Lot sizing, order quantities, safety stock and method, sized from a week's need."""
    fields: dict[str, str] = {}
    r = rng.random()
    if r < 0.60:
        pass  # lot-for-lot
    elif r < 0.75:
        fields["lot_sizing"] = "fixed"
        fields["fixed_order_qty"] = _amount(it, week * rng.choice((2, 4, 8)))
    elif r < 0.85:
        fields["lot_sizing"] = "period"
        fields["period_days"] = str(rng.choice((14, 28)))
    moq = 0.0
    if r >= 0.85 or rng.random() < 0.15:
        moq = week * rng.choice((1, 2, 4))
        fields["moq"] = _amount(it, moq)
    if r >= 0.85 or rng.random() < 0.15:
        # A round number: packs of 10, 100, ... pieces, or of 1, 10, ... kg or m.
        step = 10 ** max(0, len(str(int(week))) - 1)
        fields["order_multiple"] = str(step)
    if rng.random() < 0.03:
        fields["max_order_qty"] = _amount(it, max(moq, week) * 26)
    if rng.random() < 0.2:
        fields["safety_stock"] = _amount(it, week * rng.choice((0.5, 1, 2)))
    if it.level == 0:
        m = rng.random()
        if m < 0.10:
            fields["method"] = "make_to_order"
        elif m < 0.15:
            fields["method"] = "assemble_to_order"
    return fields


def mrp_yaml(p: generate.Plant, seed: int = SEED, start: date = START) -> Iterator[str]:
    """The plant with planning data, opening stock, demand and purchase orders, as one
    mfgctl import file."""
    demand = _demand(p, random.Random(seed), start)
    week = {code: max(n, 1.0) for code, n in weekly_need(p, demand).items()}
    rng = random.Random(seed + 1)
    planning = {it.code: _planning(it, week[it.code], rng) for it in p.items}
    for chunk in generate.yaml_text(p):
        yield chunk
        if chunk.startswith("  - code: "):
            code = chunk[len("  - code: ") : chunk.index("\n")]
            yield "".join(f"    {k}: {v}\n" for k, v in planning[code].items())
    yield "stock:\n"
    for it in p.items:
        if rng.random() < STOCKED_SHARE:
            qty = _amount(it, week[it.code] * rng.uniform(*STOCK_WEEKS))
            yield f"  - {{item: {it.code}, qty: {qty}}}\n"
    yield "purchase_orders:\n"
    bought = [it for it in p.items if it.make_or_buy == "buy"]
    for k in range(round(len(p.items) * PO_PER_ITEM)):
        it = rng.choice(bought)
        qty = _amount(it, week[it.code] * rng.choice((2, 4, 8)))
        due = start + timedelta(days=rng.randint(-20, 120))
        yield (f"  - {{item: {it.code}, qty: {qty}, due: {due}, supplier: SUP-{k % 37:02d}, "
               f"ref: Q-{k:05d}}}\n")  # fmt: skip
    yield "demand:\n"
    for it, qty, due, kind, ref in demand:
        yield f"  - {{item: {it.code}, qty: {qty}, due: {due}, kind: {kind}, ref: {ref}}}\n"


def _run(argv: list[str]) -> str:
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.strip()[-2000:]}")
    return r.stdout + r.stderr


def build_db(path: Path, n_items: int, *, mfgctl: str, seed: int = generate.SEED) -> dict:
    """A new MRP database at ``path`` (see the module's docstring); what it holds and
    how long each step took."""
    import sqlite3

    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    info: dict[str, Any] = {"items": n_items}
    t0 = time.perf_counter()
    p = generate.plant(n_items, LINES_PER_ITEM * n_items, seed)
    source = path.with_suffix(".yaml")
    with open(source, "w", encoding="utf-8") as f:
        f.writelines(mrp_yaml(p))
    info["generate s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _run([mfgctl, "--db", str(path), "init"])
    _run([mfgctl, "--db", str(path), "import", str(source)])
    info["import s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _run([mfgctl, "--db", str(path), "check"])
    info["check s"] = time.perf_counter() - t0
    source.unlink()
    db = sqlite3.connect(path)
    try:
        for table in ("item", "bom", "bom_line", "balance", "demand", "purchase_order"):
            info[table] = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        info["forecast"] = db.execute(
            "SELECT count(*) FROM demand WHERE kind = 'forecast'"
        ).fetchone()[0]
        info["stocked"] = db.execute(
            "SELECT count(DISTINCT item_id) FROM balance WHERE status IS NOT NULL AND qty > 0"
        ).fetchone()[0]
        info["safety_stock"] = db.execute(
            "SELECT count(*) FROM item WHERE safety_stock > 0"
        ).fetchone()[0]
        info["lot_sizing"] = dict(
            db.execute("SELECT lot_sizing, count(*) FROM item GROUP BY lot_sizing ORDER BY 1")
        )
    finally:
        db.close()
    expected = {"item": n_items, "bom_line": LINES_PER_ITEM * n_items,
                "demand": round(n_items * DEMAND_PER_ITEM)}  # fmt: skip
    wrong = {k: (info[k], v) for k, v in expected.items() if info[k] != v}
    if wrong:
        raise RuntimeError(f"{path}: unexpected counts (found, expected): {wrong}")
    return info


# -- timing inside one process ---------------------------------------------------------

PHASES = ("read", "load", "plan", "fingerprint", "json")


class Clock:
    """Times each phase; a subclass may do more around it (``Profiler``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - t0


class Profiler(Clock):
    """A cProfile of each phase of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.profiles: dict[str, Any] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        import cProfile

        prof = self.profiles[name] = cProfile.Profile()
        with super().phase(name):
            prof.enable()
            try:
                yield
            finally:
                prof.disable()


def _read_all() -> Any:
    ns: dict[str, Any] = {"__name__": "mrp_read"}
    exec(READ_SOURCE, ns)
    return ns["read_all"]


class _Sink:
    """A text stream that only counts what is written (the JSON's size)."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


def run_phases(path: Path, clock: Clock, *, until: str = "json") -> dict[str, Any]:
    """One round of what ``mfgctl mrp --format json`` does, phase by phase (after the
    raw read), as far as ``until``; returns what the plan holds. As the command does,
    with the garbage collector paused (collected after the round, untimed)."""
    import gc

    from mfgctl import db as dbmod
    from mfgctl.domain import mrp, mrp_data
    from mfgctl.domain import mrp_report as rep
    from mfgctl.gcpause import paused
    from mfgctl.render import micro_number, write_json

    with clock.phase("read"):
        _read_all()(str(path))
    with paused():
        conn = dbmod.connect(path)
        try:
            with dbmod.snapshot(conn, path):
                settings = mrp.settings(start=START, horizon=HORIZON_DAYS, bucket=BUCKET)
                with clock.phase("load"):
                    snap = mrp_data.load(conn)
        finally:
            conn.close()
        if until == "load":
            return {}
        with clock.phase("plan"):
            plan = mrp.plan(snap, settings)
        with clock.phase("fingerprint"):
            digest = mrp_data.fingerprint(snap)
        sink = _Sink()
        with clock.phase("json"):
            document = rep.document(
                plan, fingerprint=digest, only=set(), lazy=True, number=micro_number
            )  # as the command writes it
            write_json(document, sink)  # type: ignore[arg-type]
        counts = {
            "planned_orders": len(plan.planned),
            "records": len(plan.records),
            "shortages": len(plan.shortages),
            "exceptions": len(plan.exceptions),
            "demands": len(plan.roots),
            "pegging": sum(len(o.pegging) for o in plan.planned),
            "pegged_demands": sum(len(o.demands) for o in plan.planned),
            "json_mb": sink.chars / 1e6,
        }
    del plan, snap
    gc.collect()
    return counts


def phases(path: Path, runs: int, *, warmup: int = 1, until: str = "json") -> dict[str, Any]:
    """Medians over ``runs`` rounds (after ``warmup`` rounds) of each phase, in seconds,
    and the peak RSS of this process."""
    import resource

    samples: list[dict[str, float]] = []
    counts: dict[str, Any] = {}
    for n in range(warmup + runs):
        clock = Clock()
        counts = run_phases(path, clock, until=until)
        if n >= warmup:
            samples.append(clock.seconds)
    out: dict[str, Any] = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    out["runs"] = runs
    out["counts"] = counts
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def profile(path: Path, top: int) -> dict[str, Any]:
    """cProfile of each phase after a warm-up: per phase its time and the ``top``
    functions by own time."""
    import pstats

    run_phases(path, Clock(), until="load")  # imports and the page cache
    prof = Profiler()
    run_phases(path, prof)
    out: dict[str, Any] = {}
    for name, p in prof.profiles.items():
        rows = []
        for (file, line, func), (_cc, calls, own, cum, _by) in pstats.Stats(p).stats.items():  # type: ignore[attr-defined]
            where = file.split("/src/")[-1] if "/src/" in file else Path(file).name
            rows.append([f"{where}:{line}({func})", calls, own, cum])
        rows.sort(key=lambda r: -r[2])
        out[name] = {"seconds": prof.seconds[name], "top": rows[:top]}
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=("build", "phases", "profile"))
    ap.add_argument("db", type=Path)
    ap.add_argument("--items", type=int, default=generate.N_ITEMS)
    ap.add_argument("--seed", type=int, default=generate.SEED)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--until", choices=("load", "json"), default="json")
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--mfgctl", default=str(Path(sys.executable).parent / "mfgctl"))
    args = ap.parse_args(argv)
    if args.what == "build":
        print(json.dumps(build_db(args.db, args.items, mfgctl=args.mfgctl, seed=args.seed)))
    elif args.what == "phases":
        result = phases(args.db, max(args.runs, 1), warmup=args.warmup, until=args.until)
        print(json.dumps(result))
    else:
        print(json.dumps(profile(args.db, args.top)))


if __name__ == "__main__":
    main()
