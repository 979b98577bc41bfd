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
    sql = "INSERT INTO documents (id, %s) SELECT id || '-copy' || ?, %s FROM documents WHERE id NOT LIKE '%%-copy%%'" % (
        ", ".join(others), ", ".join(others))
    k = 0
    with db:
        while db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] + base <= rows:
            k += 1
            db.execute(sql, (str(k),))
    print(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])


if __name__ == "__main__":
    main()
