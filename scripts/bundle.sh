#!/usr/bin/env bash
# Builds one deployable (a service or the emulator) and writes its production bundle to OUT_DIR:
# compiled dist/ (its server.js an esbuild bundle: scripts/build-service.ts) plus production dependencies
# only (workspace packages copied in, no dev tools).
# Each Dockerfile runs exactly this (CI builds every image and starts them: scripts/compose-e2e.sh).
#   scripts/bundle.sh @repo/payment-gateway /tmp/out
set -euo pipefail
pkg=$1 out=$2
cd "$(dirname "$0")/.."
pnpm --filter "${pkg}..." run build
rm -rf "$out"
pnpm --filter "$pkg" deploy --prod --legacy "$out" >/dev/null
echo "bundle: $pkg -> $out ($(du -sh "$out" | cut -f1))" >&2
