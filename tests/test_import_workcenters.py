"""``workcenters:`` and routing ``family`` in ``mfgctl import`` / ``mfgctl export``: a
round trip that changes nothing, updates and new downtime windows, and refusals that
name file, line and field and write nothing."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from conftest import dump, ok, refused

CENTRES = """\
workcenters:
  - code: ASSY
    name: Assembly
    machines: 2
    hours: mon-thu=8,fri=6
    day_start: '06:00'
    rate: 45.50
    downtime:
      - {from: 2025-08-04, to: 2025-08-16, reason: Summer holiday}
      - {from: '2025-09-03 06:00', to: '2025-09-03 10:00', reason: Press maintenance}
  - {code: PAINT, hours: 7.5, rate: 38}
  - {code: TEST, hours: [8, 8, 8, 8, 8, 4, 0], day_start: 22:30}
"""

ROUTED = """\
items:
  - {code: DEV, name: Device, type: finished, unit: pcs, make_or_buy: make}
routings:
  - item: DEV
    stages:
      - {name: assembly, workcenter: ASSY, setup_min: 15, run_min: 12}
      - {name: paint, workcenter: PAINT, setup_min: 45, run_min: 10, family: red}
      - {name: burnin, workcenter: OVEN, run_min: 60}
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def write(name: str, text: str) -> str:
    Path(name).write_text(textwrap.dedent(text), encoding="utf-8")
    return name


def summary(cli, *files) -> dict[str, dict]:
    rows = json.loads(ok(cli, "import", *files, "-f", "json").stdout)
    return {r["kind"]: r for r in rows}


def test_import_stores_work_centres_and_their_downtime(cli, initdb):
    got = summary(cli, write("wc.yaml", CENTRES))
    assert got["workcenter"] == {"kind": "workcenter", "added": 3, "changed": 0, "unchanged": 0}
    rows = {r["code"]: r for r in json.loads(ok(cli, "workcenter", "list", "-f", "json").stdout)}
    # ASSY: 4 x 8 + 6 = 38 h a week, x 2 machines = 76; PAINT: 5 x 7.5 = 37.5;
    # TEST: 5 x 8 + 4 = 44. 22:30 stays text in YAML (not a sexagesimal number).
    assert [(c, r["machines"], r["day_start"], r["week_hours"], r["capacity_hours"], r["rate"])
            for c, r in rows.items()] == [
        ("ASSY", 2, "06:00", 38, 76, 45.5),
        ("PAINT", 1, "08:00", 37.5, 37.5, 38),
        ("TEST", 1, "22:30", 44, 44, None),
    ]  # fmt: skip
    down = json.loads(ok(cli, "workcenter", "show", "ASSY", "-f", "json").stdout)["downtime"]
    # 2025-08-04 00:00 to 2025-08-16 00:00 is 12 days = 288 h; 06:00-10:00 is 4 h.
    assert [(d["from"], d["to"], d["hours"], d["reason"]) for d in down] == [
        ("2025-08-04 00:00", "2025-08-16 00:00", 288, "Summer holiday"),
        ("2025-09-03 06:00", "2025-09-03 10:00", 4, "Press maintenance"),
    ]


def test_export_import_export_is_the_same_and_a_second_import_changes_nothing(
    cli, initdb, tmp_path, monkeypatch
):
    ok(cli, "import", write("wc.yaml", CENTRES + ROUTED))
    out = ok(cli, "export").stdout
    assert (
        "workcenters:\n"
        "- code: ASSY\n"
        "  name: Assembly\n"
        "  machines: 2\n"
        "  hours: [8, 8, 8, 8, 6, 0, 0]\n"
        "  day_start: '06:00'\n"
        "  rate: 45.5\n"
        "  downtime:\n"
        "  - {from: '2025-08-04 00:00', to: '2025-08-16 00:00', reason: Summer holiday}\n"
        "  - {from: '2025-09-03 06:00', to: '2025-09-03 10:00', reason: Press maintenance}\n"
        "- {code: PAINT, name: PAINT, hours: 7.5, rate: 38}\n"
        "- {code: TEST, name: TEST, hours: [8, 8, 8, 8, 8, 4, 0], day_start: '22:30'}\n"
    ) in out
    assert "  - {name: paint, workcenter: PAINT, setup_min: 45, run_min: 10, family: red}\n" in out
    write("export.yaml", out)
    # Into a fresh database: the same text comes back out.
    monkeypatch.setenv("MFGCTL_DB", str(tmp_path / "fresh.db"))
    ok(cli, "init")
    ok(cli, "import", "export.yaml")
    assert ok(cli, "export").stdout == out
    # And the export imported again over itself changes nothing at all.
    before = dump(tmp_path / "fresh.db")
    got = summary(cli, "export.yaml")
    assert got["workcenter"] == {"kind": "workcenter", "added": 0, "changed": 0, "unchanged": 3}
    assert got["routing"]["unchanged"] == 1
    assert dump(tmp_path / "fresh.db") == before


