/**
 * The two services as the e2e tests run them behind the front: built from plain config objects,
 * listening on a free loopback port, each answering its `upstream` address for startFront.
 */

import { join } from 'node:path';
import { DEFAULT_MERCHANT, type RunningEmulator } from '@repo/portone-emulator';
import { dockerSocket, TEST_LOG_LEVEL, testLogStream } from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { buildApp as buildAgent } from '../../services/docker-agent/src/app.ts';
import { parseConfig as parseAgentConfig } from '../../services/docker-agent/src/config.ts';
import { buildApp as buildGateway, type AppDeps as GatewayDeps } from '../../services/payment-gateway/src/app.ts';
import { parseConfig as parseGatewayConfig } from '../../services/payment-gateway/src/config.ts';

export interface ListeningApp {
  app: FastifyInstance;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT`, what startFront takes. */
  upstream: string;
}

async function listening(app: FastifyInstance): Promise<ListeningApp> {
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url, upstream: `127.0.0.1:${(app.server.address() as { port: number }).port}` };
}

/** The gateway on its own MariaDB database, calling the emulator over HTTP with its default merchant. */
export async function startGateway(options: {
  databaseUrl: string;
  emulator: RunningEmulator;
  logName: string;
  env?: Record<string, string>;
  clock?: GatewayDeps['clock'];
}): Promise<ListeningApp> {
  const config = parseGatewayConfig({
    DATABASE_URL: options.databaseUrl,
    PORTONE_API_URL: options.emulator.url,
    PORTONE_IMP_KEY: DEFAULT_MERCHANT.impKey,
    PORTONE_IMP_SECRET: DEFAULT_MERCHANT.impSecret,
    LOG_LEVEL: TEST_LOG_LEVEL,
    ...options.env,
  });
  const deps = { logStream: testLogStream(options.logName), ...(options.clock ? { clock: options.clock } : {}) };
  return listening(await buildGateway(config, deps));
}

/** The agent on the test engine, its compose projects and audit log under `dir`. */
export async function startAgent(options: {
  dir: string;
  logName: string;
  env?: Record<string, string>;
}): Promise<ListeningApp> {
  const config = parseAgentConfig({
    DOCKER_SOCKET: dockerSocket(),
    DOCKER_AGENT_COMPOSE_DIR: join(options.dir, 'compose'),
    DOCKER_AGENT_AUDIT_FILE: join(options.dir, 'audit.jsonl'),
    LOG_LEVEL: TEST_LOG_LEVEL,
    ...options.env,
  });
  return listening(await buildAgent(config, { logStream: testLogStream(options.logName) }));
}
