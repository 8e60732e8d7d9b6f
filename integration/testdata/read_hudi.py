"""Independent reader for the Hudi end-to-end test: reads a Hudi copy-on-write table with hudi-rs (PyPI "hudi") and prints
its rows (the latest committed snapshot) as JSON lines, every value as text (decimals exactly, nulls as null), the
_hoodie_* meta columns included.

usage: read_hudi.py TABLE_PATH

Exit codes: 3 hudi-rs (or pyarrow) missing, 4 the table does not exist yet or has no completed commit.
"""
import decimal
import json
import os
import sys

try:
    import hudi
except ImportError as e:
    print("HUDI_MISSING: %s" % e, file=sys.stderr)
    sys.exit(3)


def text(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    return str(v)


def main():
    path = sys.argv[1]
    if not os.path.exists(os.path.join(path, ".hoodie", "hoodie.properties")):
        print("no hoodie.properties under %s" % path, file=sys.stderr)
        sys.exit(4)
    table = hudi.HudiTable(path)
    if not table.get_timeline().get_completed_commits():
        print("no completed commit in %s" % path, file=sys.stderr)
        sys.exit(4)
    for batch in table.read():
        for r in batch.to_pylist():
            print(json.dumps({k: text(v) for k, v in r.items()}, sort_keys=True))


if __name__ == "__main__":
    main()