def test_a_changed_centre_is_updated_and_new_windows_added_stored_ones_kept(cli, initdb):
    ok(cli, "import", write("wc.yaml", CENTRES))
    ok(cli, "workcenter", "down", "PAINT", "--from", "2025-10-01", "--to", "2025-10-02",
       "--reason", "Booth cleaning")  # fmt: skip
    changed = """\
    workcenters:
      # Inside {...} a comma ends a value: the named-days form is quoted there.
      - {code: assy, name: Assembly, machines: 3, hours: 'mon-thu=8,fri=6', day_start: '06:00',
         rate: 45.5}
      - code: PAINT
        hours: 7.5
        rate: 38
        downtime:
          - {from: '2025-10-01', to: '2025-10-02', reason: Booth cleaning}
          - {from: '2025-12-24', to: '2025-12-27', reason: Christmas}
      - {code: TEST, hours: [8, 8, 8, 8, 8, 4, 0], day_start: 22:30}
    """
    r = ok(cli, "import", write("b.yaml", changed), "-f", "json")
    assert {"kind": "workcenter", "added": 0, "changed": 2, "unchanged": 1} in json.loads(r.stdout)
    assess = json.loads(ok(cli, "workcenter", "show", "ASSY", "-f", "json").stdout)
    assert assess["workcenter"][0]["machines"] == 3
    # ASSY's windows were not in the file: both kept.
    assert len(assess["downtime"]) == 2
    paint = json.loads(ok(cli, "workcenter", "show", "PAINT", "-f", "json").stdout)["downtime"]
    # The window typed at the command line is the file's first one: not added twice.
    assert [(d["from"], d["reason"], d["user"]) for d in paint] == [
        ("2025-10-01 00:00", "Booth cleaning", "tester"),
        ("2025-12-24 00:00", "Christmas", "tester"),
    ]


def test_bad_work_centres_refuse_the_whole_import(cli, initdb):
    bad = """\
    workcenters:
      - {code: A1, hours: 25}
      - {code: A2, machines: 0, rate: abc}
      - {code: A3, day_start: 6am, hours: [8, 8]}
      - code: A4
        downtime:
          - {from: '2025-07-02', to: '2025-07-01', reason: backwards}
          - {from: '2025-07-02', to: '2025-07-03'}
          - {from: '2025-07-02', to: '2025-07-03', reason: x, colour: red}
      - {code: OK1}
      - {name: no code}
      - {code: A5, hours: 7.51, shift: 2}
      - {code: ok1, hours: 8}
    """
    err = refused(cli, initdb, "import", write("bad.yaml", bad), one_line=False)
    for text in [
        "bad.yaml:2: workcenters[0].hours: 25 is more than 24 hours in a day",
        "bad.yaml:3: workcenters[1].machines: must be from 1 to 1000, got 0",
        "bad.yaml:3: workcenters[1].rate: 'abc' is not a plain decimal number",
        "bad.yaml:4: workcenters[2].day_start: '6am' is not a time of day (write HH:MM",
        "bad.yaml:4: workcenters[2].hours: must list 7 values (Monday first), got 2",
        "bad.yaml:7: workcenters[3].downtime[0].to: 2025-07-01 00:00 must be after from "
        "2025-07-02 00:00",
        "bad.yaml:8: workcenters[3].downtime[1]: reason: missing: a downtime window needs "
        "from, to, reason",
        "bad.yaml:9: workcenters[3].downtime[2].colour: unknown key (known: from, to, reason)",
        "bad.yaml:11: workcenters[5].code: missing: every work centre needs a code",
        "bad.yaml:12: workcenters[6].shift: unknown key (known: code, name, machines, hours",
        "bad.yaml:13: workcenters[7].code: work centre ok1 is given twice (first at bad.yaml:10)",
        "import refused: ",
    ]:
        assert text in err, err
    assert "nothing was written" in err


def test_a_stage_family_in_yaml_is_checked(cli, initdb):
    bad = ROUTED.replace("family: red", "family: 'red paint'")
    err = refused(cli, initdb, "import", write("r.yaml", bad), one_line=False)
    assert "r.yaml:7: routings[0].stages[1].family: 'red paint' may only contain letters" in err
