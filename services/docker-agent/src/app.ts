import { readFileSync } from 'node:fs';
import {
  API_PREFIX,
  auth,
  type Clock,
  docs,
  drain,
  echoRequestId,
  fastifyOptions,
  metrics,
  problemHandler,
  systemClock,
  useZod,
} from '@repo/service-kit';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ComposeCli } from './compose/cli.ts';
import { ProjectStore } from './compose/store.ts';
import { type Config, composeEnv, policyConfig } from './config.ts';
import type { DockerEngine } from './docker/engine.ts';
import { translateDockerError } from './docker/errors.ts';
import { audit } from './plugins/audit.ts';
import { docker } from './plugins/docker.ts';
import { registry } from './plugins/registry.ts';
import { shutdown } from './plugins/shutdown.ts';
import { streamLimit } from './plugins/stream-limit.ts';
import { streamMetrics } from './plugins/stream-metrics.ts';
import { createGuard } from './policy/guard.ts';
import { createPolicy } from './policy/policy.ts';
import { composeRoutes } from './routes/compose/index.ts';
import { containerRoutes } from './routes/containers/index.ts';
import { healthRoutes } from './routes/health/index.ts';
import { BUILD_CONTEXT_TYPES, imageRoutes } from './routes/images/index.ts';
import { networkRoutes } from './routes/networks/index.ts';
import { systemRoutes } from './routes/system/index.ts';
import { volumeRoutes } from './routes/volumes/index.ts';

export interface AppDeps {
  /** The Docker engine port; by default dockerode on `DOCKER_SOCKET`. */
  engine?: DockerEngine;
  clock?: Clock;
  /** Where log lines go (default stdout). */
  logStream?: { write(line: string): void };
}

const { version: VERSION } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const DOCS_PREFIX = `${API_PREFIX}/docs/agent`;

export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...fastifyOptions({
      name: 'docker-agent',
      logLevel: config.LOG_LEVEL,
      logRequests: config.LOG_REQUESTS,
      trustedProxies: config.TRUSTED_PROXIES,
      logStream: deps.logStream,
    }),
  }).withTypeProvider<ZodTypeProvider>();
  useZod(app);
  echoRequestId(app);
  const clock = deps.clock ?? systemClock;
  const translate = translateDockerError(config.DOCKER_SOCKET);
  // The one error handler first: routes keep the handler of when they were added (/metrics included).
  await app.register(problemHandler, { translate });
  await app.register(metrics);
  // Closing: sockets that turn idle are closed at once (SIGTERM under load does not wait out the timeout).
  await app.register(drain);
  const policy = createPolicy(policyConfig(config));
  const stream = { heartbeatMs: config.DOCKER_AGENT_HEARTBEAT_MS, translate, clock };

  // 1. Infrastructure: the engine (and who we are on it), registries (credentials, the Registry API client), the audit trail, shutdown of open connections.
  await app.register(docker, {
    socketPath: config.DOCKER_SOCKET,
    engine: deps.engine,
    selfContainer: config.DOCKER_AGENT_SELF_CONTAINER,
  });
  await app.register(registry, {
    auth: config.DOCKER_AGENT_REGISTRY_AUTH,
    dockerHubUrl: config.DOCKER_AGENT_DOCKER_HUB_URL,
    now: () => clock().getTime(),
  });
  await app.register(audit, { file: config.DOCKER_AGENT_AUDIT_FILE, clock });
  await app.register(shutdown);
  await app.register(streamLimit, { maxStreams: config.DOCKER_AGENT_MAX_STREAMS });
  const guard = createGuard(app.docker, { protectLabel: config.DOCKER_AGENT_PROTECT_LABEL, self: app.selfContainer });
  await app.register(streamMetrics);

  // 2. Cross-cutting: docs, API keys (the problem handler, dockerode errors translated, is set first).
  await app.register(docs, {
    title: 'docker-agent',
    version: VERSION,
    // The build context is the raw body (a tar stream), which no zod schema describes.
    finish: (document) => {
      const build = document.paths?.[`${API_PREFIX}/images/build`]?.post;
      if (build) {
        const tar = { schema: { type: 'string', format: 'binary' } };
        build.requestBody = {
          required: true,
          content: Object.fromEntries(BUILD_CONTEXT_TYPES.map((type) => [type, tar])),
        };
      }
    },
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
    keys: config.API_KEYS,
    localHosts: config.LOCAL_MODE_HOSTS,
  });

  // 3. Routes.
  await app.register(healthRoutes);
  await app.register(containerRoutes, {
    prefix: `${API_PREFIX}/containers`,
    policy,
    protectLabel: config.DOCKER_AGENT_PROTECT_LABEL,
    guard,
    logs: { tail: config.DOCKER_AGENT_LOGS_TAIL, maxBytes: config.DOCKER_AGENT_LOGS_MAX_BYTES },
    ...stream,
  });
  await app.register(imageRoutes, {
    prefix: `${API_PREFIX}/images`,
    policy,
    guard,
    protectLabel: config.DOCKER_AGENT_PROTECT_LABEL,
    buildMaxBytes: config.DOCKER_AGENT_BUILD_MAX_BYTES,
    ...stream,
  });
  await app.register(volumeRoutes, {
    prefix: `${API_PREFIX}/volumes`,
    policy,
    guard,
    protectLabel: config.DOCKER_AGENT_PROTECT_LABEL,
  });
  await app.register(networkRoutes, {
    prefix: `${API_PREFIX}/networks`,
    guard,
    protectLabel: config.DOCKER_AGENT_PROTECT_LABEL,
  });
  await app.register(systemRoutes, {
    prefix: `${API_PREFIX}/system`,
    protectLabel: config.DOCKER_AGENT_PROTECT_LABEL,
    guard,
  });
  await app.register(composeRoutes, {
    prefix: `${API_PREFIX}/compose`,
    cli: new ComposeCli(config.DOCKER_AGENT_COMPOSE_COMMAND, composeEnv(config)),
    store: new ProjectStore(config.DOCKER_AGENT_COMPOSE_DIR),
    policy,
    bindAllowlist: config.DOCKER_AGENT_BIND_ALLOWLIST.map((b) => b.path),
    protectLabel: config.DOCKER_AGENT_PROTECT_LABEL,
    ...stream,
  });

  await app.ready();
  return app;
}
