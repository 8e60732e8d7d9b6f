#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine (idempotent):
#   1. if `docker info` works, does nothing;
#   2. installs Debian's docker.io when docker or dockerd is missing (one apt-get update);
#   3. starts dockerd in the background when no engine answers (log: $BINLAKE_DOCKERD_LOG);
#   4. waits until `docker info` works (up to $BINLAKE_DOCKER_WAIT seconds, default 90).
# Needs root (or sudo) for steps 2 and 3.
set -euo pipefail

LOG="${BINLAKE_DOCKERD_LOG:-/var/log/binlake-dockerd.log}"
WAIT="${BINLAKE_DOCKER_WAIT:-90}"

log() { printf '[ensure-docker] %s\n' "$*" >&2; }
die() { printf '[ensure-docker] ERROR: %s\n' "$*" >&2; exit 1; }

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null || die "not root and no sudo: cannot install or start Docker"
	SUDO=(sudo)
fi

engine_answers() { docker info >/dev/null 2>&1 || "${SUDO[@]}" docker info >/dev/null 2>&1; }

if command -v docker >/dev/null && engine_answers; then
	log "Docker engine is running ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
	exit 0
fi

if ! command -v docker >/dev/null || ! command -v dockerd >/dev/null; then
	log "installing docker.io from Debian"
	export DEBIAN_FRONTEND=noninteractive
	"${SUDO[@]}" apt-get update -qq
	"${SUDO[@]}" apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

if ! engine_answers; then
	if pidof dockerd >/dev/null; then
		log "dockerd is starting; waiting for it"
	else
		log "starting dockerd (log: $LOG)"
		# Prefer the init system when there is one; otherwise run dockerd ourselves.
		if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
			"${SUDO[@]}" systemctl start docker || true
		fi
		if ! pidof dockerd >/dev/null; then
			"${SUDO[@]}" bash -c "nohup dockerd >>'$LOG' 2>&1 </dev/null &"
		fi
	fi
	for ((i = 0; i < WAIT * 2; i++)); do
		if engine_answers; then break; fi
		sleep 0.5
	done
fi
engine_answers || { tail -n 30 "$LOG" >&2 || true; die "no Docker engine answers after ${WAIT}s"; }
if ! docker info >/dev/null 2>&1; then
	log "note: docker needs sudo for user $(id -un); add it to the docker group"
fi
log "Docker engine is running ($("${SUDO[@]}" docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
