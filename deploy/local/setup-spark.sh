#!/usr/bin/env bash
# Sets up Apache Spark with the Iceberg Spark runtime, the reference reader the integration suite uses to check
# merge-on-read Iceberg tables (data files plus equality-delete files, before compaction):
#   - PyPI pyspark (it bundles Spark itself) into the venv of setup-python.sh, ${BINLAKE_CACHE:-~/.cache/binlake}/venv;
#   - from Maven Central, the Iceberg Spark runtime and the SQLite JDBC driver (Iceberg's JdbcCatalog reads the
#     sink's embedded SQL catalog), into $BINLAKE_CACHE/spark/jars, each checked against Maven Central's .sha1 file.
#   - a JVM class-data-sharing archive for faster Spark start-up, $BINLAKE_CACHE/spark/cds-*.jsa.
# Needs Java 17 (JAVA_HOME, or /usr/lib/jvm/java-17-openjdk-amd64). Idempotent: does nothing when everything is in place.
# The tests find the interpreter through BINLAKE_PYTHON and the jars in $BINLAKE_CACHE/spark/jars (or BINLAKE_SPARK_JARS).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${BINLAKE_CACHE:-$HOME/.cache/binlake}"
VENV="$CACHE/venv"
JARS="$CACHE/spark/jars"
PYTHON="${PYTHON:-python3}"
MAVEN="${MAVEN_CENTRAL:-https://repo1.maven.org/maven2}"

PYSPARK_VERSION=3.5.9
ICEBERG_VERSION=1.10.0
SQLITE_JDBC_VERSION=3.49.1.0
# group:artifact:version of every jar Spark loads (spark.driver.extraClassPath).
ARTIFACTS=(
	"org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:$ICEBERG_VERSION"
	"org.xerial:sqlite-jdbc:$SQLITE_JDBC_VERSION"
)

log() { printf '[setup-spark] %s\n' "$*" >&2; }
start=$SECONDS

# pyspark into the venv.
if [[ ! -x "$VENV/bin/python" ]]; then
	log "creating $VENV with $("$PYTHON" --version 2>&1)"
	"$PYTHON" -m venv "$VENV"
fi
have="$("$VENV/bin/python" -c 'import pyspark; print(pyspark.__version__)' 2>/dev/null || true)"
if [[ "$have" != "$PYSPARK_VERSION" ]]; then
	log "installing pyspark==$PYSPARK_VERSION into $VENV (about 320 MB from PyPI)"
	"$VENV/bin/python" -m pip install -q --disable-pip-version-check "pyspark==$PYSPARK_VERSION"
else
	log "pyspark $PYSPARK_VERSION is installed in $VENV"
fi

# The jars, verified against Maven Central's SHA-1 files.
mkdir -p "$JARS"
for gav in "${ARTIFACTS[@]}"; do
	IFS=: read -r group artifact version <<<"$gav"
	name="$artifact-$version.jar"
	dest="$JARS/$name"
	if [[ -f "$dest" && -f "$dest.sha1" ]] && [[ "$(sha1sum "$dest" | cut -d' ' -f1)" == "$(cat "$dest.sha1")" ]]; then
		log "$name is cached"
		continue
	fi
	url="$MAVEN/${group//.//}/$artifact/$version/$name"
	log "downloading $url"
	want="$(curl -fsSL --retry 3 --max-time 120 "$url.sha1" | tr -d '[:space:]' | cut -c1-40)"
	if [[ ! "$want" =~ ^[0-9a-f]{40}$ ]]; then
		log "no usable SHA-1 at $url.sha1 (got '$want')"
		exit 1
	fi
	tmp="$(mktemp "$JARS/.$name.XXXXXX")"
	trap 'rm -f "$tmp"' EXIT
	curl -fsSL --retry 3 --max-time 900 -o "$tmp" "$url"
	got="$(sha1sum "$tmp" | cut -d' ' -f1)"
	if [[ "$got" != "$want" ]]; then
		log "SHA-1 mismatch for $name: got $got, Maven Central says $want"
		exit 1
	fi
	chmod 0644 "$tmp"
	mv "$tmp" "$dest"
	trap - EXIT
	echo "$want" >"$dest.sha1"
	log "$name verified (sha1 $want)"
done

# A class-data-sharing archive of the classes a read loads (once per JVM, pyspark and jar set; a few minutes): it cuts
# Spark's start-up to about a third. Readers without it still work, only slower.
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"
if [[ ! -x "$JAVA_HOME/bin/java" ]]; then
	log "no Java at $JAVA_HOME: install a Java 17 (apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
	exit 1
fi
BINLAKE_CACHE="$CACHE" "$VENV/bin/python" "$ROOT/integration/testdata/read_iceberg_spark.py" --warmup
log "done in $((SECONDS - start))s: pyspark $PYSPARK_VERSION in $VENV, jars in $JARS"
