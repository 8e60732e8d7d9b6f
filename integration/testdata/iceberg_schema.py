"""Independent reader for the end-to-end tests: prints an Iceberg table's schemas as pyiceberg sees them, as one JSON
object {"current": ID, "schemas": {ID: [{"id", "name", "type", "required"}, ...]}}.

usage: iceberg_schema.py SQLITE_PATH WAREHOUSE NAMESPACE.TABLE

Exit codes: 3 pyiceberg missing, 4 table not found.
"""
import json
import sys

try:
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.exceptions import NoSuchTableError
except ImportError as e:
    print("PYICEBERG_MISSING: %s" % e, file=sys.stderr)
    sys.exit(3)


def main():
    sqlite_path, warehouse, ident = sys.argv[1:4]
    cat = SqlCatalog("binlake", uri="sqlite:///" + sqlite_path, warehouse=warehouse)
    try:
        table = cat.load_table(ident)
    except NoSuchTableError:
        sys.exit(4)
    out = {"current": table.schema().schema_id, "schemas": {}}
    for sid, s in table.schemas().items():
        out["schemas"][str(sid)] = [
            {"id": f.field_id, "name": f.name, "type": str(f.field_type), "required": f.required} for f in s.fields
        ]
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
