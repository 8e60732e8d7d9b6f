#!/usr/bin/env bash
# Quick start without internet: starts MySQL 8, RocketMQ (name server + broker) and MinIO from the
# local test images (deploy/images/build.sh) on fixed 127.0.0.1 ports, then runs `bin/binlake
# worker` in the foreground with the name server and a data directory set. Extra arguments go to
# the worker. `quickstart.sh down` stops and removes the containers.
#
# Ports (environment): QS_MYSQL_PORT=3306, QS_NAMESRV_PORT=9876, QS_BROKER_PORT=10911 (the broker
# also binds 10909 and 10912), QS_MINIO_PORT=9000. MySQL: root/binlake. MinIO: binlake/binlake-secret,
# bucket "lake". Containers run with host networking and are named binlake-qs-*.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${BINLAKE_CACHE:-$HOME/.cache/binlake}"
MYSQL_PORT="${QS_MYSQL_PORT:-3306}"
NAMESRV_PORT="${QS_NAMESRV_PORT:-9876}"
BROKER_PORT="${QS_BROKER_PORT:-10911}"
MINIO_PORT="${QS_MINIO_PORT:-9000}"
DATA_DIR="${QS_DATA_DIR:-$ROOT/binlake-data}"

log() { printf '[quickstart] %s\n' "$*" >&2; }
die() { printf '[quickstart] ERROR: %s\n' "$*" >&2; exit 1; }

if [[ "${1:-}" == down ]]; then
	for c in binlake-qs-mysql binlake-qs-rocketmq binlake-qs-minio; do docker rm -f "$c" >/dev/null 2>&1 || true; done
	log "containers removed"
	exit 0
fi

[[ -f "$CACHE/images.env" ]] || die "$CACHE/images.env is missing: run make images"
# shellcheck disable=SC1091
source "$CACHE/images.env"

# run NAME IMAGE [docker run options...] -- [args...] starts a container unless it runs already.
run() {
	local name=$1 image=$2
	shift 2
	if [[ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" == true ]]; then
		log "$name is running"
		return
	fi
	docker rm -f "$name" >/dev/null 2>&1 || true
	local opts=() args=()
	while [[ $# -gt 0 && "$1" != -- ]]; do opts+=("$1"); shift; done
	if [[ $# -gt 0 ]]; then shift; args=("$@"); fi
	log "starting $name ($image)"
	docker run -d --name "$name" --network host --restart unless-stopped "${opts[@]}" "$image" "${args[@]}" >/dev/null
}

# wait_log NAME PATTERN waits until the container's log matches PATTERN.
wait_log() {
	local name=$1 pattern=$2
	for _ in $(seq 1 600); do
		if docker logs "$name" 2>&1 | grep -q "$pattern"; then return; fi
		[[ "$(docker inspect -f '{{.State.Running}}' "$name")" == true ]] || { docker logs "$name" 2>&1 | tail -20; die "$name stopped"; }
		sleep 0.5
	done
	die "$name did not get ready (waited for: $pattern)"
}

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
s3=(--aws-sigv4 "aws:amz:us-east-1:s3" --user binlake:binlake-secret -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
curl -sS -o /dev/null -X PUT "${s3[@]}" "http://127.0.0.1:$MINIO_PORT/lake"
curl -fsS -o /dev/null -I "${s3[@]}" "http://127.0.0.1:$MINIO_PORT/lake" || die "cannot create bucket lake in MinIO"
log "MinIO ready on http://127.0.0.1:$MINIO_PORT (binlake/binlake-secret, bucket lake)"
wait_log binlake-qs-rocketmq "The broker\["
log "RocketMQ ready: name server 127.0.0.1:$NAMESRV_PORT, broker 127.0.0.1:$BROKER_PORT"

[[ -x "$ROOT/bin/binlake" ]] || die "bin/binlake is missing: run make build"
mkdir -p "$DATA_DIR"
log "starting binlake worker (data dir $DATA_DIR); stop it with Ctrl-C, the servers with: $0 down"
exec "$ROOT/bin/binlake" worker --rocketmq.namesrv "127.0.0.1:$NAMESRV_PORT" --data.dir "$DATA_DIR" "$@"
