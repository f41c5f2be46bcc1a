import { Readable } from 'node:stream';
import { problemResponses } from '@repo/service-kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ContextTooLargeError, UnsupportedMediaTypeError } from '../../errors.ts';
import type { Guard } from '../../policy/guard.ts';
import type { Policy } from '../../policy/policy.ts';
import { locateImage } from '../../registry/reference.ts';
import { UpdateCheck } from '../../registry/schemas.ts';
import { checkUpdate } from '../../registry/updates.ts';
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
  guard: Guard;
  protectLabel: string;
  buildMaxBytes: number;
}

const tags = ['images'];
const TAR_TYPES = ['application/x-tar', 'application/tar', 'application/gzip', 'application/x-gzip'];

export const imageRoutes: FastifyPluginAsyncZod<ImageRoutesOptions> = async (app, options) => {
  const { policy, guard, protectLabel, heartbeatMs, translate, buildMaxBytes, clock } = options;

  // Build contexts are spooled to a temporary file (never held in memory), checked, then sent to the engine.
  app.addContentTypeParser(TAR_TYPES, (_request, payload, done) => done(null, payload));

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
      config: { audit: 'image.pull', stream: true },
      schema: {
        tags,
        summary: 'Pull an image',
        description:
          'Streams NDJSON progress. A pull the engine refuses before any progress (unknown image, registry ' +
          "unreachable) is a problem: 404 IMAGE_NOT_FOUND or 502 PULL_FAILED naming the image and Docker's " +
          'message. A failure after progress started is the stream\'s last line, `{"type":"error"}`. A registry ' +
          'that refuses the credentials (given as `auth`, or configured for its host) is 401 ' +
          'REGISTRY_UNAUTHORIZED or 403 REGISTRY_DENIED naming the registry.',
        body: PullBody,
        response: { 200: pullResponse, ...problemResponses(400, 401, 403, 404, 429, 502, 503) },
      },
    },
    async (request, reply) => {
      const abort = new AbortController();
      const { image } = request.body;
      const auth = app.registry.credentials.for(locateImage(image).registry, request.body.auth);
      const events = await openPull(app.docker, { policy, guard, protectLabel }, image, abort.signal, auth);
      return sendNdjson(request, reply, events, { heartbeatMs, abort, translate, prime: true });
    },
  );

  app.get(
    '/:id/update',
    {
      schema: {
        tags,
        summary: 'Check the registry for a newer image under the same tag',
        description:
          "Compares the local image's repo digest with the registry's manifest digest for the same tag (HEAD " +
          'manifest, with the credentials configured for the registry). 401 REGISTRY_UNAUTHORIZED / 403 ' +
          'REGISTRY_DENIED when the registry refuses them, 404 when the registry has no such tag, 502 when it ' +
          'cannot be reached.',
        params: ImageParams,
        response: { 200: UpdateCheck, ...problemResponses(400, 401, 403, 404, 502, 503) },
      },
    },
    async (request) => checkUpdate(app.docker, app.registry.client, request.params.id, clock),
  );

  app.post(
    '/build',
    {
      config: { audit: 'image.build', stream: true },
      schema: {
        tags,
        summary: 'Build an image from a tar context',
        description:
          `The request body is the build context as a tar (optionally gzipped) archive with Content-Type ` +
          `application/x-tar; at most DOCKER_AGENT_BUILD_MAX_BYTES (413 beyond). Streams NDJSON builder output; ` +
          `a failing step ends the stream with \`{"type":"error","code":"BUILD_FAILED"}\`. Refused (403): a tag a ` +
          `guarded container runs, Dockerfile images (FROM, COPY --from, RUN --mount from) outside the image allowlist ` +
          `or not resolvable without build arguments, reserved LABELs.`,
        querystring: BuildQuery,
        consumes: TAR_TYPES,
        response: { 200: buildResponse, ...problemResponses(400, 401, 403, 413, 415, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
      if (!TAR_TYPES.includes(type) || !(request.body instanceof Readable)) {
        throw new UnsupportedMediaTypeError(`build context must be sent as application/x-tar, not "${type}"`);
      }
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > buildMaxBytes) {
        throw new ContextTooLargeError(`build context of ${declared} bytes exceeds ${buildMaxBytes} bytes`);
      }
      if (request.query.t) request.audit.target = request.query.t;
      const abort = new AbortController();
      const events = await openBuild(
        app.docker,
        { policy, guard, protectLabel },
        request.body,
        request.query,
        buildMaxBytes,
        abort.signal,
      );
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
        description:
          'An image used by a container is a 409 unless force=true; one a guarded container runs (by its tag or id) is a 403.',
        params: ImageParams,
        querystring: RemoveImageQuery,
        response: { 200: RemovedImage, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => removeImage(app.docker, guard, request.params.id, request.query),
  );
};
