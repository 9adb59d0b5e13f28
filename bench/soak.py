"""Soak: P processes hammer one database file for S seconds; nothing may be lost.

``python bench/soak.py [--seconds 60] [--processes 8]`` builds a small plant (two bought
components, one inspected on receipt, and a finished good with a BOM), starts P worker
processes (multiprocessing, spawn), and each runs a random mix of mfgctl commands
through the CLI entry point in-process (Typer's runner: the same parsing, session,
``BEGIN IMMEDIATE`` transaction and error mapping as the console command, without the
process start-up): receipts, inspections, reservations and their cancellation,
production orders (create, release, backflush consumption, completion, close or
cancel), shipments, YAML imports of demand, and reports (stock, reservations,
valuation, WIP). Every command that exits 0 and writes is logged, with what it changed
(its moves, reservations, orders, demand), one JSON line per command in
``worker-N.jsonl``.

At the end the database is checked (``mfgctl check``: integrity, ledger sums to zero
per item, balances equal the ledger, no negative stock, free >= 0; each error is a
violation) and every logged change is looked up (each logged move has its seq, item,
quantity, kind and reference in the ``move`` table; each reservation, order and demand
exists as logged; cancelled references hold no open reservation; each order is in the
state its last logged step left it), and every move in the ledger was reported by some
command (or is the opening stock). Anything missing, extra or different is a
violation, as is a command that failed other than with a refusal (exit 1) or busy
(exit 5; retried up to 3 times and counted), and any traceback.

It prints a summary and writes ``--summary`` (default bench/out/reliability-soak.json)
with the keys bench/run.py's reliability table reads: name, processes, seconds,
operations, crashes_injected, crashes_survived, inputs_tried, violations; plus the
details (ops per second, busy retries, refusals, per operation). tests/test_soak.py
runs it for a few seconds in CI.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import sqlite3
import sys
import time
import traceback
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

PLANT = """\
locations:
  - {code: STORES, name: Main stores}
items:
  - {code: RAW-A, name: Housing, type: component, unit: pcs, make_or_buy: buy, cost: 1.5}
  - code: RAW-Q
    name: Sensor
    type: component
    unit: pcs
    make_or_buy: buy
    cost: 4
    inspect_on_receipt: true
  - {code: FG-1, name: Gauge, type: finished, unit: pcs, make_or_buy: make, cost: 12}
boms:
  - item: FG-1
    revision: A
    lines:
      - {item: RAW-A, qty: 2, unit: pcs}
      - {item: RAW-Q, qty: 1, unit: pcs}
stock:
  - {item: RAW-A, qty: 2000, status: available}
  - {item: RAW-Q, qty: 1000, status: available}
  - {item: FG-1, qty: 100, status: available}
