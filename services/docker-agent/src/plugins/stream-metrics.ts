import { Counter, Gauge } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** NDJSON streams started, by route (logs, stats, pull, build, compose); see `sendNdjson`. */
    streamsStarted: Counter<'route'>;
  }
}

/** Docker stream counts for /metrics: started per route, and how many are open right now. */
async function streamMetricsPlugin(app: FastifyInstance) {
  const registers = [app.metricsRegistry];
  app.decorate(
    'streamsStarted',
    new Counter({
      name: 'docker_streams_started_total',
      help: 'NDJSON streams started',
      labelNames: ['route'],
      registers,
    }),
  );
  new Gauge({
    name: 'docker_streams_open',
    help: 'NDJSON streams open now',
    registers,
    collect() {
      this.set(app.openStreams.size);
    },
  });
}

export const streamMetrics = fp(streamMetricsPlugin, { name: 'stream-metrics', dependencies: ['metrics', 'shutdown'] });
