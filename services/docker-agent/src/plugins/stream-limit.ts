import type { FastifyInstance, FastifyRequest, preHandlerHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { TooManyStreamsError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route answers a long-lived stream (always, or when this says so for the request): it takes
     * one of DOCKER_AGENT_MAX_STREAMS slots until the answer closes.
     */
    stream?: boolean | ((request: FastifyRequest) => boolean);
  }
}

/**
 * Caps concurrent streams (followed logs, stats, pulls, builds, compose operations and logs): each
 * holds an engine connection or a child process, so a caller opening them without end would exhaust
 * the agent. Past the cap a request is a 429 before anything is opened for it. The hook is added as a
 * route is: register this plugin before the routes.
 */
async function streamLimitPlugin(app: FastifyInstance, options: { maxStreams: number }) {
  let open = 0;
  // A hook on the stream routes only (an app-wide one ran on every request, reading the route's config
  // from `request.routeOptions`, which Fastify builds anew on every read). Before the route's own
  // preHandlers, as an app-wide hook ran.
  app.addHook('onRoute', (route) => {
    const stream = route.config?.stream;
    if (!stream) return;
    const limit: preHandlerHookHandler = (request, reply, done) => {
      if (typeof stream === 'function' && !stream(request)) return done();
      if (open >= options.maxStreams) {
        return done(
          new TooManyStreamsError(
            `${open} streams are open, the most DOCKER_AGENT_MAX_STREAMS allows; close one or retry later`,
          ),
        );
      }
      open += 1;
      reply.raw.once('close', () => {
        open -= 1;
      });
      done();
    };
    route.preHandler = [limit, ...[route.preHandler ?? []].flat()];
  });
}

export const streamLimit = fp(streamLimitPlugin, { name: 'stream-limit' });
