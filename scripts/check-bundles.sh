#!/usr/bin/env bash
# Builds the production bundle each Dockerfile copies (scripts/bundle.sh), starts it from its own
# directory with only its production dependencies, and checks that it answers its health route.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check() { # package port health-path env...
  local pkg=$1 port=$2 path=$3; shift 3
  local out="$work/${pkg##*/}"
  scripts/bundle.sh "$pkg" "$out"
  for dev in vitest typescript @biomejs autocannon; do
    if [ -e "$out/node_modules/$dev" ]; then echo "bundle $pkg contains dev dependency $dev" >&2; return 1; fi
  done
  local main; main=$(node -e 'const p=require(process.argv[1]);console.log(p.bin?Object.values(p.bin)[0]:"dist/server.js")' "$out/package.json")
  # Something already answering there would make this check pass without the bundle.
  if curl -fsS "http://127.0.0.1:$port$path" >/dev/null 2>&1; then
    echo "port $port already answers $path: stop what runs there first" >&2; return 1
  fi
  # exec: $! is then node itself, so the kill below stops the bundle and not only a subshell.
  (cd "$out" && exec env "$@" node "$main" >"$work/${pkg##*/}.log" 2>&1) &
  local pid=$!
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port$path" >/dev/null 2>&1; then
      echo "bundle $pkg: started from $out, $path answered" >&2
      kill "$pid"; wait "$pid" 2>/dev/null || true
      return 0
    fi
    sleep 0.2
  done
  echo "bundle $pkg did not answer $path; its log:" >&2; cat "$work/${pkg##*/}.log" >&2
  kill "$pid" 2>/dev/null || true
  return 1
}

check @repo/portone-emulator 13903 /__emulator/clock PORTONE_EMULATOR_PORT=13903
check @repo/payment-gateway 13901 /ready GATEWAY_HOST=127.0.0.1 GATEWAY_PORT=13901 DATABASE_URL="sqlite:$work/gw.sqlite" PORTONE_API_URL=http://127.0.0.1:13903
check @repo/docker-agent 13902 /health DOCKER_AGENT_HOST=127.0.0.1 DOCKER_AGENT_PORT=13902 DOCKER_AGENT_AUDIT_FILE="$work/audit.jsonl" DOCKER_AGENT_COMPOSE_DIR="$work/compose"
