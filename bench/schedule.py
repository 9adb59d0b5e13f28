"""Scheduling benchmark: open production orders on 20 work centres (issue 6).

bench/run.py uses this module; it also runs on its own::

    python bench/schedule.py build OUT.db [--orders N]     # build a database
    python bench/schedule.py phases DB [--runs N]          # in-process timings (JSON)
    python bench/schedule.py profile DB [--top N]          # cProfile of one run

``build`` makes, all seeded:

* **20 work centres** ``WC-01`` .. ``WC-20`` with ``mfgctl workcenter add`` (direct SQL
  when that command does not exist): most one machine, some 2 or 3; most 8 hours Monday
  to Friday, some 7.5, two 16-hour days, one working Saturdays; shifts starting at 06:00
  to 08:00; a few downtime windows in the horizon (``mfgctl workcenter down``).
* **The plant**, imported with ``mfgctl import``: 60 finished goods (make, each with a
  BOM of 3 of 40 bought components) and their routings of 5 stages, one in each group
  of 4 work centres (``WC-01..04`` first, ``WC-17..20`` last); ``WC-05`` is in a third
  of the routings: the bottleneck. Setup 5-30 minutes, run time per unit scaled once
  (``calibrate``) so that the 2,000-order set loads the bottleneck to ``TARGET_LOAD``
  over the 90 days. Setup families on the first and third stage of half the routings
  (the routings' ``family``).
* **Stock and purchase orders** for the N orders (imported): every component has 1.3x
  what the orders need, except ``SHORT`` components with 0.85x and a purchase order
  for a quarter of their need due ``PO_DAYS`` after the start, so that a few orders wait for
  material.
* **N open production orders**, in one transaction through ``orders.create`` (and
  ``orders.release`` with ``partial`` for ``RELEASED_SHARE`` of them: their stages and
  materials frozen, stock reserved), as ``mfgctl order create`` / ``order release
  --partial`` do: item, quantity 5-150, due from 5 days before the start to 95 days
  after it, priority. The first N orders are the same at every N (the same draws), so
  500 orders are the first quarter of 2,000.

``mfgctl check`` must pass on the result.

``phases`` times, inside one process and in one read transaction, what ``mfgctl
schedule --format json`` does: ``schedule_data.load`` (of which the quick MRP run,
``schedule_data._material``), ``schedule.schedule``, the JSON document
(``cli.schedule.document``) and ``render.to_json``.
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
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from mrp import Clock, Profiler  # noqa: E402  (bench/mrp.py: phase timers)

SEED = 20240601 + 66
START = "2026-12-01"  # a Tuesday; the schedule's --start, fixed so every run is the same
START_DAY = date.fromisoformat(START)
HORIZON_DAYS = 90
SCALES = (500, 1_000, 2_000, 4_000)
CALIBRATION_ORDERS = 2_000  # the order set the bottleneck's load is calibrated on
TARGET_LOAD = 0.95  # the bottleneck's load from the calibration set over the horizon
N_CENTRES = 20
N_FINISHED = 60
N_COMPONENTS = 40
SHORT = ("CMP-07", "CMP-33")  # components short now, a purchase order coming
PO_DAYS = (12, 26)
RELEASED_SHARE = 0.6
DUE_DAYS = (-5, 95)
QTY = (5, 150)
BOTTLENECK = "WC-05"
USER = "bench"


# -- the plant ---------------------------------------------------------------------------


def centres() -> list[dict[str, Any]]:
    """The 20 work centres: code, machines, hours per weekday, shift start."""
    out = []
    for n in range(1, N_CENTRES + 1):
        code = f"WC-{n:02d}"
        machines = {3: 2, 7: 2, 12: 2, 15: 3, 18: 3}.get(n, 1)
        hours = "8"
        if n in (9, 14):
            hours = "16"  # two shifts, as one 16-hour day
        elif n in (4, 11, 19):
            hours = "7.5"
        elif n == 16:
            hours = "8,8,8,8,8,4,0"  # Saturday mornings too
        out.append(
            {
                "code": code,
                "machines": machines,
                "hours": hours,
                "day_start": ("06:00", "07:00", "08:00")[n % 3],
            }
        )
    return out


# Downtime windows (centre, from, to, reason), local times.
DOWNTIME = (
    ("WC-05", "2026-12-14 00:00", "2026-12-16 00:00", "maintenance"),
    ("WC-10", "2026-12-24 00:00", "2027-01-04 00:00", "holiday"),
    ("WC-15", "2027-01-12 06:00", "2027-01-12 12:00", "maintenance"),
    ("WC-02", "2027-02-03 00:00", "2027-02-04 00:00", "repair"),
    ("WC-05", "2027-02-15 08:00", "2027-02-15 16:00", "calibration"),
)


def _minutes_per_weekday(hours: str) -> list[int]:
    parts = [round(float(h) * 60) for h in hours.split(",")]  # bench data, not src/
    return parts if len(parts) == 7 else parts * 5 + [0, 0]


def available_minutes(centre: dict[str, Any]) -> int:
    """A centre's machine-minutes in the horizon: its shifts less its downtime."""
    per_day = _minutes_per_weekday(centre["hours"])
    h, m = map(int, centre["day_start"].split(":"))
    downs = [
        (datetime.fromisoformat(frm), datetime.fromisoformat(to))
        for code, frm, to, _ in DOWNTIME
        if code == centre["code"]
    ]
    total = 0
    for d in range(HORIZON_DAYS):
        day = START_DAY + timedelta(days=d)
        a = datetime.combine(day, datetime.min.time()) + timedelta(minutes=h * 60 + m)
        b = a + timedelta(minutes=per_day[day.weekday()])
        lost = sum(max((min(b, d1) - max(a, d0)).total_seconds(), 0) for d0, d1 in downs)
        total += per_day[day.weekday()] - round(lost / 60)
    return total * centre["machines"]