"""

# Operation -> weight in the random mix.
MIX = {
    "receive": 12,
    "receive_inspected": 8,
    "inspect": 8,
    "reserve": 12,
    "cancel": 7,
    "order": 22,
    "ship": 8,
    "import": 4,
    "report": 19,
}
REPORTS = (
    ["stock", "-f", "json"],
    ["reserve", "list", "-f", "json"],
    ["report", "valuation", "-f", "json"],
    ["wip", "-f", "json"],
    ["order", "list", "-f", "json"],
)
BUSY_RETRIES = 3


# -- the worker ----------------------------------------------------------------------------


class Worker:
    def __init__(self, n: int, db: str, logs: Path, seed: int) -> None:
        from typer.testing import CliRunner

        from mfgctl.cli import app

        self.n, self.db, self.logs = n, db, logs
        self.app, self.runner = app, CliRunner()
        self.rng = random.Random(seed * 1000 + n)
        self.log = open(logs / f"worker-{n}.jsonl", "w")  # noqa: SIM115
        self.counts: Counter[str] = Counter()
        self.seq = 0
        self.orders: dict[int, list[Any]] = {}  # id -> [state, qty, refusals]
        self.refs: list[str] = []  # open reservation references of this worker

    def ref(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}-W{self.n}-{self.seq}"

    def run(self, args: list[str]) -> tuple[int, Any]:
        """``mfgctl ARGS`` in-process; busy is retried. Returns (exit code, JSON output)."""
        for attempt in range(BUSY_RETRIES + 1):
            r = self.runner.invoke(self.app, ["--db", self.db, *args])
            code = r.exit_code
            if r.exception is not None and not isinstance(r.exception, SystemExit):
                tb = "".join(traceback.format_exception(r.exception))
                self.record({"error": "traceback", "argv": args, "traceback": tb})
                self.counts["tracebacks"] += 1
                return 99, None
            if code == 5:
                self.counts["busy"] += 1
                if attempt < BUSY_RETRIES:
                    continue
            break
        if code == 0:
            out = r.stdout.strip()
            return 0, json.loads(out, parse_float=Decimal) if out.startswith(("[", "{")) else None
        if code == 1 and r.stderr.startswith("Error: ") and "Traceback" not in r.stderr:
            self.counts["refused"] += 1
            return 1, r.stderr.strip()
        self.counts["failed"] += 1
        self.record({"error": f"exit {code}", "argv": args, "stderr": r.stderr[-2000:]})
        return code, None

    def record(self, entry: dict[str, Any]) -> None:
        self.log.write(json.dumps(entry, default=str) + "\n")

    def wrote(self, op: str, args: list[str], **changed: Any) -> None:
        self.counts["logged"] += 1
        self.record({"op": op, "argv": args, **changed})

    @staticmethod
    def moves(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keys = ("seq", "item", "qty", "kind", "ref")
        return [{k: row[k] for k in keys if k in row} for row in rows]

    # The operations. Each returns its exit code.

    def receive(self, item: str = "RAW-A") -> int:
        args = ["stock", "receive", item, str(self.rng.randint(5, 60)), "--ref", self.ref("PO")]
        code, out = self.run([*args, "-f", "json"])
        if code == 0:
            self.wrote("receive", args, moves=self.moves(out))
        return code

    def receive_inspected(self) -> int:
        return self.receive("RAW-Q")

    def inspect(self) -> int:
        args = ["inspect", "RAW-Q", "--pass", "--qty", str(self.rng.randint(1, 30))]
        code, out = self.run([*args, "-f", "json"])
        if code == 0:
            moves = [{"seq": r["move"], "item": r["item"], "qty": r["qty"]} for r in out]
            self.wrote("inspect", args, moves=moves)
        return code

    def reserve(self) -> int:
        item = self.rng.choice(["RAW-A", "RAW-Q", "FG-1"])
        ref = self.ref("SO")
        args = ["reserve", item, str(self.rng.randint(1, 8)), "--for", ref]
        code, out = self.run([*args, "-f", "json"])
        if code == 0:
            res = [{"id": r["id"], "item": r["item"], "qty": r["qty"], "ref": ref} for r in out]
            self.wrote("reserve", args, reservations=res)
            self.refs.append(ref)
        return code

    def cancel(self) -> int:
        if not self.refs:
            return self.reserve()
        ref = self.refs.pop(self.rng.randrange(len(self.refs)))
        args = ["reserve", "cancel", "--for", ref]
        code, _ = self.run(args)
        if code == 0:
            self.wrote("cancel", args, cancelled=ref)
        return code

    def ship(self) -> int:
        args = ["ship", "FG-1", str(self.rng.randint(1, 4)), "--to", f"CUST-{self.n}"]
        args += ["--ref", self.ref("SH")]
        code, out = self.run([*args, "-f", "json"])
        if code == 0:
            # A shipment's moves carry its number (SHIP-N) as their reference.
            moves = [
                {"seq": r["seq"], "item": r["item"], "qty": r["qty"], "ref": r["shipment"]}
                for r in out
            ]
            self.wrote("ship", args, moves=moves)
        return code

    def import_(self) -> int:
        ref = self.ref("SO-IMP")
        path = self.logs / f"import-{self.n}.yaml"
        qty = self.rng.randint(1, 20)
        path.write_text(
            f"demand:\n  - {{item: FG-1, qty: {qty}, due: 2030-01-01, kind: sales, ref: {ref}}}\n"
        )
        args = ["import", str(path)]
        code, _ = self.run(args)
        if code == 0:
            self.wrote("import", args, demand={"ref": ref, "item": "FG-1", "qty": qty})
        return code

    def report(self) -> int:
        code, _ = self.run(list(self.rng.choice(REPORTS)))
        return code

    def order(self) -> int:
        """Take one of this worker's orders a step further, or create one."""
        open_orders = [i for i, o in self.orders.items() if o[0] not in ("closed", "cancelled")]
        if len(open_orders) < 3 and (not open_orders or self.rng.random() < 0.3):
            qty = self.rng.randint(1, 4)
            args = ["order", "create", "FG-1", str(qty), "--due", "2030-01-01"]
            code, out = self.run([*args, "-f", "json"])
            if code == 0:
                oid = out["order"][0]["order"]
                self.orders[oid] = ["planned", qty, 0]
                self.wrote("order create", args, order={"id": oid, "qty": qty, "item": "FG-1"})
            return code
        oid = self.rng.choice(open_orders)
        state, qty, refusals = self.orders[oid]
        if refusals >= 3 and state in ("planned", "released"):
            step, args, after = "cancel", ["order", "cancel", str(oid)], "cancelled"
        elif state == "planned":
            step, args, after = "release", ["order", "release", str(oid), "--partial"], "released"
        elif state == "released":
            step, args, after = "consume", ["consume", str(oid)], "in_progress"
        elif state == "in_progress":
            step, args = "complete", ["order", "complete", str(oid), "--qty", str(qty)]
            after = "completed"
        else:
            step, args, after = "close", ["order", "close", str(oid)], "closed"
        json_out = step in ("consume", "complete")
        code, out = self.run([*args, "-f", "json"] if json_out else args)
        if code == 0:
            self.orders[oid][0] = after
            changed: dict[str, Any] = {"order": {"id": oid, "state": after}}
            if json_out:
                changed["moves"] = self.moves(out)
            self.wrote(f"order {step}", args, **changed)
        elif code == 1:
            self.orders[oid][2] += 1
        return code

    def loop(self, deadline: float) -> None:
        ops = list(MIX)
        weights = [MIX[o] for o in ops]
        while time.monotonic() < deadline:
            op = self.rng.choices(ops, weights)[0]
            code = getattr(self, "import_" if op == "import" else op)()
            self.counts["operations"] += 1
            self.counts[f"{op}:{'ok' if code == 0 else 'refused' if code == 1 else 'failed'}"] += 1
        self.log.close()


