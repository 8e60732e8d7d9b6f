"""Reference reader for the integration tests: reads Iceberg tables with Apache Spark and the Iceberg Spark runtime
(JdbcCatalog on the sink's SQLite catalog file) and prints their rows as JSON lines, every value as text in the same
spelling as read_iceberg.py (pyiceberg): decimals exactly, timestamps with time zone as "YYYY-MM-DD HH:MM:SS[.ffffff]+00:00",
timestamps without as "YYYY-MM-DD HH:MM:SS[.ffffff]", dates as "YYYY-MM-DD", binary as hex, booleans as True/False,
floats as Python's repr, nulls as null.

Spark applies equality and position deletes (merge-on-read), so unlike read_iceberg.py this reads upsert tables before any
compaction.

usage: read_iceberg_spark.py SQLITE_PATH WAREHOUSE NAMESPACE.TABLE [NAMESPACE.TABLE ...]

With one table every line is a row object. With several (one Spark start for all), every row object also carries
"@table": "NAMESPACE.TABLE". For every table one line goes to stderr:
  BINLAKE_SPARK_FILES {"table": ..., "snapshot_id": ..., "data_files": n, "position_delete_files": n,
                       "equality_delete_files": n, "equality_delete_records": n, "rows": n}
counting the files of the current snapshot (the "files" metadata table), so a caller can tell that Spark really merged
delete files.

The jars (iceberg-spark-runtime-3.5_2.12, sqlite-jdbc) come from BINLAKE_SPARK_JARS (comma-separated paths) or
${BINLAKE_CACHE:-~/.cache/binlake}/spark/jars/*.jar; deploy/local/setup-spark.sh puts them there.

usage: read_iceberg_spark.py --warmup
builds the JVM class-data-sharing archive that cuts Spark's start-up (deploy/local/setup-spark.sh runs it once);
reads work without it, only slower.

Exit codes: 3 pyspark or the jars missing, 4 a table not found.
"""
import datetime
import glob
import json
import os
import sys

try:
    from pyspark.sql import SparkSession
    from pyspark.sql import types as T
    from pyspark.sql.utils import AnalysisException
except ImportError as e:
    print("PYSPARK_MISSING: %s (run deploy/local/setup-spark.sh)" % e, file=sys.stderr)
    sys.exit(3)

CATALOG = "binlake"  # the sink's default iceberg.catalog.name: JdbcCatalog matches rows by catalog_name
EPOCH_UTC = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
EPOCH = datetime.datetime(1970, 1, 1)


def jars():
    env = os.environ.get("BINLAKE_SPARK_JARS", "")
    if env:
        paths = [p for p in env.split(",") if p]
    else:
        paths = sorted(glob.glob(os.path.join(cache_dir(), "spark", "jars", "*.jar")))
    names = " ".join(os.path.basename(p) for p in paths)
    if "iceberg-spark-runtime" not in names or "sqlite-jdbc" not in names:
        print("SPARK_JARS_MISSING: need iceberg-spark-runtime and sqlite-jdbc jars, have [%s] "
              "(run deploy/local/setup-spark.sh or set BINLAKE_SPARK_JARS)" % names, file=sys.stderr)
        sys.exit(3)
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        print("SPARK_JARS_MISSING: %s" % ", ".join(missing), file=sys.stderr)
        sys.exit(3)
    return paths


def cds_archive(cp):
    """The path of the class-data-sharing archive for this JVM, Spark and class path (made by --warmup): with it the
    JVM maps Spark's classes instead of loading them, which cuts the start-up to a third on a busy machine."""
    import hashlib
    import pyspark
    default_java_home()
    java = os.path.realpath(os.path.join(os.environ.get("JAVA_HOME", ""), "bin", "java"))
    h = hashlib.sha256()
    for part in [java, pyspark.__version__] + ["%s:%d" % (p, os.path.getsize(p)) for p in cp]:
        h.update(part.encode() + b"\0")
    return os.path.join(cache_dir(), "spark", "cds-%s.jsa" % h.hexdigest()[:16])


