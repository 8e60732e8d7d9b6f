#!/usr/bin/env bash
# binlake quick start without internet (`make quickstart` builds bin/binlake and the local images first):
#
#   1. starts MySQL 8, RocketMQ (name server + broker) and MinIO from the local test images
#      (deploy/images/build.sh) in containers with host networking, named binlake-qs-*;
#   2. starts `bin/binlake worker` in the background (log and PID under $QS_DATA_DIR/quickstart/);
#   3. generates the sample database `shop` (customers, products, orders, order_items; every common
#      MySQL type; QS_ROWS rows, default 1,000,000) with deploy/local/sampledb;
#   4. creates the connectors `mysql-source` and `lake-sink` over REST (Iceberg tables shop.* on
#      MinIO s3://lake/warehouse, embedded SQLite catalog) and shows the snapshot's progress until the
#      lake caught up;
#   5. reads a few rows back with pyiceberg, makes live changes for QS_LIVE_SECONDS (0: until Ctrl-C),
#      shows that the last one arrived in the lake, and compares MySQL with the lake (binlake verify);
#   6. leaves everything running (QS_STOP=1: stops everything instead) and says where to look.
#
# Re-running it reuses what runs: the servers, the worker, the database and the connectors.
#
#   quickstart.sh            the whole flow above
#   quickstart.sh down       stops the worker, removes the containers and the worker's data directory
#   quickstart.sh status     what runs
#   quickstart.sh servers    only starts the servers, then runs the worker in the foreground (extra
#                            arguments go to the worker); for trying the REST API by hand
#
# Environment: QS_ROWS=1000000, QS_LIVE_SECONDS=60, QS_LIVE_RATE=20 (transactions/s), QS_STOP=0,
# QS_RESET=0 (1: start from nothing), QS_VERIFY=1 (0: skip binlake verify), QS_LOAD_CONNS=4; ports QS_MYSQL_PORT=3306, QS_NAMESRV_PORT=9876,
# QS_BROKER_PORT=10911 (the broker also binds 10909 and 10912), QS_MINIO_PORT=9000 (console +1),
# QS_REST_PORT=8082; QS_DATA_DIR=<repo>/binlake-data. MySQL: root/binlake. MinIO: binlake/binlake-secret,
# bucket lake.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${BINLAKE_CACHE:-$HOME/.cache/binlake}"
MYSQL_PORT="${QS_MYSQL_PORT:-3306}"
NAMESRV_PORT="${QS_NAMESRV_PORT:-9876}"
BROKER_PORT="${QS_BROKER_PORT:-10911}"
MINIO_PORT="${QS_MINIO_PORT:-9000}"
REST_PORT="${QS_REST_PORT:-8082}"
DATA_DIR="${QS_DATA_DIR:-$ROOT/binlake-data}"
ROWS="${QS_ROWS:-1000000}"
LIVE_SECONDS="${QS_LIVE_SECONDS:-60}"
LIVE_RATE="${QS_LIVE_RATE:-20}"
LOAD_CONNS="${QS_LOAD_CONNS:-4}"
QS_DIR="$DATA_DIR/quickstart"
REST="http://127.0.0.1:$REST_PORT"
PYTHON="${BINLAKE_PYTHON:-$CACHE/venv/bin/python}"
CONTAINERS=(binlake-qs-mysql binlake-qs-rocketmq binlake-qs-minio)
SOURCE=mysql-source
SINK=lake-sink
DB=shop
WAREHOUSE=s3://lake/warehouse
CATALOG="$DATA_DIR/connectors/$SINK/iceberg_catalog.db"
TOPICS="qs_${DB}_customers,qs_${DB}_products,qs_${DB}_orders,qs_${DB}_order_items"

