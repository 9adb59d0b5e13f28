"""Fuzzing the importer with hypothesis: the real sample files, mutated.

Keys dropped, values of the wrong type, huge and non-finite numbers, duplicated
records, deep nesting, non-ASCII, files truncated at a random byte, bytes that are not
UTF-8, empty and multiple documents. Whatever comes in, mfgctl answers with ``Error:``
lines and exit 1 and leaves the database byte for byte as it was, or imports it and
``mfgctl check`` still finds no error. Never a traceback, never exit 70.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fuzz_support import SAMPLE, build_sample, copy_db, problems_of, run, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An empty database and one loaded with the sample data (and some orders)."""
    where = tmp_path_factory.mktemp("fuzz-import")
    empty, sample = where / "empty.db", where / "sample.db"
    assert run(empty, "init").exit_code == 0
    build_sample(sample)
    for path in (empty, sample):
        snapshot(path)  # checkpointed: the file alone is the whole database
    return {"empty": empty, "sample": sample}


TEXTS = {p.name: p.read_text(encoding="utf-8") for p in SAMPLE}
ALL = "\n---\n".join(TEXTS[name] for name in sorted(TEXTS))

# Values a hand-edited file may hold where something else was meant.
WRONG = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            False,
            0,
            -1,
            -0.0,
            10**30,
            -(10**30),
            2**63,
            2**64 + 1,
            "",
            " ",
            "1e400",
            "1E-30",
            ".nan",
            ".inf",
            "-.inf",
            "NaN",
            "Infinity",
            "0x1F",
            "1_000",
            "12,5",
            "0.0000001",
            "9" * 5000,
            "2027-02-30",
            "0000-00-00",
            "9999-12-31",
            "25:61",
            "'; DROP TABLE move; --",
            "Grüße ✓ 名前",
            "[A1]",
            "a\x00b",
            "x" * 100_000,
            [],
            {},
            [[]],
            {"a": {"b": {"c": None}}},
        ]
    ),
    st.integers(),
    st.decimals(allow_nan=True, allow_infinity=True, places=8).map(str),
    st.text(max_size=40),
    st.lists(st.integers(), max_size=3),
    st.dates(),
)


def _records(data: Any) -> list[dict]:
    """Every mapping inside a section list, where mutations act."""
    found: list[dict] = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


@st.composite
def mutated_yaml(draw: st.DrawFn) -> bytes:
    """One sample file (or all of them as documents of one file), mutated."""
    name = draw(st.sampled_from([*sorted(TEXTS), "all"]))
    text = ALL if name == "all" else TEXTS[name]
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    for _ in range(draw(st.integers(0, 3))):
        doc = docs[draw(st.integers(0, len(docs) - 1))] if docs else {}
        records = _records(doc)
        if not records:
            continue
        record = records[draw(st.integers(0, len(records) - 1))]
        keys = list(record)
        action = draw(st.sampled_from(["drop", "retype", "add", "duplicate", "section"]))
        if action == "drop" and keys:
            del record[keys[draw(st.integers(0, len(keys) - 1))]]
        elif action == "retype" and keys:
            record[keys[draw(st.integers(0, len(keys) - 1))]] = draw(WRONG)
        elif action == "add":
            record[draw(st.sampled_from(["extra", "qty", "code", "Ünïcode", "due"]))] = draw(WRONG)
        elif action == "duplicate":
            for value in doc.values() if isinstance(doc, dict) else []:
                if isinstance(value, list) and value:
                    value.append(value[draw(st.integers(0, len(value) - 1))])
                    break
        elif action == "section" and isinstance(doc, dict) and doc:
            doc[draw(st.sampled_from(sorted(doc)))] = draw(WRONG)
    out = yaml.safe_dump_all(docs, allow_unicode=draw(st.booleans()), sort_keys=False)
    raw = out.encode("utf-8")
    # Then, maybe, damage the text itself.
    damage = draw(
        st.sampled_from(["none", "truncate", "insert", "flip", "nest", "empty", "documents"])
    )
    if damage == "truncate":
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif damage == "insert":
        at = draw(st.integers(0, len(raw)))
        junk = draw(
            st.one_of(
                st.binary(max_size=20),
                st.sampled_from(
                    [
                        b"\xff\xfe",
                        b"\x00",
                        b"\xef\xbb\xbf",
                        b"\t",
                        b": ",
                        b"- ",
                        b"&a",
                        b"*a",
                        b"!!python/object:os.system",
                        b"<<: 1",
                    ]
                ),
                st.text(max_size=20).map(lambda t: t.encode("utf-8")),
            )
        )
        raw = raw[:at] + junk + raw[at:]
    elif damage == "flip" and raw:
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
    elif damage == "nest":
        depth = draw(st.sampled_from([50, 500, 5000]))
        bracket = draw(st.sampled_from([("[", "]"), ("{a: ", "}")]))
        raw += f"\nitems: [{bracket[0] * depth}1{bracket[1] * depth}]\n".encode()
    elif damage == "empty":
        raw = draw(
            st.sampled_from(
                [
                    b"",
                    b"\n",
                    b"---\n",
                    b"---\n...\n---\n",
                    b"~\n",
                    b"# only a comment\n",
                    b"[]\n",
                    b"{}\n",
                    b"items:\n",
                    b"items: []\n",
                ]
            )
        )
    elif damage == "documents":
        raw = raw + b"\n---\n" + raw
    return raw