def routings(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """5 stages per finished good, one in each group of 4 centres; run minutes per unit
    before calibration."""
    out = {}
    names = ("prepare", "form", "assemble", "test", "pack")
    for k in range(1, N_FINISHED + 1):
        stages = []
        for g, name in enumerate(names):
            # The second stage is on the bottleneck in a third of the routings.
            n = 5 if g == 1 and rng.random() < 0.35 else g * 4 + rng.randint(1, 4)
            family = None
            if g in (0, 2) and k % 2 == 0:
                family = f"{name[:3].upper()}-{k % 6}"  # 3 families per stage
            stages.append(
                {
                    "name": name,
                    "workcenter": f"WC-{n:02d}",
                    "setup_min": rng.choice((5, 10, 15, 20, 30)),
                    "run": rng.uniform(0.5, 4.0),
                    "family": family,
                }
            )
        out[f"FG-{k:03d}"] = stages
    return out


def draw_orders(n: int, rng: random.Random) -> list[dict[str, Any]]:
    """The first ``n`` orders of the seeded sequence."""
    out = []
    for _ in range(n):
        out.append(
            {
                "item": f"FG-{rng.randint(1, N_FINISHED):03d}",
                "qty": rng.randint(*QTY),
                "due": START_DAY + timedelta(days=rng.randint(*DUE_DAYS)),
                "priority": rng.choice((0, 0, 0, 1, 2)),
                "release": rng.random() < RELEASED_SHARE,
            }
        )
    return out


def boms(rng: random.Random) -> dict[str, list[tuple[str, int]]]:
    comps = [f"CMP-{k:02d}" for k in range(1, N_COMPONENTS + 1)]
    return {
        f"FG-{k:03d}": [(c, rng.randint(1, 3)) for c in rng.sample(comps, 3)]
        for k in range(1, N_FINISHED + 1)
    }


def plant() -> tuple[dict, dict, float]:
    """(routings, boms, run-time factor): the routings' run minutes per unit are the
    drawn ones times the factor, which makes the calibration set load the bottleneck
    to TARGET_LOAD."""
    routes = routings(random.Random(SEED + 1))
    bill = boms(random.Random(SEED + 2))
    factor = calibrate(routes, draw_orders(CALIBRATION_ORDERS, random.Random(SEED + 3)))
    return routes, bill, factor


def loads(
    routes: dict, orders: list[dict[str, Any]], factor: float
) -> dict[str, tuple[float, float]]:
    """Per centre: (setup minutes, run minutes) the orders bring, run times x factor."""
    out: dict[str, tuple[float, float]] = {}
    for o in orders:
        for s in routes[o["item"]]:
            setup, run = out.get(s["workcenter"], (0.0, 0.0))
            out[s["workcenter"]] = (setup + s["setup_min"], run + _run(s, factor) * o["qty"])
    return out


def _run(stage: dict[str, Any], factor: float) -> float:
    return round(stage["run"] * factor, 2)


def calibrate(routes: dict, orders: list[dict[str, Any]]) -> float:
    wc = {c["code"]: c for c in centres()}
    setup, run = loads(routes, orders, 1.0)[BOTTLENECK]
    return (TARGET_LOAD * available_minutes(wc[BOTTLENECK]) - setup) / run


def utilisation(orders: list[dict[str, Any]]) -> dict[str, float]:
    """Each centre's planned load over the horizon, % (setups counted in full)."""
    routes, _, factor = plant()
    wc = {c["code"]: c for c in centres()}
    return {
        code: 100 * (s + r) / available_minutes(wc[code])
        for code, (s, r) in sorted(loads(routes, orders, factor).items())
    }


def plant_yaml(routes: dict, bill: dict, factor: float) -> str:
    lines = ["items:"]
    for k in range(1, N_COMPONENTS + 1):
        lines.append(
            f"  - {{code: CMP-{k:02d}, name: Component {k}, type: component, unit: pcs, "
            f"make_or_buy: buy, lead_time_days: {10 + k % 4 * 5}, cost: {k % 9 + 1}.25}}"
        )
    for code in routes:
        lines.append(
            f"  - {{code: {code}, name: Product {code[3:]}, type: finished, unit: pcs, "
            "make_or_buy: make, lead_time_days: 5}"
        )
    lines.append("boms:")
    for code, bom_lines in bill.items():
        lines.append(f"  - item: {code}\n    lines:")
        lines += [f"      - {{item: {c}, qty: {n}}}" for c, n in bom_lines]
    lines.append("routings:")
    for code, stages in routes.items():
        lines.append(f"  - item: {code}\n    stages:")
        lines += [
            f"      - {{name: {s['name']}, workcenter: {s['workcenter']}, "
            f"setup_min: {s['setup_min']}, run_min: {_run(s, factor):.2f}"
            + (f", family: {s['family']}}}" if s["family"] else "}")
            for s in stages
        ]
    return "\n".join(lines) + "\n"


def supply_yaml(bill: dict, orders: list[dict[str, Any]]) -> tuple[str, dict[str, int]]:
    """Opening stock and purchase orders for ``orders``, and each component's need."""
    need: dict[str, int] = {f"CMP-{k:02d}": 0 for k in range(1, N_COMPONENTS + 1)}
    for o in orders:
        for c, per in bill[o["item"]]:
            need[c] += per * o["qty"]
    lines = ["stock:"]
    pos = ["purchase_orders:"]
    for c, n in need.items():
        if c in SHORT:
            lines.append(f"  - {{item: {c}, qty: {max(1, n * 85 // 100)}}}")
            days = PO_DAYS[SHORT.index(c)]
            pos.append(
                f"  - {{item: {c}, qty: {max(1, n // 4)}, due: {START_DAY + timedelta(days=days)}, "
                f"supplier: SUP-{SHORT.index(c) + 1}, ref: BENCH-PO-{c}}}"
            )
        elif n:
            lines.append(f"  - {{item: {c}, qty: {n * 13 // 10}}}")
    return "\n".join(lines + pos) + "\n", need


# -- building ----------------------------------------------------------------------------


def _run_cmd(argv: list[str]) -> str:
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.strip()[-2000:]}")
    return r.stdout + r.stderr


