"""Production benchmarks: 5,000 released orders, and reservations from concurrent processes.

bench/run.py uses this module for two things:

* ``build_orders_db``: ``out/orders.db``, the synthetic plant of bench/generate.py with
  production orders. It starts from a copy of ``out/moves.db`` (10,000 items, a million
  moves), imports the plant's 7,000 BOMs with ``mfgctl import``, receives plenty of
  every component (``stock.receive``), then creates and releases 5,000 seeded orders
  with ``orders.create`` and ``orders.release`` in a few transactions, so releases
  freeze materials and reserve them exactly as ``mfgctl order create/release`` would.
  Only the two whole-table loaders those functions call on every order
  (``bomtree.load``, ``items.all_items``: items and BOMs do not change while orders are
  made) are read once instead of per call; 20 orders are then re-exploded without that
  cache and compared with what was frozen, every order's reservations are compared
  with its materials, and ``mfgctl check`` must pass.
* ``throughput``: reservations per second from N worker processes on one database (a
  fresh copy of orders.db with 8 lot-tracked items in 96 lots at 3 locations). Each
  worker is ``python bench/production.py worker ...``: it opens the file with
  ``mfgctl.db.connect`` and, in a loop for a fixed time, runs
  ``reservations.reserve`` inside ``mfgctl.db.transaction`` (``BEGIN IMMEDIATE``),
  exactly what ``mfgctl reserve ITEM QTY --for REF`` does in its session. Afterwards
  free stock must be >= 0 everywhere, every reservation a worker counted must be in
  the file, and ``mfgctl check`` must pass.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (bench/generate.py, next to this file)

N_ORDERS = 5_000
SEED = generate.SEED + 5
ANCHOR = date(2026, 12, 1)  # due dates lie around it: some orders are late, most not
STOCK_QTY = 1_000_000  # received of every component: no release is ever short
PER_TRANSACTION = 500  # orders per transaction while building
USER = "bench"

# The reservation benchmark's stock: lot-tracked items, lots at several locations.
RES_ITEMS = [f"RES-{n:02d}" for n in range(1, 9)]
RES_LOCATIONS = ("STORES", "LINE-1", "RACK-R")  # LINE-1 comes with moves.db
RES_LOTS = 4  # per item and location
RES_LOT_QTY = 5_000  # pcs: first-expired lots run out during a run, later ones do not
RES_QTY = (1, 20)  # each reservation takes a random quantity in this range
RES_REF = "BENCH-P"  # workers' references: BENCH-P<procs>-W<worker>-<n>


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def child_env() -> dict[str, str]:
    """The environment of every mfgctl process and worker: the default busy timeout."""
    env = dict(os.environ)
    for name in ("MFGCTL_DB", "MFGCTL_DEBUG", "MFGCTL_BUSY_TIMEOUT", "PYTHONPROFILEIMPORTTIME"):
        env.pop(name, None)
    env["MFGCTL_USER"] = USER
    return env


def _run(argv: list[str]) -> str:
    r = subprocess.run(argv, capture_output=True, text=True, env=child_env())
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.strip()[-2000:]}")
    return r.stdout + r.stderr


def copy_db(source: Path, target: Path) -> None:
    """A copy of a closed WAL database: checkpoint it into the main file, copy that."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(source)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(source, target)
    finally:
        db.close()


# -- orders.db ------------------------------------------------------------------------------


@contextmanager
def _loaded_once() -> Iterator[None]:
    """``bomtree.load`` and ``items.all_items`` read the whole plant on every call
    (twice per create, once per release): read it once while the orders are made."""
    from mfgctl.domain import bomtree, items

    load, all_items = bomtree.load, items.all_items
    cache: dict[str, Any] = {}

    def cached_load(db: sqlite3.Connection) -> Any:
        if "load" not in cache:
            cache["load"] = load(db)
        return cache["load"]

    def cached_items(db: sqlite3.Connection) -> Any:
        if "items" not in cache:
            cache["items"] = all_items(db)
        return cache["items"]

    bomtree.load, items.all_items = cached_load, cached_items  # type: ignore[assignment]
    try:
        yield
    finally:
        bomtree.load, items.all_items = load, all_items  # type: ignore[assignment]


def boms_yaml(p: generate.Plant, path: Path) -> None:
    """The plant's BOMs alone, as an import file (the items are in moves.db already)."""
    text = generate.yaml_text(generate.Plant([], p.boms))
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(line for line in text if line != "items:\n")


