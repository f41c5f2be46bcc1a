import { auth, docs, echoRequestId, fastifyOptions, problemHandler, useZod } from '@repo/service-kit';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ComposeCli } from './compose/cli.ts';
import { ProjectStore } from './compose/store.ts';
import type { Config } from './config.ts';
import type { DockerEngine } from './docker/engine.ts';
import { translateDockerError } from './docker/errors.ts';
import { audit } from './plugins/audit.ts';
import { docker } from './plugins/docker.ts';
import { registry } from './plugins/registry.ts';
import { shutdown } from './plugins/shutdown.ts';
import { streamLimit } from './plugins/stream-limit.ts';
import { createGuard } from './policy/guard.ts';
import { createPolicy } from './policy/policy.ts';
import { composeRoutes } from './routes/compose/index.ts';
import { containerRoutes } from './routes/containers/index.ts';
import { healthRoutes } from './routes/health/index.ts';
import { imageRoutes } from './routes/images/index.ts';
import { networkRoutes } from './routes/networks/index.ts';
import { systemRoutes } from './routes/system/index.ts';
import { volumeRoutes } from './routes/volumes/index.ts';

export interface Deps {
  /** The Docker engine port; by default dockerode on `config.dockerSocket`. */
  engine?: DockerEngine;
  clock?: () => Date;
  /** Where log lines go (default stdout). */
  logStream?: { write(line: string): void };
}

export const API_PREFIX = '/api/v1';
export const DOCS_PREFIX = `${API_PREFIX}/docs/agent`;

export async function buildApp(config: Config, deps: Deps = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...fastifyOptions({
      name: 'docker-agent',
      logLevel: config.logLevel,
      logRequests: config.logRequests,
      trustedProxies: config.trustedProxies,
      logStream: deps.logStream,
    }),
  }).withTypeProvider<ZodTypeProvider>();
  useZod(app);
  echoRequestId(app);
  const clock = deps.clock ?? (() => new Date());
  const translate = translateDockerError(config.dockerSocket);
  const policy = createPolicy(config.policy);
  const stream = { heartbeatMs: config.heartbeatMs, translate, clock };

  // 1. Infrastructure: the engine (and who we are on it), registries (credentials, the Registry API client), the audit trail, shutdown of open connections.
  await app.register(docker, {
    socketPath: config.dockerSocket,
    engine: deps.engine,
    selfContainer: config.selfContainer,
  });
  await app.register(registry, {
    auth: config.registryAuth,
    dockerHubUrl: config.dockerHubUrl,
    now: () => clock().getTime(),
  });
  await app.register(audit, { file: config.auditFile, clock });
  await app.register(shutdown);
  await app.register(streamLimit, { maxStreams: config.maxStreams });
  const guard = createGuard(app.docker, { protectLabel: config.protectLabel, self: app.selfContainer });

  // 2. Cross-cutting: one problem handler (dockerode errors translated), docs, API keys.
  await app.register(problemHandler, { translate });
  const docsRoutes: string[] = [];
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith(DOCS_PREFIX)) docsRoutes.push(route.url);
  });
  await app.register(docs, {
    title: 'docker-agent',
    version: '0.1.0',
    description:
      'REST API over a Docker engine: authenticated (X-API-Key), policy-checked, audited. Streams are NDJSON ' +
      '(application/x-ndjson, one JSON object per line, heartbeats on quiet streams).',
    routePrefix: DOCS_PREFIX,
    tags: [
      { name: 'containers', description: 'Containers' },
      { name: 'images', description: 'Images: pull, build, remove' },
      { name: 'volumes', description: 'Volumes' },
      { name: 'networks', description: 'Networks' },
      { name: 'system', description: 'Engine info, disk usage, prune' },
      { name: 'compose', description: 'Compose projects' },
      { name: 'health', description: 'Liveness and readiness' },
    ],
  });
  await app.register(auth, {
    keys: config.apiKeys,
    publicRoutes: ['/health', '/ready', ...docsRoutes],
    localHosts: config.localModeHosts,
  });

  // 3. Routes.
  await app.register(healthRoutes);
  await app.register(containerRoutes, {
    prefix: `${API_PREFIX}/containers`,
    policy,
    protectLabel: config.protectLabel,
    guard,
    logs: { tail: config.logsTail, maxBytes: config.logsMaxBytes },
    ...stream,
  });
  await app.register(imageRoutes, {
    prefix: `${API_PREFIX}/images`,
    policy,
    guard,
    protectLabel: config.protectLabel,
    buildMaxBytes: config.buildMaxBytes,
    ...stream,
  });
  await app.register(volumeRoutes, {
    prefix: `${API_PREFIX}/volumes`,
    policy,
    guard,
    protectLabel: config.protectLabel,
  });
  await app.register(networkRoutes, { prefix: `${API_PREFIX}/networks`, guard, protectLabel: config.protectLabel });
  await app.register(systemRoutes, { prefix: `${API_PREFIX}/system`, protectLabel: config.protectLabel, guard });
  await app.register(composeRoutes, {
    prefix: `${API_PREFIX}/compose`,
    cli: new ComposeCli(config.composeCommand, config.composeEnv),
    store: new ProjectStore(config.composeDir),
    policy,
    bindAllowlist: config.policy.bindAllowlist,
    protectLabel: config.protectLabel,
    ...stream,
  });

  await app.ready();
  return app;
}