def _add_centres(path: Path, mfgctl: str) -> str:
    """Work centres and downtime through the CLI, or SQL when it has no `workcenter`."""
    has_cli = subprocess.run([mfgctl, "workcenter", "add", "--help"], capture_output=True)
    if has_cli.returncode == 0:
        for c in centres():
            _run_cmd([mfgctl, "--db", str(path), "workcenter", "add", c["code"], "--name",
                      f"Centre {c['code'][3:]}", "--machines", str(c["machines"]), "--hours",
                      c["hours"], "--day-start", c["day_start"]])  # fmt: skip
        for code, frm, to, why in DOWNTIME:
            _run_cmd([mfgctl, "--db", str(path), "workcenter", "down", code, "--from", frm,
                      "--to", to, "--reason", why])  # fmt: skip
        return "mfgctl workcenter add / down"
    import sqlite3

    now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    db = sqlite3.connect(path)
    try:
        with db:
            for c in centres():
                h, m = map(int, c["day_start"].split(":"))
                db.execute(
                    "INSERT INTO workcenter (code, name, machines, day_start, minutes, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (c["code"], f"Centre {c['code'][3:]}", c["machines"], h * 60 + m,
                     json.dumps(_minutes_per_weekday(c["hours"])), now),
                )  # fmt: skip
            for code, frm, to, why in DOWNTIME:
                db.execute(
                    "INSERT INTO workcenter_down (workcenter_id, from_at, to_at, reason, user, "
                    "created_at) SELECT id, ?, ?, ?, ?, ? FROM workcenter WHERE code = ?",
                    (frm, to, why, USER, now, code),
                )
    finally:
        db.close()
    return "SQL (no `mfgctl workcenter` yet)"