def build_orders_db(path: Path, moves_db: Path, p: generate.Plant, *, mfgctl: str) -> dict:
    """orders.db (see the module's docstring). Returns what was built and how long it took."""
    from mfgctl import db as dbmod
    from mfgctl import qty as q
    from mfgctl.domain import bom, items, orders, stock
    from mfgctl.errors import MfgError

    info: dict[str, Any] = {}
    t0 = time.perf_counter()
    copy_db(moves_db, path)
    boms_file = path.with_name("plant-boms.yaml")
    boms_yaml(p, boms_file)
    _run([mfgctl, "--db", str(path), "import", str(boms_file)])
    info["copy + import BOMs s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    db = dbmod.connect(path)
    made = [it.code for it in p.items if it.make_or_buy == "make"]
    components = [it.code for it in p.items if it.level > 0]
    with dbmod.transaction(db, path):
        for code in components:
            # status: inspected items too, so that every release can reserve.
            stock.receive(
                db, item=code, qty=STOCK_QTY, user=USER, status="available", ref="BENCH-STOCK"
            )
    info["receive s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    rng = random.Random(SEED)
    refused: dict[str, int] = {}
    first_refusal: dict[str, str] = {}
    n = 0
    with _loaded_once():
        while n < N_ORDERS:
            with dbmod.transaction(db, path):
                for _ in range(min(PER_TRANSACTION, N_ORDERS - n)):
                    while True:
                        item = rng.choice(made)
                        qty = rng.randint(1, 50)
                        due = ANCHOR + timedelta(days=rng.randint(-60, 120))
                        priority = rng.choice((0, 0, 0, 1, 2))
                        ref = f"SO-{rng.randint(1, 99_999):05d}" if rng.random() < 0.6 else None
                        db.execute("SAVEPOINT bench_order")
                        try:
                            order = orders.create(
                                db,
                                item=item,
                                qty=qty,
                                due=due.isoformat(),
                                user=USER,
                                ref=ref,
                                priority=priority,
                            )
                            orders.release(db, order.id, user=USER)
                        except MfgError as e:
                            db.execute("ROLLBACK TO bench_order")
                            db.execute("RELEASE bench_order")
                            kind = type(e).__name__
                            refused[kind] = refused.get(kind, 0) + 1
                            first_refusal.setdefault(kind, f"{item} qty {qty}: {e}")
                            continue
                        db.execute("RELEASE bench_order")
                        break
                    n += 1
    info["orders s"] = time.perf_counter() - t0
    info["refused"] = refused
    info["first_refusal"] = first_refusal

    # The cache changed nothing: 20 orders exploded afresh equal what was frozen.
    for order_id in random.Random(SEED + 1).sample(range(1, N_ORDERS + 1), 20):
        order = orders.get(db, order_id)
        rev = bom.get_revision(db, order.item, order.revision)
        fresh = orders.explode_materials(db, rev, order.qty)
        frozen = db.execute(
            "SELECT position, item_id, qty FROM order_material WHERE order_id = ? "
            "ORDER BY position",
            (order_id,),
        ).fetchall()
        want = [(m.position, m.item.id, q.to_micro(m.qty)) for m in fresh]
        if [tuple(r) for r in frozen] != want:
            raise RuntimeError(f"order {order_id}: frozen materials differ from a fresh explosion")
    # Every material fully reserved for its order (plenty of stock).
    short = db.execute(
        """SELECT count(*) FROM order_material AS m
           LEFT JOIN (SELECT order_id, item_id, sum(remaining) AS held FROM reservation
                       WHERE state = 'open' GROUP BY order_id, item_id) AS r
                  ON r.order_id = m.order_id AND r.item_id = m.item_id
            WHERE ifnull(r.held, 0) <> m.qty"""
    ).fetchone()[0]
    if short:
        raise RuntimeError(f"{short} order materials are not reserved exactly")
    for name, sql in (
        ("orders", "SELECT count(*) FROM production_order"),
        ("released", "SELECT count(*) FROM production_order WHERE state = 'released'"),
        ("late", f"SELECT count(*) FROM production_order WHERE due_on < '{date.today()}'"),
        ("materials", "SELECT count(*) FROM order_material"),
        ("reservations", "SELECT count(*) FROM reservation"),
        ("events", "SELECT count(*) FROM order_event"),
    ):
        info[name] = db.execute(sql).fetchone()[0]
    info["items"] = len(items.all_items(db))
    db.close()
    t0 = time.perf_counter()
    _run([mfgctl, "--db", str(path), "check"])
    info["check s"] = time.perf_counter() - t0
    return info


def typical_order(path: Path) -> tuple[int, int]:
    """The released order with the median number of materials: (order, materials)."""
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT order_id, count(*) AS n FROM order_material GROUP BY order_id "
            "ORDER BY n, order_id"
        ).fetchall()
    return rows[len(rows) // 2]


# -- the reservation benchmark ----------------------------------------------------------------


def prepare_reservation_db(template: Path, path: Path) -> None:
    """A copy of ``template`` with RES_ITEMS: lot-tracked, RES_LOTS lots of RES_LOT_QTY at
    each of RES_LOCATIONS, expiry dates staggered so that first-expired picking moves
    from lot to lot and place to place (a reservation may take from several)."""
    from mfgctl import db as dbmod
    from mfgctl.domain import items, locations, stock

    copy_db(template, path)
    db = dbmod.connect(path)
    try:
        with dbmod.transaction(db, path):
            for code in RES_LOCATIONS:
                if locations.find(db, code) is None:
                    locations.add(db, code, "Reservation benchmark rack")
            for n, code in enumerate(RES_ITEMS):
                fields = {"name": f"reserved part {n}", "type": "component", "unit": "pcs"}
                items.add(db, code, {**fields, "make_or_buy": "buy", "tracking": "lot"})
                for k in range(RES_LOTS):
                    for m, place in enumerate(RES_LOCATIONS):
                        stock.receive(
                            db,
                            item=code,
                            qty=RES_LOT_QTY,
                            user=USER,
                            location=place,
                            lot=f"L{n:02d}{k}{m}",
                            expires=ANCHOR + timedelta(days=30 * k + 7 * m),
                            ref="BENCH-RES-STOCK",
                        )
    finally:
        db.close()


def worker(argv: list[str]) -> None:
    """``production.py worker DB SECONDS SEED NAME``: reserve in a loop, print JSON."""
    import resource

    from mfgctl import db as dbmod
    from mfgctl.domain import reservations
    from mfgctl.errors import DatabaseBusy, MfgError

    path, seconds, seed, name = argv[0], float(argv[1]), int(argv[2]), argv[3]
    db = dbmod.connect(path)
    rng = random.Random(seed)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    count = rows = units = busy = refused = 0
    errors: list[str] = []
    latency: list[float] = []
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        item, qty = rng.choice(RES_ITEMS), rng.randint(*RES_QTY)
        t = time.perf_counter()
        try:
            with dbmod.transaction(db, path):
                made = reservations.reserve(
                    db, item=item, qty=qty, ref=f"{name}-{count + 1}", user=USER
                )
        except DatabaseBusy as e:
            busy += 1
            errors.append(str(e))
            continue
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                busy += 1
                errors.append(str(e))
                continue
            raise
        except MfgError as e:
            refused += 1
            errors.append(str(e))
            continue
        latency.append(time.perf_counter() - t)
        count += 1
        rows += len(made)
        units += qty
    elapsed = time.perf_counter() - start
    db.close()
    use = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "count": count,
                "rows": rows,
                "units": units,
                "busy": busy,
                "refused": refused,
                "errors": errors[:3],
                "elapsed": elapsed,
                "latency": latency,
                "cpu": use.ru_utime + use.ru_stime,
            }
        ),
        flush=True,
    )


