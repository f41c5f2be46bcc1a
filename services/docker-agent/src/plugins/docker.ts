import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createEngine, type DockerEngine } from '../docker/engine.ts';
import { dockerStatus } from '../docker/errors.ts';
import { detectSelfContainerId } from '../docker/self.ts';

export interface DockerPluginOptions {
  socketPath: string;
  /** An engine built elsewhere (its owner closes it); by default one is built on `socketPath`. */
  engine?: DockerEngine | undefined;
  /** DOCKER_AGENT_SELF_CONTAINER: our container's id or name, when /proc cannot tell. */
  selfContainer?: string | undefined;
}

/** Who we are on the engine, so that no request can stop, restart or remove the agent itself. */
export interface SelfContainer {
  /** Full id once resolved; undefined when the agent does not run in a container. */
  id: string | undefined;
  /** What the operator or /proc named, kept for matching when the engine was down at start-up. */
  ref: string | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    docker: DockerEngine;
    selfContainer: SelfContainer;
  }
}

async function dockerPlugin(app: FastifyInstance, options: DockerPluginOptions) {
  const engine = options.engine ?? createEngine({ socketPath: options.socketPath });
  const self: SelfContainer = { id: undefined, ref: options.selfContainer };
  app.decorate('docker', engine);
  app.decorate('selfContainer', self);

  app.addHook('onReady', async () => {
    self.ref ??= await detectSelfContainerId();
    try {
      const v = await engine.negotiate();
      app.log.info({ socket: engine.socketPath, ...v }, 'docker engine reachable');
      if (self.ref) self.id = (await engine.inspectContainer(self.ref)).Id;
      if (self.id) app.log.info({ selfContainer: self.id }, 'running in a container; it is protected');
    } catch (err) {
      // The agent still starts: /ready reports the engine, requests answer 503 until it is back.
      const level = dockerStatus(err) === 404 ? 'warn' : 'error';
      app.log[level]({ err, socket: engine.socketPath }, 'docker engine not usable at start-up');
    }
  });
  if (!options.engine) app.addHook('onClose', async () => engine.close());
}

export const docker = fp(dockerPlugin, { name: 'docker' });
