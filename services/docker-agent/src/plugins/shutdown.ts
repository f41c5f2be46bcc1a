import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** Open NDJSON answers, each with the function that ends it early (see `sendNdjson`). */
    openStreams: Set<() => void>;
  }
}

/**
 * What closing the app (SIGTERM) does to connections that are still open. Fastify's close waits for
 * every in-flight answer and for their sockets, and it only drops keep-alive sockets that are idle
 * at the moment it starts; without this plugin a followed log (which never ends by itself) or a
 * request that finishes during the close keeps the server open until the shutdown timeout, and the
 * process exits 1 with streams cut off mid-line. So, once closing:
 * - every open stream gets a last `{type:"error",code:"SHUTTING_DOWN"}` line and ends (`preClose`
 *   runs before the server stops accepting);
 * - answers still being prepared go out with `Connection: close`, and sockets that turn idle are
 *   closed at once.
 */
async function shutdownPlugin(app: FastifyInstance) {
  const open = new Set<() => void>();
  let closing = false;
  app.decorate('openStreams', open);

  app.addHook('preClose', async () => {
    closing = true;
    for (const end of [...open]) end();
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing && !reply.raw.headersSent) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async () => {
    if (closing) setImmediate(() => app.server.closeIdleConnections());
  });
}

export const shutdown = fp(shutdownPlugin, { name: 'shutdown' });
