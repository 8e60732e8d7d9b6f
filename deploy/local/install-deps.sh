#!/usr/bin/env bash
# Installs the host packages deploy/images/build.sh needs besides Docker, Java/Maven and Go:
# debootstrap (base images), unzip (the MySQL jar), zstd (image archives), curl and
# ca-certificates. Idempotent: runs apt-get (one update, then install) only when something is
# missing.
set -euo pipefail

PACKAGES=(debootstrap unzip zstd curl ca-certificates openjdk-17-jre-headless)

log() { printf '[install-deps] %s\n' "$*" >&2; }

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
if [[ ${#missing[@]} -gt 0 ]]; then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${SUDO[@]}" apt-get update -qq
	"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	log "host packages present: ${PACKAGES[*]}"
fi
for tool in java mvn go; do
	command -v "$tool" >/dev/null || log "WARNING: $tool is not installed (build.sh needs it for the rocketmq, mysql and minio images)"
done
