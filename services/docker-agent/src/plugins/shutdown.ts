import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** Open NDJSON answers, each with the function that ends it early (see `sendNdjson`). */
    openStreams: Set<() => void>;
  }
}

/**
 * What closing the app (SIGTERM) does to streams that are still open: a followed log never ends by
 * itself, so without this the server stays open until the shutdown timeout and the process exits 1
 * with streams cut off mid-line. Once closing (`preClose` runs before the server stops accepting),
 * every open stream gets a last `{type:"error",code:"SHUTTING_DOWN"}` line and ends. Sockets that
 * turn idle are closed by service-kit's `drain` (registered in app.ts).
 */
async function shutdownPlugin(app: FastifyInstance) {
  const open = new Set<() => void>();
  app.decorate('openStreams', open);
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });
}

export const shutdown = fp(shutdownPlugin, { name: 'shutdown' });