@dataclass
class ThroughputRun:
    procs: int
    workers: list[dict]
    others: float  # cores other processes used meanwhile
    checks: list[str] = field(default_factory=list)  # failed verifications

    @property
    def total(self) -> float:
        """Reservations per second, all workers together."""
        return sum(w["count"] / w["elapsed"] for w in self.workers)

    @property
    def busy(self) -> int:
        return sum(w["busy"] for w in self.workers)

    @property
    def refused(self) -> int:
        return sum(w["refused"] for w in self.workers)


def verify(path: Path, workers: list[dict], *, procs: int, mfgctl: str) -> list[str]:
    """What is wrong after a run ([] when nothing): free < 0 anywhere, reservations
    counted by the workers but missing (or extra), `mfgctl check` failing."""
    problems = []
    with sqlite3.connect(path) as db:
        negative = db.execute(
            """SELECT count(*) FROM (
                   SELECT r.item_id, r.location_id, r.lot_id, sum(r.remaining) AS held,
                          (SELECT ifnull(sum(b.qty), 0) FROM balance AS b
                            WHERE b.item_id = r.item_id AND b.location_id = r.location_id
                              AND b.lot_id IS r.lot_id AND b.status = 'available') AS qty
                     FROM reservation AS r WHERE r.state = 'open'
                    GROUP BY r.item_id, r.location_id, r.lot_id)
                WHERE held > qty"""
        ).fetchone()[0]
        if negative:
            problems.append(f"free < 0 at {negative} places")
        refs, units, rows = db.execute(
            "SELECT count(DISTINCT ref), ifnull(sum(qty), 0) / 1000000, count(*) "
            "FROM reservation WHERE ref LIKE ?",
            (f"{RES_REF}{procs}-%",),
        ).fetchone()
    want = (
        sum(w["count"] for w in workers),
        sum(w["units"] for w in workers),
        sum(w["rows"] for w in workers),
    )
    if (refs, units, rows) != want:
        problems.append(f"stored (refs, units, rows) {(refs, units, rows)}, workers said {want}")
    r = subprocess.run(
        [mfgctl, "--db", str(path), "check"], capture_output=True, text=True, env=child_env()
    )
    if r.returncode != 0:
        problems.append(f"mfgctl check exited {r.returncode}: {(r.stdout + r.stderr)[-300:]}")
    return problems


