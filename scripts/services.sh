#!/usr/bin/env bash
# Installs (when missing) and starts the real services the tests run against: MariaDB, the Docker
# engine (+ docker-compose), nginx, two Docker registries. Debian 12, as root. Idempotent: running
# services are left alone.
#   scripts/services.sh [mariadb] [docker] [nginx] [registry]     (default: all four)
# The registries keep their keys, accounts and storage under ${STACK_STATE_DIR:-/var/lib/stack-services}.
set -euo pipefail
want=("$@"); [ ${#want[@]} -eq 0 ] && want=(mariadb docker nginx registry)
state_dir="${STACK_STATE_DIR:-/var/lib/stack-services}"
repo_root="$(cd "$(dirname "$0")/.." && pwd)"
log() { echo "services: $*" >&2; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  if [ ! -f /var/lib/apt/periodic/stack-updated ]; then
    apt-get update -qq && mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/stack-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

wait_for() { # description, seconds, command...
  local what=$1 secs=$2; shift 2
  for _ in $(seq 1 $((secs * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  log "$what did not come up in ${secs}s"; return 1
}

start_mariadb() {
  # Debian's package may try to start the server itself; keep policy-rc.d from failing the install.
  apt_install mariadb-server mariadb-client
  if ! mariadb-admin ping >/dev/null 2>&1; then
    log "starting mariadbd"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    wait_for mariadb 60 mariadb-admin ping
  fi
  # A password user for TCP clients (tests, the gateway); root keeps socket auth.
  mariadb -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'stack'@'localhost' IDENTIFIED BY 'stack';
CREATE USER IF NOT EXISTS 'stack'@'127.0.0.1' IDENTIFIED BY 'stack';
GRANT ALL PRIVILEGES ON *.* TO 'stack'@'localhost' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'stack'@'127.0.0.1' WITH GRANT OPTION;
SQL
  log "mariadb ready: mysql://stack:stack@127.0.0.1:3306"
}

start_docker() {
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose
  if ! docker version >/dev/null 2>&1; then
    log "starting dockerd"
    nohup dockerd >/var/log/dockerd.log 2>&1 &
    wait_for dockerd 60 docker version
  fi
  # No registry here: a tiny local image made from Debian's static busybox serves every test.
  if ! docker image inspect local/busybox:1 >/dev/null 2>&1; then
    apt_install busybox-static
    local dir; dir=$(mktemp -d)
    mkdir -p "$dir/bin" "$dir/tmp" "$dir/etc"
    cp /bin/busybox "$dir/bin/busybox"
    for app in sh echo sleep cat ls env true false printf wc head yes seq date hostname; do ln -s busybox "$dir/bin/$app"; done
    echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/etc/passwd"
    tar -C "$dir" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - local/busybox:1 >/dev/null
    rm -rf "$dir"
  fi
  log "docker ready: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
}

start_nginx() {
  command -v nginx >/dev/null 2>&1 || apt_install nginx
  # The tests run nginx themselves with the repo's config; the distro's default site is not needed.
  log "nginx available: $(nginx -v 2>&1)"
}

# Debian's docker-registry (Distribution 2.8) twice on loopback, which dockerd already treats as an
# insecure registry (its default InsecureRegistryCIDRs is 127.0.0.0/8), so the engine pulls and
# pushes over plain HTTP with no daemon restart. Ports and accounts: packages/test-support/src/registry.ts.
#   127.0.0.1:5101  htpasswd (Basic) auth
#   127.0.0.1:5102  token auth, tokens from the issuer on 127.0.0.1:5103 (packages/test-support)
registry_config() { # port, auth block
  cat <<YAML
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $dir/data-$1 }
  delete: { enabled: true }
http:
  addr: 127.0.0.1:$1
$2
YAML
}

registry_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$1/v2/")" = "401" ]; }

start_registry() {
  apt_install docker-registry apache2-utils openssl curl
  local dir="$state_dir/registry"
  mkdir -p "$dir"
  [ -f "$dir/htpasswd" ] || htpasswd -Bbn stack stack-registry-password > "$dir/htpasswd"
  if [ ! -f "$dir/token.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=stack-registry-issuer \
      -keyout "$dir/token.key" -out "$dir/token.crt" 2>/dev/null
  fi
  registry_config 5101 "auth:
  htpasswd: { realm: stack-registry, path: $dir/htpasswd }" > "$dir/basic.yml"
  registry_config 5102 "auth:
  token:
    realm: http://127.0.0.1:5103/token
    service: stack-registry
    issuer: stack-registry-issuer
    rootcertbundle: $dir/token.crt" > "$dir/token.yml"
  for kind in basic:5101 token:5102; do
    if ! registry_up "127.0.0.1:${kind#*:}"; then
      log "starting docker-registry ${kind%%:*} on 127.0.0.1:${kind#*:}"
      nohup docker-registry serve "$dir/${kind%%:*}.yml" >>"$dir/${kind%%:*}.log" 2>&1 &
      wait_for "registry ${kind%%:*}" 30 registry_up "127.0.0.1:${kind#*:}"
    fi
  done
  if ! curl -s -o /dev/null http://127.0.0.1:5103/stats; then
    log "starting the registry token issuer on 127.0.0.1:5103"
    # Node 24 runs the TypeScript source directly (it only uses node: modules).
    (. "$repo_root/scripts/ensure-node.sh" >/dev/null &&
      nohup node "$repo_root/packages/test-support/src/registry-token-issuer.ts" "$dir" >>"$dir/issuer.log" 2>&1 &)
    wait_for "token issuer" 30 curl -sf -o /dev/null http://127.0.0.1:5103/stats
  fi
  # One started from an older checkout lacks what today's tests ask of it (expire-next): say so.
  if [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST 'http://127.0.0.1:5103/expire-next?scope=probe&count=0')" != 200 ]; then
    log "the token issuer on 127.0.0.1:5103 is from an older checkout: stop it (node …/registry-token-issuer.ts) and run this again"
    return 1
  fi
  log "registries ready: 127.0.0.1:5101 (htpasswd), 127.0.0.1:5102 (token, issuer 127.0.0.1:5103)"
}

for s in "${want[@]}"; do
  case "$s" in
    mariadb) start_mariadb ;;
    docker) start_docker ;;
    nginx) start_nginx ;;
    registry) start_registry ;;
    *) log "unknown service $s"; exit 2 ;;
  esac
done
