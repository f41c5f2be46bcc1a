#!/bin/bash
# First start on an empty data directory: create the system tables, then the root password, database
# and user from the MYSQL_* variables (as the mysql image does); later starts just run the server.
set -euo pipefail
if [ "${1:-}" = mariadbd ] && [ ! -d /var/lib/mysql/mysql ]; then
  : "${MYSQL_ROOT_PASSWORD:?MYSQL_ROOT_PASSWORD is required}"
  # A half-initialised directory would be taken for a ready one on the next start.
  trap 'rm -rf /var/lib/mysql/*' ERR
  mariadb-install-db --datadir=/var/lib/mysql --skip-test-db --auth-root-authentication-method=normal >/dev/null
  # A private server without networking applies the settings, then stops.
  mariadbd --skip-networking --socket=/tmp/init.sock &
  for _ in $(seq 1 120); do mariadb-admin --socket=/tmp/init.sock -uroot ping >/dev/null 2>&1 && break; sleep 0.5; done
  quote() { printf "'%s'" "${1//\'/\'\'}"; }
  {
    # mariadb-install-db also makes password-less root accounts for 127.0.0.1, ::1 and this host.
    echo "DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1', 'root'@'$HOSTNAME';"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(quote "$MYSQL_ROOT_PASSWORD");"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY $(quote "$MYSQL_ROOT_PASSWORD");"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [ -n "${MYSQL_DATABASE:-}" ]; then echo "CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`;"; fi
    if [ -n "${MYSQL_USER:-}" ]; then
      echo "CREATE USER '$MYSQL_USER'@'%' IDENTIFIED BY $(quote "${MYSQL_PASSWORD:?MYSQL_PASSWORD is required with MYSQL_USER}");"
      if [ -n "${MYSQL_DATABASE:-}" ]; then echo "GRANT ALL ON \`$MYSQL_DATABASE\`.* TO '$MYSQL_USER'@'%';"; fi
    fi
  } | mariadb --socket=/tmp/init.sock -uroot
  mariadb-admin --socket=/tmp/init.sock -uroot -p"$MYSQL_ROOT_PASSWORD" shutdown
  wait
fi
exec "$@"
