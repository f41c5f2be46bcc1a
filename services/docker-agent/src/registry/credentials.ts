import { createHash } from 'node:crypto';
import { DOCKER_HUB, registryKey } from './reference.ts';

/** Docker's AuthConfig fields a caller may give: a user and password, or an identity (refresh) token. */
export type RegistryAuth = { username: string; password: string } | { identitytoken: string };

/** Configured credentials per registry host (DOCKER_AGENT_REGISTRY_AUTH); Docker Hub under any of its names. */
export class RegistryCredentials {
  readonly #byHost: Map<string, RegistryAuth>;

  constructor(byHost: Record<string, RegistryAuth>) {
    this.#byHost = new Map(Object.entries(byHost).map(([host, auth]) => [registryKey(host), auth]));
  }

  /** The request's own credentials win over the configured ones. */
  for(registry: string, given?: RegistryAuth): RegistryAuth | undefined {
    return given ?? this.#byHost.get(registryKey(registry));
  }

  /** Every configured host and its credentials (for the compose CLI's config file). */
  entries(): [string, RegistryAuth][] {
    return [...this.#byHost];
  }
}

/** A short digest naming these credentials in cache keys (never the secret itself). */
export function authId(auth: RegistryAuth | undefined): string {
  if (auth === undefined) return 'anonymous';
  return createHash('sha256').update(JSON.stringify(auth)).digest('base64url').slice(0, 16);
}

/** The AuthConfig the engine takes (`X-Registry-Auth`) for a pull from `registry`. */
export function engineAuth(registry: string, auth: RegistryAuth) {
  const serveraddress = registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry;
  return { ...auth, serveraddress };
}

/** A docker CLI config.json entry (`auths`) for these credentials. */
export function configEntry(auth: RegistryAuth) {
  if ('identitytoken' in auth) return { identitytoken: auth.identitytoken };
  return { auth: Buffer.from(`${auth.username}:${auth.password}`).toString('base64') };
}
