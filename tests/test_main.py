"""The console entry point: real processes, and no traceback ever reaches a user."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mfgctl.cli
from mfgctl import __version__


def run(*args: str, env_db: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "MFGCTL_USER": "tester"}
    if env_db is not None:
        env["MFGCTL_DB"] = str(env_db)
    return subprocess.run(
        [sys.executable, "-m", "mfgctl", *args], capture_output=True, text=True, env=env
    )


def test_python_dash_m_prints_the_version() -> None:
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout == f"mfgctl {__version__}\n"


def test_a_real_process_refuses_a_missing_database_in_one_line(tmp_path: Path) -> None:
    r = run("stock", env_db=tmp_path / "none.db")
    assert r.returncode == 6
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("Error: no database at ")
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "none.db").exists()


def test_a_real_process_pipes_json(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    assert run("init", env_db=db).returncode == 0
    r = run("stock", "-f", "json", env_db=db)
    assert (r.returncode, r.stdout) == (0, "[]\n")


def _boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("disk on fire")


def test_a_bug_is_one_line_with_exit_70(monkeypatch, capsys) -> None:
    monkeypatch.setattr(mfgctl.cli, "app", _boom)
    monkeypatch.delenv("MFGCTL_DEBUG", raising=False)
    with pytest.raises(SystemExit) as e:
        mfgctl.cli.main()
    assert e.value.code == 70
    err = capsys.readouterr().err
    assert err.startswith("Error: internal error (RuntimeError: disk on fire)")
    assert err.count("\n") == 1 and "MFGCTL_DEBUG=1" in err


def test_debug_shows_the_traceback(monkeypatch) -> None:
    monkeypatch.setattr(mfgctl.cli, "app", _boom)
    monkeypatch.setenv("MFGCTL_DEBUG", "1")
    with pytest.raises(RuntimeError, match="disk on fire"):
        mfgctl.cli.main()


def test_ctrl_c_is_exit_130(monkeypatch, capsys) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(mfgctl.cli, "app", interrupted)
    with pytest.raises(SystemExit) as e:
        mfgctl.cli.main()
    assert e.value.code == 130
    assert capsys.readouterr().err == "Error: interrupted; nothing was written\n"
