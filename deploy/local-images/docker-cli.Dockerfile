# Stand-in for docker:27-cli in what services/docker-agent/Dockerfile copies from it: the docker CLI
# at /usr/local/bin/docker and the CLI plugin directory. Debian 12 packages no compose v2 plugin (its
# docker-compose is the Python v1), so the plugin directory is empty here: the agent's compose routes
# then answer that no compose CLI is installed, everything else works.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
# Only the CLI binary of Debian's docker.io (it needs libc alone), not the engine it depends on.
RUN set -eu; \
    apt-get update -qq; \
    cd /tmp; apt-get download -qq docker.io; \
    dpkg-deb --fsys-tarfile docker.io_*.deb | tar -x -C /tmp ./usr/bin/docker; \
    install -m 0755 /tmp/usr/bin/docker /usr/local/bin/docker; \
    rm -rf /tmp/* /var/lib/apt/lists/*; \
    mkdir -p /usr/local/libexec/docker/cli-plugins
