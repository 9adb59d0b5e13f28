"""Fuzzing the commands with hypothesis: hostile arguments to the main commands.

Quantities and options that are huge, negative, zero, NaN, Infinity, in exponent
notation (1e400, 1E-30), non-ASCII, empty, 100,000 characters long, SQL
metacharacters, NUL bytes, impossible dates (2027-02-30) and dates at the ends of the
calendar, given to item, stock, reserve, order, consume, inspect, ship, shipments, return, demand,
purchase, MRP, schedule, work centre, trace and report commands on a database holding
the sample data. For every run: no traceback and never exit 70 (a bug); a refusal is
one ``Error:`` line (or Typer's usage error, exit 2) and leaves the database byte for
byte as it was (its full dump, and its file after a checkpoint); an accepted command
leaves a database on which ``mfgctl check`` finds no error.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz_support import build_sample, copy_db, day, problems_of, run, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

V = "{V}"  # where a hostile value goes
DUE = day(7)
SOON = day(1)

# The main commands, each with one slot for a hostile value, on the sample database
# (build_sample: order 1 released, order 2 planned, demand 1, purchase order 1 open).
COMMANDS: list[list[str]] = [
    ["item", "add", V, "--name", "x", "--type", "raw", "--unit", "pcs", "--make-or-buy", "buy"],
    *[
        [
            "item",
            "add",
            "NEW-1",
            "--name",
            "x",
            "--type",
            "raw",
            "--unit",
            "pcs",
            "--make-or-buy",
            "buy",
            option,
            V,
        ]
        for option in (
            "--units",
            "--lead-time-days",
            "--moq",
            "--cost",
            "--safety-stock",
            "--order-multiple",
            "--max-order-qty",
            "--fixed-order-qty",
            "--period-days",
            "--release-criteria",
            "--planning-reviewed",
            "--lot-sizing",
            "--method",
            "--tracking",
        )
    ],
    ["item", "add", "NEW-1", "--name", V, "--type", "raw", "--unit", "pcs", "--make-or-buy", "buy"],
    ["item", "add", "NEW-1", "--name", "x", "--type", "raw", "--unit", V, "--make-or-buy", "buy"],
    ["item", "update", "MIC-100", "--cost", V],
    ["item", "update", "MIC-100", "--safety-stock", V],
    ["item", "update", "MIC-100", "--units", V],
    ["item", "update", "MIC-100", "--name", V],
    ["item", "update", V, "--name", "y"],
    ["stock", "receive", V, "10"],
    ["stock", "receive", "AMP-120", V, "--lot", "FZ-2"],
    ["stock", "receive", "AMP-120", "10", "--lot", V],
    ["stock", "receive", "AMP-120", "10", "--lot", "FZ-2", "--expires", V],
    ["stock", "receive", "SHL-200-BTE", "10", "--date", V],
    ["stock", "receive", "SHL-200-BTE", "10", "--cost", V],
    ["stock", "receive", "SHL-200-BTE", "10", "--unit", V],
    ["stock", "receive", "SHL-200-BTE", "10", "--location", V],
    ["stock", "adjust", "SHL-200-BTE", "--add", V, "--reason", "fuzz"],
    ["stock", "adjust", "SHL-200-BTE", "--remove", V, "--reason", "fuzz"],
    ["stock", "adjust", "SHL-200-BTE", "--add", "1", "--reason", V],
    ["stock", "move", "SHL-200-BTE", V, "--from", "STORES", "--to", "LINE-1"],
    ["stock", "move", "SHL-200-BTE", "5", "--from", "STORES", "--to", V],
    ["stock", "move", "SHL-200-BTE", "5", "--from", "STORES", "--to", "LINE-1", "--status", V],
    ["stock", "count", "SHL-200-BTE", V],
    ["stock", "history", "SHL-200-BTE", "--as-of", V],
    ["stock", "expiry", "MIC-100", V, "--expires", "2029-01-01", "--reason", "fuzz"],
    ["stock", "expiry", "MIC-100", "MX2405-118", "--expires", V, "--reason", "fuzz"],
    ["stock", "expiry", "MIC-100", "MX2405-118", "--expires", "2029-01-01", "--reason", V],
    ["stock", "lots", V],
    ["stock", "lots", "MIC-100", "--lot", V],
    ["reserve", "add", "SHL-200-BTE", V, "--for", "SO-9"],
    ["reserve", "add", "SHL-200-BTE", "5", "--for", V],
    ["reserve", "add", "SHL-200-BTE", "5", "--for", "SO-9", "--until", V],
    ["reserve", "add", "SHL-200-BTE", "5", "--for", "SO-9", "--priority", V],
    ["reserve", "add", V],
    ["reserve", "cancel", V],
    ["order", "create", "HD-200", V, "--due", DUE],
    ["order", "create", "HD-200", "5", "--due", V],
    ["order", "create", "HD-200", "5", "--due", DUE, "--priority", V],
    ["order", "create", "HD-200", "5", "--due", DUE, "--revision", V],
    ["order", "create", "HD-200", "5", "--due", DUE, "--ref", V],
    ["order", "release", V],
    ["order", "cancel", "2", "--note", V],
    ["order", "complete", "1", "--qty", V],
    ["order", "advance", "1", "--stage", "assembly", "--good", V],
    ["order", "advance", "1", "--stage", V, "--good", "1"],
    ["consume", "1", "--qty", V],
    ["consume", "1", "--item", "BAT-312", "--qty", V],
    ["consume", "1", "--item", V, "--qty", "1"],
    ["consume", V],
    [
        "inspect",
        "decide",
        "MIC-100",
        "--lot",
        "MX2411-042",
        "--location",
        "QC",
        "--pass",
        "--qty",
        V,
    ],
    ["inspect", "decide", "MIC-100", "--lot", "MX2411-042", "--fail", "--measure", V],
    ["inspect", "decide", "MIC-100", "--lot", V, "--hold"],
    ["ship", "SHL-200-BTE", V, "--to", "Customer"],
    ["ship", "SHL-200-BTE", "1", "--to", V],
    ["ship", "HD-200", "1", "--to", "Customer", "--serials", V],
    ["ship", "SHL-200-BTE", "1", "--to", "Customer", "--demand", V],
    ["shipments", "--since", V],
    ["shipments", "--customer", V, "--item", "SHL-200-BTE"],
    ["shipments", "--lot", V],
    ["shipments", "--item", V],
    ["return", V, "1", "--reason", "fuzz"],
    ["return", "SHIP-1", V, "--reason", "fuzz"],
    ["return", "SHIP-1", "1", "--reason", V],
    ["return", "SHIP-1", "1", "--reason", "fuzz", "--status", V],
    ["return", "SHIP-1", "1", "--reason", "fuzz", "--location", V],
    ["return", "SHIP-1", "1", "--reason", "fuzz", "--unit", V],
    ["demand", "add", "HD-200", V, "--due", DUE, "--kind", "sales"],
    ["demand", "add", "HD-200", "5", "--due", V, "--kind", "sales"],
    ["demand", "add", "HD-200", "5", "--due", DUE, "--kind", V],
    ["purchase", "add", "PCB-FLX-30", V, "--due", DUE],
    ["purchase", "add", "PCB-FLX-30", "5", "--due", V],
    ["purchase", "add", "PCB-FLX-30", "5", "--due", DUE, "--cost", V],
    ["purchase", "add", "PCB-FLX-30", "5", "--due", DUE, "--supplier", V],
    ["purchase", "receive", "1", "--qty", V, "--lot", "FZ-3"],
    ["purchase", "receive", V],
    ["purchase", "show", V],
    ["demand", "show", V],
    ["mrp", "run", "--horizon", V],
    ["mrp", "run", "--start", V],
    ["mrp", "run", "--bucket", V],
    ["mrp", "run", "--item", V],
    ["mrp", "firm", V],
    ["mrp", "firm", "--all", "--until", V],
    ["mrp", "can-build", "HD-200", V],
    ["mrp", "can-build", "HD-200", "1", "--unit", V],
    ["atp", "HD-200", "--start", V],
    ["schedule", "--start", V],
    ["schedule", "--horizon", V],
    ["schedule", "--orders", V],
    ["workcenter", "add", V, "--name", "x", "--machines", "1", "--hours", "8"],
    ["workcenter", "add", "WC-9", "--name", "x", "--machines", V, "--hours", "8"],
    ["workcenter", "add", "WC-9", "--name", "x", "--machines", "1", "--hours", V],
    ["workcenter", "add", "WC-9", "--name", "x", "--hours", "8", "--day-start", V],
    ["workcenter", "add", "WC-9", "--name", "x", "--hours", "8", "--rate", V],
    ["workcenter", "down", "ASSY", "--from", V, "--to", DUE, "--reason", "fuzz"],
    ["workcenter", "down", "ASSY", "--from", SOON, "--to", V, "--reason", "fuzz"],
    ["workcenter", "up", "ASSY", V],
    ["trace", V],
    ["trace", "MX2405-118", "--item", V],
    ["trace", "MX2405-118", "--item", "MIC-100", "--forward", "--hold", "--reason", V],
    ["report", "valuation", "--as-of", V],
    ["report", "yield", "--since", V],
    ["report", "variance", "--threshold", V],
    ["report", "slow-moving", "--days", V],
    ["report", "suppliers", "--since", V],
    ["check", "--days-unreviewed", V],
    ["status", "--horizon", V],
    ["bom", "explode", "HD-200", "--qty", V],
    ["routing", "set", "HD-200", "--stage", V],
    ["location", "add", V, "--name", "Fuzz"],
]

HOSTILE_TEXT = [
    "0", "-0", "-1", "-5", "0.0", "00012", "+3", " 7 ", "1.5", "0.0000001", "1e-7",
    "1e3", "1E3", "1e400", "1E-30", "-1e400", "NaN", "nan", "-NaN", "sNaN", "Infinity",
    "-Infinity", "inf", "∞", "1_000", "0x10", "0b1", "1,5", "½", "²", "١٢", "\uff11\uff12",
    "99999999999999999999999", "999999999999", "1000000000000", "2147483648",
    "9223372036854775808", "-9223372036854775809", "9" * 5000, "", " ", "\t", "\n",
    "1\n2", "-", "--", "--help", "ü", "Grüße", "名前", "😀", "\u202e", "\u200b", "[A1]",
    "[bold]x[/]", "%s", "{0}", "\\", "'", '"', "`rm -rf /`", "$(touch pwned)",
    "'; DROP TABLE move; --", "\"; DELETE FROM item; --", "1; DROP TABLE item",
    "x" * 100_000, "A" * 81, "a\x00b", "\x00", "\udcff", "MIC-100\udcfe",
    "2027-02-30", "2025-13-01",
    "0000-00-00", "0001-01-01", "1899-12-31", "1900-01-01", "2999-12-31", "3000-01-01",
    "9999-12-31", "99999-01-01", "2025-01-01T10:00", "2025-01-01 25:00", "12:99",
    "25:00", "-01:00", "ORDER-0", "ORDER-99999999999999999999", "PO-1", "MIC-100",
]  # fmt: skip

HOSTILE = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.integers().map(str),
    st.integers(min_value=-(10**40), max_value=10**40).map(lambda n: f"{n}e{n % 500}"),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.dates().map(lambda d: d.isoformat()),
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12),
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz-commands") / "sample.db"
    build_sample(path)
    snapshot(path)  # checkpointed: the file alone is the whole database
    return path


def check_command(template: Path, work: Path, args: list[str]) -> None:
    """Run one command on a fresh copy of the sample database and judge the answer."""
    db = work / "fuzz.db"
    copy_db(template, db)
    before = snapshot(db)
    r = run(db, *args)
    assert not problems_of(r), (problems_of(r), args[:12], r.stderr[:2000])
    if r.exit_code != 0:
        assert r.exit_code in (1, 2, 3, 4), (r.exit_code, r.stderr[:2000])
        if r.exit_code != 4:  # check's own exit for problems it found (a report)
            assert r.stdout == "" or r.exit_code == 3, r.stdout[:2000]
        assert snapshot(db) == before, f"{args[:12]} was rejected but changed the database"
    else:
        verdict = run(db, "check", "--quick", "-f", "json")
        assert verdict.exit_code == 0, (args[:12], verdict.stdout[:3000])
        # What was accepted must not break planning later (an accepted due date of
        # 0001-01-01 once made every later mrp, schedule and status run crash).
        for later in (["mrp", "run"], ["schedule"], ["status"]):
            after = run(db, *later, "-f", "json")
            assert not problems_of(after), (args[:12], later, problems_of(after))


@st.composite
def hostile_command(draw: st.DrawFn) -> list[str]:
    template = draw(st.sampled_from(COMMANDS))
    value = draw(HOSTILE)
    args = [value if a == V else a for a in template]
    if draw(st.integers(0, 4)) == 0:  # sometimes ask for another format as well
        args += ["-f", draw(st.sampled_from(["json", "csv", "plain", "markdown", "table"]))]
    return args


@FUZZ
@given(args=hostile_command())
def test_hostile_arguments_are_refused_cleanly_or_accepted_consistently(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # `export -o VALUE` and the like write here, if anywhere
    check_command(template, tmp_path, args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # Each found by the fuzzer, each a traceback (exit 70) before it was fixed.
        (
            ["reserve", "cancel", "99999999999999999999999"],
            "no reservation 99999999999999999999999",
        ),
        (
            [
                "order",
                "create",
                "HD-200",
                "5",
                "--due",
                DUE,
                "--priority",
                "99999999999999999999999",
            ],
            "--priority must be a whole number from -1,000,000,000 to 1,000,000,000",
        ),
        (
            ["reserve", "add", "SHL-200-BTE", "5", "--for", "SO-9", "--priority", "10000000000"],
            "--priority must be a whole number",
        ),
        (["mrp", "run", "--horizon", "9" * 5000], "--horizon must be a whole number of days"),
        (["mrp", "run", "--horizon", "²"], "--horizon must be a whole number of days"),
        (["mrp", "run", "--start", "9999-12-31"], "--start 9999-12-31 is out of range"),
        (["mrp", "run", "--start", "0001-01-01"], "--start 0001-01-01 is out of range"),
        (["atp", "HD-200", "--start", "9999-12-31"], "--start 9999-12-31 is out of range"),
        (["schedule", "--start", "9999-12-31"], "--start 9999-12-31 is out of range"),
        (
            ["order", "create", "HD-200", "5", "--due", "0001-01-01"],
            "--due 0001-01-01 is out of range (from 1900-01-01 to 2999-12-31)",
        ),
        (
            ["demand", "add", "HD-200", "5", "--due", "9999-12-31", "--kind", "sales"],
            "--due 9999-12-31 is out of range",
        ),
        (
            ["purchase", "add", "PCB-FLX-30", "5", "--due", "0001-01-01"],
            "--due 0001-01-01 is out of range",
        ),
        (
            ["workcenter", "down", "ASSY", "--from", "0001-01-01", "--to", DUE, "--reason", "x"],
            "--from 0001-01-01 is out of range",
        ),
    ],
)
def test_found_by_fuzzing_now_refused_in_one_line(
    template: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    db = tmp_path / "fuzz.db"
    copy_db(template, db)
    before = snapshot(db)
    r = run(db, *args)
    assert r.bug is None and r.exit_code == 1, (r.exit_code, r.stderr, r.bug)
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, r.stderr
    assert message in r.stderr, r.stderr
    assert snapshot(db) == before


def test_a_due_date_at_the_end_of_the_calendar_no_longer_breaks_planning(
    template: Path, tmp_path: Path
) -> None:
    """Before the fix, `order create --due 0001-01-01` was accepted, and from then on
    mrp, schedule, status and atp failed with an internal error on every run."""
    db = tmp_path / "fuzz.db"
    copy_db(template, db)
    assert run(db, "order", "create", "HD-200", "5", "--due", "1900-01-01").exit_code == 0
    assert (
        run(db, "demand", "add", "HD-300", "1", "--due", "2999-12-31", "--kind", "sales").exit_code
        == 0
    )
    for args in (["mrp", "run"], ["schedule"], ["status"], ["atp", "HD-200"], ["check"]):
        r = run(db, *args, "-f", "json")
        assert r.bug is None and r.exit_code in (0, 3), (args, r.exit_code, r.stderr[-500:])


def test_check_with_more_days_than_the_calendar_holds(template: Path, tmp_path: Path) -> None:
    """--days-unreviewed 999999999999 was an OverflowError. Now a count is at most
    999,999,999 (one Error: line above it); at the most, every item never reviewed is
    reported (the sample data has 38 such active items) and no other."""
    db = tmp_path / "fuzz.db"
    copy_db(template, db)
    r = run(db, "check", "--days-unreviewed", "999999999999", "-f", "json")
    assert r.bug is None and r.exit_code == 1
    assert r.stderr == "Error: --days-unreviewed must be at most 999,999,999, got 999999999999\n"
    r = run(db, "check", "--days-unreviewed", "999999999", "-f", "json")
    assert r.bug is None and r.exit_code == 0, r.stderr
    import json

    rows = [p for p in json.loads(r.stdout) if p["check"] == "planning_unreviewed"]
    assert len(rows) == 38
    assert {p["message"] for p in rows} == {"planning data never reviewed"}


def test_dry_runs_leave_the_file_byte_for_byte(template: Path, tmp_path: Path) -> None:
    """`mrp firm --dry-run` and `import --dry-run` used to commit a transaction whose
    savepoint had been rolled back: same rows, but the pages they touched were written
    again and the file's change counter moved. Now not a byte changes."""
    db = tmp_path / "fuzz.db"
    copy_db(template, db)
    before = snapshot(db)
    r = run(db, "mrp", "firm", "--all", "--dry-run", "-f", "json")
    assert r.exit_code == 0 and "Would firm" in r.stderr, r.stderr
    assert snapshot(db) == before
    export = tmp_path / "all.yaml"
    assert run(db, "export", "-o", str(export)).exit_code == 0
    fresh = tmp_path / "fresh.db"
    assert run(fresh, "init").exit_code == 0
    before = snapshot(fresh)
    r = run(fresh, "import", str(export), "--dry-run")
    assert r.exit_code == 0 and "Dry run: nothing was written" in r.stderr, r.stderr
    assert snapshot(fresh) == before


