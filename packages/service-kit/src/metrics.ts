import type { FastifyInstance, onResponseHookHandler, RouteOptions } from 'fastify';
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

type DurationChild = Histogram.Internal<'method' | 'route' | 'status_code'>;

/**
 * Prometheus metrics at `GET /metrics` (fastify-metrics over prom-client): the process's default
 * metrics, and `http_request_duration_seconds` per method, route and status for every registered route
 * but `/metrics`. Each app has its own registry, so several apps in one process (tests) do not
 * collide. The route is not routed through the front (nginx answers 404 there): scrape the service
 * port, with a read key when API keys are set (Prometheus `authorization: { credentials: <key> }`
 * sends it as a Bearer token).
 *
 * The request histogram is observed here rather than by fastify-metrics' route metrics: those start a
 * timer per request and label each observation from a fresh object (~10 µs a request in bench/); here
 * each route's own hook observes Fastify's `elapsedTime` on the labelled child of its method and status.
 * The hook is added as a route is, so register this plugin before the routes it is to time.
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
  // Each route gets its own onResponse hook, which knows its route pattern: an app-wide hook read it
  // from `request.routeOptions`, which Fastify builds anew on every read.
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat().filter((method) => !UNTIMED_METHODS.has(method));
    if (route.url === '/metrics' || methods.length === 0) return;
    // Per method, one labelled child per status answered: bounded by the statuses the route answers.
    const children = new Map(methods.map((method) => [method, new Map<number, DurationChild>()]));
    const timed: onResponseHookHandler = (request, reply, done) => {
      const byStatus = children.get(request.method); // none for a HEAD answered by a GET route
      if (byStatus !== undefined) {
        let child = byStatus.get(reply.statusCode);
        if (child === undefined) {
          child = duration.labels(request.method, route.url, String(reply.statusCode));
          byStatus.set(reply.statusCode, child);
        }
        child.observe(reply.elapsedTime / 1000);
      }
      done();
    };
    route.onResponse = [...[route.onResponse ?? []].flat(), timed];
  });
}

export const metrics = fp(metricsPlugin, { name: 'metrics' });
export { Counter, Gauge, Histogram } from 'prom-client';
