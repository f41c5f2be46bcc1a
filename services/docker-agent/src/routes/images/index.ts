import { Readable } from 'node:stream';
import { problemResponses } from '@repo/service-kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ContextTooLargeError, UnsupportedMediaTypeError } from '../../errors.ts';
import type { Policy } from '../../policy/policy.ts';
import { sendNdjson } from '../../streams/ndjson.ts';
import type { StreamRouteOptions } from '../stream-options.ts';
import {
  BuildQuery,
  buildResponse,
  ImageDetail,
  ImageList,
  ImageParams,
  ListImagesQuery,
  PullBody,
  pullResponse,
  RemovedImage,
  RemoveImageQuery,
} from './schemas.ts';
import { listImages, openBuild, openPull, removeImage, toImageDetail } from './service.ts';

export interface ImageRoutesOptions extends StreamRouteOptions {
  policy: Policy;
  buildMaxBytes: number;
}

const tags = ['images'];
export const BUILD_CONTEXT_TYPES = ['application/x-tar', 'application/tar', 'application/gzip', 'application/x-gzip'];

export const imageRoutes: FastifyPluginAsyncZod<ImageRoutesOptions> = async (app, options) => {
  const { policy, heartbeatMs, translate, buildMaxBytes } = options;

  // Build contexts are streamed through to the engine, never buffered; the limit is counted on the way.
  app.addContentTypeParser(BUILD_CONTEXT_TYPES, (_request, payload, done) => done(null, payload));

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List images',
        querystring: ListImagesQuery,
        response: { 200: ImageList, ...problemResponses(400, 401, 403, 503) },
      },
    },
    async (request) => listImages(app.docker, request.query),
  );

  app.get(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Inspect an image',
        params: ImageParams,
        response: { 200: ImageDetail, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => toImageDetail(await app.docker.inspectImage(request.params.id)),
  );

  app.post(
    '/pull',
    {
      config: { audit: 'image.pull' },
      schema: {
        tags,
        summary: 'Pull an image',
        description:
          'Streams NDJSON progress. A pull the engine refuses before any progress (unknown image, registry ' +
          "unreachable) is a problem: 404 IMAGE_NOT_FOUND or 502 PULL_FAILED naming the image and Docker's " +
          'message. A failure after progress started is the stream\'s last line, `{"type":"error"}`.',
        body: PullBody,
        response: { 200: pullResponse, ...problemResponses(400, 401, 403, 404, 502, 503) },
      },
    },
    async (request, reply) => {
      const abort = new AbortController();
      const events = await openPull(app.docker, policy, request.body.image, abort.signal);
      return sendNdjson(request, reply, events, { heartbeatMs, abort, translate, prime: true });
    },
  );

  app.post(
    '/build',
    {
      config: { audit: 'image.build' },
      schema: {
        tags,
        summary: 'Build an image from a tar context',
        description:
          `The request body is the build context as a tar (optionally gzipped) archive with Content-Type ` +
          `application/x-tar; at most DOCKER_AGENT_BUILD_MAX_BYTES (413 beyond). Streams NDJSON builder output; ` +
          `a failing step ends the stream with \`{"type":"error","code":"BUILD_FAILED"}\`.`,
        querystring: BuildQuery,
        consumes: BUILD_CONTEXT_TYPES,
        response: { 200: buildResponse, ...problemResponses(400, 401, 403, 413, 415, 422, 503) },
      },
    },
    async (request, reply) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
      if (!BUILD_CONTEXT_TYPES.includes(type) || !(request.body instanceof Readable)) {
        throw new UnsupportedMediaTypeError(`build context must be sent as application/x-tar, not "${type}"`);
      }
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > buildMaxBytes) {
        throw new ContextTooLargeError(`build context of ${declared} bytes exceeds ${buildMaxBytes} bytes`);
      }
      if (request.query.t) request.audit.target = request.query.t;
      const abort = new AbortController();
      const events = await openBuild(app.docker, policy, request.body, request.query, buildMaxBytes, abort.signal);
      return sendNdjson(request, reply, events, { heartbeatMs, abort, translate, prime: true });
    },
  );

  app.delete(
    '/:id',
    {
      config: { audit: 'image.remove' },
      schema: {
        tags,
        summary: 'Remove an image',
        description: 'An image used by a container is a 409 unless force=true.',
        params: ImageParams,
        querystring: RemoveImageQuery,
        response: { 200: RemovedImage, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => removeImage(app.docker, request.params.id, request.query),
  );
};