def throughput_run(
    path: Path, procs: int, *, seconds: float, seed: int, mfgctl: str, others: Callable[[], Any]
) -> ThroughputRun:
    """One run: ``procs`` workers reserving on ``path`` for ``seconds``, then verified.
    ``others()`` starts a CPU watch; its ``others()`` gives the other processes' cores."""
    argv = [sys.executable, str(Path(__file__).resolve()), "worker", str(path), str(seconds)]
    started = [
        subprocess.Popen(
            [*argv, str(seed * 100 + n), f"{RES_REF}{procs}-W{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for n in range(procs)
    ]
    for proc in started:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"a reservation worker did not start: {line!r}")
    watch = others()
    for proc in started:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    workers = []
    for proc in started:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"a reservation worker exited {proc.returncode}")
        workers.append(json.loads(out))
    run = ThroughputRun(procs, workers, watch.others())
    run.checks = verify(path, workers, procs=procs, mfgctl=mfgctl)
    return run


def throughput(
    template: Path,
    levels: tuple[int, ...],
    *,
    runs: int,
    seconds: float,
    mfgctl: str,
    others: Callable[[], Any],
) -> dict[int, list[ThroughputRun]]:
    """``runs`` rounds of every level in turn (so that they share the machine's load),
    each on a fresh copy of the template."""
    path = template.with_name("reserve.db")
    results: dict[int, list[ThroughputRun]] = {n: [] for n in levels}
    for r in range(runs):
        for procs in levels:
            prepare_reservation_db(template, path)
            run = throughput_run(path, procs, seconds=seconds, seed=r, mfgctl=mfgctl, others=others)
            results[procs].append(run)
            _say(
                f"  reservations, {procs} process{'es' if procs > 1 else ''}: "
                f"{run.total:.0f}/s, busy {run.busy}, refused {run.refused}"
                + (f", PROBLEMS {run.checks}" if run.checks else "")
            )
    return results


def _percentile(values: list[float], fraction: float) -> float:
    return values[min(int(fraction * len(values)), len(values) - 1)]


def throughput_table(results: dict[int, list[ThroughputRun]]) -> list[str]:
    lines = [
        "| processes | reservations/s, all together | per process (slowest-fastest worker) "
        "| latency p50 / p95 / p99 / max | busy errors | refused | free >= 0, counts, "
        "`check` | others' CPU |",
        "|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for procs, runs in results.items():
        totals = [r.total for r in runs]
        rates = [w["count"] / w["elapsed"] for r in runs for w in r.workers]
        latency = sorted(x * 1000 for r in runs for w in r.workers for x in w["latency"])
        problems = sorted({c for r in runs for c in r.checks})
        lat = "-"
        if latency:
            lat = " / ".join(f"{_percentile(latency, f):.1f}" for f in (0.5, 0.95, 0.99))
            lat += f" / {latency[-1]:.0f} ms"
        lines.append(
            f"| {procs} | **{statistics.median(totals):.0f}** (runs {min(totals):.0f}-"
            f"{max(totals):.0f}) | {statistics.median(totals) / procs:.0f} ({min(rates):.0f}-"
            f"{max(rates):.0f}) | {lat} | {sum(r.busy for r in runs)} | "
            f"{sum(r.refused for r in runs)} | "
            f"{'all pass' if not problems else '**' + '; '.join(problems) + '**'} "
            f"| {statistics.mean(r.others for r in runs):.2f} |"
        )
    return lines


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2:])
    else:
        sys.exit("usage: production.py worker DB SECONDS SEED NAME (bench/run.py starts it)")