def build_db(path: Path, n_orders: int, *, mfgctl: str) -> dict[str, Any]:
    """A new scheduling database at ``path`` (see the module's docstring); what it
    holds and how long each step took."""
    from mfgctl import db as dbmod
    from mfgctl.domain import orders

    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    info: dict[str, Any] = {"orders": n_orders}
    t0 = time.perf_counter()
    routes, bill, factor = plant()
    drawn = draw_orders(n_orders, random.Random(SEED + 3))
    source = path.with_suffix(".yaml")
    supply, _need = supply_yaml(bill, drawn)
    source.write_text(plant_yaml(routes, bill, factor) + supply)
    _run_cmd([mfgctl, "--db", str(path), "init"])
    info["work centres by"] = _add_centres(path, mfgctl)
    _run_cmd([mfgctl, "--db", str(path), "import", str(source)])
    source.unlink()
    info["plant s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    db = dbmod.connect(path)
    try:
        with dbmod.transaction(db, path):
            for o in drawn:
                order = orders.create(
                    db, item=o["item"], qty=o["qty"], due=o["due"].isoformat(), user=USER,
                    priority=o["priority"],
                )  # fmt: skip
                if o["release"]:
                    orders.release(db, order.id, user=USER, partial=True)
        info["orders s"] = time.perf_counter() - t0
        counts = dict(db.execute("SELECT state, count(*) FROM production_order GROUP BY state"))
        info["released"] = counts.get("released", 0)
        info["planned"] = counts.get("planned", 0)
        info["stages"] = (
            db.execute("SELECT count(*) FROM order_stage").fetchone()[0]
            + db.execute(
                "SELECT count(*) FROM production_order AS o JOIN routing_stage AS r "
                "ON r.item_id = o.item_id WHERE o.state = 'planned'"
            ).fetchone()[0]
        )
        info["family stages"] = db.execute(
            "SELECT count(*) FROM order_stage WHERE family IS NOT NULL"
        ).fetchone()[0]
        info["short materials"] = db.execute(
            """SELECT count(*) FROM order_material AS m
               LEFT JOIN (SELECT order_id, item_id, sum(remaining) AS held FROM reservation
                           WHERE state = 'open' GROUP BY order_id, item_id) AS r
                      ON r.order_id = m.order_id AND r.item_id = m.item_id
                WHERE ifnull(r.held, 0) < m.qty"""
        ).fetchone()[0]
    finally:
        db.close()
    if info["released"] + info["planned"] != n_orders:
        raise RuntimeError(f"{path}: {info} (expected {n_orders} open orders)")
    t0 = time.perf_counter()
    _run_cmd([mfgctl, "--db", str(path), "check"])
    info["check s"] = time.perf_counter() - t0
    util = utilisation(drawn)
    info["bottleneck load %"] = round(util[BOTTLENECK], 1)
    info["busiest other %"] = round(max(v for k, v in util.items() if k != BOTTLENECK), 1)
    info["run factor"] = round(factor, 4)
    return info


def schedule_argv(mfgctl: str, db: Path) -> list[str]:
    """The benchmarked command (output to /dev/null by the runner)."""
    return [mfgctl, "--db", str(db), "schedule", "--start", START, "--horizon",
            str(HORIZON_DAYS), "--format", "json"]  # fmt: skip


# -- timing inside one process -----------------------------------------------------------

PHASES = ("load", "mrp", "schedule", "document", "json")


def run_phases(path: Path, clock: Clock) -> dict[str, Any]:
    """One round of ``mfgctl schedule --format json``, phase by phase; what it made."""
    from mfgctl import db as dbmod
    from mfgctl.cli import schedule as cli
    from mfgctl.domain import schedule, schedule_data
    from mfgctl.render import to_json

    material = schedule_data._material

    def timed_material(*args: Any, **kwargs: Any) -> Any:
        with clock.phase("mrp"):
            return material(*args, **kwargs)

    schedule_data._material = timed_material  # type: ignore[assignment]
    try:
        conn = dbmod.connect(path)
        try:
            with dbmod.snapshot(conn, path):
                settings = schedule.Settings(cli._start(START))
                with clock.phase("load"):
                    loaded = schedule_data.load(conn, settings, horizon_days=HORIZON_DAYS)
        finally:
            conn.close()
    finally:
        schedule_data._material = material  # type: ignore[assignment]
    with clock.phase("schedule"):
        result = schedule.schedule(loaded.jobs, loaded.centres, settings)
    with clock.phase("document"):
        doc = cli.document(loaded, result, HORIZON_DAYS)
    with clock.phase("json"):
        text = to_json(doc)
    late = doc["late"]
    return {
        "orders": len(doc["orders"]),
        "operations": sum(len(o["operations"]) for o in doc["orders"]),
        "segments": sum(len(op["segments"]) for o in doc["orders"] for op in o["operations"]),
        "late": len(late),
        "late_capacity": sum(1 for o in late if o["late_reason"] == "capacity"),
        "late_material": sum(1 for o in late if o["late_reason"] in ("material", "both")),
        "held": sum(1 for o in doc["orders"] if o["held_by"]),
        "last_end": max((o["end"] for o in doc["orders"]), default=""),
        "bottleneck_util": str(
            next(c["utilisation"] for c in doc["workcenters"] if c["workcenter"] == BOTTLENECK)
        ),
        "json_mb": len(text) / 1e6,
    }


def phases(path: Path, runs: int, *, warmup: int = 1) -> dict[str, Any]:
    """Medians over ``runs`` rounds (after ``warmup``) of each phase, in seconds, what
    the schedule holds and the peak RSS of this process."""
    import resource

    samples: list[dict[str, float]] = []
    counts: dict[str, Any] = {}
    for n in range(warmup + runs):
        clock = Clock()
        counts = run_phases(path, clock)
        if n >= warmup:
            samples.append(clock.seconds)
    out: dict[str, Any] = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    out["runs"] = runs
    out["counts"] = counts
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def profile(path: Path, top: int) -> dict[str, Any]:
    """cProfile of each phase after a warm-up: per phase its time and the ``top``
    functions by own time. ``mrp`` runs inside ``load``; it is not profiled apart."""
    import pstats

    run_phases(path, Clock())
    prof = _Profiler()
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


class _Profiler(Profiler):
    """Profiler, leaving out the nested ``mrp`` phase (one profiler at a time)."""

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        if name == "mrp":
            with Clock.phase(self, name):
                yield
        else:
            with super().phase(name):
                yield


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=("build", "phases", "profile"))
    ap.add_argument("db", type=Path)
    ap.add_argument("--orders", type=int, default=CALIBRATION_ORDERS)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--mfgctl", default=str(Path(sys.executable).parent / "mfgctl"))
    args = ap.parse_args(argv)
    if args.what == "build":
        print(json.dumps(build_db(args.db, args.orders, mfgctl=args.mfgctl)))
    elif args.what == "phases":
        print(json.dumps(phases(args.db, max(args.runs, 1), warmup=args.warmup)))
    else:
        print(json.dumps(profile(args.db, args.top)))


if __name__ == "__main__":
    main()
