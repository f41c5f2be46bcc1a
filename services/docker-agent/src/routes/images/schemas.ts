import { z } from 'zod';
import { RegistryAuthBody } from '../../registry/schemas.ts';
import { BoolQuery, ImageRef, LabelFilter, Labels, ndjsonResponse, RepeatedQuery } from '../../schemas/common.ts';

export const ImageParams = z.object({
  id: ImageRef.describe('Image id or reference; URL-encode "/" (local%2Fbusybox:1)'),
});

export const ListImagesQuery = z.strictObject({
  all: BoolQuery.default(false).describe('Include intermediate images'),
  label: RepeatedQuery(LabelFilter).optional(),
  reference: z
    .string()
    .max(255)
    .regex(/^[a-zA-Z0-9*][a-zA-Z0-9._\-/:@*]*$/, 'must be a reference pattern')
    .optional(),
  dangling: BoolQuery.optional(),
});

export const ImageSummary = z
  .object({
    id: z.string(),
    repoTags: z.array(z.string()),
    repoDigests: z.array(z.string()),
    created: z.string(),
    size: z.number(),
    containers: z.number(),
    labels: z.record(z.string(), z.string()),
  })
  .meta({ id: 'ImageSummary' });
export const ImageList = z.object({ images: z.array(ImageSummary), count: z.number() });

export const ImageDetail = z
  .object({
    id: z.string(),
    repoTags: z.array(z.string()),
    repoDigests: z.array(z.string()),
    created: z.string(),
    size: z.number(),
    architecture: z.string(),
    os: z.string(),
    author: z.string(),
    config: z.object({
      cmd: z.array(z.string()),
      entrypoint: z.array(z.string()),
      env: z.array(z.string()),
      workingDir: z.string(),
      exposedPorts: z.array(z.string()),
      labels: z.record(z.string(), z.string()),
    }),
    layers: z.array(z.string()),
  })
  .meta({ id: 'ImageDetail' });

export const PullBody = z.strictObject({
  image: ImageRef.describe('Image to pull, e.g. "redis:latest" (tag defaults to latest)'),
  auth: RegistryAuthBody.optional(),
});

export const BuildQuery = z.strictObject({
  t: ImageRef.optional().describe('Tag for the built image'),
  dockerfile: z
    .string()
    .max(255)
    .regex(/^[a-zA-Z0-9_.][a-zA-Z0-9_./-]*$/, 'must be a path inside the context')
    .refine((p) => !p.split('/').includes('..'), 'must stay inside the context')
    .default('Dockerfile'),
  nocache: BoolQuery.default(false),
});

export const RemoveImageQuery = z.strictObject({
  force: BoolQuery.default(false),
  noprune: BoolQuery.default(false).describe('Keep untagged parents'),
});

export const RemovedImage = z.object({
  id: z.string(),
  deleted: z.array(z.string()),
  untagged: z.array(z.string()),
});

export const ProgressEvent = z
  .object({
    type: z.literal('progress'),
    status: z.string(),
    id: z.string().optional(),
    current: z.number().optional(),
    total: z.number().optional(),
  })
  .describe('Docker pull progress');
export const PullDone = z.object({ type: z.literal('done'), image: z.string(), id: z.string() });
export const BuildEvent = z.union([
  z.object({ type: z.literal('build'), message: z.string() }).describe('A line of builder output'),
  z.object({ type: z.literal('aux'), imageId: z.string() }),
  z.object({ type: z.literal('done'), imageId: z.string().nullable(), tags: z.array(z.string()) }),
]);

export const pullResponse = ndjsonResponse(z.union([ProgressEvent, PullDone]), 'NDJSON pull progress, then `done`');
export const buildResponse = ndjsonResponse(BuildEvent, 'NDJSON builder output, then `done`');

export { Labels };