def worker_main(
    n: int, db: str, logs: str, seed: int, start: Any, deadline_s: float, q: Any, ready: Any
) -> None:
    try:
        w = Worker(n, db, Path(logs), seed)
        ready.put(n)
        start.wait()
        began = time.monotonic()
        w.loop(began + deadline_s)
        q.put((n, dict(w.counts), time.monotonic() - began))
    except BaseException:  # a crash of the harness itself is a violation, never silent
        q.put((n, {"failed": 1, "crash": traceback.format_exc()}, 0.0))


# -- setting up and verifying ------------------------------------------------------------


def build(db: Path, work: Path) -> None:
    from typer.testing import CliRunner

    from mfgctl.cli import app

    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    plant = work / "plant.yaml"
    plant.write_text(PLANT)
    runner = CliRunner()
    for args in (["init"], ["import", str(plant)]):
        r = runner.invoke(app, ["--db", str(db), *args])
        if r.exit_code != 0:
            raise SystemExit(f"mfgctl {' '.join(args)} failed: {r.stderr}")


def micro(value: Any) -> int:
    return int(Decimal(str(value)) * 1_000_000)


def verify(db: Path, logs: Path) -> dict[str, Any]:
    """Every invariant and every logged change; returns counts and the violations."""
    from typer.testing import CliRunner

    from mfgctl.cli import app

    violations: list[str] = []
    r = CliRunner().invoke(app, ["--db", str(db), "check", "-f", "json"])
    problems = json.loads(r.stdout) if r.stdout.strip().startswith("[") else []
    errors = [p for p in problems if p["severity"] == "error"]
    violations += [f"check: {p['check']} {p['subject']}: {p['message']}" for p in errors]
    if r.exit_code not in (0,) and not errors:
        violations.append(f"check exited {r.exit_code}: {r.stderr.strip()}")

    c = sqlite3.connect(db)
    moves = {
        seq: (item, qty, kind, ref)
        for seq, item, qty, kind, ref in c.execute(
            "SELECT m.seq, i.code, m.qty, m.kind, m.ref FROM move m JOIN item i ON i.id = m.item_id"
        )
    }
    reservations = {
        rid: (item, qty, ref, state)
        for rid, item, qty, ref, state in c.execute(
            "SELECT r.id, i.code, r.qty, r.ref, r.state FROM reservation r "
            "JOIN item i ON i.id = r.item_id"
        )
    }
    orders = dict(c.execute("SELECT id, state FROM production_order"))
    demand = {ref: qty for ref, qty in c.execute("SELECT ref, qty FROM demand")}
    c.close()

    logged = matched = 0
    seen_seqs: set[int] = set()
    last_state: dict[int, tuple[str, str]] = {}
    for path in sorted(logs.glob("worker-*.jsonl")):
        for line in path.read_text().splitlines():
            entry = json.loads(line, parse_float=Decimal)
            if "error" in entry:
                violations.append(f"{path.name}: {entry['error']}: {entry['argv']}")
                continue
            logged += 1
            problems_here = []
            for m in entry.get("moves", []):
                if m["seq"] in seen_seqs:
                    problems_here.append(f"move {m['seq']} reported by two commands")
                seen_seqs.add(m["seq"])
                row = moves.get(m["seq"])
                if row is None:
                    problems_here.append(f"move {m['seq']} missing from the ledger")
                    continue
                want = (m["item"], micro(m["qty"]), m.get("kind", row[2]), m.get("ref", row[3]))
                if row != want:
                    problems_here.append(f"move {m['seq']} is {row}, the command said {want}")
            for res in entry.get("reservations", []):
                row = reservations.get(res["id"])
                if row is None or row[:3] != (res["item"], micro(res["qty"]), res["ref"]):
                    problems_here.append(f"reservation {res['id']} is {row}, logged {res}")
            if "cancelled" in entry:
                still = [i for i, r in reservations.items() if r[2] == entry["cancelled"]]
                if not still or any(reservations[i][3] == "open" for i in still):
                    problems_here.append(f"reservations for {entry['cancelled']} not cancelled")
            if "order" in entry:
                o = entry["order"]
                if o["id"] not in orders:
                    problems_here.append(f"order {o['id']} missing")
                elif "state" in o:
                    last_state[o["id"]] = (path.name, o["state"])
            if "demand" in entry:
                d = entry["demand"]
                if demand.get(d["ref"]) != micro(d["qty"]):
                    problems_here.append(f"demand {d['ref']} is {demand.get(d['ref'])}")
            if problems_here:
                violations += [f"{path.name} {entry['op']}: {p}" for p in problems_here]
            else:
                matched += 1
    # And the converse: every move in the ledger was reported by a command (or is the
    # plant's opening stock): nothing was written that no one was told about.
    unreported = sorted(set(moves) - seen_seqs)
    for seq in unreported:
        if moves[seq][2] != "opening":
            violations.append(f"move {seq} {moves[seq]} was reported by no command")
    # Only the worker that made an order moves it: its last logged state is its state.
    for oid, (name, state) in last_state.items():
        if orders[oid] != state:
            violations.append(f"{name}: order {oid} is {orders[oid]}, last logged {state}")
    return {
        "logged_writes": logged,
        "matched_writes": matched,
        "logged_moves": len(seen_seqs),
        "ledger_moves": len(moves),
        "check_errors": len(errors),
        "violation_list": violations,
    }


