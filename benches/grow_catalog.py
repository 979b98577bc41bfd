#!/usr/bin/env python3
"""Grow an archive's catalog to ROWS rows for the "renew with nothing due" benchmark: existing
rows are copied under new ids with every other column unchanged (so their renewal dates stay
those of real, freshly timestamped files). Only the catalog grows; the files are not copied.

usage: grow_catalog.py CATALOG.sqlite ROWS
"""
import sqlite3, sys


def main():
    path, rows = sys.argv[1], int(sys.argv[2])
    db = sqlite3.connect(path)
    cols = [r[1] for r in db.execute("PRAGMA table_info(documents)")]
    if "id" not in cols:
        sys.exit("grow_catalog.py: no documents.id column")
    base = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    if base == 0:
        sys.exit("grow_catalog.py: empty catalog")
    others = [c for c in cols if c != "id"]
    copies = max(0, (rows - base) // base + (1 if (rows - base) % base else 0))
    with db:
        db.execute("CREATE TEMP TABLE base AS SELECT * FROM documents")
        # one INSERT over base × copy numbers: linear in the rows written
        db.execute(
            "WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < ?) "
            "INSERT INTO documents (id, %s) SELECT base.id || '-copy' || k.x, %s FROM base, k"
            % (", ".join(others), ", ".join("base." + c for c in others)),
            (copies,),
        )
        db.execute("DELETE FROM documents WHERE rowid IN (SELECT rowid FROM documents ORDER BY rowid DESC LIMIT "
                   "max(0, (SELECT COUNT(*) FROM documents) - ?))", (rows,))
    print(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])


if __name__ == "__main__":
    main()
