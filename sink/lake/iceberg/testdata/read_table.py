"""Independent reader for the sink tests: reads an Iceberg table with
pyiceberg (SqlCatalog on SQLite) and prints one line per row, formatted like
the Go tests' canon(): "col=value|col=value", sorted.

usage: read_table.py CATALOG_NAME SQLITE_PATH WAREHOUSE NAMESPACE.TABLE COL,COL,... [PROP=VALUE ...]
(extra catalog properties such as s3.endpoint=http://127.0.0.1:9000)
"""
import sys

try:
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyiceberg.catalog.sql import SqlCatalog
except ImportError as e:  # the Go test turns this into a clear failure
    print("PYICEBERG_MISSING: %s" % e, file=sys.stderr)
    sys.exit(3)


def fmt_float(x):
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def canon(v, typ):
    if v is None:
        return "null"
    if pa.types.is_boolean(typ):
        return "true" if v else "false"
    if pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
        return v.hex()
    if pa.types.is_decimal(typ):
        return format(v, "f")
    if pa.types.is_floating(typ):
        return fmt_float(v)
    return str(v)


def main():
    name, db, warehouse, ident, cols = sys.argv[1:6]
    props = dict(a.split("=", 1) for a in sys.argv[6:])
    cat = SqlCatalog(name, uri="sqlite:///" + db, warehouse=warehouse, **props)
    tbl = cat.load_table(ident).scan().to_arrow()
    cols = cols.split(",")
    columns = []
    for c in cols:
        arr = tbl.column(c)
        typ = arr.type
        if pa.types.is_timestamp(typ) or pa.types.is_time64(typ):
            arr, typ = arr.cast(pa.int64()), pa.int64()
        elif pa.types.is_date32(typ):
            arr, typ = arr.cast(pa.int32()), pa.int32()
        columns.append((arr.to_pylist(), typ))
    lines = []
    for i in range(tbl.num_rows):
        lines.append("|".join("%s=%s" % (c, canon(vals[i], typ)) for c, (vals, typ) in zip(cols, columns)))
    lines.sort()
    sys.stdout.write("\n".join(lines))
    if lines:
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