def soak(*, seconds: float, processes: int, db: Path, logs: Path, seed: int = 7) -> dict[str, Any]:
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("worker-*.jsonl"):
        old.unlink()
    build(db, logs)
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    q, ready = ctx.Queue(), ctx.Queue()
    procs = [
        ctx.Process(
            target=worker_main,
            args=(n, str(db), str(logs), seed, start, seconds, q, ready),
            daemon=True,
        )
        for n in range(processes)
    ]
    for p in procs:
        p.start()
    # Wait until every worker has imported mfgctl (spawn starts cold), then go together.
    for _ in procs:
        try:
            ready.get(timeout=120)
        except Exception:  # queue.Empty: a worker that never got ready reports below
            break
    began = time.monotonic()
    start.set()
    results: dict[int, tuple[dict[str, int], float]] = {}
    waited_until = began + seconds + 120
    while len(results) < processes and time.monotonic() < waited_until:
        try:
            n, counts, took = q.get(timeout=1)
            results[n] = (counts, took)
        except Exception:  # queue.Empty: keep waiting
            if not any(p.is_alive() for p in procs) and q.empty():
                break
    wall = time.monotonic() - began
    hung = []
    for n, p in enumerate(procs):
        p.join(5)
        if p.is_alive():
            hung.append(n)
            p.terminate()
            p.join(5)
    total: Counter[str] = Counter()
    for counts, _ in results.values():
        total.update({k: v for k, v in counts.items() if isinstance(v, int)})
    found = verify(db, logs)
    violations = list(found.pop("violation_list"))
    violations += [f"worker {n} never reported" for n in range(processes) if n not in results]
    violations += [f"worker {n} hung and was stopped" for n in hung]
    violations += [c["crash"] for c, _ in results.values() if "crash" in c]
    ops = total["operations"]
    return {
        "name": "soak",
        "processes": processes,
        "seconds": seconds,
        "operations": ops,
        "crashes_injected": 0,
        "crashes_survived": 0,
        "inputs_tried": 0,
        "violations": len(violations),
        "ops_per_second": round(ops / wall, 1) if wall else 0,
        "wall_seconds": round(wall, 1),
        "busy_retries": total["busy"],
        "refused": total["refused"],
        "failed": total["failed"] + total["tracebacks"],
        "by_operation": {k: v for k, v in sorted(total.items()) if ":" in k},
        **found,
        "violation_examples": violations[:20],
        "database": str(db),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60, help="how long the workers run")
    ap.add_argument("--processes", type=int, default=8, help="worker processes (default 8)")
    ap.add_argument("--db", type=Path, default=OUT / "soak.db", help="the database to build")
    ap.add_argument("--logs", type=Path, default=OUT / "soak", help="per-worker logs")
    ap.add_argument("--summary", type=Path, default=OUT / "reliability-soak.json")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    os.environ.setdefault("MFGCTL_USER", "soak")
    os.environ.pop("MFGCTL_DB", None)
    print(
        f"soak: {args.processes} processes for {args.seconds:g} s on {args.db}...", file=sys.stderr
    )
    result = soak(
        seconds=args.seconds,
        processes=args.processes,
        db=args.db,
        logs=args.logs,
        seed=args.seed,
    )
    args.summary.parent.mkdir(parents=True, exist_ok=True)
    args.summary.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"soak: {result['operations']:,} operations in {result['wall_seconds']} s "
        f"({result['ops_per_second']}/s) by {result['processes']} processes; "
        f"{result['logged_writes']:,} writes logged, {result['matched_writes']:,} found as "
        f"logged; {result['busy_retries']} busy retries, {result['refused']} refusals, "
        f"{result['failed']} failures; violations: {result['violations']}",
        file=sys.stderr,
    )
    for v in result["violation_examples"]:
        print(f"  VIOLATION: {v}", file=sys.stderr)
    return 1 if result["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
