#!/usr/bin/env bash
# Builds binlake's integration-test images offline (no image registry needed).
#
#   deploy/images/build.sh [name...]     names: base jre mariadb mysql rocketmq minio (none = all
#                                        of these) and go (a Go toolchain image for deploy/Dockerfile)
#
# Every image is tagged binlake-test/<name>:<hash>, where <hash> covers the files of
# deploy/images/<name>/, the versions it downloads and its parent image's hash. An image whose
# tag already exists is skipped; one whose archive exists in the cache is loaded instead of
# rebuilt. The resolved tags are written to ${BINLAKE_CACHE}/images.env, which the Go package
# integration/containers reads. See deploy/images/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${BINLAKE_CACHE:-$HOME/.cache/binlake}"
ARCHIVE="${BINLAKE_IMAGE_ARCHIVE:-1}"  # 1: keep a zstd-compressed docker-save archive of each image in the cache
REPO="${BINLAKE_IMAGE_REPO:-binlake-test}"  # image repository prefix (tests recognise binlake-*)
SUITE=bookworm
ALL=(base jre mariadb mysql rocketmq minio) # built by default
KNOWN=("${ALL[@]}" go)                       # go: only on request
mkdir -p "$CACHE"

log() { printf '[images] %s\n' "$*" >&2; }
die() { printf '[images] ERROR: %s\n' "$*" >&2; exit 1; }

command -v zstd >/dev/null || die "zstd is not installed; run deploy/local/install-deps.sh"
command -v docker >/dev/null || die "docker is not installed; run deploy/local/ensure-docker.sh"
docker info >/dev/null 2>&1 || die "no Docker engine answers; run deploy/local/ensure-docker.sh"

# debian_mirror prints the Debian mirror the host uses (BINLAKE_DEBIAN_MIRROR overrides it).
debian_mirror() {
	if [[ -n "${BINLAKE_DEBIAN_MIRROR:-}" ]]; then echo "$BINLAKE_DEBIAN_MIRROR"; return; fi
	local uri
	uri="$( (grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
		grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}') |
		grep -E '/debian/?$' | head -n1 || true)"
	echo "${uri:-http://deb.debian.org/debian}"
}

# parent_of prints the image an image is built from ("" for base).
parent_of() {
	case "$1" in
	base) echo "" ;;
	jre | mariadb | mysql | minio | go) echo base ;;
	rocketmq) echo jre ;;
	*) die "unknown image $1 (known: ${KNOWN[*]})" ;;
	esac
}


declare -A HASH=()
# hash_of prints the content hash of an image: its directory's files, its parent's hash, the suite.
hash_of() {
	local name=$1
	if [[ -n "${HASH[$name]:-}" ]]; then echo "${HASH[$name]}"; return; fi
	local parent parent_hash=""
	parent="$(parent_of "$name")"
	if [[ -n "$parent" ]]; then parent_hash="$(hash_of "$parent")"; fi
	local h
	h="$({
		echo "name=$name suite=$SUITE parent=$parent:$parent_hash"
		(cd "$HERE/$name" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
	} | sha256sum | cut -c1-16)"
	HASH[$name]=$h
	echo "$h"
}

tag_of() { echo "$REPO/$1:$(hash_of "$1")"; }
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# load_env sources an image's versions.env into the current shell.
load_env() {
	local f="$HERE/$1/versions.env"
	if [[ -f "$f" ]]; then
		# shellcheck disable=SC1090
		source "$f"
	fi
}

# maven_fetch groupId:artifactId:version[:packaging] DIR copies one artifact (no transitive deps) into DIR.
maven_fetch() {
	mvn -q -B dependency:copy -Dartifact="$1" -DoutputDirectory="$2" -Dmdep.stripVersion=false >&2
}

# remove_rootfs unmounts what debootstrap may have left mounted in a root file system, then deletes it.
remove_rootfs() {
	local rootfs=$1 m
	for m in dev/pts dev proc sys; do
		if mountpoint -q "$rootfs/$m" 2>/dev/null; then umount -l "$rootfs/$m" || return 1; fi
	done
	rm -rf --one-file-system "$rootfs"
}

