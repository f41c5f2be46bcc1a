import type { FastifyInstance, RouteOptions } from 'fastify';
import fastifyMetricsModule from 'fastify-metrics';
import fp from 'fastify-plugin';
import { Histogram, Registry } from 'prom-client';

// A CommonJS module with `exports.default`: from ESM the plugin is the namespace's `default`.
const fastifyMetrics = fastifyMetricsModule.default;

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's Prometheus registry: a service adds its own counters with `registers: [it]`. */
    metricsRegistry: Registry;
  }
}

/** Methods Fastify answers on its own (HEAD of a GET route) or that carry no API call: not timed. */
const UNTIMED_METHODS = new Set(['HEAD', 'OPTIONS', 'TRACE', 'CONNECT']);

/**
 * Prometheus metrics at `GET /metrics` (fastify-metrics over prom-client): the process's default
 * metrics, and `http_request_duration_seconds` per method, route and status for every registered route
 * but `/metrics`. Each app has its own registry, so several apps in one process (tests) do not
 * collide. The route is not routed through the front (nginx answers 404 there): scrape the service
 * port, with a read key when API keys are set (Prometheus `authorization: { credentials: <key> }`
 * sends it as a Bearer token).
 *
 * The request histogram is observed here rather than by fastify-metrics' route metrics: those start a
 * timer per request and label each observation from a fresh object, which prom-client hashes into its
 * key every time (~10 µs a request in bench/); here the labelled child of each method, route and
 * status is looked up once and observed with Fastify's own `elapsedTime`.
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
    routeMetrics: { enabled: false },
  });

  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'request duration in seconds',
    labelNames: ['method', 'route', 'status_code'],
    registers: [registry],
  });
  // One child per method, route and status answered: bounded by the routes the app has.
  const children = new Map<string, Histogram.Internal<'method' | 'route' | 'status_code'>>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (route === undefined || route === '/metrics' || UNTIMED_METHODS.has(request.method)) return done();
    const key = `${request.method} ${reply.statusCode} ${route}`;
    let child = children.get(key);
    if (child === undefined) {
      child = duration.labels(request.method, route, String(reply.statusCode));
      children.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
    done();
  });
}

export const metrics = fp(metricsPlugin, { name: 'metrics' });
export { Counter, Gauge, Histogram } from 'prom-client';
