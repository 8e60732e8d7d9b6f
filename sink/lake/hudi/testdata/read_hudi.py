"""Reads a Hudi table with hudi-rs (PyPI package "hudi") and prints JSON.

Usage: read_hudi.py <table path or s3:// URI> [storage options as JSON].
Used by the Go tests of package hudi as an independent reader. Output:
{"rows": [{column: canonical text or null}], "commits": [timestamps],
 "latest_extra": {extraMetadata of the latest commit}, "base_files": [paths],
 "avro_schema": "..."}
Values are canonical text so the Go side can compare them exactly: integers
and floats as repr, booleans true/false, decimals in plain notation, bytes in
base64, dates as days, times and timestamps as microseconds.
"""
import base64
import decimal
import json
import sys

try:
    import hudi
    import pyarrow as pa
except ImportError as e:  # reported by the Go test with a hint
    print("MISSING-HUDI: %s" % e, file=sys.stderr)
    sys.exit(3)


def canon(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    return str(v)


def column_values(arr):
    t = arr.type
    if pa.types.is_timestamp(t) or pa.types.is_time64(t) or pa.types.is_time32(t):
        arr = arr.cast(pa.int64())
    elif pa.types.is_date32(t):
        arr = arr.cast(pa.int32())
    return [canon(v) for v in arr.to_pylist()]


def main():
    path = sys.argv[1]
    options = json.loads(sys.argv[2]) if len(sys.argv) > 2 else None
    table = hudi.HudiTable(path, options)
    rows = []
    for batch in table.read():
        cols = {name: column_values(batch.column(i)) for i, name in enumerate(batch.schema.names)}
        for i in range(batch.num_rows):
            rows.append({name: cols[name][i] for name in cols})
    timeline = table.get_timeline()
    commits = timeline.get_completed_commits()
    extra = {}
    avro = ""
    if commits:
        meta = json.loads(timeline.get_instant_metadata_in_json(commits[-1]))
        extra = meta.get("extraMetadata", {})
        avro = timeline.get_latest_avro_schema()
    slices = table.get_file_slices()
    out = {
        "rows": rows,
        "commits": [c.timestamp for c in commits],
        "latest_extra": extra,
        "base_files": sorted(s.base_file_relative_path() for s in slices),
        "avro_schema": avro,
        "table_name": table.table_name,
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