@pytest.mark.parametrize("command", [["init"], ["stock"], ["check"]])
def test_a_database_path_too_long_for_the_filesystem_is_unusable_not_a_crash(
    tmp_path: Path, command: list[str]
) -> None:
    """`--db` with a 5,000-character name made Path.exists() raise OSError (exit 70)."""
    r = run(tmp_path / ("x" * 5000), *command)
    assert r.bug is None and r.exit_code == 6, (r.exit_code, r.bug)
    assert r.stderr.startswith("Error: cannot use '") and r.stderr.count("\n") == 1
    assert "as a database file: File name too long" in r.stderr
    assert len(r.stderr) < 300
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["x" * 100_000, "a\tb", "a\nb", "\x1b[31mred", "", "   "])
def test_a_user_name_that_is_not_one_short_printable_line_is_refused(
    template: Path, tmp_path: Path, name: str
) -> None:
    """--user went into every ledger row as given: 100,000 characters, tabs (which
    break the plain output's columns), escape sequences; and a blank one silently
    became the login name. Now refused before anything."""
    from typer.testing import CliRunner

    from mfgctl.cli import app

    db = tmp_path / "fuzz.db"
    copy_db(template, db)
    before = snapshot(db)
    r = CliRunner().invoke(
        app, ["--db", str(db), "--user", name, "stock", "receive", "SHL-200-BTE", "1"]
    )
    assert r.exit_code == 1, (r.exit_code, r.exception)
    assert r.stderr == (
        "Error: --user (or MFGCTL_USER) must be one line of printable text, 1 to 80 characters "
        "(leave it out for the login name)\n"
    )
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1e400", 86400), ("1e12", 86400), ("NaN", 10), ("-5", 10), ("abc", 10), ("0.25", 0.25)],
)
def test_a_hostile_busy_timeout_is_bounded_not_a_crash(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, seconds: float
) -> None:
    """MFGCTL_BUSY_TIMEOUT=1e400 overflowed a float in every command (exit 70); now a
    timeout is at most a day, and a value that is no number of seconds means 10."""
    from mfgctl import db as dbmod

    monkeypatch.setenv("MFGCTL_BUSY_TIMEOUT", value)
    assert dbmod.busy_timeout_s() == seconds
    db = tmp_path / "fuzz.db"
    copy_db(template, db)
    r = run(db, "stock", "receive", "SHL-200-BTE", "1", "-f", "json")
    assert r.bug is None and r.exit_code == 0, (r.exit_code, r.bug, r.stderr)