build_base() {
	local tag=$1 mirror rootfs
	[[ $(id -u) -eq 0 ]] || die "building the base image runs debootstrap, which needs root"
	mirror="$(debian_mirror)"
	rootfs="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
	trap 'remove_rootfs "'"$rootfs"'"' EXIT
	mkdir -p "$CACHE/debootstrap/debs"
	local include
	include="$(grep -vE '^\s*(#|$)' "$HERE/base/packages" | paste -sd, -)"
	log "base: debootstrap --variant=minbase $SUITE from $mirror (include: $include)"
	if ! debootstrap --variant=minbase --include="$include" --cache-dir="$CACHE/debootstrap/debs" \
		"$SUITE" "$rootfs" "$mirror" >"$CACHE/debootstrap/last.log" 2>&1; then
		tail -n 30 "$CACHE/debootstrap/last.log" >&2
		die "debootstrap failed (log: $CACHE/debootstrap/last.log)"
	fi
	# Image hygiene: no package caches, sources usable from inside containers.
	rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/*
	echo "deb $mirror $SUITE main" >"$rootfs/etc/apt/sources.list"
	echo "deb $mirror $SUITE-updates main" >>"$rootfs/etc/apt/sources.list"
	cp "$HERE/base/apt-no-docs" "$rootfs/etc/dpkg/dpkg.cfg.d/01-binlake-no-docs"
	tar --numeric-owner -C "$rootfs" -cf - . |
		docker import \
			-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
			-c 'ENV LANG=C.UTF-8' \
			-c 'ENV DEBIAN_FRONTEND=noninteractive' \
			-c 'CMD ["/bin/bash"]' \
			- "$tag" >/dev/null
	remove_rootfs "$rootfs"
	trap - EXIT
}

# docker_build NAME TAG CONTEXT builds deploy/images/NAME/Dockerfile in CONTEXT on its parent image.
docker_build() {
	local name=$1 tag=$2 ctx=$3 parent
	parent="$(parent_of "$name")"
	cp -a "$HERE/$name/." "$ctx/"
	# --network=host: apt-get inside RUN reaches the Debian mirror the way the host does.
	DOCKER_BUILDKIT=0 docker build --network=host --pull=false -q \
		--build-arg "BASE=$(tag_of "$parent")" -t "$tag" "$ctx" >"$ctx.log" 2>&1 || {
		tail -n 40 "$ctx.log" >&2
		die "docker build of $name failed (log: $ctx.log)"
	}
}

prepare_mysql() {
	local ctx=$1
	load_env mysql
	local dir="$CACHE/maven/mysql"
	local jar="$dir/${MYSQL_JAR_ARTIFACT}-${MYSQL_JAR_VERSION}.jar"
	if [[ ! -f "$jar" ]]; then
		log "mysql: fetching $MYSQL_JAR_GROUP:$MYSQL_JAR_ARTIFACT:$MYSQL_JAR_VERSION from Maven Central"
		maven_fetch "$MYSQL_JAR_GROUP:$MYSQL_JAR_ARTIFACT:$MYSQL_JAR_VERSION" "$dir"
	fi
	unzip -p "$jar" mysql-Linux-amd64.tar.gz >"$ctx/mysql.tar.gz"
}

prepare_rocketmq() {
	local ctx=$1
	load_env rocketmq
	local dir="$CACHE/maven/rocketmq-$ROCKETMQ_VERSION"
	if [[ ! -f "$dir/.complete" ]]; then
		log "rocketmq: resolving rocketmq-namesrv, -broker, -tools $ROCKETMQ_VERSION from Maven Central"
		rm -rf "$dir" && mkdir -p "$dir"
		sed "s/@ROCKETMQ_VERSION@/$ROCKETMQ_VERSION/g" "$HERE/rocketmq/pom.xml.in" >"$dir/pom.xml"
		mvn -q -B -f "$dir/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
			-DoutputDirectory="$dir/lib" >&2
		touch "$dir/.complete"
	fi
	cp -a "$dir/lib" "$ctx/lib"
}

prepare_minio() {
	local ctx=$1
	load_env minio
	local bin="$CACHE/minio/minio-$MINIO_VERSION"
	if [[ ! -x "$bin" ]]; then
		log "minio: go install github.com/minio/minio@$MINIO_VERSION (CGO_ENABLED=0; takes minutes)"
		local gobin
		gobin="$(mktemp -d "$CACHE/minio/gobin.XXXXXX")"
		mkdir -p "$CACHE/minio"
		CGO_ENABLED=0 GOBIN="$gobin" GOFLAGS=-buildvcs=false go install -trimpath -ldflags="-s -w" \
			"github.com/minio/minio@$MINIO_VERSION" >&2
		mv "$gobin/minio" "$bin"
		rm -rf "$gobin"
	fi
	cp "$bin" "$ctx/minio"
}

prepare_go() {
	local ctx=$1
	load_env go
	local zip="$CACHE/go/go$GO_VERSION.linux-amd64.zip"
	if [[ ! -f "$zip" ]]; then
		log "go: fetching the go$GO_VERSION toolchain from the Go module proxy"
		mkdir -p "$CACHE/go"
		curl -fsSL -o "$zip.tmp" "${GOPROXY_URL:-https://proxy.golang.org}/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-amd64.zip"
		mv "$zip.tmp" "$zip"
	fi
	unzip -q "$zip" -d "$ctx/unzipped"
	mv "$ctx/unzipped/golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-amd64" "$ctx/go"
	rm -rf "$ctx/unzipped"
	mkdir -p "$ctx/extra-ca"
	echo "Extra CA certificates copied from the build host." >"$ctx/extra-ca/README"
	find /usr/local/share/ca-certificates -maxdepth 2 -name '*.crt' -exec cp {} "$ctx/extra-ca/" \; 2>/dev/null || true
}

build_one() {
	local name=$1 tag archive start
	tag="$(tag_of "$name")"
	archive="$CACHE/images/$name-$(hash_of "$name").tar.zst"
	if image_exists "$tag"; then
		if [[ "$ARCHIVE" == 1 && ! -f "$archive" ]]; then
			save_archive "$name" "$tag" "$archive"
		fi
		return
	fi
	local parent
	parent="$(parent_of "$name")"
	if [[ -n "$parent" ]]; then build_one "$parent"; fi
	start=$SECONDS
	if [[ -f "$archive" ]]; then
		log "$name: loading $tag from $archive"
		zstd -dcq "$archive" | docker load >/dev/null
		log "$name: loaded in $((SECONDS - start))s"
		return
	fi
	log "$name: building $tag"
	if [[ "$name" == base ]]; then
		build_base "$tag"
	else
		local ctx
		mkdir -p "$CACHE/build"
		ctx="$(mktemp -d "$CACHE/build/$name.XXXXXX")"
		case "$name" in
		mysql) prepare_mysql "$ctx" ;;
		rocketmq) prepare_rocketmq "$ctx" ;;
		minio) prepare_minio "$ctx" ;;
		go) prepare_go "$ctx" ;;
		esac
		docker_build "$name" "$tag" "$ctx"
		rm -rf "$ctx" "$ctx.log"
	fi
	log "$name: built $tag in $((SECONDS - start))s"
	prune_old "$name" "$tag"
	if [[ "$ARCHIVE" == 1 ]]; then
		save_archive "$name" "$tag" "$archive"
	fi
}

# save_archive NAME TAG FILE saves an image, zstd-compressed, replacing older archives of NAME.
save_archive() {
	local name=$1 tag=$2 archive=$3 start=$SECONDS
	mkdir -p "$CACHE/images"
	rm -f "$CACHE/images/$name-"*.tar.zst
	docker save "$tag" | zstd -q -1 -T0 -o "$archive.tmp"
	mv "$archive.tmp" "$archive"
	log "$name: saved to $archive in $((SECONDS - start))s"
}

# prune_old NAME TAG removes other tags of the same image (older builds); images still used by a
# container stay.
prune_old() {
	local name=$1 tag=$2 old
	for old in $(docker images --format '{{.Repository}}:{{.Tag}}' "$REPO/$name"); do
		if [[ "$old" != "$tag" ]]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
	done
}

# write_env records every image whose current tag exists, for integration/containers.
write_env() {
	local out="$CACHE/images.env" tmp name tag var
	tmp="$(mktemp "$CACHE/images.env.XXXXXX")"
	echo "# Written by deploy/images/build.sh; read by integration/containers." >"$tmp"
	for name in "${KNOWN[@]}"; do
		tag="$(tag_of "$name")"
		if image_exists "$tag"; then
			var="BINLAKE_IMAGE_$(echo "$name" | tr '[:lower:]' '[:upper:]')"
			echo "$var=$tag" >>"$tmp"
		fi
	done
	chmod 644 "$tmp"
	mv "$tmp" "$out"
	log "tags written to $out"
}

main() {
	local names=("$@") total=$SECONDS
	if [[ ${#names[@]} -eq 0 ]]; then names=("${ALL[@]}"); fi
	for name in "${names[@]}"; do
		parent_of "$name" >/dev/null
	done
	for name in "${names[@]}"; do
		if image_exists "$(tag_of "$name")"; then log "$name: $(tag_of "$name") is up to date"; fi
		build_one "$name"
	done
	write_env
	log "done in $((SECONDS - total))s"
}

main "$@"
