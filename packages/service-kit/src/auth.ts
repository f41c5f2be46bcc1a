import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import proxyAddr from 'proxy-addr';
import { ForbiddenError, UnauthorizedError } from './errors.ts';

export type Role = 'read' | 'write';

export interface ApiKey {
  /** A short name for audit logs (never the key itself). */
  name: string;
  role: Role;
  key: string;
}

export interface AuthOptions {
  /** Keys accepted in the `X-API-Key` header (or `Authorization: Bearer`). Empty: local mode. */
  keys: ApiKey[];
  /** Route URLs (as registered, e.g. `/api/v1/webhooks/portone`) that need no key. */
  publicRoutes: string[];
  /** Addresses/CIDRs of the reverse proxy (the same list given to Fastify's `trustProxy`). */
  trustedProxies: string[];
}

export interface Caller {
  name: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
  interface FastifyContextConfig {
    /** The role a route needs; GET/HEAD default to `read`, everything else to `write`. */
    role?: Role;
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Parses `API_KEYS`: `name:role:key` entries, comma-separated (role is `read` or `write`). */
export function parseApiKeys(entries: string[]): ApiKey[] {
  return entries.map((entry) => {
    const [name, role, ...rest] = entry.split(':');
    const key = rest.join(':');
    if (!name || (role !== 'read' && role !== 'write') || key.length < 16) {
      throw new Error(`API_KEYS entry "${name ?? ''}:…" must be name:read|write:key with a key of 16+ characters`);
    }
    return { name, role, key };
  });
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header) return header;
  const auth = request.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  return undefined;
}

/**
 * API-key authentication. With no keys configured the service is in local mode: it answers only
 * callers on loopback or behind the trusted proxy (Fastify's `trustProxy` decides what `request.ip`
 * is; the socket address decides whether the hop is the proxy).
 */
async function authPlugin(app: FastifyInstance, options: AuthOptions) {
  const keys = options.keys.map((k) => ({ ...k, hash: digest(k.key) }));
  const publicRoutes = new Set(options.publicRoutes);
  const trusted = proxyAddr.compile(['loopback', ...options.trustedProxies]);
  app.decorateRequest('caller', null as unknown as Caller);

  if (keys.length === 0) {
    app.log.warn('no API keys configured: answering only loopback and trusted-proxy callers (local mode)');
  }

  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url;
    if (route === undefined || publicRoutes.has(route)) {
      request.caller = { name: 'public', role: 'read' };
      return;
    }
    if (keys.length === 0) {
      // The hop that reached us decides: loopback, or the reverse proxy the operator trusts.
      if (!trusted(request.socket.remoteAddress ?? '', 0)) {
        throw new ForbiddenError('local mode: only loopback or trusted-proxy callers are answered; configure API_KEYS');
      }
      request.caller = { name: 'local', role: 'write' };
    } else {
      const presented = presentedKey(request);
      if (!presented) throw new UnauthorizedError('missing API key (X-API-Key header)');
      const hash = digest(presented);
      const match = keys.find((k) => timingSafeEqual(k.hash, hash));
      if (!match) throw new UnauthorizedError('invalid API key');
      request.caller = { name: match.name, role: match.role };
    }
    const needed =
      request.routeOptions.config.role ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write');
    if (needed === 'write' && request.caller.role !== 'write') {
      throw new ForbiddenError(`API key "${request.caller.name}" is read-only`);
    }
  });
}

export const auth = fp(authPlugin, { name: 'auth' });
