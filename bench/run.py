"""mfgctl benchmarks: start-up, the stock report, and a large import, against targets.

Run ``make bench`` (or ``.venv/bin/python bench/run.py``). It builds what it needs in
bench/out/ (kept between runs and rebuilt when the generator or schema.sql changes),
times each command as a subprocess with ``time.perf_counter`` (median of several runs
after a warm-up; hyperfine is not needed), reads each run's peak memory from
``os.wait4``, prints a table with PASS/MISS per target and writes it to
bench/RESULTS.md. See bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

import bomcsv  # noqa: E402  (bench/bomcsv.py)
import generate  # noqa: E402  (bench/generate.py, next to this file)
import mrp  # noqa: E402  (bench/mrp.py)
import production  # noqa: E402  (bench/production.py)
import quality  # noqa: E402  (bench/quality.py)
import reliability  # noqa: E402  (bench/reliability.py)
import schedule  # noqa: E402  (bench/schedule.py)

# The targets of the issue.
STARTUP_FACTOR = 12  # `mfgctl stock` on the sample within 12x a bare `python -c pass`
IMPORT_LIMIT_S = 3.0  # the 40,000-line BOM import
STOCK_LIMIT_S = 0.5  # the stock report on a million moves
# MRP on 10,000 items: whole command under 2 s and 500 MB, planning within 5x the read.
MRP_WALL_LIMIT_S = 2.0
MRP_RSS_LIMIT_MB = 500
MRP_PLAN_FACTOR = 5
# An MRP run slower than MRP_SLOW_S is timed once, without warm-up; after one slower than
# MRP_SKIP_S the larger plants are only read: they would take many times longer again.
MRP_SLOW_S = 20.0
MRP_SKIP_S = 60.0
# Scheduling (issue 6): `mfgctl schedule --format json` on 2,000 orders under 3 s.
SCHEDULE_LIMIT_S = 3.0
SCHEDULE_TARGET_ORDERS = 2_000
# `mfgctl status` (the one screen a shop runs every morning) on the 10,000-item MRP plant.
STATUS_LIMIT_S = 2.0
STATUS_ITEMS = 10_000
# Issue 5: trace --forward across 1,000 orders, report valuation and check on a
# million moves, each under 2 s.
QUALITY_LIMIT_S = 2.0
# Modules `mfgctl stock` must not import (slow, and not needed for the report).
MUST_NOT_IMPORT = ("sqlite_utils", "tabulate", "yaml", "pydantic")


@dataclass
class Measurement:
    name: str
    argv: list[str]
    times: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    target: str = ""
    ok: bool | None = None  # None: no target
    skipped: str = ""  # why it was not measured
    floor_kb: int = 0  # the measuring process's own peak: no RSS reads lower
    detail: str = ""  # shown after PASS/MISS
    cpu: list[float] = field(default_factory=list)  # user + system s of each run

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def peak_mb(self) -> float:
        return max(self.rss_kb) / 1024


# -- running and timing ----------------------------------------------------------------


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("MFGCTL_DB", "MFGCTL_DEBUG", "PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    env["MFGCTL_USER"] = "bench"
    return env


def run_once(argv: Sequence[str]) -> None:
    """Run a command (untimed); fail loudly on a non-zero exit."""
    r = capture(argv)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.strip()[-2000:]}")


def measure_group(
    commands: Sequence[tuple[str, list[str]]],
    *,
    runs: int,
    warmup: int = 1,
    remove: Sequence[Path] = (),
    setup: Sequence[Sequence[str]] = (),
) -> list[Measurement]:
    """Time each named command ``runs`` times after ``warmup`` untimed rounds, with each
    run's peak RSS. bench/spawn.py does the runs (see there why), taking the commands in
    turn so that all of them see the same machine load; before each run, untimed, it
    deletes the ``remove`` files and runs the ``setup`` commands (e.g. a fresh database).
    """
    job = {
        "argvs": [argv for _, argv in commands],
        "runs": runs,
        "warmup": warmup,
        "remove": [str(p) for p in remove],
        "setup": [list(a) for a in setup],
        "env": child_env(),
    }
    r = subprocess.run(
        [sys.executable, str(HERE / "spawn.py")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(r.stdout)
    if "error" in result:
        raise RuntimeError(result["error"])
    found = []
    for n, (name, argv) in enumerate(commands):
        m = Measurement(name, argv, times=result["times"][n], rss_kb=result["rss_kb"][n])
        m.cpu = result.get("cpu", [[]] * len(commands))[n]
        m.floor_kb = result["floor_kb"]
        shown = " ".join(Path(a).name if "/" in a else a for a in argv)
        print(f"  {name}: median {fmt_s(m.median)} ({shown})", file=sys.stderr)
        found.append(m)
    return found


def measure(name: str, argv: list[str], **options: Any) -> Measurement:
    """One command: see measure_group."""
    return measure_group([(name, argv)], **options)[0]


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def capture(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=child_env())


# -- what the benchmarks need ----------------------------------------------------------


def fingerprint(*paths: Path, extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes() if p.exists() else b"-")
    return h.hexdigest()[:16]


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class Builds:
    """Build products in bench/out/, reused while their inputs' fingerprint holds."""

    def __init__(self, mfgctl: str, *, rebuild: bool) -> None:
        self.mfgctl = mfgctl
        self.rebuild = rebuild
        self.stamps_path = OUT / "stamps.json"
        self.stamps = {}
        if self.stamps_path.exists() and not rebuild:
            self.stamps = json.loads(self.stamps_path.read_text())
        self._plant: generate.Plant | None = None

    def _fresh(self, path: Path, stamp: str) -> bool:
        return path.exists() and self.stamps.get(path.name) == stamp

    def _done(self, path: Path, stamp: str) -> None:
        self.stamps[path.name] = stamp
        self.stamps_path.write_text(json.dumps(self.stamps, indent=2) + "\n")

    @property
    def plant(self) -> generate.Plant:
        if self._plant is None:
            self._plant = generate.plant()
        return self._plant

    def plant_yaml(self) -> Path:
        path = OUT / "plant.yaml"
        stamp = fingerprint(HERE / "generate.py")
        if not self._fresh(path, stamp):
            print("building plant.yaml (10,000 items, 40,000 BOM lines)...", file=sys.stderr)
            generate.write_yaml(self.plant, path)
            n_items, n_lines = generate.validate_yaml(path)
            print(f"  {n_items} items, {n_lines} BOM lines, valid", file=sys.stderr)
            self._done(path, stamp)
        return path

    def moves_db(self) -> Path:
        path = OUT / "moves.db"
        stamp = fingerprint(HERE / "generate.py", ROOT / "schema.sql")
        if not self._fresh(path, stamp):
            print("building moves.db (1,000,000 moves; about 15 s)...", file=sys.stderr)
            remove_db(path)
            t = generate.build_moves_db(path, self.plant, mfgctl=self.mfgctl)
            print("  " + ", ".join(f"{k} {v:.1f} s" for k, v in t.items()), file=sys.stderr)
            self._done(path, stamp)
        return path

    def orders_db(self) -> tuple[Path, dict[str, Any]]:
        """moves.db with the plant's BOMs and 5,000 released orders (bench/production.py),
        and what building it found. Rebuilt when the generators, schema.sql or the code
        that writes orders (src/mfgctl) change."""
        path = OUT / "orders.db"
        info_path = OUT / "orders.json"
        sources = sorted((ROOT / "src" / "mfgctl").rglob("*.py"))
        stamp = fingerprint(
            HERE / "generate.py", HERE / "production.py", ROOT / "schema.sql", *sources
        )
        moves = self.moves_db()
        if not self._fresh(path, stamp) or not info_path.exists():
            print("building orders.db (5,000 released orders; about 45 s)...", file=sys.stderr)
            remove_db(path)
            info = production.build_orders_db(path, moves, self.plant, mfgctl=self.mfgctl)
            info_path.write_text(json.dumps(info, indent=2) + "\n")
            print(f"  {info}", file=sys.stderr)
            self._done(path, stamp)
        return path, json.loads(info_path.read_text())

    def mrp_db(self, n_items: int) -> tuple[Path, dict[str, Any]]:
        """The MRP benchmark's database for ``n_items`` (bench/mrp.py) and what it holds.
        Rebuilt when the generators, schema.sql or the importer change."""
        path = OUT / f"mrp-{n_items}.db"
        info_path = OUT / f"mrp-{n_items}.json"
        sources = sorted((ROOT / "src" / "mfgctl" / "importer").rglob("*.py"))
        stamp = fingerprint(HERE / "generate.py", HERE / "mrp.py", ROOT / "schema.sql", *sources)
        if not self._fresh(path, stamp) or not info_path.exists():
            print(f"building {path.name} ({n_items:,} items)...", file=sys.stderr)
            info = mrp.build_db(path, n_items, mfgctl=self.mfgctl)
            info_path.write_text(json.dumps(info, indent=2) + "\n")
            print(f"  {info}", file=sys.stderr)
            self._done(path, stamp)
        return path, json.loads(info_path.read_text())

    def schedule_db(self, n_orders: int) -> tuple[Path, dict[str, Any]]:
        """The scheduling benchmark's database with ``n_orders`` open orders
        (bench/schedule.py) and what it holds. Rebuilt when schedule.py, schema.sql or
        anything under src/mfgctl changes (the domain and the CLI write it)."""
        path = OUT / f"schedule-{n_orders}.db"
        info_path = OUT / f"schedule-{n_orders}.json"
        sources = sorted((ROOT / "src" / "mfgctl").rglob("*.py"))
        stamp = fingerprint(HERE / "schedule.py", ROOT / "schema.sql", *sources)
        if not self._fresh(path, stamp) or not info_path.exists():
            print(f"building {path.name} ({n_orders:,} orders)...", file=sys.stderr)
            info = schedule.build_db(path, n_orders, mfgctl=self.mfgctl)
            info_path.write_text(json.dumps(info, indent=2) + "\n")
            print(f"  {info}", file=sys.stderr)
            self._done(path, stamp)
        return path, json.loads(info_path.read_text())

    def trace_db(self) -> tuple[Path, dict[str, Any]]:
        """The trace benchmark's database (bench/quality.py): one supplier lot used across
        1,000 orders. Rebuilt when quality.py, schema.sql or anything under src/mfgctl
        changes (the domain writes it)."""
        path = OUT / "trace.db"
        info_path = OUT / "trace.json"
        sources = sorted((ROOT / "src" / "mfgctl").rglob("*.py"))
        stamp = fingerprint(HERE / "quality.py", ROOT / "schema.sql", *sources)
        if not self._fresh(path, stamp) or not info_path.exists():
            print(f"building {path.name} ({quality.TRACE_ORDERS:,} orders; about 1 minute)...",
                  file=sys.stderr)  # fmt: skip
            info = quality.build_db(path, mfgctl=self.mfgctl)
            info_path.write_text(json.dumps(info, indent=2) + "\n")
            print(f"  {info}", file=sys.stderr)
            self._done(path, stamp)
        return path, json.loads(info_path.read_text())

    def sample_db(self, sample_files: list[Path]) -> Path:
        """Always rebuilt: it is small, and the importer may have changed."""
        path = OUT / "sample.db"
        remove_db(path)
        for argv in (
            [self.mfgctl, "--db", str(path), "init"],
            [self.mfgctl, "--db", str(path), "import", *map(str, sample_files)],
        ):
            r = capture(argv)
            if r.returncode != 0:
                raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.strip()}")
        return path