def cache_dir():
    return os.environ.get("BINLAKE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "binlake")


def default_java_home():
    if not os.environ.get("JAVA_HOME") and os.path.isdir("/usr/lib/jvm/java-17-openjdk-amd64"):
        os.environ["JAVA_HOME"] = "/usr/lib/jvm/java-17-openjdk-amd64"


def session(sqlite_path, warehouse, dump_archive=None, read_only=True):
    default_java_home()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    paths = jars()
    cp = os.pathsep.join(paths)
    # Small, short-lived and often on a busy machine: the C1 JIT only and the serial GC start much faster.
    java_opts = os.environ.get("BINLAKE_SPARK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:CICompilerCount=1")
    archive = cds_archive(paths)
    if dump_archive:
        java_opts += " -XX:ArchiveClassesAtExit=%s -Xlog:cds=off -Xlog:cds+dynamic=off" % dump_archive
    elif os.path.isfile(archive):
        java_opts += " -XX:SharedArchiveFile=%s -Xlog:cds=off -Xlog:cds+dynamic=off" % archive
    cat = "spark.sql.catalog." + CATALOG
    b = (SparkSession.builder.master("local[2]").appName("binlake-read-iceberg")
         # The jars go on the JVM class path: JDBC's DriverManager does not see drivers added with spark.jars.
         .config("spark.driver.extraClassPath", cp)
         .config("spark.executor.extraClassPath", cp)
         .config("spark.driver.memory", os.environ.get("BINLAKE_SPARK_DRIVER_MEMORY", "512m"))
         .config("spark.driver.host", "127.0.0.1")
         .config("spark.driver.bindAddress", "127.0.0.1")
         .config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false")
         .config("spark.driver.extraJavaOptions", java_opts)
         # Interpreted expressions: compiling generated code costs more than it saves on a few thousand rows.
         .config("spark.sql.codegen.wholeStage", "false")
         .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
         .config("spark.sql.adaptive.enabled", "false")
         .config("spark.sql.shuffle.partitions", "1")
         .config("spark.default.parallelism", "1")
         .config("spark.sql.session.timeZone", "UTC")
         .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
         .config(cat, "org.apache.iceberg.spark.SparkCatalog")
         .config(cat + ".catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog")
         .config(cat + ".uri", "jdbc:sqlite:" + sqlite_path)
         .config(cat + ".warehouse", warehouse)
         # Read only: never create or migrate the catalog's tables (the sink owns them).
         .config(cat + ".jdbc.init-catalog-tables", "false" if read_only else "true")
         .config(cat + ".cache-enabled", "false"))
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def text(v):
    if v is None:
        return None
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    return str(v)


def select_list(schema):
    """Columns to select: timestamps as epoch microseconds (collect() would shift them into the Python process's
    local time zone), everything else as is."""
    out = []
    for f in schema.fields:
        q = "`" + f.name.replace("`", "``") + "`"
        if isinstance(f.dataType, T.TimestampType):
            out.append("unix_micros(%s) AS %s" % (q, q))
        elif type(f.dataType).__name__ == "TimestampNTZType":
            out.append("unix_micros(CAST(%s AS TIMESTAMP)) AS %s" % (q, q))
        else:
            out.append(q)
    return out


def render(schema, row):
    obj = {}
    for f in schema.fields:
        v = row[f.name]
        if v is not None and isinstance(f.dataType, T.TimestampType):
            v = EPOCH_UTC + datetime.timedelta(microseconds=v)
        elif v is not None and type(f.dataType).__name__ == "TimestampNTZType":
            v = EPOCH + datetime.timedelta(microseconds=v)
        obj[f.name] = text(v)
    return obj


def file_counts(spark, full):
    """Counts the current snapshot's files by content (0 data, 1 position deletes, 2 equality deletes), read from the
    "files" metadata table without aggregating in Spark (no shuffle to plan)."""
    counts = {"data_files": 0, "position_delete_files": 0, "equality_delete_files": 0, "equality_delete_records": 0}
    names = {0: "data_files", 1: "position_delete_files", 2: "equality_delete_files"}
    for r in spark.sql("SELECT content, record_count FROM %s.files" % full).collect():
        key = names.get(r["content"], "content_%s_files" % r["content"])
        counts[key] = counts.get(key, 0) + 1
        if r["content"] == 2:
            counts["equality_delete_records"] += r["record_count"]
    snaps = spark.sql("SELECT committed_at, snapshot_id FROM %s.snapshots" % full).collect()
    counts["snapshot_id"] = max(snaps)["snapshot_id"] if snaps else None
    return counts


def warmup():
    """Builds the class-data-sharing archive (see cds_archive): reads a small merge-on-read table Spark writes into a
    temporary catalog, with the JVM dumping the classes it loaded when it exits."""
    import shutil
    import tempfile
    archive = cds_archive(jars())
    if os.path.isfile(archive):
        print("class-data-sharing archive %s exists" % archive, file=sys.stderr)
        return
    tmp = tempfile.mkdtemp(prefix="binlake-spark-warmup-")
    dump = "%s.tmp-%d" % (archive, os.getpid())
    try:
        spark = session(os.path.join(tmp, "catalog.db"), "file://" + os.path.join(tmp, "warehouse"), dump_archive=dump,
                        read_only=False)
        full = CATALOG + ".warmup.t"
        spark.sql("CREATE NAMESPACE IF NOT EXISTS %s.warmup" % CATALOG)
        spark.sql("CREATE TABLE %s (id BIGINT, s STRING, d DECIMAL(10,2), ts TIMESTAMP, ntz TIMESTAMP_NTZ, dt DATE, "
                  "b BINARY, f FLOAT, x DOUBLE, ok BOOLEAN) USING iceberg TBLPROPERTIES ('format-version'='2', "
                  "'write.delete.mode'='merge-on-read', 'write.update.mode'='merge-on-read')" % full)
        spark.sql("INSERT INTO %s SELECT id, CAST(id AS STRING), CAST(id AS DECIMAL(10,2)), TIMESTAMP'2024-01-01 00:00:00', "
                  "TIMESTAMP_NTZ'2024-01-01 00:00:00', DATE'2024-01-01', CAST('ab' AS BINARY), 1.5, 2.5, true "
                  "FROM range(10)" % full)
        spark.sql("DELETE FROM %s WHERE id = 3" % full)
        df = spark.table(full)
        rows = [render(df.schema, r) for r in df.selectExpr(*select_list(df.schema)).collect()]
        counts = file_counts(spark, full)
        gateway = spark.sparkContext._gateway
        spark.stop()
        # The JVM writes the archive when it exits: end it (EOF on its stdin) and wait.
        proc = getattr(gateway, "proc", None)
        if proc is not None:
            proc.stdin.close()
            proc.wait(timeout=600)
        if len(rows) != 9 or counts["position_delete_files"] + counts["data_files"] < 2:
            print("warm-up read %d rows, files %s; want 9 rows" % (len(rows), counts), file=sys.stderr)
            sys.exit(1)
        if not os.path.isfile(dump):
            print("the JVM wrote no archive at %s" % dump, file=sys.stderr)
            sys.exit(1)
        os.replace(dump, archive)
        for old in glob.glob(os.path.join(os.path.dirname(archive), "cds-*.jsa")):
            if old != archive:  # made for another JVM, pyspark or jar set
                os.remove(old)
        print("class-data-sharing archive %s written (%d MB)" % (archive, os.path.getsize(archive) >> 20), file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if os.path.exists(dump):
            os.remove(dump)


def main():
    if sys.argv[1:] == ["--warmup"]:
        warmup()
        return
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sqlite_path, warehouse, idents = sys.argv[1], sys.argv[2], sys.argv[3:]
    if not os.path.isfile(sqlite_path):
        print("no catalog file %s" % sqlite_path, file=sys.stderr)
        sys.exit(4)
    spark = session(os.path.abspath(sqlite_path), warehouse)
    try:
        for ident in idents:
            full = CATALOG + "." + ".".join("`%s`" % p for p in ident.split("."))
            try:
                df = spark.table(full)
            except AnalysisException as e:
                print("table %s not found in %s: %s" % (ident, sqlite_path, str(e).splitlines()[0]), file=sys.stderr)
                sys.exit(4)
            schema = df.schema
            n = 0
            for row in df.selectExpr(*select_list(schema)).toLocalIterator():
                obj = render(schema, row)
                if len(idents) > 1:
                    obj["@table"] = ident
                print(json.dumps(obj, sort_keys=True))
                n += 1
            counts = file_counts(spark, full)
            counts["table"] = ident
            counts["rows"] = n
            print("BINLAKE_SPARK_FILES " + json.dumps(counts, sort_keys=True), file=sys.stderr)
        sys.stdout.flush()
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
