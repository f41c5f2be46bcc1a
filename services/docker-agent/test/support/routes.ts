import type { FastifyInstance } from 'fastify';

export interface RegisteredRoute {
  method: string;
  /** As registered: `/api/v1/containers/:id/logs`. */
  url: string;
}

/**
 * Every route the app serves, read back from Fastify's own route tree (`printRoutes`), so that a
 * route added later is enumerated too; the tests iterate this list instead of a hand-kept one.
 */
export function registeredRoutes(app: FastifyInstance): RegisteredRoute[] {
  const stack: string[] = [];
  const routes: RegisteredRoute[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.replace(/\u00a0/g, ' '));
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    const url = `${stack.join('')}${m[2] ?? ''}`;
    stack.push(m[2] ?? '');
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim())) {
      if (method) routes.push({ method, url });
    }
  }
  const seen = new Set<string>();
  return routes.filter((r) => {
    const key = `${r.method} ${r.url}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The routes that answer without an API key: liveness, readiness and the API docs. */
export const isPublicRoute = (url: string) => url === '/health' || url === '/ready' || url.startsWith('/api/v1/docs/');

/** GET and HEAD read; everything else changes something and needs a write key. */
export const isStateChanging = (method: string) => method !== 'GET' && method !== 'HEAD';

/** The route's URL with each `:param` (and a trailing `*`) replaced. */
export function fillParams(url: string, value: (param: string) => string): string {
  return url.replace(/:([a-zA-Z]+)/g, (_, p: string) => value(p)).replace(/\*$/, 'x');
}
