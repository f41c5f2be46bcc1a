import type { FastifyInstance, RouteOptions } from 'fastify';
import fastifyMetricsModule from 'fastify-metrics';
import fp from 'fastify-plugin';
import { Registry } from 'prom-client';

// A CommonJS module with `exports.default`: from ESM the plugin is the namespace's `default`.
const fastifyMetrics = fastifyMetricsModule.default;

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's Prometheus registry: a service adds its own counters with `registers: [it]`. */
    metricsRegistry: Registry;
  }
}

/**
 * Prometheus metrics at `GET /metrics` (fastify-metrics over prom-client): request counts and a latency
 * histogram per route, method and status, plus the process's default metrics. Each app has its own
 * registry, so several apps in one process (tests) do not collide. The route is not routed through
 * the front (nginx answers 404 there): scrape the service port, with a read key when API keys are
 * set (Prometheus `authorization: { credentials: <key> }` sends it as a Bearer token).
 */
async function metricsPlugin(app: FastifyInstance) {
  const registry = new Registry();
  app.decorate('metricsRegistry', registry);
  await app.register(fastifyMetrics, {
    endpoint: {
      url: '/metrics',
      method: 'GET',
      logLevel: 'warn',
      schema: { hide: true },
      handler: () => undefined, // replaced by the plugin
    } satisfies RouteOptions,
    defaultMetrics: { enabled: true, register: registry },
    routeMetrics: {
      enabled: { histogram: true, summary: false },
      registeredRoutesOnly: true,
      routeBlacklist: ['/metrics'],
      // Both are created even when one is off: both go to this app's registry.
      overrides: { histogram: { registers: [registry] }, summary: { registers: [registry] } },
    },
  });
}

export const metrics = fp(metricsPlugin, { name: 'metrics' });
export { Counter, Gauge, Histogram } from 'prom-client';