def check_import(template: Path, work: Path, data: bytes, dry: bool) -> None:
    """Import ``data`` into a fresh copy of ``template`` and judge the answer."""
    db = work / "fuzz.db"
    copy_db(template, db)
    source = work / "mutated.yaml"
    source.write_bytes(data)
    before = snapshot(db)
    r = run(db, "import", str(source), *(["--dry-run"] if dry else []))
    assert not problems_of(r), (problems_of(r), r.stderr[:2000])
    if r.exit_code != 0 or dry:
        assert r.exit_code in (0, 1), r.stderr[:2000]
        if r.exit_code:
            assert r.stderr.splitlines()[-1].startswith("Error: import refused: "), r.stderr
        # Refused, or a dry run: not a byte of the file changed.
        assert snapshot(db) == before
    else:
        verdict = run(db, "check", "--quick", "-f", "json")
        assert verdict.exit_code == 0, verdict.stdout[:3000]


@FUZZ
@given(data=mutated_yaml(), into=st.sampled_from(["empty", "sample"]), dry=st.booleans())
def test_mutated_sample_files_are_imported_cleanly_or_refused_with_nothing_changed(
    templates: dict[str, Path], tmp_path: Path, data: bytes, into: str, dry: bool
) -> None:
    check_import(templates[into], tmp_path, data, dry)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"---\n",
        b"~\n",
        b"# nothing\n",
        b"---\n---\n---\n",
        b"\xef\xbb\xbf",
        b"\xff\xfe\x00i\x00t\x00e\x00m\x00s\x00",
        b"items: [" * 10_000,
        b"items:\n  - " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
    ],
    ids=[
        "empty",
        "document-start",
        "null",
        "comment",
        "three-empty",
        "bom",
        "utf16",
        "open",
        "deep",
    ],
)
def test_empty_and_odd_files(templates: dict[str, Path], tmp_path: Path, raw: bytes) -> None:
    """An empty file imports nothing (exit 0, nothing written); a broken one is refused."""
    db = tmp_path / "fuzz.db"
    copy_db(templates["sample"], db)
    source = tmp_path / "odd.yaml"
    source.write_bytes(raw)
    before = snapshot(db)
    r = run(db, "import", str(source))
    assert not problems_of(r), (problems_of(r), r.stderr[:2000])
    assert snapshot(db) == before


def test_a_value_of_the_wrong_shape_is_named_in_a_users_words(
    templates: dict[str, Path], tmp_path: Path
) -> None:
    """The fuzzer's retyped values were reported as "not Seq" and "not Record" (the
    reader's Python classes); now "not a list" and "not a mapping"."""
    db = tmp_path / "fuzz.db"
    copy_db(templates["empty"], db)
    source = tmp_path / "shapes.yaml"
    source.write_text(
        "items:\n"
        "  - {code: [A, B], name: x, type: raw, unit: pcs, make_or_buy: buy}\n"
        "  - {code: P-2, name: {a: 1}, type: raw, unit: pcs, make_or_buy: buy}\n"
        "  - {code: P-3, name: x, type: raw, unit: pcs, make_or_buy: buy, cost: [1]}\n"
        "  - {code: P-4, name: x, type: raw, unit: pcs, make_or_buy: buy, moq: 2025-01-01}\n",
        encoding="utf-8",
    )
    before = snapshot(db)
    r = run(db, "import", str(source))
    assert r.exit_code == 1
    assert f"{source}:2: items[0].code: must be text, not a list" in r.stderr
    assert f"{source}:3: items[1].name: must be text, not a mapping" in r.stderr
    assert "items[2].cost: must be a number, not a list" in r.stderr
    assert "items[3].moq: must be a number, not the date 2025-01-01" in r.stderr
    assert "Seq" not in r.stderr and "Record" not in r.stderr
    assert snapshot(db) == before
