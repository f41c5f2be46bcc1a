import { hash } from 'node:crypto';
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
  /**
   * Host names (no port) a keyless local-mode request may name in `Host` and `Origin`, beyond
   * `localhost`, `127.0.0.1` and `[::1]` (`LOCAL_MODE_HOSTS`).
   */
  localHosts?: string[];
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

/**
 * Keys are found by their SHA-256 digest: how long comparing two digests takes tells a caller nothing
 * about a key (which is why timingSafeEqual was used on them, and is not needed on a digest), and a
 * one-shot base64 digest costs no Hash object and no Buffer per request (~0.2 µs against ~1-3 µs).
 */
export const digest = (s: string) => hash('sha256', s, 'base64');

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

/** The names a loopback service is reached by; anything else in `Host` may be DNS rebinding. */
const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

const isLoopback = proxyAddr.compile('loopback');

/** The host name of an `Origin` (`[::1]` keeps its brackets, like `request.hostname`); undefined if unusable. */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).hostname || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why a keyless request is not local, or undefined when it is. Local means: the real client
 * (`request.ip`, which Fastify's `trustProxy` resolves through X-Forwarded-For only from trusted
 * proxies) is loopback — a proxy forwarding for anyone else does not make its clients local; the
 * `Host` names this machine (a page on a rebound DNS name cannot use it); and no other site's page
 * sent it (`Origin`; curl sends none).
 */
function notLocal(request: FastifyRequest, hosts: ReadonlySet<string>): string | undefined {
  if (!isLoopback(request.ip, 0)) return `the client ${request.ip} is not on loopback`;
  const host = request.hostname.toLowerCase();
  if (!hosts.has(host)) return `Host "${host}" is not a loopback name (add it to LOCAL_MODE_HOSTS)`;
  const origin = request.headers.origin;
  if (origin !== undefined) {
    const from = originHost(origin)?.toLowerCase();
    if (from === undefined || !hosts.has(from)) return `Origin "${origin}" is another site`;
  }
  return undefined;
}

/**
 * A route is public when its schema says so for OpenAPI too: `security: []` (health, PortOne's
 * webhook, the docs, which `docs` marks), so the document and the check never disagree.
 */
function isPublic(route: FastifyRequest['routeOptions']): boolean {
  const security = (route.schema as { security?: unknown } | undefined)?.security;
  return Array.isArray(security) && security.length === 0;
}

/**
 * API-key authentication. With no keys configured the service is in local mode: it answers only
 * requests from this machine (see `notLocal`), never a client a proxy forwarded from elsewhere.
 */
async function authPlugin(app: FastifyInstance, options: AuthOptions) {
  const keys = new Map<string, Caller>();
  for (const k of options.keys) {
    const d = digest(k.key);
    // The first entry of a key repeated under two names wins, as before.
    if (!keys.has(d)) keys.set(d, Object.freeze({ name: k.name, role: k.role }));
  }
  const localHosts = new Set([...LOOPBACK_HOSTS, ...(options.localHosts ?? []).map((h) => h.toLowerCase())]);
  app.decorateRequest('caller', null as unknown as Caller);

  if (keys.size === 0) {
    app.log.warn('no API keys configured: answering only loopback clients (local mode)');
  }

  app.addHook('onRequest', async (request) => {
    // Read once: Fastify builds a new routeOptions object on each read.
    const route = request.routeOptions;
    if (route.url === undefined || isPublic(route)) {
      request.caller = { name: 'public', role: 'read' };
      return;
    }
    if (keys.size === 0) {
      const reason = notLocal(request, localHosts);
      if (reason) {
        throw new ForbiddenError(`local mode answers only this machine (${reason}); configure API_KEYS`);
      }
      request.caller = { name: 'local', role: 'write' };
    } else {
      const presented = presentedKey(request);
      if (!presented) throw new UnauthorizedError('missing API key (X-API-Key header)');
      const match = keys.get(digest(presented));
      if (!match) throw new UnauthorizedError('invalid API key');
      request.caller = match;
    }
    const needed = route.config.role ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write');
    if (needed === 'write' && request.caller.role !== 'write') {
      throw new ForbiddenError(`API key "${request.caller.name}" is read-only`);
    }
  });
}

export const auth = fp(authPlugin, { name: 'auth' });
