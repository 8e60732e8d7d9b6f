"""Independent reader for the end-to-end tests: reads an Iceberg table with pyiceberg (SqlCatalog on SQLite) and prints
its rows as JSON lines, every value as text (decimals exactly, nulls as null).

usage: read_iceberg.py SQLITE_PATH WAREHOUSE NAMESPACE.TABLE

Exit codes: 3 pyiceberg missing, 4 table not found, 5 the table cannot be read by pyiceberg yet (equality deletes present:
pyiceberg does not apply them, so the test waits for compaction).
"""
import json
import sys

try:
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.exceptions import NoSuchTableError
except ImportError as e:
    print("PYICEBERG_MISSING: %s" % e, file=sys.stderr)
    sys.exit(3)


def text(v):
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.hex()
    return str(v)


def main():
    sqlite_path, warehouse, ident = sys.argv[1:4]
    cat = SqlCatalog("binlake", uri="sqlite:///" + sqlite_path, warehouse=warehouse)
    try:
        table = cat.load_table(ident)
    except NoSuchTableError:
        sys.exit(4)
    snap = table.current_snapshot()
    if snap is None:
        return
    summary = snap.summary.additional_properties if snap.summary else {}
    if int(summary.get("total-equality-deletes", "0") or 0) > 0:
        print("equality deletes present: %s" % summary.get("total-equality-deletes"), file=sys.stderr)
        sys.exit(5)
    rows = table.scan().to_arrow().to_pylist()
    for r in rows:
        print(json.dumps({k: text(v) for k, v in r.items()}, sort_keys=True))


if __name__ == "__main__":
    main()