log() { printf '[quickstart] %s\n' "$*" >&2; }
die() {
	printf '[quickstart] ERROR: %s\n' "$*" >&2
	exit 1
}
T0=$SECONDS
STEP_T=$SECONDS
TIMINGS=()
step() {
	if [[ -n "${STEP_NAME:-}" ]]; then TIMINGS+=("$(printf '%5ds  %s' $((SECONDS - STEP_T)) "$STEP_NAME")"); fi
	STEP_NAME="$1"
	STEP_T=$SECONDS
	printf '\n\033[1m==> %s\033[0m\n' "$1" >&2
}

# ---- worker process -----------------------------------------------------------------------------

# worker_pid prints the PID of the quick start's worker when it runs.
worker_pid() {
	local pid
	[[ -f "$QS_DIR/worker.pid" ]] || return 1
	pid="$(cat "$QS_DIR/worker.pid")"
	[[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'binlake worker' || return 1
	echo "$pid"
}

stop_worker() {
	local pid
	pid="$(worker_pid)" || return 0
	log "stopping the worker (PID $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 80); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "the worker did not stop within 40s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$QS_DIR/worker.pid"
}

down() {
	stop_worker
	for c in "${CONTAINERS[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
	log "containers removed"
	if [[ -d "$DATA_DIR" ]]; then
		rm -rf "$DATA_DIR"
		log "removed $DATA_DIR (the worker's state for the removed servers)"
	fi
}

status() {
	local pid
	for c in "${CONTAINERS[@]}"; do
		printf '%-22s %s\n' "$c" "$(docker inspect -f '{{.State.Status}} (image {{.Config.Image}})' "$c" 2>/dev/null || echo 'not created')"
	done
	if pid="$(worker_pid)"; then
		printf '%-22s running, PID %s, REST %s, log %s\n' "binlake worker" "$pid" "$REST" "$QS_DIR/worker.log"
		curl -fsS "$REST/connectors?expand=status" 2>/dev/null && echo
	else
		printf '%-22s not running\n' "binlake worker"
	fi
}

# ---- servers ------------------------------------------------------------------------------------

running() { [[ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" == true ]]; }

# port_free PORT fails with a hint when something listens on 127.0.0.1:PORT.
port_free() {
	local port=$1 var=$2 who
	command -v ss >/dev/null || return 0
	if who="$(ss -Hltnp "sport = :$port" 2>/dev/null)" && [[ -n "$who" ]]; then
		local name
		name="$(grep -o 'users:(("[^"]*"' <<<"$who" | head -1 | cut -d'"' -f2 || true)"
		die "port $port is in use${name:+ by $name}: stop that process or choose another port, e.g. $var=$((port + 10000)) make quickstart"
	fi
}

# run NAME IMAGE [docker run options...] -- [args...] starts a container unless it runs already.
run() {
	local name=$1 image=$2
	shift 2
	if running "$name"; then
		log "$name is running"
		return
	fi
	docker rm -f "$name" >/dev/null 2>&1 || true
	local opts=() args=()
	while [[ $# -gt 0 && "$1" != -- ]]; do
		opts+=("$1")
		shift
	done
	if [[ $# -gt 0 ]]; then
		shift
		args=("$@")
	fi
	log "starting $name ($image)"
	docker run -d --name "$name" --network host --restart unless-stopped "${opts[@]}" "$image" "${args[@]}" >/dev/null
}

# wait_log NAME PATTERN waits until the container's log matches PATTERN.
wait_log() {
	local name=$1 pattern=$2
	for _ in $(seq 1 600); do
		if docker logs "$name" 2>&1 | grep -q "$pattern"; then return; fi
		running "$name" || {
			docker logs "$name" 2>&1 | tail -20
			die "$name stopped (its log is above); remove everything with: $0 down"
		}
		sleep 0.5
	done
	die "$name did not get ready in 5 minutes (waited for: $pattern); see: docker logs $name"
}

start_servers() {
	command -v docker >/dev/null || die "docker is missing: run make quickstart (it installs docker.io and starts dockerd)"
	docker info >/dev/null 2>&1 || die "no Docker engine answers: run make quickstart (or bash deploy/local/ensure-docker.sh)"
	[[ -f "$CACHE/images.env" ]] || die "$CACHE/images.env is missing: run make images (make quickstart does)"
	# shellcheck disable=SC1091
	source "$CACHE/images.env"
	local up=0
	for c in "${CONTAINERS[@]}"; do if running "$c"; then up=$((up + 1)); fi; done
	if ((up > 0 && up < ${#CONTAINERS[@]})); then
		log "only $up of ${#CONTAINERS[@]} servers run: starting over from nothing"
		down
	elif ((up == 0)) && [[ -d "$DATA_DIR/connectors" ]]; then
		log "the servers are new: removing the worker state of the previous ones in $DATA_DIR"
		stop_worker
		rm -rf "$DATA_DIR"
	fi
	local ports="mysql=$MYSQL_PORT namesrv=$NAMESRV_PORT broker=$BROKER_PORT minio=$MINIO_PORT"
	if ((up == ${#CONTAINERS[@]})) && [[ -f "$QS_DIR/ports" && "$(cat "$QS_DIR/ports")" != "$ports" ]]; then
		die "the servers run with other ports ($(cat "$QS_DIR/ports")) than asked for ($ports): run the quick start with the same QS_*_PORT settings, or start over: $0 down"
	fi
	running binlake-qs-mysql || port_free "$MYSQL_PORT" QS_MYSQL_PORT
	if ! running binlake-qs-rocketmq; then
		port_free "$NAMESRV_PORT" QS_NAMESRV_PORT
		port_free "$BROKER_PORT" QS_BROKER_PORT
	fi
	running binlake-qs-minio || port_free "$MINIO_PORT" QS_MINIO_PORT
	run binlake-qs-mysql "$BINLAKE_IMAGE_MYSQL" -e MYSQL_TCP_PORT="$MYSQL_PORT" -e MYSQL_ROOT_PASSWORD=binlake \
		-- --port="$MYSQL_PORT"
	run binlake-qs-rocketmq "$BINLAKE_IMAGE_ROCKETMQ" -e NAMESRV_PORT="$NAMESRV_PORT" -e BROKER_PORT="$BROKER_PORT"
	run binlake-qs-minio "$BINLAKE_IMAGE_MINIO" -- server /data --address "127.0.0.1:$MINIO_PORT" \
		--console-address "127.0.0.1:$((MINIO_PORT + 1))"

	wait_log binlake-qs-mysql "port: $MYSQL_PORT"
	log "MySQL 8 ready on 127.0.0.1:$MYSQL_PORT (root/binlake; GTIDs on, row binlog with full metadata)"
	wait_log binlake-qs-minio "API:"
	for _ in $(seq 1 60); do
		curl -fsS -o /dev/null "http://127.0.0.1:$MINIO_PORT/minio/health/ready" && break
		sleep 0.5
	done
	# S3 requests signed by curl (--aws-sigv4): create the bucket (an existing one answers 409), check it.
	local s3=(--aws-sigv4 "aws:amz:us-east-1:s3" --user binlake:binlake-secret -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
	curl -sS -o /dev/null -X PUT "${s3[@]}" "http://127.0.0.1:$MINIO_PORT/lake"
	curl -fsS -o /dev/null -I "${s3[@]}" "http://127.0.0.1:$MINIO_PORT/lake" || die "cannot create bucket lake in MinIO (docker logs binlake-qs-minio)"
	log "MinIO ready on http://127.0.0.1:$MINIO_PORT (binlake/binlake-secret, bucket lake)"
	wait_log binlake-qs-rocketmq "The broker\["
	log "RocketMQ ready: name server 127.0.0.1:$NAMESRV_PORT, broker 127.0.0.1:$BROKER_PORT"
	mkdir -p "$QS_DIR"
	echo "$ports" >"$QS_DIR/ports"
}

# ---- worker and connectors ----------------------------------------------------------------------

start_worker() {
	local pid
	if pid="$(worker_pid)"; then
		if [[ "$ROOT/bin/binlake" -nt "$QS_DIR/worker.pid" ]]; then
			log "bin/binlake was rebuilt since the worker started: restarting it"
			stop_worker
		elif curl -fsS -o /dev/null "$REST/healthz"; then
			log "the worker runs (PID $pid, $REST)"
			return
		else
			log "the worker (PID $pid) does not answer on $REST: restarting it"
			stop_worker
		fi
	fi
	port_free "$REST_PORT" QS_REST_PORT
	mkdir -p "$QS_DIR"
	log "starting bin/binlake worker (REST $REST, data dir $DATA_DIR, log $QS_DIR/worker.log)"
	nohup setsid "$ROOT/bin/binlake" worker --rest.addr "127.0.0.1:$REST_PORT" \
		--rocketmq.namesrv "127.0.0.1:$NAMESRV_PORT" --data.dir "$DATA_DIR" >>"$QS_DIR/worker.log" 2>&1 </dev/null &
	echo $! >"$QS_DIR/worker.pid"
	for _ in $(seq 1 120); do
		if curl -fsS -o /dev/null "$REST/readyz" 2>/dev/null; then
			log "worker ready (PID $(cat "$QS_DIR/worker.pid"))"
			return
		fi
		worker_pid >/dev/null || {
			tail -20 "$QS_DIR/worker.log" >&2
			die "the worker exited (its log is above: $QS_DIR/worker.log)"
		}
		sleep 0.5
	done
	tail -20 "$QS_DIR/worker.log" >&2
	die "the worker did not get ready on $REST within 60s (log: $QS_DIR/worker.log)"
}

# connector_exists NAME
connector_exists() { [[ "$(curl -s -o /dev/null -w '%{http_code}' "$REST/connectors/$1")" == 200 ]]; }

# create_connector NAME JSON
create_connector() {
	local name=$1 body=$2 code out
	if connector_exists "$name"; then
		log "connector $name exists: reusing it (states: $(curl -fsS "$REST/connectors/$name/status" | grep -o '"state":"[A-Z]*"' | cut -d'"' -f4 | paste -sd/))"
		return
	fi
	printf 'curl -XPOST %s/connectors/%s -H "Content-Type: application/json" -d %s\n' "$REST" "$name" "'$body'"
	out="$(mktemp)"
	code="$(curl -sS -o "$out" -w '%{http_code}' -XPOST "$REST/connectors/$name" -H 'Content-Type: application/json' -d "$body")"
	if [[ "$code" != 201 ]]; then
		cat "$out" >&2
		echo >&2
		rm -f "$out"
		die "creating connector $name answered HTTP $code (above); fix the configuration in $0, or start over with: $0 down"
	fi
	rm -f "$out"
	log "created connector $name"
}

# The connector configurations (no value needs JSON escaping).
source_config() {
	printf '{"connector.class": "mysql-source", "database.hostname": "127.0.0.1", "database.port": "%s",
  "database.user": "root", "database.password": "binlake", "database.server.id": "5701",
  "database.include.list": "%s", "topic.prefix": "qs"}' "$MYSQL_PORT" "$DB"
}

sink_config() {
	printf '{"connector.class": "lake-sink", "connect.topicnames": "%s",
  "lake.format": "iceberg", "write.mode": "upsert", "commit.interval.ms": "2000",
  "iceberg.warehouse": "%s", "s3.endpoint": "http://127.0.0.1:%s",
  "s3.access-key-id": "binlake", "s3.secret-access-key": "binlake-secret"}' "$TOPICS" "$WAREHOUSE" "$MINIO_PORT"
}

peek() {
	"$PYTHON" "$ROOT/deploy/local/lake_peek.py" --catalog "$CATALOG" --warehouse "$WAREHOUSE" --namespace "$DB" \
		--s3-endpoint "http://127.0.0.1:$MINIO_PORT" --s3-access-key-id binlake --s3-secret-access-key binlake-secret "$@"
}

verify() {
	"$ROOT/bin/binlake" verify --mysql.port "$MYSQL_PORT" --mysql.user root --mysql.password binlake --databases "$DB" \
		--iceberg.catalog.uri "$CATALOG" --iceberg.warehouse "$WAREHOUSE" --s3.endpoint "http://127.0.0.1:$MINIO_PORT" \
		--s3.access-key-id binlake --s3.secret-access-key binlake-secret "$@"
}

# ---- the flow -----------------------------------------------------------------------------------

on_error() {
	local rc=$?
	((BASH_SUBSHELL == 0)) || return 0
	printf '\n[quickstart] FAILED (exit %s) during: %s\n' "$rc" "${STEP_NAME:-start}" >&2
	if [[ -f "$QS_DIR/worker.log" ]]; then printf '[quickstart] worker log: %s\n' "$QS_DIR/worker.log" >&2; fi
	printf '[quickstart] after fixing the cause, run it again (it reuses what runs), or start from nothing:\n' >&2
	printf '[quickstart]   bash deploy/local/quickstart.sh down && make quickstart\n' >&2
}

up() {
	trap on_error ERR
	command -v curl >/dev/null || die "curl is missing: apt-get install -y curl"
	command -v go >/dev/null || die "go is missing: install Go (see go.mod for the version)"
	[[ -x "$ROOT/bin/binlake" ]] || die "bin/binlake is missing: run make quickstart (or make build)"
	[[ "$ROWS" =~ ^[0-9]+$ && "$ROWS" -ge 100 ]] || die "QS_ROWS=$ROWS: use a number of at least 100"
	[[ "$LIVE_SECONDS" =~ ^[0-9]+$ ]] || die "QS_LIVE_SECONDS=$LIVE_SECONDS: use a number of seconds (0: until Ctrl-C)"
	if [[ "${QS_RESET:-0}" == 1 ]]; then
		step "QS_RESET=1: removing the previous quick start"
		down
	fi

	step "building the sample data generator and the Python lake reader"
	mkdir -p "$QS_DIR"
	(cd "$ROOT" && go build -o bin/sampledb ./deploy/local/sampledb) || die "building deploy/local/sampledb failed (above)"
	# The pyiceberg venv installs in the background while the servers start.
	mkdir -p "$CACHE"
	bash "$ROOT/deploy/local/setup-python.sh" >"$CACHE/quickstart-setup-python.log" 2>&1 &
	local pypid=$!

	step "starting MySQL 8, RocketMQ and MinIO"
	start_servers

	step "starting the binlake worker"
	start_worker

	local dsn="root:binlake@tcp(127.0.0.1:$MYSQL_PORT)/"
	if connector_exists "$SOURCE"; then
		step "sample database $DB: kept (connector $SOURCE replicates it already; QS_RESET=1 starts over)"
	else
		step "generating the sample database $DB (about $ROWS rows)"
		"$ROOT/bin/sampledb" load -mysql "$dsn" -database "$DB" -rows "$ROWS" -conns "$LOAD_CONNS"
	fi

	step "creating the connectors $SOURCE and $SINK over REST"
	if ! connector_exists "$SINK"; then
		# The sink waits until every topic it reads exists; created now, it commits the first tables while the
		# source still snapshots the last ones.
		"$ROOT/bin/sampledb" topics -namesrv "127.0.0.1:$NAMESRV_PORT" -topics "$TOPICS"
	fi
	create_connector "$SOURCE" "$(source_config)"
	create_connector "$SINK" "$(sink_config)"

	step "snapshot of $DB into Iceberg (progress from GET /connectors/{name}/status and /metrics)"
	"$ROOT/bin/sampledb" watch -rest "$REST" -source "$SOURCE" -sink "$SINK"

	step "reading rows back from the lake with pyiceberg"
	if ! wait "$pypid"; then
		cat "$CACHE/quickstart-setup-python.log" >&2
		die "installing pyiceberg into $CACHE/venv failed (above); run bash deploy/local/setup-python.sh to retry"
	fi
	peek sample --rows 2

	if [[ "$LIVE_SECONDS" == 0 ]]; then
		step "live changes until Ctrl-C"
	else
		step "live changes for ${LIVE_SECONDS}s"
	fi
	"$ROOT/bin/sampledb" live -mysql "$dsn" -database "$DB" -rest "$REST" -duration "${LIVE_SECONDS}s" -rate "$LIVE_RATE" \
		-result "$QS_DIR/live.json"

	step "the last live change, read back from the lake"
	peek wait-live "$QS_DIR/live.json" --timeout 120

	local vrc=0
	if [[ "${QS_VERIFY:-1}" == 1 ]]; then
		step "comparing MySQL with the lake (binlake verify; minutes for a million rows, QS_VERIFY=0 skips it)"
		verify --wait 300s || vrc=$?
	fi
	case $vrc in
	0) ;;
	1) log "binlake verify found differences (above): this is a bug, please report it with $QS_DIR/worker.log" ;;
	*) log "binlake verify could not compare (exit $vrc, above)" ;;
	esac

	step "done"
	TIMINGS+=("$(printf '%5ds  total' $((SECONDS - T0)))")
	printf '\ntimings:\n' >&2
	printf '  %s\n' "${TIMINGS[@]}" >&2
	if [[ "${QS_STOP:-0}" == 1 ]]; then
		log "QS_STOP=1: stopping everything"
		down
		exit $((vrc == 0 ? 0 : 1))
	fi
	cat >&2 <<EOF

What runs now:
  MySQL 8     127.0.0.1:$MYSQL_PORT  (root/binlake; database $DB)   container binlake-qs-mysql
  RocketMQ    name server 127.0.0.1:$NAMESRV_PORT, broker 127.0.0.1:$BROKER_PORT            container binlake-qs-rocketmq
  MinIO       http://127.0.0.1:$MINIO_PORT (binlake/binlake-secret; bucket lake)   container binlake-qs-minio
  binlake     worker PID $(cat "$QS_DIR/worker.pid"), REST $REST, log $QS_DIR/worker.log
              connectors $SOURCE (snapshot done, streaming the binlog) and $SINK (Iceberg tables $DB.* in
              $WAREHOUSE, catalog $CATALOG)

Where to look:
  curl -s '$REST/connectors?expand=status'
  curl -s $REST/connectors/$SINK/offsets             # committed offsets and sequences, from the Iceberg snapshot summary
  curl -s $REST/metrics | grep ^binlake_             # Prometheus metrics
  $REST/openapi.json                             # every REST route
  bin/sampledb live -mysql '$dsn' -rest $REST -duration 0   # more live changes, until Ctrl-C

Stop everything (worker, containers, $DATA_DIR):  bash deploy/local/quickstart.sh down
EOF
	exit $((vrc == 0 ? 0 : 1))
}

case "${1:-up}" in
down) down ;;
status) status ;;
servers)
	shift
	start_servers
	[[ -x "$ROOT/bin/binlake" ]] || die "bin/binlake is missing: run make build"
	mkdir -p "$DATA_DIR"
	log "starting binlake worker in the foreground (data dir $DATA_DIR); stop it with Ctrl-C, the servers with: $0 down"
	exec "$ROOT/bin/binlake" worker --rest.addr "127.0.0.1:$REST_PORT" --rocketmq.namesrv "127.0.0.1:$NAMESRV_PORT" \
		--data.dir "$DATA_DIR" "$@"
	;;
up) up ;;
*) die "unknown command $1: use down, status, servers, or nothing for the whole quick start" ;;
esac
