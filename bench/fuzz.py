"""A longer fuzz run than CI's: hostile arguments to the commands and mutated YAML to
the importer, the same generators and the same judgement as tests/test_fuzz_commands.py
and tests/test_fuzz_import.py, without stopping at the first violation.

    python bench/fuzz.py --examples 2000 [--seed 1]

Writes bench/out/reliability-fuzz.json for the reliability table (bench/reliability.py)
and prints each violation found (an internal error, a traceback, an unclear message, or
a rejected command that changed the database). Exit 1 when there is one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import test_fuzz_commands as commands  # noqa: E402
import test_fuzz_import as importing  # noqa: E402
from fuzz_support import build_sample, run, snapshot  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=1000, help="inputs to try (default 1000)")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (default random)")
    parser.add_argument(
        "--summary", type=Path, default=HERE / "out" / "reliability-fuzz.json", help="JSON out"
    )
    args = parser.parse_args()
    n_import = max(1, args.examples // 3)  # an import costs about three commands
    n_commands = max(1, args.examples - n_import)
    tried = {"commands": 0, "imports": 0}
    violations: list[str] = []
    # Generation only: a violation is recorded, not shrunk, and the run goes on.
    options = settings(
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )

    with tempfile.TemporaryDirectory(prefix="mfgctl-fuzz-") as tmp:
        work = Path(tmp)
        os.chdir(work)  # `export -o VALUE` writes here, if anywhere
        empty, sample = work / "empty.db", work / "sample.db"
        assert run(empty, "init").exit_code == 0
        build_sample(sample)
        for path in (empty, sample):
            snapshot(path)
        templates = {"empty": empty, "sample": sample}

        @settings(options, max_examples=n_commands)
        @given(argv=commands.hostile_command())
        def fuzz_commands(argv: list[str]) -> None:
            tried["commands"] += 1
            try:
                commands.check_command(sample, work, argv)
            except AssertionError as e:
                violations.append(f"mfgctl {' '.join(repr(a[:60]) for a in argv)}: {e}"[:2000])

        @settings(options, max_examples=n_import)
        @given(
            data=importing.mutated_yaml(),
            into=st.sampled_from(["empty", "sample"]),
            dry=st.booleans(),
        )
        def fuzz_import(data: bytes, into: str, dry: bool) -> None:
            tried["imports"] += 1
            try:
                importing.check_import(templates[into], work, data, dry)
            except AssertionError as e:
                violations.append(f"import of {data[:200]!r} into {into}: {e}"[:2000])

        if args.seed is not None:
            fuzz_commands = seed(args.seed)(fuzz_commands)
            fuzz_import = seed(args.seed)(fuzz_import)
        started = time.perf_counter()
        fuzz_commands()
        fuzz_import()
        seconds = time.perf_counter() - started
        os.chdir(HERE)

    total = tried["commands"] + tried["imports"]
    summary = {
        "name": "fuzz",
        "processes": 1,
        "seconds": round(seconds, 1),
        "operations": total,
        "crashes_injected": 0,
        "crashes_survived": 0,
        "inputs_tried": total,
        "violations": len(violations),
        "commands_tried": tried["commands"],
        "imports_tried": tried["imports"],
    }
    args.summary.parent.mkdir(parents=True, exist_ok=True)
    args.summary.write_text(json.dumps(summary, indent=2) + "\n")
    for v in violations:
        print(f"VIOLATION: {v}", file=sys.stderr)
    print(
        f"fuzz: {total} inputs ({tried['commands']} commands, {tried['imports']} imports) "
        f"in {seconds:.1f} s: {len(violations)} violations; wrote {args.summary}"
    )
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
