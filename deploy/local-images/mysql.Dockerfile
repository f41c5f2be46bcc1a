# Stand-in for mysql:8.4: Debian's MariaDB 10.11 behind an entrypoint that honours the same
# MYSQL_DATABASE / MYSQL_USER / MYSQL_PASSWORD / MYSQL_ROOT_PASSWORD on first start, with mysqladmin
# for the healthcheck, data in /var/lib/mysql. It writes only there and in /tmp (socket, pid).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN set -eu; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >/dev/null; \
    rm -rf /var/lib/apt/lists/* /var/lib/mysql/*; \
    chown mysql:mysql /var/lib/mysql; \
    printf '[client-server]\nsocket = /tmp/mysqld.sock\n[mysqld]\npid-file = /tmp/mysqld.pid\nbind-address = 0.0.0.0\nskip-name-resolve\n' \
      > /etc/mysql/mariadb.conf.d/99-container.cnf
COPY mysql-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/mysql
EXPOSE 3306
USER mysql
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["mariadbd"]