@pytest.mark.parametrize(
    "argv",
    [
        [b"item", b"show", b"MIC\xff"],
        [b"stock", b"--item", b"\xc3"],
        [b"reserve", b"list", b"--for", b"SO\xfe1"],
        [b"workcenter", b"show", b"\xff\xfe"],
    ],
)
def test_bytes_that_are_not_utf8_on_the_command_line_are_refused(
    template: Path, tmp_path: Path, argv: list[bytes]
) -> None:
    """A real process, real argv bytes: `mfgctl item show $'MIC\\xff'` was an internal
    error (exit 70: SQLite cannot encode the lone surrogate Python makes of the byte)."""
    import os
    import subprocess
    import sys

    db = tmp_path / "fuzz.db"
    copy_db(template, db)
    before = snapshot(db)
    env = dict(os.environ, MFGCTL_DB=str(db), MFGCTL_USER="fuzz", LC_ALL="C.UTF-8")
    r = subprocess.run(
        [sys.executable.encode(), b"-m", b"mfgctl", *argv], env=env, capture_output=True
    )
    assert r.returncode == 1, r.stderr
    err = r.stderr.decode("utf-8")
    assert err.startswith("Error: argument '") and err.count("\n") == 1, err
    assert err.endswith(" is not UTF-8 text: check the encoding\n"), err
    assert "\\x" in err and "Traceback" not in err
    assert r.stdout == b""
    assert snapshot(db) == before
