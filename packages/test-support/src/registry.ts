import { realService } from './services.ts';

/**
 * The two Docker registries scripts/services.sh starts on loopback (Debian's `docker-registry`,
 * Docker Distribution 2.8), and the accounts they know. The engine pulls from them without TLS:
 * dockerd treats 127.0.0.0/8 as insecure by default. services.sh writes the same accounts into the
 * htpasswd file; the token issuer imports them from here.
 */
export const REGISTRY = {
  /** htpasswd (Basic) auth. */
  basic: '127.0.0.1:5101',
  /** Bearer token auth: the registry sends clients to the issuer below. */
  token: '127.0.0.1:5102',
  /** The token issuer's origin (`realm` in the registry's challenge). */
  issuer: '127.0.0.1:5103',
  /** `service` in the challenge and `aud` of the tokens. */
  service: 'stack-registry',
  /** `iss` of the tokens. */
  issuerName: 'stack-registry-issuer',
} as const;

/** A user with pull and push on every repository (both registries). */
export const REGISTRY_USER = { username: 'stack', password: 'stack-registry-password' } as const;

/** A user the token issuer authenticates but grants nothing (the registry then denies access). */
export const REGISTRY_NOBODY = { username: 'nobody', password: 'nobody-registry-password' } as const;

/** An OAuth refresh token (Docker's `identitytoken`) the issuer accepts for {@link REGISTRY_USER}. */
export const REGISTRY_IDENTITY_TOKEN = 'stack-registry-identity-token-0123456789';

/** The two registries and the token issuer scripts/services.sh starts (`registry`), or undefined (skip). */
export async function requireRegistries(): Promise<true | undefined> {
  return realService('docker registries (scripts/services.sh registry)', async () => {
    for (const host of [REGISTRY.basic, REGISTRY.token]) {
      const res = await fetch(`http://${host}/v2/`);
      await res.arrayBuffer();
      if (res.status !== 401) throw new Error(`${host}/v2/ answered ${res.status}, not 401`);
    }
    const stats = await fetch(`http://${REGISTRY.issuer}/stats`);
    await stats.arrayBuffer();
    if (!stats.ok) throw new Error(`token issuer on ${REGISTRY.issuer} answered ${stats.status}`);
    return true as const;
  });
}
