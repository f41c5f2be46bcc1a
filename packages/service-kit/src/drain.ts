import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Lets a closing server actually close. Fastify's close waits for every open socket, and Node drops
 * keep-alive sockets only if they are idle at the moment closing starts: one whose request was in
 * flight then stays open once answered, and SIGTERM under load waits out the shutdown timeout. So,
 * once closing, answers still being prepared go out with `Connection: close` and every socket that
 * turns idle is closed at once.
 */
async function drainPlugin(app: FastifyInstance) {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Callback hooks: they run on every answer, and do nothing until closing (no promise each).
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing && !reply.raw.headersSent) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (_request, _reply, done) => {
    if (closing) setImmediate(() => app.server.closeIdleConnections());
    done();
  });
}

export const drain = fp(drainPlugin, { name: 'drain' });
