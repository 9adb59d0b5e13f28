"""Benchmark of ``mfgctl bom import-csv``: a 5,000-row KiCad-style CSV in under 1 s.

``python bench/bomcsv.py`` writes bench/out/bomcsv-5000.csv (seeded: KiCad 9 "grouped
by value" columns, every field quoted, 5,000 rows of 1-8 comma-separated references,
about 2% DNP rows and 1% test points, MPNs unique per row so each row is a BOM line),
then times whole commands as subprocesses, median of RUNS after a warm-up:

* the first import into a new database with ``--create-items`` (5,000 items created,
  one revision of about 4,900 lines written), a fresh database per run;
* the same file again (matched by MPN, revision unchanged: nothing written).

``section()`` returns the Markdown for bench/RESULTS.md; run.py may call it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
ROWS = 5_000
LIMIT_S = 1.0
PREFIXES = ("C", "R", "L", "D", "U", "Q", "J")


def write_csv(path: Path, rows: int = ROWS, seed: int = 8) -> dict[str, int]:
    """The KiCad-style file; returns what it holds (placements, DNP, test points)."""
    rnd = random.Random(seed)
    counters = dict.fromkeys(PREFIXES, 0)
    head = '"Reference","Value","Datasheet","Footprint","Qty","DNP","Manufacturer","PartNumber"'
    lines = [head]
    fitted = dnp = tp = 0
    for n in range(rows):
        kind = rnd.random()
        if kind < 0.01:
            refs = [f"TP{n}"]
            lines.append(
                f'"{refs[0]}","TestPoint","~","TestPoint:TestPoint_Pad_D1.5mm","1","","",""'
            )
            tp += 1
            continue
        prefix = rnd.choice(PREFIXES)
        count = rnd.randint(1, 8)
        refs = []
        for _ in range(count):
            counters[prefix] += 1
            refs.append(f"{prefix}{counters[prefix]}")
        flag = "DNP" if kind < 0.03 else ""
        if flag:
            dnp += count
        else:
            fitted += count
        lines.append(
            f'"{",".join(refs)}","{rnd.randint(1, 999)}k","","Lib:{prefix}_0603_1608Metric",'
            f'"{count}","{flag}","Maker {n % 37}","PN-{n:05d}-{prefix}"'
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"rows": rows, "placements": fitted, "dnp_placements": dnp, "test_points": tp}


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one command; CPU is what a busy machine
    inflates least."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}: {done.stderr.strip()}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return took, cpu


def measure(mfgctl: str, runs: int = 5) -> dict[str, object]:
    """Median seconds of the first import and of a re-import of the same file."""
    import os

    OUT.mkdir(exist_ok=True)
    csv_path = OUT / f"bomcsv-{ROWS}.csv"
    facts = write_csv(csv_path)
    first: list[tuple[float, float]] = []
    again: list[tuple[float, float]] = []
    for n in range(runs + 1):  # run 0 is the warm-up
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "MFGCTL_DB": str(Path(tmp) / "b.db"), "NO_COLOR": "1"}
            subprocess.run([mfgctl, "init"], env=env, check=True, capture_output=True)
            subprocess.run(
                [mfgctl, "item", "add", "BOARD", "--name", "Board", "--type", "subassembly",
                 "--unit", "pcs", "--make-or-buy", "make"],
                env=env, check=True, capture_output=True,
            )  # fmt: skip
            argv = [mfgctl, "bom", "import-csv", str(csv_path), "--item", "BOARD",
                    "--create-items", "-f", "json"]  # fmt: skip
            t1 = _time(argv, env)
            t2 = _time(argv, env)
            if n:
                first.append(t1)
                again.append(t2)
    return {
        **facts,
        "first_s": statistics.median(t[0] for t in first),
        "first_cpu_s": statistics.median(t[1] for t in first),
        "again_s": statistics.median(t[0] for t in again),
        "again_cpu_s": statistics.median(t[1] for t in again),
        "runs": runs,
    }


def section(mfgctl: str, runs: int = 5) -> tuple[list[str], bool]:
    """Markdown lines for RESULTS.md and whether the 1 s target was met."""
    m = measure(mfgctl, runs)
    ok = float(m["first_s"]) < LIMIT_S  # type: ignore[arg-type]
    return [
        "## CSV BOM import",
        "",
        f"`mfgctl bom import-csv` on a {m['rows']:,}-row KiCad-style CSV "
        f"({m['placements']:,} placements, {m['dnp_placements']} DNP, "
        f"{m['test_points']} test points), whole command, median of {m['runs']} runs:",
        "",
        "| run | median wall | median CPU (user + sys) | target | |",
        "|---|---:|---:|---|---|",
        f"| first import, `--create-items` | {m['first_s']:.2f} s | {m['first_cpu_s']:.2f} s "
        f"| under {LIMIT_S:g} s | {'met' if ok else 'MISSED'} |",
        f"| the same file again (unchanged) | {m['again_s']:.2f} s | {m['again_cpu_s']:.2f} s "
        "| | |",
    ], ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    mfgctl = str(Path(sys.executable).parent / "mfgctl")
    lines, ok = section(mfgctl, args.runs)
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
