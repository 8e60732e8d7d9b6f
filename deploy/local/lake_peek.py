"""Reads rows back from the quick start's Iceberg tables with pyiceberg (deploy/local/quickstart.sh runs it).

pyiceberg 0.12 plans and reads Iceberg tables but refuses equality-delete files, which binlake's upsert mode writes
for every key it changes. This reader therefore plans the files with pyiceberg (catalog, snapshot, manifests, metrics
pruning by the row filter), reads the data and equality-delete files with pyarrow, and applies the deletes by data
sequence number as the Iceberg spec says: a row of a data file with sequence number s is deleted by an equality
delete of the same key with a sequence number above s.

usage:
  lake_peek.py [catalog flags] sample [--rows N]            the first rows of each sample table
  lake_peek.py [catalog flags] show TABLE COLUMN=V1,V2,...  the rows whose COLUMN has one of the values
  lake_peek.py [catalog flags] wait-live RESULT.json [--timeout S]
      waits until the last live change (sampledb live -result) is in the lake, then prints it

Exit codes: 1 timeout or error, 3 pyiceberg missing, 4 table not found.
"""
import argparse
import datetime
import json
import sys
import time

try:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.exceptions import NoSuchTableError
    from pyiceberg.expressions import In
    from pyiceberg.manifest import DataFileContent
except ImportError as e:
    print("pyiceberg is missing (%s): run `make python` or deploy/local/setup-python.sh" % e, file=sys.stderr)
    sys.exit(3)

TABLES = ["customers", "products", "orders", "order_items"]


def catalog(args):
    props = {"warehouse": args.warehouse}
    if args.s3_endpoint:
        props.update({"s3.endpoint": args.s3_endpoint, "s3.access-key-id": args.s3_access_key_id,
                      "s3.secret-access-key": args.s3_secret_access_key, "s3.region": args.s3_region})
    return SqlCatalog(args.catalog_name, uri="sqlite:///" + args.catalog, **props)


def load(cat, ident):
    try:
        return cat.load_table(ident)
    except NoSuchTableError:
        print("table %s is not in the lake yet" % ident, file=sys.stderr)
        sys.exit(4)


def read_file(io, path, columns, pa_filter):
    with io.new_input(path).open() as f:
        return pq.read_table(f, columns=columns, filters=pa_filter)


def rows(table, column, values):
    """The live rows of table whose column is one of values (all rows when values is None), as a pyarrow Table."""
    snap = table.current_snapshot()
    schema = table.schema()
    names = [f.name for f in schema.fields]
    if snap is None:
        return pa.Table.from_pylist([], schema=schema.as_arrow())
    if values is None:
        scan, pa_filter = table.scan(), None
    else:
        scan, pa_filter = table.scan(row_filter=In(column, values)), pc.field(column).isin(values)
    data, deletes = [], []
    for group in scan._plan_manifest_entries():  # pyiceberg's planning, without its refusal of equality deletes
        for e in group:
            content = e.data_file.content
            if content == DataFileContent.DATA:
                data.append(e)
            elif content == DataFileContent.EQUALITY_DELETES:
                deletes.append(e)
            else:
                raise SystemExit("position delete files are not handled by this reader: %s" % e.data_file.file_path)
    # key -> highest sequence number of an equality delete of that key
    deleted, key_cols = {}, None
    for e in deletes:
        cols = [schema.find_column_name(i) for i in e.data_file.equality_ids]
        key_cols = key_cols or cols
        f = pa_filter if column in cols else None
        t = read_file(table.io, e.data_file.file_path, cols, f)
        for key in zip(*[t.column(c).to_pylist() for c in cols]):
            deleted[key] = max(deleted.get(key, 0), e.sequence_number)
    if key_cols is None:
        key_cols = [schema.find_column_name(i) for i in schema.identifier_field_ids] or names
    parts = []
    for e in data:
        t = read_file(table.io, e.data_file.file_path, None, pa_filter)
        if deleted and t.num_rows:
            seq = e.sequence_number
            keys = zip(*[t.column(c).to_pylist() for c in key_cols])
            t = t.filter(pa.array([deleted.get(k, 0) <= seq for k in keys], type=pa.bool_()))
        cols = [c for c in names if c in t.column_names]
        parts.append(t.select(cols))
    if not parts:
        return pa.Table.from_pylist([], schema=schema.as_arrow())
    out = pa.concat_tables(parts, promote_options="permissive")
    return out.sort_by([(key_cols[0], "ascending")]) if out.num_rows else out


