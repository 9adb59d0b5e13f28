"""An import refused for problems says every one of them in the same run: the checks
made against the database while writing (an opening balance against the stock held, a
lot's expiry date) as well as the records' own fields, and an unknown key inside a BOM
line, a routing stage or a downtime window even when the record has another unknown key.
The count on the last line is the number of problems said; nothing is written."""

from __future__ import annotations

import textwrap
from pathlib import Path

from conftest import Cli, import_yaml, ok, refused

SHOP = """\
items:
  - {code: P, name: Part, type: component, unit: pcs, make_or_buy: buy}
  - {code: GLUE, name: Glue, type: raw, unit: g, make_or_buy: buy, tracking: lot}
  - {code: DEV, name: Device, type: finished, unit: pcs, make_or_buy: make}
"""


def problems(stderr: str) -> list[str]:
    lines = [ln.removeprefix("Error: ") for ln in stderr.splitlines()]
    *each, last = lines
    assert (
        last == f"import refused: {len(each)} problem{'s' * (len(each) != 1)}; nothing was written"
    )
    return each


def shop(cli: Cli, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "P", "10")
    ok(cli, "stock", "receive", "GLUE", "500", "--lot", "G-2409", "--expires", "2026-03-31")


def run(cli: Cli, db: Path, tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "in.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return problems(refused(cli, db, "import", tmp_path / "in.yaml", one_line=False))


def test_database_checks_and_field_checks_are_said_in_one_run(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    shop(cli, tmp_path)
    found = run(
        cli,
        initdb,
        tmp_path,
        """\
        stock:
          - {item: P, qty: 4}
        lots:
          - {item: GLUE, lot: G-2409, expires: 2026-04-30}
        """,
    )
    path = tmp_path / "in.yaml"
    assert [p.replace(str(path), "in.yaml") for p in found] == [
        "in.yaml:4: lots[0].expires: GLUE lot G-2409 expires 2026-03-31, not 2026-04-30; to "
        "change its expiry date: mfgctl stock expiry GLUE G-2409 --expires 2026-04-30 "
        "--reason ...",
        # Found only while writing: before, it was said after the lot was fixed.
        "in.yaml:2: stock[0]: P at STORES/available already holds 10 pcs that did not come "
        "from an opening balance, not 4: an opening balance is for stock mfgctl does not "
        "hold yet; correct it with `mfgctl stock count` or `mfgctl stock adjust`",
    ]


def test_unknown_keys_inside_lines_stages_and_windows_are_said_with_the_records_own(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    shop(cli, tmp_path)
    found = run(
        cli,
        initdb,
        tmp_path,
        """\
        boms:
          - {item: DEV, revison: R, lines: [{item: P, qty: 1, uom: pcs, per: 2}]}
        routings:
          - {item: DEV, owner: me, stages: [{name: a, machine: X}]}
        workcenters:
          - {code: W, shifts: 2, downtime: [{from: '2027-01-01', to: '2027-01-02', why: x}]}
        """,
    )
    where = sorted(p.split(": ")[1] for p in found)
    assert where == [
        "boms[0].lines[0].per",
        "boms[0].lines[0].uom",
        "boms[0].revison",
        "routings[0].owner",
        "routings[0].stages[0].machine",
        "workcenters[0].downtime[0]",  # its reason is missing (why: is not reason:)
        "workcenters[0].downtime[0].why",
        "workcenters[0].shifts",
    ]
    assert any("stages[0].machine: unknown key (known: name, workcenter" in p for p in found)


def test_the_count_is_every_problem_also_past_the_fifty_shown(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    shop(cli, tmp_path)
    items = "".join(
        f"  - {{code: X{n}, name: x, type: raw, unit: pcs, make_or_buy: buy, colour: red}}\n"
        for n in range(60)
    )
    (tmp_path / "in.yaml").write_text(
        f"items:\n{items}stock:\n  - {{item: P, qty: 4}}\n", encoding="utf-8"
    )
    err = refused(cli, initdb, "import", tmp_path / "in.yaml", one_line=False)
    lines = err.splitlines()
    # 60 unknown keys and the opening balance P already holds: 61, 50 of them shown.
    assert len(lines) == 52
    assert lines[-2:] == [
        "Error: ... and 11 more problems",
        "Error: import refused: 61 problems; nothing was written",
    ]


def test_a_refused_record_is_said_once(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    # The trial write would refuse the virtual place again, in its own words.
    found = run(
        cli,
        initdb,
        tmp_path,
        """\
        locations:
          - {code: SUPPLIER, name: x}
        """,
    )
    assert len(found) == 1 and "SUPPLIER is a virtual place and cannot be redefined" in found[0]