def importer_missing(mfgctl: str) -> str:
    """Why `mfgctl import` cannot be benchmarked yet ("" when it can)."""
    r = capture([mfgctl, "import", "--help"])
    if r.returncode != 0:
        return "`mfgctl import` does not exist yet (`mfgctl import --help` fails)"
    if not sorted((ROOT / "sample_data").glob("*.yaml")):
        return "sample_data/*.yaml does not exist yet"
    return ""


# -- start-up analysis -------------------------------------------------------------------

_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


@dataclass
class ModuleCost:
    name: str
    depth: int
    self_us: float
    cumulative_us: float


def import_costs(python: str, db: Path, runs: int) -> tuple[list[ModuleCost], float]:
    """``python -X importtime -m mfgctl --db DB stock``: each module's median cost over
    ``runs`` runs, in first-import order, and the median wall time of those runs."""
    samples: dict[str, list[tuple[int, int, int]]] = {}
    order: list[str] = []
    walls = []
    argv = [python, "-X", "importtime", "-m", "mfgctl", "--db", str(db), "stock"]
    for _ in range(runs + 1):  # the first one warms the caches
        start = time.perf_counter()
        r = capture(argv)
        walls.append(time.perf_counter() - start)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr[-2000:]}")
        for m in _IMPORTTIME.finditer(r.stderr):
            name = m.group(4)
            if name not in samples:
                samples[name] = []
                order.append(name)
            samples[name].append((int(m.group(1)), int(m.group(2)), len(m.group(3)) // 2))
    costs = []
    for name in order:
        s = samples[name][1:] or samples[name]
        costs.append(
            ModuleCost(
                name,
                s[0][2],
                statistics.median(x[0] for x in s),
                statistics.median(x[1] for x in s),
            )
        )
    return costs, statistics.median(walls[1:])


def import_report(costs: list[ModuleCost], wall: float) -> list[str]:
    top_level = [c for c in costs if c.depth == 0]
    total = sum(c.cumulative_us for c in top_level)
    lines = [
        f"`python -X importtime -m mfgctl --db sample.db stock`: {len(costs)} modules, "
        f"{total / 1000:.0f} ms of imports (the instrumented run takes {fmt_s(wall)}; "
        "importtime inflates small modules). Median of the runs, in ms:",
        "",
        "| module | cumulative | self | imported by |",
        "|---|---:|---:|---|",
    ]
    parents: dict[str, str] = {}
    # importtime lists a module after its children: the parent is the next line up a level.
    for i, c in enumerate(costs):
        for later in costs[i + 1 :]:
            if later.depth < c.depth:
                parents[c.name] = later.name
                break
    interesting = sorted(
        (c for c in costs if c.cumulative_us >= 3000 or c.name.split(".")[0] in MUST_NOT_IMPORT),
        key=lambda c: -c.cumulative_us,
    )
    for c in interesting[:30]:
        lines.append(
            f"| {c.name} | {c.cumulative_us / 1000:.1f} | {c.self_us / 1000:.1f} "
            f"| {parents.get(c.name, '(top level)')} |"
        )
    forbidden = sorted({c.name for c in costs if c.name.split(".")[0] in MUST_NOT_IMPORT})
    # Charge each module (stdlib ones included) to the nearest package that imported it.
    packages = ("typer", "rich", "mfgctl", "shellingham")
    by_package: dict[str, float] = {}
    for c in costs:
        name = c.name
        while name.split(".")[0] not in packages and name in parents:
            name = parents[name]
        top = name.split(".")[0]
        key = top if top in packages else "other (stdlib at top level)"
        by_package[key] = by_package.get(key, 0) + c.self_us
    ranked = sorted(by_package.items(), key=lambda kv: -kv[1])
    lines.append("")
    lines.append(
        "Self times charged to the package that imported them (stdlib modules included): "
        + ", ".join(f"{k} {v / 1000:.1f} ms" for k, v in ranked)
        + ". `runpy` and `importlib.util` come from `-m` only."
    )
    lines.append("")
    if forbidden:
        lines.append(f"**`stock` imports modules it must not:** {', '.join(forbidden)}.")
    else:
        lines.append(f"`stock` imports none of {', '.join(MUST_NOT_IMPORT)}.")
    return lines


# -- production: reservations and orders ------------------------------------------------------


def production_benchmarks(
    builds: Builds, mfgctl: str, *, runs: int, quick: int, reserve_runs: int, seconds: float
) -> list[str]:
    """Reservation throughput from 1, 2, 4 processes; the whole `mfgctl reserve`
    command; `order show`, `order list` (and `wip`) on 5,000 orders. Markdown lines."""
    cpu = CpuWatch()
    orders_db, info = builds.orders_db()
    print("reservations from 1, 2 and 4 processes...", file=sys.stderr)
    levels = (1, 2, 4)
    found = production.throughput(
        orders_db, levels, runs=reserve_runs, seconds=seconds, mfgctl=mfgctl, others=CpuWatch
    )
    reserve_db = OUT / "reserve.db"
    production.prepare_reservation_db(orders_db, reserve_db)
    argv = [mfgctl, "--db", str(reserve_db), "reserve", "RES-01", "5", "--for", "BENCH-CLI"]
    whole = measure("`mfgctl reserve RES-01 5 --for BENCH-CLI` (the whole command)", argv,
                    runs=quick, warmup=3)  # fmt: skip
    problems = production.verify(reserve_db, [], procs=0, mfgctl=mfgctl)
    whole.detail = "free >= 0, `check` pass" if not problems else "; ".join(problems)
    remove_db(reserve_db)

    order_id, n_materials = production.typical_order(orders_db)
    db = ["--db", str(orders_db)]
    reports = measure_group(
        [
            (
                f"`mfgctl order show {order_id}` ({n_materials} materials, the median)",
                [mfgctl, *db, "order", "show", str(order_id)],
            ),
            ("`mfgctl order list` (5,000 orders)", [mfgctl, *db, "order", "list"]),
            ("`mfgctl order list --format csv`", [mfgctl, *db, "order", "list", "--format", "csv"]),
        ],
        runs=runs,
    )
    name = "`mfgctl wip`, 5,000 orders"
    if capture([mfgctl, "wip", "--help"]).returncode != 0:
        why = "`mfgctl wip` does not exist yet (`mfgctl wip --help` fails)"
        print(f"NOTE: {why}: skipping it", file=sys.stderr)
        reports.append(Measurement(name, [], skipped=why))
    else:
        try:
            # At most 3 runs, no warm-up (the reports above warmed the file): it can be slow.
            reports.append(measure(name, [mfgctl, *db, "wip"], runs=min(runs, 3), warmup=0))
        except RuntimeError as e:
            print(f"NOTE: `mfgctl wip` failed: {e}", file=sys.stderr)
            reports.append(Measurement(name, [], skipped=f"it failed: {str(e)[-200:]}"))

    others = cpu.others()
    refused = info.get("refused", {})
    refusals = "; ".join(f"{k}: {v}" for k, v in info.get("first_refusal", {}).items())
    return [
        "## Production: reservations and orders",
        "",
        f"- Other processes used {others:.2f} of {os.cpu_count()} cores on average during "
        "this section"
        + (" (**busy machine**)" if others > 0.2 else "")
        + "; per reservation run, the last column below.",
        f"- Database: `out/orders.db`, the plant of moves.db ({info['items']:,} items, "
        f"1,000,000 moves) with its 7,000 BOMs imported, {production.STOCK_QTY:,} of every "
        f"component received, and {info['orders']:,} orders created and released through "
        f"`orders.create` / `orders.release` ({info['released']:,} released, "
        f"{info['late']:,} of them late today, {info['materials']:,} frozen materials, "
        f"{info['reservations']:,} reservations, {info['events']:,} order events). "
        f"Built in {info['orders s']:.0f} s of orders after {info['copy + import BOMs s']:.0f} s "
        f"of copy and BOM import; `mfgctl check` passes.",
        *(
            [
                f"- While building it, {sum(refused.values())} drawn orders were refused by "
                f"`orders.release` and skipped (rolled back to a savepoint, another one drawn): "
                f"{refusals}"
            ]
            if refused
            else []
        ),
        "",
        f"### Reservation throughput ({reserve_runs} runs of {seconds:g} s per level)",
        "",
        *production.throughput_table(found),
        "",
        "Each worker is its own OS process with one connection (`mfgctl.db.connect`, default "
        "busy timeout) calling `reservations.reserve(item, qty, ref)` in "
        "`mfgctl.db.transaction` (`BEGIN IMMEDIATE` ... `COMMIT`, `synchronous=FULL`) in a "
        f"loop: {len(production.RES_ITEMS)} lot-tracked items, each in "
        f"{production.RES_LOTS * len(production.RES_LOCATIONS)} lots of "
        f"{production.RES_LOT_QTY:,} pcs at {len(production.RES_LOCATIONS)} locations, "
        f"{production.RES_QTY[0]}-{production.RES_QTY[1]} pcs a reservation (first-expired "
        "picking moves through the lots; a reservation may take from two). Every run starts "
        "from a fresh copy of orders.db. Latency: one reservation's transaction, waiting "
        "for the lock included. Others' CPU: cores other processes used during the run "
        "(with fsync-heavy runs this includes the kernel's own I/O threads).",
        "",
        *table([whole, *reports]),
        "",
    ]


# -- MRP ----------------------------------------------------------------------------------


def mrp_phases(python: str, db: Path, *, runs: int, warmup: int, until: str = "json") -> dict:
    """bench/mrp.py phases: medians of each phase inside one fresh process."""
    argv = [python, str(HERE / "mrp.py"), "phases", str(db), "--runs", str(runs),
            "--warmup", str(warmup), "--until", until]  # fmt: skip
    r = capture(argv)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.strip()[-2000:]}")
    return json.loads(r.stdout)


def _planning_s(ph: dict) -> float:
    return sum(ph.get(k, 0.0) for k in mrp.PHASES if k not in ("read", "load"))


def mrp_benchmarks(
    builds: Builds, mfgctl: str, python: str, *, runs: int, profile_top: int = 6
) -> tuple[list[str], list[Measurement]]:
    """`mfgctl mrp --format json` at each of mrp.SCALES beside the raw read of its tables,
    the phases inside one process, and a profile when a target is missed. Markdown lines
    and the measurements that carry targets."""
    cpu = CpuWatch()
    rows: list[dict[str, Any]] = []
    measured: list[Measurement] = []
    too_slow: tuple[int, float] | None = None
    for n in mrp.SCALES:
        db, info = builds.mrp_db(n)
        print(f"MRP on {n:,} items...", file=sys.stderr)
        label = f"{n:,} items"
        whole_name = f"`mfgctl mrp --format json`, {label}"
        read_name = f"raw read of the MRP tables (`python -c`), {label}"
        read_argv = mrp.read_argv(python, db)
        row: dict[str, Any] = {"n": n, "info": info}
        if too_slow is not None:
            why = f"not run: {too_slow[0]:,} items took {fmt_s(too_slow[1])}"
            row["phases"] = mrp_phases(python, db, runs=runs, warmup=1, until="load")
            whole = Measurement(whole_name, [], skipped=why)
            read = measure(read_name, read_argv, runs=runs)
        else:
            probe = mrp_phases(python, db, runs=1, warmup=0)
            if _planning_s(probe) + probe["load"] > MRP_SLOW_S:
                print(f"  slow ({fmt_s(_planning_s(probe))} planning): one run", file=sys.stderr)
                row["phases"] = probe
                whole = measure(whole_name, mrp.mrp_argv(mfgctl, db), runs=1, warmup=0)
                read = measure(read_name, read_argv, runs=runs)
            else:
                row["phases"] = mrp_phases(python, db, runs=runs, warmup=1)
                whole, read = measure_group(
                    [(whole_name, mrp.mrp_argv(mfgctl, db)), (read_name, read_argv)], runs=runs
                )
        if not whole.skipped and whole.median > MRP_SKIP_S:
            too_slow = (n, whole.median)
        if n == 10_000:
            limit = f"< {MRP_WALL_LIMIT_S:g} s, < {MRP_RSS_LIMIT_MB} MB"
            whole.target = limit
            if not whole.skipped:
                whole.ok = whole.median < MRP_WALL_LIMIT_S and whole.peak_mb < MRP_RSS_LIMIT_MB
            ph = row["phases"]
            if "plan" in ph:
                ratio = ph["plan"] / ph["read"]
                row["plan_ok"] = ratio <= MRP_PLAN_FACTOR
        row["whole"], row["read"] = whole, read
        measured += [whole, read]
        rows.append(row)

    def cell(ph: dict, key: str) -> str:
        return fmt_s(ph[key]) if key in ph else "-"

    lines = [
        "## MRP: `mfgctl mrp --format json`",
        "",
        f"- Other processes used {cpu.others():.2f} of {os.cpu_count()} cores on average "
        "during this section" + (" (**busy machine**)" if cpu.others() > 0.2 else "") + ".",
        f"- Databases: `out/mrp-N.db`, built by bench/mrp.py: the plant of bench/generate.py "
        f"with N items and {mrp.LINES_PER_ITEM} BOM lines an item, planning data, free stock, "
        "open purchase orders and open demand, imported with `mfgctl import`; `mfgctl check` "
        f"passes. The run: `--start {mrp.START} --horizon {mrp.HORIZON_DAYS} --bucket "
        f"{mrp.BUCKET} --format json`, output to /dev/null.",
        "",
        *table(measured),
        "",
        "Inside one process (bench/mrp.py phases; median of the runs, seconds): the raw read "
        "of every row of item, bom, bom_line, bom_substitute, balance, reservation, demand, "
        "purchase_order, production_order, order_material as tuples; `mrp_data.load`; "
        "`mrp.plan`; `mrp_data.fingerprint`; the JSON (`mrp_report.document` written as "
        "it is made by `render.write_json`), with the garbage collector paused as in the "
        "command.",
        "",
        "| items | BOM lines | demand (forecast) | POs | stocked | raw read | load | plan "
        "| fingerprint | JSON | plan / read | planned orders | pegging | pegged demands "
        "| JSON size | peak RSS | runs |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ph, info, c = row["phases"], row["info"], row["phases"].get("counts") or {}
        ratio = f"{ph['plan'] / ph['read']:.0f}x" if "plan" in ph else "-"
        if "plan_ok" in row:
            ratio += " PASS" if row["plan_ok"] else f" **MISS** (< {MRP_PLAN_FACTOR}x)"
        lines.append(
            f"| {row['n']:,} | {info['bom_line']:,} | {info['demand']:,} ({info['forecast']:,}) "
            f"| {info['purchase_order']:,} | {info['stocked']:,} | {cell(ph, 'read')} "
            f"| {cell(ph, 'load')} | {cell(ph, 'plan')} | {cell(ph, 'fingerprint')} "
            f"| {cell(ph, 'json')} | {ratio} "
            f"| {c.get('planned_orders', '-'):,} | {c.get('pegging', '-'):,} "
            f"| {c.get('pegged_demands', '-'):,} "
            f"| {c['json_mb']:.0f} MB | {ph['peak_mb']:.0f} MB | {ph['runs']} |"
            if c
            else f"| {row['n']:,} | {info['bom_line']:,} | {info['demand']:,} "
            f"({info['forecast']:,}) | {info['purchase_order']:,} | {info['stocked']:,} "
            f"| {cell(ph, 'read')} | {cell(ph, 'load')} | - | - | - | - | - | - | - | - "
            f"| {ph['peak_mb']:.0f} MB | {ph['runs']} |"
        )
    base = rows[0]
    growth = []
    for row in rows[1:]:
        k = row["n"] / base["n"]
        parts = [f"{k:g}x the items: raw read {row['read'].median / base['read'].median:.1f}x"]
        if not row["whole"].skipped and not base["whole"].skipped:
            parts.append(f"the whole command {row['whole'].median / base['whole'].median:.1f}x")
        for key in ("load", "plan", "json"):
            if key in row["phases"] and key in base["phases"]:
                parts.append(f"{key} {row['phases'][key] / base['phases'][key]:.1f}x")
        growth.append(f"- {row['n']:,} against {base['n']:,} items ({', '.join(parts)}).")
    lines += [
        "",
        "Growth, against the smallest plant (whole-process medians and in-process phases):",
        "",
        *growth,
        "",
        "`pegging`: requirements the planned orders cover (each names the parent planned "
        "order or the demand it comes from); `pegged demands`: the top-level demands they "
        "serve through every level, summed over the orders (each a number referring to the "
        f"document's `demands`). A run slower than {MRP_SLOW_S:g} s is timed once without "
        f"warm-up; after one slower than {MRP_SKIP_S:g} s the larger plants are only read.",
    ]
    missed = any(m.ok is False for m in measured) or any(
        row.get("plan_ok") is False for row in rows
    )
    if missed:
        lines += ["", *mrp_profile(python, rows, top=profile_top)]
    return lines, measured


def mrp_profile(python: str, rows: list[dict[str, Any]], *, top: int) -> list[str]:
    """cProfile of each phase on the largest plant that is not too slow to profile."""
    fast = [r for r in rows if "plan" in r["phases"] and _planning_s(r["phases"]) < MRP_SLOW_S]
    row = fast[-1] if fast else rows[0]
    db = OUT / f"mrp-{row['n']}.db"
    print(f"profiling MRP on {row['n']:,} items...", file=sys.stderr)
    argv = [python, str(HERE / "mrp.py"), "profile", str(db), "--top", str(top)]
    r = capture(argv)
    if r.returncode != 0:
        return [f"Profile failed: {r.stderr.strip()[-500:]}"]
    found = json.loads(r.stdout)
    lines = [
        f"### Where the time goes (cProfile, {row['n']:,} items)",
        "",
        "Each phase profiled on its own after a warm-up (the profiler slows Python code "
        "2-3x); the functions with the most own time:",
        "",
        "| phase | time (profiled) | function | calls | own | cumulative |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for phase, data in found.items():
        if phase == "read":
            continue
        for n, (func, calls, own, cum) in enumerate(data["top"]):
            head = f"{phase} | {fmt_s(data['seconds'])}" if n == 0 else " | "
            lines.append(f"| {head} | `{func}` | {calls:,} | {fmt_s(own)} | {fmt_s(cum)} |")
    return lines


# -- scheduling -------------------------------------------------------------------------------


def schedule_phases(python: str, db: Path, *, runs: int, warmup: int) -> dict:
    """bench/schedule.py phases: medians of each phase inside one fresh process."""
    argv = [python, str(HERE / "schedule.py"), "phases", str(db), "--runs", str(runs),
            "--warmup", str(warmup)]  # fmt: skip
    r = capture(argv)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.strip()[-2000:]}")
    return json.loads(r.stdout)


def schedule_benchmarks(
    builds: Builds, mfgctl: str, python: str, *, runs: int, profile_top: int = 8
) -> tuple[list[str], list[Measurement]]:
    """`mfgctl schedule --format json` at each of schedule.SCALES, the phases inside one
    process, and a profile when the target is missed. Markdown lines and the
    measurements."""
    cpu = CpuWatch()
    rows: list[dict[str, Any]] = []
    measured: list[Measurement] = []
    for n in schedule.SCALES:
        db, info = builds.schedule_db(n)
        print(f"schedule on {n:,} orders...", file=sys.stderr)
        ph = schedule_phases(python, db, runs=runs, warmup=1)
        m = measure(
            f"`mfgctl schedule --format json`, {n:,} orders", schedule.schedule_argv(mfgctl, db),
            runs=runs,
        )  # fmt: skip
        if n == SCHEDULE_TARGET_ORDERS:
            m.target = f"< {SCHEDULE_LIMIT_S:g} s"
            m.ok = m.median < SCHEDULE_LIMIT_S
        measured.append(m)
        rows.append({"n": n, "info": info, "phases": ph, "whole": m})

    others = cpu.others()
    where = machine()
    lines = [
        "## Scheduling: `mfgctl schedule --format json`",
        "",
        f"- Measured {where['date']} at commit {where['commit']}; {where['machine']}; "
        f"{where['python']}, SQLite {where['sqlite']}.",
        f"- Other processes used {others:.2f} of {os.cpu_count()} cores on average during "
        "this section" + (" (**busy machine**)" if others > 0.2 else "") + ".",
        f"- Databases: `out/schedule-N.db`, built by bench/schedule.py: {schedule.N_CENTRES} "
        "work centres (some with 2-3 machines, 7.5 to 16 hours a day, downtime windows) "
        f"added with {rows[0]['info']['work centres by']}; {schedule.N_FINISHED} finished "
        f"goods with BOMs of 3 of {schedule.N_COMPONENTS} components and routings of 5 stages "
        "(setup families on two stages of half of them), stock and purchase orders, "
        "imported with `mfgctl import`; N orders made with `orders.create`, "
        f"{schedule.RELEASED_SHARE:.0%} released (`orders.release --partial`), due from "
        f"{-schedule.DUE_DAYS[0]} days before the start to {schedule.DUE_DAYS[1]} days after "
        f"it; `mfgctl check` passes. Run times are set so that 2,000 orders load the "
        f"bottleneck {schedule.BOTTLENECK} to {schedule.TARGET_LOAD:.0%} of its "
        f"{schedule.HORIZON_DAYS} days; the same plant takes every N (the first 500 orders "
        "are the first 500 of 2,000). The run: `--start "
        f"{schedule.START} --horizon {schedule.HORIZON_DAYS} --format json`, output to "
        "/dev/null.",
        "",
        *table(measured),
        "",
        "Inside one process (bench/schedule.py phases; median of the runs, seconds): "
        "`schedule_data.load` (orders, stages, work centres, and the quick MRP run that "
        "dates the material, `schedule_data._material`, shown apart as *of which MRP*), "
        "`schedule.schedule`, the JSON document (`cli.schedule.document`) and "
        "`render.to_json`. *Load*: the orders' setup and run minutes on the bottleneck "
        f"against its working minutes in the {schedule.HORIZON_DAYS} days; *utilisation*: "
        "what the schedule puts inside the horizon (the `utilisation` of the JSON).",
        "",
        "| orders | released | operations | segments | held by material | late (capacity / "
        f"material) | last operation ends | {schedule.BOTTLENECK} load | utilisation "
        "| load | of which MRP | schedule | document | JSON | JSON size | peak RSS | runs |",
        "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ph, info, c = row["phases"], row["info"], row["phases"]["counts"]
        lines.append(
            f"| {row['n']:,} | {info['released']:,} | {c['operations']:,} | {c['segments']:,} "
            f"| {c['held']:,} | {c['late']:,} ({c['late_capacity']:,} / {c['late_material']:,}) "
            f"| {c['last_end']} | {info['bottleneck load %']:.0f} % | {c['bottleneck_util']} % "
            f"| {fmt_s(ph['load'])} | {fmt_s(ph['mrp'])} | {fmt_s(ph['schedule'])} "
            f"| {fmt_s(ph['document'])} | {fmt_s(ph['json'])} | {c['json_mb']:.1f} MB "
            f"| {ph['peak_mb']:.0f} MB | {ph['runs']} |"
        )
    base = rows[0]
    growth = []
    for row in rows[1:]:
        k = row["n"] / base["n"]
        parts = [f"the whole command {row['whole'].median / base['whole'].median:.1f}x"]
        for key in ("load", "mrp", "schedule", "document", "json"):
            parts.append(f"{key} {row['phases'][key] / base['phases'][key]:.1f}x")
        growth.append(f"- {k:g}x the orders ({row['n']:,}): {', '.join(parts)}.")
    lines += ["", f"Growth, against {base['n']:,} orders:", "", *growth]
    if any(m.ok is False for m in measured):
        target = next(r for r in rows if r["n"] == SCHEDULE_TARGET_ORDERS)
        lines += ["", *schedule_profile(python, target["n"], top=profile_top)]
    return lines, measured


def schedule_profile(python: str, n: int, *, top: int) -> list[str]:
    """cProfile of each phase of `schedule` on ``n`` orders."""
    print(f"profiling schedule on {n:,} orders...", file=sys.stderr)
    db = OUT / f"schedule-{n}.db"
    argv = [python, str(HERE / "schedule.py"), "profile", str(db), "--top", str(top)]
    r = capture(argv)
    if r.returncode != 0:
        return [f"Profile failed: {r.stderr.strip()[-500:]}"]
    found = json.loads(r.stdout)
    lines = [
        f"### Where the time goes (cProfile, {n:,} orders)",
        "",
        "Each phase profiled after a warm-up (the profiler slows Python code 2-3x); the "
        "functions with the most own time:",
        "",
        "| phase | time (profiled) | function | calls | own | cumulative |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for phase, data in found.items():
        for k, (func, calls, own, cum) in enumerate(data["top"]):
            head = f"{phase} | {fmt_s(data['seconds'])}" if k == 0 else " | "
            lines.append(f"| {head} | `{func}` | {calls:,} | {fmt_s(own)} | {fmt_s(cum)} |")
    return lines


# -- quality: trace, valuation, check (issue 5) ------------------------------------------------


def status_benchmarks(
    builds: Builds, mfgctl: str, *, runs: int
) -> tuple[list[str], list[Measurement]]:
    """`mfgctl status` (table, JSON, `--no-mrp`) on the MRP benchmark's 10,000-item plant.
    Markdown lines and the measurements."""
    cpu = CpuWatch()
    db, info = builds.mrp_db(STATUS_ITEMS)
    print(f"status on {STATUS_ITEMS:,} items...", file=sys.stderr)
    argv = [mfgctl, "--db", str(db), "status"]
    measured = measure_group(
        [
            (f"`mfgctl status`, {STATUS_ITEMS:,} items", argv),
            ("`mfgctl status --format json`", [*argv, "--format", "json"]),
            ("`mfgctl status --no-mrp`", [*argv, "--no-mrp"]),
        ],
        runs=runs,
    )
    measured[0].target = f"< {STATUS_LIMIT_S:g} s"
    measured[0].ok = measured[0].median < STATUS_LIMIT_S
    for m in measured:
        m.detail = f"CPU {fmt_s(statistics.median(m.cpu))}" if m.cpu else ""
    others = cpu.others()
    where = machine()
    return [
        "## Status: `mfgctl status`",
        "",
        f"- Measured {where['date']} at commit {where['commit']}; {where['machine']}; "
        f"{where['python']}, SQLite {where['sqlite']}.",
        f"- Other processes used {others:.2f} of {os.cpu_count()} cores on average during "
        "this section" + (" (**busy machine**)" if others > 0.2 else "") + ".",
        f"- `out/mrp-{STATUS_ITEMS}.db` (bench/mrp.py: {info.get('item', STATUS_ITEMS):,} "
        f"items, {info.get('bom', 0):,} BOMs, {info.get('bom_line', 0):,} BOM lines, "
        f"{info.get('demand', 0):,} demand lines, {info.get('purchase_order', 0):,} purchase "
        "orders). `status` runs MRP from today over 90 days (`--no-mrp` skips it) and rolls "
        "up the cost of every finished item; output to /dev/null.",
        "",
        *table(measured),
    ], measured


def quality_benchmarks(
    builds: Builds, mfgctl: str, *, runs: int
) -> tuple[list[str], list[Measurement]]:
    """`report valuation`, `check` and `check --quick` on moves.db; `trace --forward` on
    trace.db and a recall on a copy. Markdown lines and the measurements."""
    cpu = CpuWatch()
    moves_db = builds.moves_db()
    # A database at an older schema is upgraded by the first command that opens it: do
    # that now, untimed, so that no timed run pays for it.
    with sqlite3.connect(moves_db) as c:
        version = c.execute("PRAGMA user_version").fetchone()[0]
    run_once([mfgctl, "--db", str(moves_db), "stock", "--format", "csv"])
    with sqlite3.connect(moves_db) as c:
        upgraded = c.execute("PRAGMA user_version").fetchone()[0]
    db = ["--db", str(moves_db)]
    print("valuation and check on 1,000,000 moves...", file=sys.stderr)
    ledger = measure_group(
        [
            ("`mfgctl report valuation --format json`, 1,000,000 moves",
             [mfgctl, *db, "report", "valuation", "--format", "json"]),
            ("`mfgctl check`, 1,000,000 moves", [mfgctl, *db, "check"]),
            ("`mfgctl check --quick`, 1,000,000 moves", [mfgctl, *db, "check", "--quick"]),
        ],
        runs=runs,
    )  # fmt: skip
    valued = json.loads(capture([mfgctl, *db, "report", "valuation", "--format", "json"]).stdout)
    found = capture([mfgctl, *db, "check", "--format", "json"])
    problems = json.loads(found.stdout) if found.stdout.strip() else []
    errors = sum(p["severity"] == "error" for p in problems)

    trace_db, info = builds.trace_db()
    print(f"trace --forward across {info['orders']:,} orders...", file=sys.stderr)
    argv = quality.trace_argv(mfgctl, trace_db)
    tree = json.loads(capture(argv).stdout)
    counts = quality.tree_counts(tree)
    size = len(capture(argv).stdout.encode())
    trace = measure(f"`mfgctl trace {quality.LOT} --forward --format json`, "
                    f"{info['orders']:,} orders", argv, runs=runs)  # fmt: skip
    recall_db = OUT / "recall.db"
    copies = [Path(f"{recall_db}{s}") for s in ("", "-wal", "-shm", "-journal")]
    recall = measure(
        "`... --forward --hold --reason TEXT` (a recall, on a fresh copy, once)",
        quality.recall_argv(mfgctl, recall_db),
        runs=1,
        warmup=0,
        remove=copies,
        setup=[
            [
                sys.executable,
                "-c",
                "import shutil, sys; shutil.copyfile(*sys.argv[1:])",
                str(trace_db),
                str(recall_db),
            ]
        ],
    )
    with sqlite3.connect(recall_db) as c:
        held = c.execute("SELECT count(*) FROM inspection WHERE result = 'hold'").fetchone()[0]
    again = json.loads(capture(quality.recall_argv(mfgctl, recall_db)).stdout)
    recheck = capture([mfgctl, "--db", str(recall_db), "check"]).returncode
    remove_db(recall_db)
    recall.detail = (
        f"{held} holds; run again: {len(again['inspections'])} more, "
        f"`check` {'passes' if recheck == 0 else f'exits {recheck}'}"
    )
    measured = [*ledger, trace, recall]
    for m in measured:
        m.target = f"< {QUALITY_LIMIT_S:g} s"
        m.ok = m.median < QUALITY_LIMIT_S
    for m in measured:
        cpu_s = statistics.median(m.cpu) if m.cpu else None
        m.detail = ", ".join(
            x for x in (f"CPU {fmt_s(cpu_s)}" if cpu_s is not None else "", m.detail) if x
        )
    others = cpu.others()
    where = machine()
    lots = counts.get("lot", 0) + counts.get("serial", 0)
    lines = [
        "## Quality: `trace --forward`, `report valuation`, `check`",
        "",
        f"- Measured {where['date']} at commit {where['commit']}; {where['machine']}; "
        f"{where['python']}, SQLite {where['sqlite']}.",
        f"- Other processes used {others:.2f} of {os.cpu_count()} cores on average during "
        "this section" + (" (**busy machine**)" if others > 0.2 else "") + ".",
        f"- `out/moves.db` (the million-move database; schema version {version}"
        + (f", upgraded to {upgraded} before timing" if upgraded != version else "")
        + f"): valuation lists {len(valued):,} items; `check` finds {errors} errors and "
        f"{len(problems) - errors:,} warnings (planning data never reviewed, old stock "
        "pending inspection, make items without a BOM: the generator's data).",
        f"- `out/trace.db`, built by bench/quality.py in {info['orders s']:.0f} s: lot "
        f"{quality.LOT} of RES consumed by {info['orders using the lot']:,} orders "
        f"(seven in ten make AMP, three in ten BOX from AMP and RES), each making a lot of "
        f"its own; {info['AMP lots used by BOX orders']:,} AMP lots consumed by BOX orders, "
        f"{info['shipped lots']} BOX lots shipped to 3 customers; {info['moves']:,} moves; "
        "`mfgctl check` passes. The forward trace holds "
        f"{counts.get('order', 0):,} order nodes, {lots:,} lot nodes "
        f"({counts.get('lot (repeat)', 0):,} more marked as repeats), "
        f"{counts.get('stock', 0):,} stock, {counts.get('wip', 0):,} WIP and "
        f"{counts.get('shipped', 0):,} shipped nodes: {size / 1024:.0f} KB of JSON.",
        "",
        *table(measured),
        "",
        "CPU: the median run's user + system time (`ru_utime + ru_stime` from `os.wait4`), "
        "which other processes' load does not inflate the way it does wall time. The recall "
        "runs once on a fresh copy of trace.db (copied untimed before it): it "
        "blocks every unit in house (an inspection with decision `hold` per lot and place) "
        "in one transaction; run a second time it changes nothing.",
    ]
    return lines, measured


# -- the report -----------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f"{pages / 2**30:.1f} GiB"
    except (ValueError, OSError, AttributeError):
        memory = "?"
    commit = capture(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores (nproc), {cpu}, {memory} RAM",
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "sqlite": sqlite3.sqlite_version,
        "commit": commit or "?",
    }


class CpuWatch:
    """How much CPU other processes took while the benchmarks ran: the machine's busy
    time (/proc/stat) minus this process's and its children's own CPU time."""

    def __init__(self) -> None:
        self.start = (time.perf_counter(), self._busy(), self._ours())

    @staticmethod
    def _busy() -> float:
        try:
            fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        except OSError:
            return 0.0
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _ours() -> float:
        import resource

        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def others(self) -> float:
        """Cores used by other processes on average since this watch started."""
        t0, busy0, ours0 = self.start
        wall = time.perf_counter() - t0
        other = (self._busy() - busy0) - (self._ours() - ours0)
        return max(other, 0.0) / wall if wall > 0 else 0.0


def table(measurements: list[Measurement]) -> list[str]:
    lines = [
        "| benchmark | median | min | max | runs | peak RSS | target | result |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for m in measurements:
        if m.skipped:
            lines.append(f"| {m.name} | - | - | - | 0 | - | {m.target} | SKIPPED: {m.skipped} |")
            continue
        result = "" if m.ok is None else ("PASS" if m.ok else "**MISS**")
        result += f" ({m.detail})" if m.detail else ""
        lines.append(
            f"| {m.name} | {fmt_s(m.median)} | {fmt_s(min(m.times))} | {fmt_s(max(m.times))} "
            f"| {len(m.times)} | {m.peak_mb:.0f} MB | {m.target} | {result} |"
        )
    floor = max((m.floor_kb for m in measurements if not m.skipped), default=0) / 1024
    lines.append("")
    lines.append(
        "Each figure: the median of `runs` timed runs after a warm-up; wall time of the "
        "whole process (start-up included), output to /dev/null. Peak RSS: "
        f"`ru_maxrss` of each run from `os.wait4`; it cannot read below the {floor:.0f} MB "
        "of the small process that starts the runs (bench/spawn.py)."
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--runs", type=int, default=5, help="timed runs of the big-database reports (default 5)"
    )
    ap.add_argument(
        "--quick-runs",
        type=int,
        default=25,
        help="timed runs of the start-up benchmarks (default 25: they take milliseconds)",
    )
    ap.add_argument("--import-runs", type=int, default=5, help="timed runs of the import")
    ap.add_argument(
        "--reserve-seconds", type=float, default=5, help="length of a reservation run (default 5)"
    )
    ap.add_argument(
        "--reserve-runs", type=int, default=3, help="reservation runs per process count"
    )
    ap.add_argument(
        "--no-production", action="store_true", help="skip the reservation and order benchmarks"
    )
    ap.add_argument("--no-mrp", action="store_true", help="skip the MRP benchmarks")
    ap.add_argument(
        "--mrp-only",
        action="store_true",
        help="run only the MRP benchmarks and replace their section of RESULTS.md",
    )
    ap.add_argument("--no-schedule", action="store_true", help="skip the scheduling benchmarks")
    ap.add_argument(
        "--schedule-only",
        action="store_true",
        help="run only the scheduling benchmarks and replace their section of RESULTS.md",
    )
    ap.add_argument(
        "--status-only",
        action="store_true",
        help="run only the `mfgctl status` benchmark and replace its section of RESULTS.md",
    )
    ap.add_argument("--no-status", action="store_true", help="skip the `mfgctl status` benchmark")
    ap.add_argument(
        "--reliability-only",
        action="store_true",
        help="run only the soak, build the reliability table and replace its section of RESULTS.md",
    )
    ap.add_argument(
        "--no-reliability", action="store_true", help="skip the soak and the reliability table"
    )
    ap.add_argument(
        "--soak-seconds", type=float, default=60, help="length of the soak (default 60)"
    )
    ap.add_argument(
        "--soak-processes", type=int, default=8, help="soak worker processes (default 8)"
    )
    ap.add_argument(
        "--quality-only",
        action="store_true",
        help="run only trace, valuation and check (issue 5) and replace their section of "
        "RESULTS.md",
    )
    ap.add_argument(
        "--no-quality", action="store_true", help="skip the trace, valuation and check benchmarks"
    )
    ap.add_argument(
        "--bomcsv-only",
        action="store_true",
        help="run only the CSV BOM import (issue 8) and replace its section of RESULTS.md",
    )
    ap.add_argument("--no-bomcsv", action="store_true", help="skip the CSV BOM import benchmark")
    ap.add_argument("--rebuild", action="store_true", help="rebuild everything in bench/out/")
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md", help="where to write")
    ap.add_argument("--no-write", action="store_true", help="print only, do not write RESULTS.md")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)
    runs = max(args.runs, 1)
    quick = max(args.quick_runs, 1)

    python = sys.executable
    mfgctl = str(Path(python).parent / "mfgctl")
    if not Path(mfgctl).exists():
        mfgctl = shutil.which("mfgctl") or sys.exit("mfgctl is not installed next to this python")
    OUT.mkdir(exist_ok=True)
    builds = Builds(mfgctl, rebuild=args.rebuild)
    if args.mrp_only:
        mrp_md, mrp_results = mrp_benchmarks(builds, mfgctl, python, runs=min(runs, 3))
        write_section(args, mrp_md, "## MRP", "MRP")
        return 1 if args.strict and any(m.ok is False for m in mrp_results) else 0
    if args.status_only:
        status_md, status_results = status_benchmarks(builds, mfgctl, runs=min(runs, 3))
        write_section(args, status_md, "## Status", "status")
        return 1 if args.strict and any(m.ok is False for m in status_results) else 0
    if args.reliability_only:
        info = machine()
        stamp = (f"Measured {info['date']} at commit {info['commit']}; {info['machine']}; "
                 f"{info['python']}, SQLite {info['sqlite']}.")  # fmt: skip
        rel_md, rel_ok = reliability.section(
            python, seconds=args.soak_seconds, processes=args.soak_processes, stamp=stamp
        )
        write_section(args, rel_md, reliability.HEADING, "reliability")
        return 0 if rel_ok else 1
    if args.quality_only:
        quality_md, quality_results = quality_benchmarks(builds, mfgctl, runs=min(runs, 3))
        write_section(args, quality_md, "## Quality", "quality")
        return 1 if args.strict and any(m.ok is False for m in quality_results) else 0
    if args.bomcsv_only:
        csv_md, csv_ok = bomcsv.section(mfgctl, runs=min(runs, 5))
        write_section(args, csv_md, "## CSV BOM import", "CSV BOM import")
        return 1 if args.strict and not csv_ok else 0
    if args.schedule_only:
        sched_md, sched_results = schedule_benchmarks(builds, mfgctl, python, runs=min(runs, 3))
        write_section(args, sched_md, "## Scheduling", "scheduling")
        return 1 if args.strict and any(m.ok is False for m in sched_results) else 0
    missing = importer_missing(mfgctl)
    if missing:
        print(f"NOTE: {missing}: skipping the sample and import benchmarks", file=sys.stderr)
    plant_yaml = builds.plant_yaml()
    moves_db = builds.moves_db()
    sample_db = None
    if not missing:
        sample_files = sorted((ROOT / "sample_data").glob("*.yaml"))
        try:
            sample_db = builds.sample_db(sample_files)
        except RuntimeError as e:
            missing = f"importing sample_data failed ({e})"
            print(f"NOTE: {missing}", file=sys.stderr)

    if os.getloadavg()[0] > 0.5:
        print(
            f"WARNING: load average {os.getloadavg()[0]:.2f}: if other processes compete "
            "for the CPU, the figures will be slower and noisier",
            file=sys.stderr,
        )
    cpu = CpuWatch()
    print("measuring...", file=sys.stderr)
    results: list[Measurement] = []
    # The start-up benchmarks run in turn, round after round: the 12x ratio then compares
    # runs made under the same load even when other processes come and go.
    startup = [
        ("`python -c pass` (venv)", [python, "-c", "pass"]),
        ("`mfgctl --version`", [mfgctl, "--version"]),
    ]
    if sample_db is not None:
        startup.append(("`mfgctl stock`, sample", [mfgctl, "--db", str(sample_db), "stock"]))
    results.extend(measure_group(startup, runs=quick, warmup=3))
    bare = results[0]
    limit = STARTUP_FACTOR * bare.median
    target = f"< {STARTUP_FACTOR}x python = {fmt_s(limit)}"
    if sample_db is not None:
        results[2].target, results[2].ok = target, results[2].median <= limit
        results[2].detail = f"{results[2].median / bare.median:.1f}x"
    else:
        results.append(Measurement("`mfgctl stock`, sample", [], target=target, skipped=missing))

    import_db = OUT / "import.db"
    fresh_db = {
        "remove": [Path(f"{import_db}{s}") for s in ("", "-wal", "-shm", "-journal")],
        "setup": [[mfgctl, "--db", str(import_db), "init"]],
    }
    target = f"< {IMPORT_LIMIT_S:g} s"
    name = "`mfgctl import plant.yaml` (10,000 items, 40,000 BOM lines)"
    if not missing:
        argv = [mfgctl, "--db", str(import_db), "import", str(plant_yaml)]
        m = measure(name, argv, runs=max(args.import_runs, 1), **fresh_db)
        m.target, m.ok = target, m.median < IMPORT_LIMIT_S
        with sqlite3.connect(import_db) as db:
            counts = [
                db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("item", "bom_line")
            ]
        if counts != [10_000, 40_000]:
            print(f"WARNING: the import stored {counts} items/BOM lines", file=sys.stderr)
        remove_db(import_db)
    else:
        m = Measurement(name, [], target=target, skipped=missing)
    results.append(m)

    target = f"< {STOCK_LIMIT_S:g} s"
    for label, extra in (("table", []), ("csv", ["--format", "csv"])):
        argv = [mfgctl, "--db", str(moves_db), "stock", *extra]
        m = measure(f"`mfgctl stock` {label}, 1,000,000 moves", argv, runs=runs)
        m.target, m.ok = target, m.median < STOCK_LIMIT_S
        results.append(m)
    out = capture([mfgctl, "--db", str(moves_db), "stock", "--format", "csv"]).stdout
    print(f"  (the report lists {out.count(chr(10)) - 1} items)", file=sys.stderr)

    production_md: list[str] = []
    if not args.no_production:
        production_md = production_benchmarks(
            builds,
            mfgctl,
            runs=runs,
            quick=quick,
            reserve_runs=max(args.reserve_runs, 1),
            seconds=args.reserve_seconds,
        )

    mrp_md: list[str] = []
    if not args.no_mrp:
        mrp_md, mrp_results = mrp_benchmarks(builds, mfgctl, python, runs=min(runs, 3))
        results_with_targets = [m for m in mrp_results if m.ok is not None]
    else:
        results_with_targets = []

    sched_md: list[str] = []
    if not args.no_schedule:
        sched_md, sched_results = schedule_benchmarks(builds, mfgctl, python, runs=min(runs, 3))
        results_with_targets += [m for m in sched_results if m.ok is not None]

    status_md: list[str] = []
    if not args.no_status:
        status_md, status_results = status_benchmarks(builds, mfgctl, runs=min(runs, 3))
        results_with_targets += [m for m in status_results if m.ok is not None]

    rel_md: list[str] = []
    rel_ok = True
    if not args.no_reliability:
        info = machine()
        stamp = (f"Measured {info['date']} at commit {info['commit']}; {info['machine']}; "
                 f"{info['python']}, SQLite {info['sqlite']}.")  # fmt: skip
        rel_md, rel_ok = reliability.section(
            python, seconds=args.soak_seconds, processes=args.soak_processes, stamp=stamp
        )

    quality_md: list[str] = []
    if not args.no_quality:
        quality_md, quality_results = quality_benchmarks(builds, mfgctl, runs=min(runs, 3))
        results_with_targets += [m for m in quality_results if m.ok is not None]

    csv_md: list[str] = []
    csv_ok = True
    if not args.no_bomcsv:
        print("CSV BOM import...", file=sys.stderr)
        csv_md, csv_ok = bomcsv.section(mfgctl, runs=min(runs, 5))

    print("start-up analysis (python -X importtime)...", file=sys.stderr)
    probe_db = sample_db
    if probe_db is None:
        probe_db = OUT / "empty.db"
        remove_db(probe_db)
        run_once([mfgctl, "--db", str(probe_db), "init"])
    costs, wall = import_costs(python, probe_db, runs=min(runs, 5))
    imports_md = import_report(costs, wall)
    if sample_db is None:
        imports_md[0] = imports_md[0].replace("sample.db", "empty.db (no sample yet)")

    info = machine()
    others = cpu.others()
    lines = [
        "# mfgctl benchmark results",
        "",
        f"- Date: {info['date']}; commit {info['commit']}",
        f"- Machine: {info['machine']}; {info['os']}",
        f"- {info['python']}, SQLite {info['sqlite']}",
        f"- Other processes used {others:.2f} of {os.cpu_count()} cores on average while it "
        "ran"
        + (
            " (**busy machine**: figures slower and noisier than on a quiet one)"
            if others > 0.2
            else ""
        ),
        "- Made by `make bench` (bench/run.py); see bench/README.md for what each one measures.",
        "",
        *([f"Not measured: {missing}.", ""] if missing else []),
        *table(results),
        "",
        "## Start-up: what `mfgctl stock` imports",
        "",
        *imports_md,
        "",
        *production_md,
        *mrp_md,
        *([""] if mrp_md and sched_md else []),
        *sched_md,
        *([""] if status_md else []),
        *status_md,
        *([""] if quality_md else []),
        *quality_md,
        *([""] if rel_md else []),
        *rel_md,
        *([""] if csv_md else []),
        *csv_md,
    ]
    text = "\n".join(lines)
    print()
    print(text)
    if not args.no_write:
        args.results.write_text(text)
        print(f"wrote {args.results.relative_to(ROOT)}", file=sys.stderr)
    missed = [m.name for m in [*results, *results_with_targets] if m.ok is False]
    if not csv_ok:
        missed.append("CSV BOM import")
    if not rel_ok:
        print("RELIABILITY: invariant violations or crashes not survived", file=sys.stderr)
        return 1
    return 1 if args.strict and missed else 0


def write_section(args: argparse.Namespace, lines: list[str], heading: str, label: str) -> None:
    """Print a section and, unless --no-write, put it in place of its old one in
    RESULTS.md (the ``--X-only`` runs)."""
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    if not args.no_write:
        old = args.results.read_text() if args.results.exists() else ""
        args.results.write_text(replace_section(old, text, heading))
        print(f"wrote the {label} section of {args.results.relative_to(ROOT)}", file=sys.stderr)


def replace_section(old: str, section: str, heading: str = "## MRP") -> str:
    """``old`` (RESULTS.md) with the section that starts with ``heading`` (up to the next
    ``## `` heading) replaced by ``section``, or ``section`` appended."""
    start = old.find("\n" + heading)
    if start < 0:
        return old.rstrip("\n") + "\n\n" + section
    end = old.find("\n## ", start + 1)
    rest = old[end:] if end >= 0 else ""
    return old[: start + 1] + section.rstrip("\n") + "\n" + rest


if __name__ == "__main__":
    sys.exit(main())
