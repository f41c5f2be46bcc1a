#!/usr/bin/env bash
# The compose deployment end to end, as CI runs it (the README's deployment section, step for step):
#  1. scripts/local-images.sh builds the stand-ins for the upstream base images (no registry here;
#     COMPOSE_E2E_UPSTREAM=1 builds from node/nginx/mysql/docker as published instead)
#  2. a test .env: API keys, the dev profile's emulator as PortOne, free loopback ports, the images
#  3. docker-compose build (every Dockerfile), up -d, wait until every container is healthy
#  4. test/compose/deployment.test.ts through the published front; its last test runs `down -v`
# Prints the image sizes and the cold start-to-healthy time; COMPOSE_E2E_RECORD=1 also writes them
# into bench/RESULTS.md. Only its own compose project (COMPOSE_E2E_PROJECT) is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
project=${COMPOSE_E2E_PROJECT:-portone-e2e}
export IMAGE_TAG=${IMAGE_TAG:-e2e}
work=$(mktemp -d)
env_file=$work/env
started=$(date +%s)
log() { echo "compose-e2e: $* ($(($(date +%s) - started))s)" >&2; }
dc() { docker-compose -p "$project" --env-file "$env_file" -f docker-compose.yml --profile dev "$@"; }
cleanup() {
  dc down -v --remove-orphans >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

: >"$work/images.env"
if [ "${COMPOSE_E2E_UPSTREAM:-}" != 1 ]; then
  log "local stand-in images"
  scripts/local-images.sh >"$work/images.env"
fi
cat >"$env_file" <<ENV
GATEWAY_API_KEYS=ci:write:e2e-gateway-write-$(openssl rand -hex 8),reports:read:e2e-gateway-read-$(openssl rand -hex 8)
DOCKER_AGENT_API_KEYS=ops:write:e2e-agent-write-$(openssl rand -hex 8),viewer:read:e2e-agent-read-$(openssl rand -hex 8)
PORTONE_API_URL=http://portone-emulator:3003
PORTONE_ALLOW_INSECURE_HTTP=true
PORTONE_IMP_KEY=imp_emulator_key
PORTONE_IMP_SECRET=imp_emulator_secret
PORTONE_EMULATOR_NOW=1704034800
MYSQL_PASSWORD=e2e-$(openssl rand -hex 8)
MYSQL_ROOT_PASSWORD=e2e-$(openssl rand -hex 8)
FRONT_PORT=$(free_port)
PORTONE_EMULATOR_PORT=$(free_port)
IMAGE_TAG=$IMAGE_TAG
DOCKER_GID=$(stat -c %g /var/run/docker.sock)
ENV
cat "$work/images.env" >>"$env_file"

# Every image of the stack; an image a rebuild replaced is removed, so reruns leave no dangling copies.
images=(front payment-gateway docker-agent portone-emulator)
old=$(for i in "${images[@]}"; do docker image inspect -f '{{.Id}}' "portone-docker-stack/$i:$IMAGE_TAG" 2>/dev/null || true; done)
images_s=$(($(date +%s) - started))
log "docker-compose build"
dc build -q 2>&1 | grep -v -i -E 'deprecated|buildx|^ *$' >&2 || true
for i in "${images[@]}"; do docker image inspect "portone-docker-stack/$i:$IMAGE_TAG" >/dev/null; done
new=$(for i in "${images[@]}"; do docker image inspect -f '{{.Id}}' "portone-docker-stack/$i:$IMAGE_TAG"; done)
for id in $old; do grep -q "$id" <<<"$new" || docker rmi "$id" >/dev/null 2>&1 || true; done
build_s=$(($(date +%s) - started - images_s))

# phpMyAdmin (dev profile) comes from a registry only; everything else starts.
log "docker-compose up -d"
up_started=$(date +%s%N)
dc up -d --no-build front portone-emulator
services=(mysql payment-gateway docker-agent front portone-emulator)
for _ in $(seq 1 240); do
  unhealthy=0
  for s in "${services[@]}"; do
    id=$(dc ps -q "$s")
    [ "$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null)" = healthy ] || unhealthy=1
  done
  [ $unhealthy = 0 ] && break
  sleep 0.5
done
if [ $unhealthy = 1 ]; then
  log "not every service became healthy"
  dc ps >&2
  dc logs --tail 50 >&2
  exit 1
fi
healthy_ms=$((($(date +%s%N) - up_started) / 1000000))
log "every service healthy ${healthy_ms} ms after up"

sizes=$(for i in "${images[@]}"; do
  echo "| portone-docker-stack/$i | $(($(docker image inspect -f '{{.Size}}' "portone-docker-stack/$i:$IMAGE_TAG") / 1000000)) MB |"
done)
echo "$sizes" >&2
if [ "${COMPOSE_E2E_RECORD:-}" = 1 ]; then
  base=$(grep -q NODE_IMAGE "$work/images.env" && echo 'local stand-ins (scripts/local-images.sh)' || echo upstream)
  {
    sed '/^<!-- compose-e2e -->$/,$d' bench/RESULTS.md
    echo '<!-- compose-e2e -->'
    echo '## Images (scripts/compose-e2e.sh)'
    echo
    echo "Written by \`COMPOSE_E2E_RECORD=1 scripts/compose-e2e.sh\` on $(date -u +%FT%TZ), base images: $base;"
    echo "load average at the end $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores. Start to healthy: \`docker-compose up -d\`"
    echo "on built images and empty volumes until every container reports healthy (healthcheck intervals included)."
    echo
    echo '| what | measured |'
    echo '| --- | --- |'
    echo "$sizes"
    echo "| base images (scripts/local-images.sh; seconds when cached) | ${images_s} s |"
    echo "| docker-compose build, every Dockerfile | ${build_s} s |"
    echo "| start to healthy: mysql, migrate, gateway, agent, emulator, front | ${healthy_ms} ms |"
  } >"$work/results.md"
  cp "$work/results.md" bench/RESULTS.md
fi

log "test/compose/deployment.test.ts"
status=0
COMPOSE_E2E_PROJECT=$project COMPOSE_E2E_ENV_FILE=$env_file \
  pnpm vitest run --config test/compose/vitest.config.ts || status=$?
if [ $status != 0 ]; then dc logs --tail 80 >&2 || true; fi
log "done (exit $status)"
exit $status
