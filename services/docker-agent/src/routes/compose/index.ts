import { problemResponses } from '@repo/service-kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { joinLookup } from '../../policy/join-lookup.ts';
import { UpdateChecks } from '../../registry/schemas.ts';
import { checkUpdate } from '../../registry/updates.ts';
import { sendNdjson } from '../../streams/ndjson.ts';
import type { StreamRouteOptions } from '../stream-options.ts';
import {
  CreateProjectBody,
  DownBody,
  LogsQuery,
  logsResponse,
  operationResponse,
  ProjectDetail,
  ProjectList,
  ProjectParams,
  PullBody,
  PutProjectBody,
  RemovedProject,
  RemoveQuery,
  RestartBody,
  SavedProject,
  UpBody,
} from './schemas.ts';
import {
  type ComposeDeps,
  type ComposeOperation,
  getProject,
  listProjects,
  openLogs,
  projectImages,
  removeProject,
  runOperation,
  saveProject,
} from './service.ts';

export interface ComposeRoutesOptions
  extends StreamRouteOptions,
    Omit<ComposeDeps, 'engine' | 'joins' | 'registryCredentials'> {
  protectLabel: string;
}

const tags = ['compose'];

export const composeRoutes: FastifyPluginAsyncZod<ComposeRoutesOptions> = async (app, options) => {
  const { heartbeatMs, translate, clock } = options;
  const deps: ComposeDeps = {
    ...options,
    engine: app.docker,
    joins: joinLookup(app.docker, app.selfContainer, options.protectLabel),
    registryCredentials: app.registry.credentials,
  };

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List compose projects',
        description:
          'Every project on the host, from the compose labels on its containers (also projects this agent did not ' +
          'create), plus managed projects that are down. A one-shot service that exited 0 is `completed`.',
        response: { 200: ProjectList, ...problemResponses(401, 403, 503) },
      },
    },
    async () => listProjects(deps),
  );

  app.post(
    '/',
    {
      config: { audit: 'compose.create' },
      schema: {
        tags,
        summary: 'Create a managed project',
        description: 'Stores the file (+ .env) after `compose config` accepts it and the policy allows every service.',
        body: CreateProjectBody,
        response: { 201: SavedProject, ...problemResponses(400, 401, 403, 409, 422, 503) },
      },
    },
    async (request, reply) => reply.code(201).send(await saveProject(deps, request.body.name, request.body, 'create')),
  );

  app.get(
    '/:project',
    {
      schema: {
        tags,
        summary: 'Inspect a compose project',
        params: ProjectParams,
        response: { 200: ProjectDetail, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => getProject(deps, request.params.project),
  );

  app.put(
    '/:project',
    {
      config: { audit: 'compose.save' },
      schema: {
        tags,
        summary: 'Create or replace a managed project',
        description: '201 when created, 200 when replaced. Nothing is started; use POST .../up.',
        params: ProjectParams,
        body: PutProjectBody,
        response: { 200: SavedProject, 201: SavedProject, ...problemResponses(400, 401, 403, 409, 422, 503) },
      },
    },
    async (request, reply) => {
      const saved = await saveProject(deps, request.params.project, request.body, 'replace');
      return reply.code(saved.created ? 201 : 200).send(saved);
    },
  );

  const operations = {
    up: { body: UpBody, summary: 'Start the project (compose up -d); policy-checked' },
    down: { body: DownBody, summary: "Stop and remove the project's containers and networks (compose down)" },
    restart: { body: RestartBody, summary: 'Restart services (compose restart)' },
    pull: { body: PullBody, summary: "Pull the project's images (compose pull)" },
  } as const;

  for (const [op, spec] of Object.entries(operations) as [
    keyof typeof operations,
    (typeof operations)[keyof typeof operations],
  ][]) {
    app.post(
      `/:project/${op}`,
      {
        config: { audit: `compose.${op}`, stream: true },
        schema: {
          tags,
          summary: spec.summary,
          description:
            'Streams the compose CLI output as NDJSON. Projects started elsewhere work when their compose files ' +
            '(from the labels) are readable by the agent, else 409.',
          params: ProjectParams,
          body: spec.body,
          response: { 200: operationResponse, ...problemResponses(400, 401, 403, 404, 409, 422, 503) },
        },
      },
      async (request, reply) => {
        const operation = { op, ...(request.body ?? {}) } as ComposeOperation;
        const events = await runOperation(deps, request.params.project, operation);
        return sendNdjson(request, reply, events, { heartbeatMs, translate, abort: new AbortController() });
      },
    );
  }

  app.get(
    '/:project/updates',
    {
      schema: {
        tags,
        summary: "Check the registries for newer images of the project's services",
        description:
          'The update check of GET /images/{ref}/update for every image the resolved compose model names ' +
          '(services that only build are left out). A registry refusing the credentials fails the whole check ' +
          '(401/403 naming it).',
        params: ProjectParams,
        response: { 200: UpdateChecks, ...problemResponses(400, 401, 403, 404, 409, 422, 502, 503) },
      },
    },
    async (request) => {
      const images = await projectImages(deps, request.params.project);
      const checks = await Promise.all(
        images.map((image) => checkUpdate(app.docker, app.registry.client, image, clock)),
      );
      return {
        project: request.params.project,
        images: checks,
        update_available: checks.some((c) => c.update_available),
        checked_at: clock().toISOString(),
      };
    },
  );

  app.get(
    '/:project/logs',
    {
      config: { stream: true },
      schema: {
        tags,
        summary: 'Merged service logs',
        description: 'compose logs, one NDJSON line per log line naming container and service; follow=true streams.',
        params: ProjectParams,
        querystring: LogsQuery,
        response: { 200: logsResponse, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const abort = new AbortController();
      const events = await openLogs(deps, request.params.project, request.query, abort.signal);
      return sendNdjson(request, reply, events, { heartbeatMs, translate, abort });
    },
  );

  app.delete(
    '/:project',
    {
      config: { audit: 'compose.remove' },
      schema: {
        tags,
        summary: 'Remove a managed project',
        description: 'compose down (volumes=true also removes its volumes), then deletes the stored files.',
        params: ProjectParams,
        querystring: RemoveQuery,
        response: { 200: RemovedProject, ...problemResponses(400, 401, 403, 404, 409, 502, 503) },
      },
    },
    async (request) => removeProject(deps, request.params.project, request.query.volumes),
  );
};
