/** Where an image reference lives: the registry host as Docker names it, the repository and the tag. */
export interface ImageLocation {
  /** Registry host as written (`127.0.0.1:5101`), or `docker.io` for Docker Hub. */
  registry: string;
  /** Repository path on the registry (`library/redis` on Docker Hub). */
  repository: string;
  /** Tag, or the digest when the reference pins one. */
  reference: string;
  /** The reference written out in full (`127.0.0.1:5101/app:1`, `docker.io/library/redis:latest`). */
  canonical: string;
}

export const DOCKER_HUB = 'docker.io';
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * Splits an image reference the way Docker does: the first path component is a registry host when it
 * has a dot or a port or is `localhost`; otherwise the image is on Docker Hub, and a one-component
 * name is an official image under `library/`. The tag defaults to `latest`.
 */
export function locateImage(ref: string): ImageLocation {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  let registry = DOCKER_HUB;
  let repository = rest;
  if (first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = HUB_ALIASES.has(first) ? DOCKER_HUB : first;
    repository = rest.slice(slash + 1);
  }
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  const reference = digest ?? tag ?? 'latest';
  const separator = digest === undefined ? ':' : '@';
  return { registry, repository, reference, canonical: `${registry}/${repository}${separator}${reference}` };
}

/** The same registry under any of Docker Hub's names. */
export function registryKey(host: string): string {
  return HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}
