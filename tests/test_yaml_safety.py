"""Import reads plain data only: a YAML tag that would build a Python object is refused
with a clear message, runs nothing and writes nothing; an alias bomb ("billion laughs")
is read in bounded time and memory and refused."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest
from conftest import Cli, refused

# Each of these would run `touch` (or fetch os.system) under yaml.unsafe_load / yaml.load.
PYTHON_TAGS = {
    "apply": 'items:\n  - !!python/object/apply:os.system ["touch {marker}"]\n',
    "apply-in-value": (
        'items:\n  - code: EVIL-1\n    name: !!python/object/apply:os.system ["touch {marker}"]\n'
        "    type: raw\n    unit: pcs\n    make_or_buy: buy\n"
    ),
    "name": (
        "items:\n  - code: EVIL-2\n    name: !!python/name:os.system\n    type: raw\n"
        "    unit: pcs\n    make_or_buy: buy\n"
    ),
    "object-new": (
        'locations:\n  - !!python/object/new:subprocess.Popen\n    args: [["touch", "{marker}"]]\n'
    ),
    "module": "stock: !!python/module:os\n",
    "as-key": 'items:\n  - {{!!python/object/apply:os.system ["touch {marker}"]: 1}}\n',
}


@pytest.mark.parametrize("case", sorted(PYTHON_TAGS))
def test_python_tags_are_refused_and_run_nothing(
    cli: Cli, initdb: Path, tmp_path: Path, case: str
) -> None:
    marker = tmp_path / "pwned"
    source = tmp_path / "evil.yaml"
    source.write_text(PYTHON_TAGS[case].format(marker=marker), encoding="utf-8")
    err = refused(cli, initdb, "import", source, one_line=False)
    # Each problem on its own line, naming file, line and the tag; then the summary.
    assert "is not allowed: mfgctl reads plain data only" in err
    assert "evil.yaml:" in err and "!!python/" in err
    assert err.splitlines()[-1].startswith("Error: import refused: ")
    assert err.splitlines()[-1].endswith("; nothing was written")
    assert all(line.startswith("Error: ") for line in err.splitlines())
    assert not marker.exists()


def test_unknown_tags_are_refused(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    source = tmp_path / "tags.yaml"
    source.write_text(
        "items:\n  - !custom {code: X}\n  - code: !!binary aGVsbG8=\n", encoding="utf-8"
    )
    err = refused(cli, initdb, "import", source, one_line=False)
    assert "tags.yaml:2: YAML tag !custom is not supported" in err
    assert "tags.yaml:3: YAML tag !!binary is not supported" in err


def _bomb(tail: str, levels: int = 9) -> str:
    """Nine levels of nine aliases each: 9**9 (387 million) strings if expanded."""
    lines = ["x-anchors:", '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, levels):
        this, prev = chr(ord("a") + n), chr(ord("a") + n - 1)
        lines.append(f"  {this}: &{this} [" + ", ".join([f"*{prev}"] * 9) + "]")
    lines.append(
        "  ma: &ma {k1: lol, k2: lol, k3: lol, k4: lol, k5: lol, k6: lol, k7: lol, k8: lol}"
    )
    for n in range(1, levels):
        this, prev = chr(ord("a") + n), chr(ord("a") + n - 1)
        keys = ", ".join(f"k{k}: *m{prev}" for k in range(1, 10))
        lines.append(f"  m{this}: &m{this} {{{keys}}}")
    return "\n".join(lines) + "\n" + tail + "\n"


BOMBS = {
    "in a name": "items: [{code: BOMB, name: *i, type: raw, unit: pcs, make_or_buy: buy}]",
    "as a section": "locations: *i",
    "as serials": "stock: [{item: BOMB, qty: 1, serials: *i}]",
    "as BOM lines": "boms: [{item: BOMB, lines: *i}]",
    "as stages": "routings: [{item: BOMB, stages: *i}]",
    "as units": (
        "items: [{code: BOMB, name: b, type: raw, unit: pcs, make_or_buy: buy, units: *mi}]"
    ),
    "merged": "items: [{<<: *mi, code: BOMB}]",
    "as release criteria": (
        "items: [{code: BOMB, name: b, type: raw, unit: pcs, make_or_buy: buy, "
        "release_criteria: *i}]"
    ),
}


@pytest.mark.parametrize("case", sorted(BOMBS))
def test_alias_bomb_is_refused_in_bounded_time_and_memory(
    cli: Cli, initdb: Path, tmp_path: Path, case: str
) -> None:
    source = tmp_path / "bomb.yaml"
    source.write_text(_bomb(BOMBS[case]), encoding="utf-8")
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    err = refused(cli, initdb, "import", source, one_line=False)
    seconds = time.perf_counter() - started
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before  # KiB on Linux
    # Expanded, the bomb is 387 million strings (gigabytes, minutes); shared, it is a
    # few hundred objects. 5 s and 50 MiB leave room for a slow CI machine.
    assert seconds < 5, seconds
    assert grown_kib < 50 * 1024, grown_kib
    assert err.splitlines()[-1].startswith("Error: import refused: ")
    assert "nothing was written" in err
    # Each problem names the file and a line; none is a Python repr of the bomb.
    assert len(err) < 20_000
    assert all(line.startswith(f"Error: {source}:") for line in err.splitlines()[:-1]), err[:2000]