def text(v, width=34):
    if v is None:
        return "NULL"
    if isinstance(v, bytes):
        s = "0x" + v.hex()
    else:
        s = str(v)
    return s if len(s) <= width else s[: width - 3] + "..."


def show(name, t, width=34):
    print("  %s (%d row%s)" % (name, t.num_rows, "" if t.num_rows == 1 else "s"))
    for r in t.to_pylist():
        print("    " + ", ".join("%s=%s" % (k, text(v, width)) for k, v in r.items()))


def cmd_sample(cat, args):
    for name in TABLES:
        t = load(cat, "%s.%s" % (args.namespace, name))
        show("%s.%s" % (args.namespace, name), rows(t, "id", list(range(1, args.rows + 1))), 28)


def cmd_show(cat, args):
    column, _, vals = args.filter.partition("=")
    t = load(cat, "%s.%s" % (args.namespace, args.table))
    field = t.schema().find_field(column)
    conv = str if str(field.field_type) == "string" else int
    show("%s.%s where %s" % (args.namespace, args.table, args.filter), rows(t, column, [conv(v) for v in vals.split(",")]))


def cmd_wait_live(cat, args):
    with open(args.result) as f:
        res = json.load(f)
    oid, note, gone = res["last_order_id"], res["last_order_note"], res["deleted_order_id"]
    want_items = res["last_order_items"]
    start, deadline = time.time(), time.time() + args.timeout
    while True:
        try:
            got = rows(cat.load_table("%s.orders" % args.namespace), "id", [oid, gone])
            items = rows(cat.load_table("%s.order_items" % args.namespace), "order_id", [oid, gone])
            by_id = {r["id"]: r for r in got.to_pylist()}
            item_orders = items.column("order_id").to_pylist()
            if (by_id.get(oid, {}).get("note") == note and gone not in by_id
                    and item_orders.count(oid) == want_items and gone not in item_orders):
                break
        except NoSuchTableError:
            pass
        if time.time() > deadline:
            print("the last live change (order %d with %d items, note %r; order %d deleted) did not reach the lake "
                  "within %ds: look at the worker log" % (oid, want_items, note, gone, args.timeout), file=sys.stderr)
            sys.exit(1)
        time.sleep(1)
    committed = datetime.datetime.strptime(res["committed_at"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    age = (datetime.datetime.now(datetime.timezone.utc) - committed).total_seconds()
    print("the last live change is in the lake: read back with pyiceberg %.1fs after its MySQL commit (this reader's start-up and reads included):"
          % age)
    show("%s.orders where id = %d (inserted, then updated)" % (args.namespace, oid), got.filter(pc.field("id") == oid), 60)
    show("%s.order_items where order_id = %d" % (args.namespace, oid), items.filter(pc.field("order_id") == oid), 60)
    left = got.filter(pc.field("id") == gone).num_rows + items.filter(pc.field("order_id") == gone).num_rows
    print("  %s.orders where id = %d (deleted with its items): %d rows left" % (args.namespace, gone, left))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--catalog", required=True, help="the SQLite file of the sink's sql catalog")
    p.add_argument("--catalog-name", default="binlake")
    p.add_argument("--warehouse", required=True)
    p.add_argument("--namespace", default="shop")
    p.add_argument("--s3-endpoint", default="")
    p.add_argument("--s3-access-key-id", default="")
    p.add_argument("--s3-secret-access-key", default="")
    p.add_argument("--s3-region", default="us-east-1")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--rows", type=int, default=2)
    s = sub.add_parser("show")
    s.add_argument("table")
    s.add_argument("filter", help="COLUMN=V1,V2,...")
    s = sub.add_parser("wait-live")
    s.add_argument("result")
    s.add_argument("--timeout", type=int, default=120)
    args = p.parse_args()
    cat = catalog(args)
    {"sample": cmd_sample, "show": cmd_show, "wait-live": cmd_wait_live}[args.cmd](cat, args)


if __name__ == "__main__":
    main()
