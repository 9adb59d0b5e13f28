"""A database as mfgctl before schema 17 left it, for the tests of older upgrades: no
``completion.carried``, the v16 ``v_valuation``."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

V16 = Path(__file__).parent / "schemas" / "v16.sql"  # schema.sql as mfgctl left it at v16


def downgrade_to_v16(path: Path) -> None:
    """Undo schema 17 on the database at ``path`` (what ``carried`` held is lost)."""
    old_view = re.search(r"CREATE VIEW v_valuation AS.*?;\n", V16.read_text("utf-8"), re.S)
    assert old_view is not None
    with sqlite3.connect(path) as c:
        c.execute("DROP VIEW v_valuation")  # it reads the column
        c.execute("ALTER TABLE completion DROP COLUMN carried")
        c.execute(old_view.group(0))
        c.execute("PRAGMA user_version = 16")
    c.close()
