import { ProblemSchema } from '@repo/service-kit';
import { z } from 'zod';

/**
 * Shared primitives. Identifiers end up inside Docker API paths (dockerode does not escape them), so
 * they are held to Docker's own character sets here: no slashes, dots-only segments, spaces or
 * control characters get as far as the engine.
 */
export const ResourceRef = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must be an id or name: letters, digits, "_", "." or "-" (max 128)')
  .describe('Id (full or unique prefix) or name');

export const ResourceName = z
  .string()
  .max(128)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, 'must be a name: letters, digits, "_", "." or "-" (2-128 characters)');

/** repository[:tag][@digest], an image id, or sha256:<hex>. */
export const ImageRef = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._\-/:@]*$/, 'must be an image reference like "repo/name:tag" or an image id')
  .refine((s) => !s.includes('..') && !s.includes('//') && !s.endsWith('/'), 'must be an image reference')
  .describe('Image reference (repository[:tag][@digest]) or id');

export const ProjectName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a compose project name: lowercase letters, digits, "_" or "-"')
  .describe('Compose project name');

export const LabelKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._/-]*$/, 'must be a label key: letters, digits, ".", "_", "/" or "-"');
export const Labels = z.record(LabelKey, z.string().max(4096));

/** `key` or `key=value`, as Docker's label filters take them. */
export const LabelFilter = z
  .string()
  .max(4352)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._/-]*(=[^\0\r\n]*)?$/, 'must be "key" or "key=value"');

/** Query booleans: `true/false/1/0`; `z.coerce.boolean` would read "false" as true. */
export const BoolQuery = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1')
  .describe('true or false');

/** A query parameter that may be repeated (`?label=a&label=b`). */
export const RepeatedQuery = <T extends z.ZodType<string>>(item: T) =>
  z.union([item, z.array(item)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);

/** The answer to a state change; `changed: false` is Docker's 304 (already in that state). */
export const ActionResult = z
  .object({
    id: z.string(),
    action: z.string(),
    changed: z.boolean(),
    message: z.string(),
  })
  .meta({ id: 'ActionResult' });
export type ActionResult = z.infer<typeof ActionResult>;

export const ErrorEvent = z
  .object({ type: z.literal('error'), code: z.string(), message: z.string(), status: z.number().int() })
  .describe('Last line of a stream that failed after it started');
export const HeartbeatEvent = z
  .object({ type: z.literal('heartbeat'), ts: z.string() })
  .describe('Sent on quiet streams so proxies keep the connection');

export const NDJSON = 'application/x-ndjson';

/** A 200 answer that is an NDJSON stream: one `event` per line (plus heartbeats and a final error). */
export function ndjsonResponse(event: z.ZodType, description: string) {
  return {
    description,
    content: { [NDJSON]: { schema: z.union([event, HeartbeatEvent, ErrorEvent]) } },
  };
}

export { ProblemSchema };
