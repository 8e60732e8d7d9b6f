"""Independent reader for tests of the REST catalog: reads an Iceberg table with pyiceberg through an Iceberg REST
catalog and prints its rows.

usage: read_iceberg_rest.py [--json] URI NAMESPACE.TABLE [COL,COL,...] [PROP=VALUE ...]

  URI         the REST catalog's base URL (http://127.0.0.1:PORT)
  COL,...     the columns to print, in order (required without --json)
  PROP=VALUE  extra catalog properties: warehouse=..., s3.endpoint=..., s3.access-key-id=..., s3.secret-access-key=...,
              s3.region=..., s3.force-virtual-addressing=false, header.X=...

Output, sorted:
  default  one line per row, "col=value|col=value", formatted like the Go sink tests' canon(): null, decimals exactly,
           bytes as hex, timestamps/times as integer micros, dates as days since the epoch, floats shortest.
  --json   one JSON object per row, every value as text (the format of read_iceberg.py).

Exit codes: 3 pyiceberg missing, 4 table not found, 5 equality deletes present (pyiceberg does not apply them: compact
first), 2 bad usage.
"""
import json
import sys

try:
    import pyarrow as pa
    from pyiceberg.catalog import load_catalog
    from pyiceberg.exceptions import NoSuchTableError
except ImportError as e:  # the Go tests turn this into a clear failure
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
    if pa.types.is_binary(typ) or pa.types.is_large_binary(typ) or pa.types.is_fixed_size_binary(typ):
        return v.hex()
    if pa.types.is_decimal(typ):
        return format(v, "f")
    if pa.types.is_floating(typ):
        return fmt_float(v)
    return str(v)


def text(v):
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.hex()
    return str(v)


def usage(msg):
    print("read_iceberg_rest.py: %s\n%s" % (msg, __doc__), file=sys.stderr)
    sys.exit(2)


def main():
    args = sys.argv[1:]
    as_json = False
    if args and args[0] == "--json":
        as_json, args = True, args[1:]
    if len(args) < 2:
        usage("missing URI or NAMESPACE.TABLE")
    uri, ident, rest = args[0], args[1], args[2:]
    cols = None
    if not as_json:
        if not rest or "=" in rest[0]:
            usage("missing COL,COL,...")
        cols, rest = rest[0].split(","), rest[1:]
    props = {}
    for a in rest:
        if "=" not in a:
            usage("bad property %r (want PROP=VALUE)" % a)
        k, v = a.split("=", 1)
        props[k] = v
    cat = load_catalog("binlake", type="rest", uri=uri, **props)
    try:
        table = cat.load_table(ident)
    except NoSuchTableError:
        print("table %s not found in %s" % (ident, uri), file=sys.stderr)
        sys.exit(4)
    snap = table.current_snapshot()
    if snap is None:
        return
    summary = snap.summary.additional_properties if snap.summary else {}
    if int(summary.get("total-equality-deletes", "0") or 0) > 0:
        print("equality deletes present: %s (pyiceberg does not apply them; compact the table first)"
              % summary.get("total-equality-deletes"), file=sys.stderr)
        sys.exit(5)
    tbl = table.scan().to_arrow()
    if as_json:
        lines = [json.dumps({k: text(v) for k, v in r.items()}, sort_keys=True) for r in tbl.to_pylist()]
    else:
        columns = []
        for c in cols:
            arr = tbl.column(c)
            typ = arr.type
            if pa.types.is_timestamp(typ) or pa.types.is_time64(typ):
                arr, typ = arr.cast(pa.int64()), pa.int64()
            elif pa.types.is_date32(typ):
                arr, typ = arr.cast(pa.int32()), pa.int32()
            columns.append((arr.to_pylist(), typ))
        lines = ["|".join("%s=%s" % (c, canon(vals[i], typ)) for c, (vals, typ) in zip(cols, columns))
                 for i in range(tbl.num_rows)]
    lines.sort()
    sys.stdout.write("\n".join(lines))
    if lines:
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
