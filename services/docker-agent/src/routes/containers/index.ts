import { problemResponses } from '@repo/service-kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { logLineBatches } from '../../docker/logs.ts';
import type { Guard } from '../../policy/guard.ts';
import type { Policy } from '../../policy/policy.ts';
import { ActionResult } from '../../schemas/common.ts';
import { compiledOkSerializer } from '../../schemas/compiled-serializer.ts';
import { logNdjson } from '../../streams/log-ndjson.ts';
import { sendNdjson } from '../../streams/ndjson.ts';
import type { StreamRouteOptions } from '../stream-options.ts';
import {
  ContainerDetail,
  ContainerList,
  ContainerParams,
  CreateContainerBody,
  CreatedContainer,
  ListContainersQuery,
  LogsQuery,
  logsResponse,
  RemoveQuery,
  StatsQuery,
  StopQuery,
  statsResponse,
} from './schemas.ts';
import {
  changeState,
  collectLogs,
  createContainer,
  type LogLimits,
  listContainers,
  openLogs,
  openStats,
  removeContainer,
  statsSnapshot,
} from './service.ts';
import { toDetail } from './to-api.ts';

export interface ContainerRoutesOptions extends StreamRouteOptions {
  policy: Policy;
  protectLabel: string;
  guard: Guard;
  logs: LogLimits;
}

const tags = ['containers'];

export const containerRoutes: FastifyPluginAsyncZod<ContainerRoutesOptions> = async (app, options) => {
  const { policy, protectLabel, guard, logs, heartbeatMs, translate, clock } = options;
  const protection = { protectLabel, self: app.selfContainer };

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List containers',
        description: 'All containers by default (`all=false` for running only); filter by label, status, name.',
        querystring: ListContainersQuery,
        response: { 200: ContainerList, ...problemResponses(400, 401, 403, 503) },
      },
      serializerCompiler: compiledOkSerializer,
    },
    async (request) => listContainers(app.docker, request.query),
  );

  app.post(
    '/',
    {
      config: { audit: 'container.create' },
      schema: {
        tags,
        summary: 'Create a container',
        description:
          'Creates (and with `start: true` starts) a container. The image must be present unless `pull: true`; ' +
          'a missing image is a 404 naming it. Policy applies: privileged, capAdd, host namespaces, devices, ' +
          'bind mounts outside the allowlist, the Docker socket, the image allowlist.',
        body: CreateContainerBody,
        response: { 201: CreatedContainer, ...problemResponses(400, 401, 403, 404, 409, 502, 503) },
      },
    },
    async (request, reply) => {
      const created = await createContainer(app.docker, policy, request.body, protection, guard);
      request.audit.target = created.name;
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Inspect a container',
        description:
          'By id, id prefix or name. Environment values are shown to write keys only, and never for the guarded ' +
          'stack (the agent, its compose project, protected containers).',
        params: ContainerParams,
        response: { 200: ContainerDetail, ...problemResponses(400, 401, 403, 404, 503) },
      },
      serializerCompiler: compiledOkSerializer,
    },
    async (request) => {
      const info = await app.docker.inspectContainer(request.params.id);
      // The guarded stack's environment holds its secrets (database passwords, API keys): never shown.
      return toDetail(info, request.caller.role === 'write' && !(await guard.reason(info)));
    },
  );

  for (const action of ['start', 'stop', 'restart'] as const) {
    app.post(
      `/:id/${action}`,
      {
        config: { audit: `container.${action}` },
        schema: {
          tags,
          summary: `${action[0]?.toUpperCase()}${action.slice(1)} a container`,
          description:
            'Idempotent: a container already in the wanted state answers 200 with `changed: false`.' +
            (action === 'start' ? '' : ' The agent itself and containers with the protect label are refused (403).'),
          params: ContainerParams,
          ...(action === 'start' ? {} : { querystring: StopQuery }),
          response: { 200: ActionResult, ...problemResponses(400, 401, 403, 404, 409, 503) },
        },
      },
      async (request) => {
        const t = (request.query as { t?: number } | undefined)?.t;
        return changeState(app.docker, request.params.id, action, guard, t);
      },
    );
  }

  app.delete(
    '/:id',
    {
      config: { audit: 'container.remove' },
      schema: {
        tags,
        summary: 'Remove a container',
        description: 'A running container needs `force=true` (else 409).',
        params: ContainerParams,
        querystring: RemoveQuery,
        response: { 200: ActionResult, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => removeContainer(app.docker, request.params.id, request.query, guard),
  );

  app.get(
    '/:id/logs',
    {
      config: { stream: (request) => (request.query as { follow?: boolean }).follow === true },
      schema: {
        tags,
        summary: 'Container logs',
        description:
          'Demultiplexed lines `{stream, line, ts?}`. `follow=true` answers an NDJSON stream (heartbeats on quiet ' +
          'containers) until the caller disconnects.',
        params: ContainerParams,
        querystring: LogsQuery,
        response: { 200: logsResponse, ...problemResponses(400, 401, 403, 404, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const abort = new AbortController();
      const { info, body, format } = await openLogs(
        app.docker,
        request.params.id,
        request.query,
        logs,
        clock(),
        abort.signal,
      );
      if (request.query.follow) {
        return sendNdjson(request, reply, logNdjson(body, format), { heartbeatMs, abort, translate });
      }
      const collected = await collectLogs(logLineBatches(body, format), logs.maxBytes, abort);
      return reply.type('application/json').send({ id: info.Id, lines: collected });
    },
  );

  app.get(
    '/:id/stats',
    {
      config: { stream: (request) => (request.query as { stream?: boolean }).stream === true },
      schema: {
        tags,
        summary: 'Container resource usage',
        description:
          'CPU %, memory usage/limit/%, network rx/tx, block I/O read/write, pids. `stream=true` answers an NDJSON ' +
          'stream of samples (about one a second) until the caller disconnects.',
        params: ContainerParams,
        querystring: StatsQuery,
        response: { 200: statsResponse, ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      if (!request.query.stream) {
        return reply.type('application/json').send(await statsSnapshot(app.docker, request.params.id));
      }
      const abort = new AbortController();
      const events = await openStats(app.docker, request.params.id, abort.signal);
      return sendNdjson(request, reply, events, { heartbeatMs, abort, translate });
    },
  );
};
