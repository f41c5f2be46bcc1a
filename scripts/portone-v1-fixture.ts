/**
 * Regenerates packages/portone-emulator/test/fixtures/portone-v1.json, the facts the emulator's spec
 * test checks answers against, from PortOne's published V1 description (Swagger 2.0):
 *
 *   node scripts/portone-v1-fixture.ts <v1.openapi.json> --document '<where the file came from>'
 *
 * Kept: for every operation, the object its 200 answer declares; for every object reachable from
 * those, field names, types, `required` lists, `maxLength` and `enum`. Dropped: prose (descriptions,
 * examples, defaults, titles) and PortOne's `x-*` extensions. Numeric keywords PortOne writes as
 * strings (`"maxLength": "80"`) become numbers. A keyword this script does not know stops it, so a
 * newer description cannot lose a fact silently. Tests never run this script; they read its output.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** A field's type in the fixture: a primitive, an array, a named object (`ref`) or an inline object. */
export interface FieldType {
  type?: string;
  ref?: string;
  items?: FieldType;
  fields?: Record<string, FieldType>;
  required?: string[];
  maxLength?: number;
  minLength?: number;
  maximum?: number;
  minimum?: number;
  enum?: unknown[];
  format?: string;
}
/** A named object: the objects it extends (Swagger's allOf of a $ref), its own fields and required list. */
export interface ObjectType {
  extends?: string[];
  fields?: Record<string, FieldType>;
  required?: string[];
}

type Node = Record<string, unknown>;
const PROSE = new Set(['description', 'example', 'default', 'title']);
const NUMERIC = new Set(['maxLength', 'minLength', 'maximum', 'minimum']);

function refName(ref: unknown): string {
  const match = typeof ref === 'string' ? /^#\/definitions\/(.+)$/.exec(ref) : null;
  if (!match?.[1]) throw new Error(`unsupported $ref ${JSON.stringify(ref)}`);
  return match[1];
}

function fieldType(node: Node, at: string): FieldType {
  const out: FieldType = {};
  for (const [key, value] of Object.entries(node)) {
    if (PROSE.has(key) || key.startsWith('x-')) continue;
    if (key === '$ref') out.ref = refName(value);
    else if (key === 'type' || key === 'format') out[key] = String(value);
    else if (NUMERIC.has(key)) out[key as 'maxLength'] = Number(value);
    else if (key === 'enum') out.enum = value as unknown[];
    else if (key === 'items') out.items = fieldType(value as Node, `${at}[]`);
    else if (key === 'properties') out.fields = fields(value as Node, at);
    else if (key === 'required') out.required = value as string[];
    else throw new Error(`${at}: unknown keyword ${key}`);
  }
  return out;
}

function fields(properties: Node, at: string): Record<string, FieldType> {
  return Object.fromEntries(
    Object.entries(properties).map(([name, n]) => [name, fieldType(n as Node, `${at}.${name}`)]),
  );
}

function objectType(node: Node, name: string): ObjectType {
  const out: ObjectType = {};
  const parts = Array.isArray(node.allOf) ? (node.allOf as Node[]) : [node];
  for (const part of parts) {
    if (part.$ref) {
      out.extends = [...(out.extends ?? []), refName(part.$ref)];
      continue;
    }
    const own = fieldType(part, name);
    if (own.type !== undefined && own.type !== 'object') throw new Error(`${name}: not an object (${own.type})`);
    if (own.fields) out.fields = { ...out.fields, ...own.fields };
    if (own.required) out.required = [...(out.required ?? []), ...own.required];
  }
  return out;
}

function refsOf(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) refsOf(v, into);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if ((key === 'ref' || key === 'extends') && typeof v === 'string') into.add(v);
      else if (key === 'extends' && Array.isArray(v)) for (const name of v) into.add(name);
      else refsOf(v, into);
    }
  }
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      document: { type: 'string' },
      out: { type: 'string', default: 'packages/portone-emulator/test/fixtures/portone-v1.json' },
    },
  });
  const input = positionals[0];
  if (!input || !values.document) {
    console.error("usage: node scripts/portone-v1-fixture.ts <v1.openapi.json> --document '<origin>' [--out file]");
    process.exit(2);
  }
  const spec = JSON.parse(readFileSync(input, 'utf8')) as {
    swagger: string;
    info: { title?: string; version?: string };
    host?: string;
    basePath?: string;
    paths: Record<string, Record<string, { responses?: Record<string, { schema?: Node }> }>>;
    definitions: Record<string, Node>;
  };

  const responses: Record<string, FieldType> = {};
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const schema = operation.responses?.['200']?.schema;
      if (schema) responses[`${method.toUpperCase()} ${path}`] = fieldType(schema, `${method} ${path}`);
    }
  }
  const objects: Record<string, ObjectType> = {};
  const pending = new Set<string>();
  refsOf(responses, pending);
  for (const name of pending) {
    if (objects[name]) continue;
    const definition = spec.definitions[name];
    if (!definition) throw new Error(`${name} is referenced but not defined`);
    objects[name] = objectType(definition, name);
    refsOf(objects[name], pending);
  }

  const fixture = {
    source: {
      api: 'PortOne V1 REST API',
      title: spec.info.title,
      version: spec.info.version,
      host: spec.host,
      basePath: spec.basePath,
      format: `Swagger ${spec.swagger}`,
      document: values.document,
      extracted: new Date().toISOString().slice(0, 10),
      by: 'scripts/portone-v1-fixture.ts',
    },
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b))),
    objects: Object.fromEntries(Object.entries(objects).sort(([a], [b]) => a.localeCompare(b))),
  };
  writeFileSync(values.out, `${JSON.stringify(fixture, null, 2)}\n`);
  console.info(
    `${values.out}: ${Object.keys(fixture.responses).length} operations, ${Object.keys(fixture.objects).length} objects`,
  );
}

main();
