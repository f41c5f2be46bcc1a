# Stand-in for nginx:1.27-alpine in what deploy/nginx/Dockerfile uses: nginx reading
# /etc/nginx/conf.d/*.conf, envsubst, wget for the healthcheck, logs on stdout/stderr.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN set -eu; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light gettext-base wget >/dev/null; \
    rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* /etc/nginx/conf.d/*; \
    ln -sf /dev/stdout /var/log/nginx/access.log; ln -sf /dev/stderr /var/log/nginx/error.log
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
