import fastJson from 'fast-json-stringify';
import type { FastifyRouteSchemaDef } from 'fastify/types/schema.js';
import { serializerCompiler } from 'fastify-type-provider-zod';
import { type ZodType, z } from 'zod';

/**
 * For the hot reads (container inspect and list): their 200 answer is written by Fastify's compiled
 * serializer (fast-json-stringify), built from the same zod schema, instead of a zod parse (which
 * copies the whole answer) followed by JSON.stringify: an inspect answer in ~3 µs instead of ~13,
 * with a copy of it less to collect. Properties the schema does not name are left out as before; the
 * answer is built field by field in to-api.ts, whose types are the schema's. Other statuses (the
 * problem bodies) keep the zod serializer.
 */
export function compiledOkSerializer<T>(route: FastifyRouteSchemaDef<T>): (data: unknown) => string {
  if (route.httpStatus !== '200') return serializerCompiler(route as FastifyRouteSchemaDef<ZodType>);
  // Compiled at the first answer, not at start-up: the compiled code is ~1.3 MiB of an idle agent's RSS.
  let serialize: ((data: unknown) => string) | undefined;
  return (data) => {
    serialize ??= fastJson(
      z.toJSONSchema(route.schema as ZodType, { io: 'output', target: 'draft-7' }) as fastJson.AnySchema,
    );
    return serialize(data);
  };
}
