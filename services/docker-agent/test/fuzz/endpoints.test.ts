import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, makeApp, requireEngine } from '../support/helpers.ts';
import { startRegistry, type TestRegistry } from '../support/registry.ts';
import { isPublicRoute, registeredRoutes } from '../support/routes.ts';

/**
 * Property-based fuzzing of every registered route (read from Fastify's route tree): hostile
 * params, query strings, bodies, content types and headers. Whatever arrives, the agent answers
 * below 500, every 4xx is an RFC 9457 problem, nothing pollutes Object.prototype, and the app keeps
 * answering. FUZZ_SEED / FUZZ_RUNS reproduce or deepen a run; fast-check prints the seed and path
 * of a failure.
 *
 * Safety on the shared engine: every parameter that could name something real is prefixed
 * `da-fz-nx-` (so destructive routes only ever meet ids that do not exist), names in bodies get
 * `da-fz-`, image references point at the test's own loopback registry, subnets at one private
 * /28, and prune always runs as a dry run. Whatever a valid body does create is recorded from the
 * 201 answer (plus named volumes a created container brought along) and removed afterwards.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_240_601);
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const WRITE_KEY = 'fuzz-writer-0123456789';
const BUSYBOX = 'local/busybox:1';

const engine = await requireEngine();
const app: FastifyInstance = await makeApp({
  API_KEYS: `fuzzer:write:${WRITE_KEY}`,
  DOCKER_AGENT_HEARTBEAT_MS: '60000',
});
const routes = registeredRoutes(app);

/** The JSON Schema subset zod emits for our request schemas. */
interface Schema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  propertyNames?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
}
interface Operation {
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  parameters?: { in: string; name: string; schema?: Schema }[];
}
const openapi = (await app.inject({ method: 'GET', url: '/api/v1/docs/agent/json' })).json() as {
  paths: Record<string, Record<string, Operation>>;
};
/** The route's documented body schema and query parameters, so that the fuzzer also sends valid requests. */
function documented(method: string, url: string): { body?: Schema; query: Record<string, Schema> } {
  const path = url.replace(/:([a-zA-Z]+)/g, '{$1}');
  const methods = openapi.paths[path] ?? openapi.paths[`${path}/`] ?? openapi.paths[path.replace(/\/$/, '')];
  const op = methods?.[method.toLowerCase()];
  const body = op?.requestBody?.content?.['application/json']?.schema;
  return {
    ...(body ? { body } : {}),
    query: Object.fromEntries(
      (op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, p.schema ?? {}]),
    ),
  };
}

// ---- arbitraries -------------------------------------------------------------------------------

const HOSTILE = [
  '',
  '.',
  '..',
  '../',
  '../../etc/passwd',
  '..\\..\\windows',
  '%2e%2e',
  '%2e%2e%2f%2e%2e',
  '\u0000',
  'a\u0000b',
  '\r\nX-Injected: 1',
  ' ',
  '-rf',
  '--privileged',
  '😀',
  'é',
  'İstanbul',
  '\u202egnp.exe',
  '\ud800',
  'ａｄｍｉｎ',
  '__proto__',
  'constructor',
  'prototype',
  '\u0024{HOME}',
  '$(id)',
  '`id`',
  '/var/run/docker.sock',
  '/',
  'host',
  'container:x',
  BUSYBOX,
  'sha256:0000',
  'a'.repeat(129),
  'a'.repeat(256),
  'x'.repeat(5000),
];
const text = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTILE), weight: 4 },
  { arbitrary: fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,24}$/), weight: 3 },
  { arbitrary: fc.string({ maxLength: 24 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 24 }), weight: 1 },
  { arbitrary: fc.integer({ min: 1000, max: 70_000 }).map((n) => 'A'.repeat(n)), weight: 1 },
);
const scalar = fc.oneof(
  text,
  fc.boolean(),
  fc.constant(null),
  fc.integer(),
  fc.constantFrom(-1, 0, 1, 65_536, 2 ** 53, 1e308, 0.5),
);
const key = (known: string[]) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...known, '__proto__', 'constructor', 'prototype'), weight: 3 },
    { arbitrary: text, weight: 1 },
  );
const { junk } = fc.letrec((tie) => ({
  junk: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('junk'), { maxLength: 4 }),
    fc.dictionary(key([]), tie('junk'), { maxKeys: 4 }),
  ),
}));
/** Values that are plausible for most fields: booleans, names, string lists and maps. */
const plausible = fc.oneof(
  fc.boolean(),
  text,
  fc.array(text, { maxLength: 3 }),
  fc.dictionary(text, text, { maxKeys: 3 }),
  fc.integer({ min: -5, max: 1000 }),
  junk,
);

/** A value the schema accepts (mostly: patterns and bounds are honoured, refinements are not). */
function valid(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => valid(s, depth + 1)));
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: schema.minimum ?? 0, max: Math.min(schema.maximum ?? 1000, 1_000_000) });
    case 'number':
      return fc.double({
        min: schema.exclusiveMinimum ?? schema.minimum ?? 0,
        max: schema.maximum ?? 1000,
        minExcluded: schema.exclusiveMinimum !== undefined,
        noNaN: true,
      });
    case 'string': {
      const max = Math.min(schema.maxLength ?? 40, 40);
      if (schema.format === 'ipv4') return fc.ipV4();
      if (schema.format === 'ipv6') return fc.ipV6();
      if (schema.pattern) {
        try {
          return fc
            .stringMatching(new RegExp(schema.pattern))
            .filter((v) => v.length >= (schema.minLength ?? 0) && v.length <= (schema.maxLength ?? 4096));
        } catch {
          return fc.string({ minLength: schema.minLength ?? 0, maxLength: max });
        }
      }
      return fc.string({ minLength: Math.min(schema.minLength ?? 0, max), maxLength: max });
    }
    case 'array':
      return depth > 4 ? fc.constant([]) : fc.array(valid(schema.items ?? {}, depth + 1), { maxLength: 3 });
    case 'object': {
      if (depth > 4) return fc.constant({});
      if (schema.properties) {
        const props = Object.fromEntries(
          Object.entries(schema.properties).map(([k, s]) => [
            k,
            k === 'image' ? fc.oneof(fc.constant(BUSYBOX), valid(s, depth + 1)) : valid(s, depth + 1),
          ]),
        );
        return fc.record(props, { requiredKeys: schema.required ?? [] });
      }
      const values = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : {};
      const keys = schema.propertyNames ? (valid(schema.propertyNames, depth + 1) as fc.Arbitrary<string>) : text;
      return fc.dictionary(keys, valid(values, depth + 1), { maxKeys: 3 });
    }
    default:
      return junk;
  }
}

/** A valid object with its required fields and at most two optional ones (the usual real request). */
function sparse(schema: Schema): fc.Arbitrary<unknown> {
  const props = schema.properties;
  if (!props) return valid(schema);
  const required = schema.required ?? [];
  const optional = Object.keys(props).filter((k) => !required.includes(k));
  return fc
    .uniqueArray(fc.constantFrom(...(optional.length ? optional : [''])), { maxLength: 2 })
    .chain((picked) => valid({ ...schema, properties: pick(props, [...required, ...picked.filter(Boolean)]) }));
}
const pick = (props: Record<string, Schema>, keys: string[]) =>
  Object.fromEntries(keys.flatMap((k) => (props[k] ? [[k, props[k]] as const] : [])));

/** A valid object with one field broken: junk in place of a value, or an extra (maybe prototype) key. */
const mutated = (schema: Schema) =>
  fc
    .tuple(valid(schema), key(Object.keys(schema.properties ?? {})), junk)
    .map(([v, k, j]) => (v && typeof v === 'object' && !Array.isArray(v) ? { ...(v as object), [k]: j } : v));

const RAW_PAYLOADS = [
  '{"image": ',
  '{"__proto__": {"polluted": true}, "image": "x"}',
  '{"constructor": {"prototype": {"polluted": true}}}',
  '{"a":1,"a":2}',
  '[]',
  'null',
  '0',
  '""',
  '\u0000',
  '\ufeff{}',
  `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
  `{"x":"${'y'.repeat(1_100_000)}"}`,
  'services:\n  x:\n    image: a\n',
];

function bodyFor(schema: Schema | undefined) {
  const known = Object.keys(schema?.properties ?? {});
  const shaped = fc
    .uniqueArray(fc.constantFrom(...(known.length ? known : ['x'])), { maxLength: 5 })
    .chain((keys) => fc.tuple(...keys.map((k) => plausible.map((v) => [k, v] as const))))
    .map((pairs) => Object.fromEntries(pairs) as unknown);
  return fc.oneof(
    { arbitrary: (schema ? sparse(schema) : junk).map((json) => ({ json })), weight: 3 },
    { arbitrary: (schema ? valid(schema) : junk).map((json) => ({ json })), weight: 2 },
    { arbitrary: (schema ? mutated(schema) : junk).map((json) => ({ json })), weight: 3 },
    { arbitrary: shaped.map((json) => ({ json })), weight: 2 },
    { arbitrary: junk.map((json) => ({ json })), weight: 2 },
    { arbitrary: fc.constantFrom(...RAW_PAYLOADS).map((raw) => ({ raw })), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => ({ raw: Buffer.from(bytes) })), weight: 1 },
    { arbitrary: fc.constant({ none: true as const }), weight: 1 },
  );
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/x-tar',
  'application/gzip',
  'application/problem+json',
  'application/x-ndjson',
  ';;;',
  'application/json\u0000',
];
const contentType = fc.option(fc.oneof(fc.constantFrom(...CONTENT_TYPES), fc.stringMatching(/^[\x21-\x7e]{1,40}$/)), {
  freq: 8,
});

const headerValue = fc.oneof(
  fc.stringMatching(/^[\x20-\x7e]{0,80}$/),
  fc.integer({ min: 8_000, max: 40_000 }).map((n) => 'h'.repeat(n)),
);
const extraHeaders = fc.dictionary(
  fc.constantFrom(
    'x-request-id',
    'x-forwarded-for',
    'x-forwarded-proto',
    'accept',
    'accept-encoding',
    'content-encoding',
    'if-none-match',
    'range',
    'origin',
    'x-junk',
    'cookie',
  ),
  headerValue,
  { maxKeys: 3 },
);
const auth = fc.constantFrom<Record<string, string>>(
  { 'x-api-key': WRITE_KEY },
  { authorization: `Bearer ${WRITE_KEY}` },
);

/** Path parameters: generated values (URL-encoded) or raw hostile path fragments. */
const RAW_PARAMS = ['..', '.', '%2e%2e', '..%2f..%2fetc', '%00', 'a%00b', '%zz', '%c0%ae%c0%ae', '%ff', '%2F', '%252e'];
const param = fc.oneof(
  { arbitrary: text.map((v) => ({ value: v })), weight: 5 },
  { arbitrary: fc.constantFrom(...RAW_PARAMS).map((raw) => ({ raw })), weight: 1 },
);

const queryFor = (documented: Record<string, Schema>) =>
  fc.oneof(
    {
      arbitrary: fc.record(Object.fromEntries(Object.entries(documented).map(([k, schema]) => [k, valid(schema)])), {
        requiredKeys: [],
      }) as fc.Arbitrary<Record<string, unknown>>,
      weight: 3,
    },
    {
      arbitrary: fc.dictionary(
        key(Object.keys(documented)),
        fc.oneof(
          fc.constantFrom('true', 'false', '1', '0', 'yes', '', 'all', '10m', '-1', '1e9', '2024-01-01T00:00:00Z'),
          text,
          fc.array(text, { maxLength: 3 }),
        ),
        { maxKeys: 4 },
      ),
      weight: 3,
    },
    {
      arbitrary: fc
        .constantFrom('a=%zz', '__proto__[x]=1', '%00=1', 'all=true&all=false', '&&&=', 't=a&t=b', '=x', 'a[]=1&a[]=2')
        .map((raw) => ({ raw })),
      weight: 1,
    },
  );

// ---- defanging: nothing the fuzzer sends may touch what it did not create -----------------------

/** Could pass one of the agent's id/name/image patterns (a superset of them all). */
const couldName = (v: string) => /^[a-zA-Z0-9][a-zA-Z0-9._\-/:@]*$/.test(v);
const ACCEPTED_TEXT = (v: string) => couldName(v) && !/\.\.|\/\//.test(v);

let registry: TestRegistry;
const missingImage = () => `${registry.host}/da-fz-nx/missing:1`;

/** encodeURIComponent, except that a lone surrogate goes out as the UTF-8 bytes Node would send. */
const percentEncode = (v: string) =>
  v.isWellFormed()
    ? encodeURIComponent(v)
    : [...Buffer.from(v, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

function defangParam(p: { value?: string; raw?: string }, url = ''): string {
  if (p.raw !== undefined) return p.raw;
  const v = p.value ?? '';
  // Update checks ask the image's registry: only the test registry is ever asked.
  if (url === '/api/v1/images/:id/update' && ACCEPTED_TEXT(v)) return encodeURIComponent(missingImage());
  return percentEncode(ACCEPTED_TEXT(v) ? `da-fz-nx-${v}` : v);
}

function defangQuery(q: Record<string, unknown> | { raw: string }): string {
  if ('raw' in q && typeof q.raw === 'string') return q.raw;
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    for (const item of Array.isArray(v) ? v : [v]) {
      const s = String(item);
      search.append(k, k === 't' && ACCEPTED_TEXT(s) ? `da-fz-${s}` : s);
    }
  }
  const s = search.toString();
  return s;
}

function defangBody(method: string, url: string, body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const b = { ...(body as Record<string, unknown>) };
  const route = url.replace(/\/$/, '');
  if (typeof b.name === 'string' && ACCEPTED_TEXT(b.name)) b.name = `da-fz-${b.name}`.slice(0, 63).toLowerCase();
  // Only the test registry is ever pulled from; the local image may only be used as present.
  const pulls = route === '/api/v1/images/pull';
  if (typeof b.image === 'string' && (pulls || b.image !== BUSYBOX) && ACCEPTED_TEXT(b.image)) b.image = missingImage();
  if (route === '/api/v1/containers' && b.start === true) delete b.ports; // never publish host ports
  if (route === '/api/v1/networks') {
    if (typeof b.subnet === 'string' && /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(b.subnet)) b.subnet = '10.254.254.0/28';
    if (typeof b.gateway === 'string' && /^\d{1,3}(\.\d{1,3}){3}$/.test(b.gateway)) b.gateway = '10.254.254.1';
  }
  // An unknown volume driver makes the engine poll for a plugin for ~15 s; one such call proves nothing more.
  if (route === '/api/v1/volumes' && typeof b.driver === 'string' && ACCEPTED_TEXT(b.driver)) b.driver = 'local';
  if (Array.isArray(b.mounts)) {
    b.mounts = b.mounts.map((m: unknown) => {
      const options = (m as { volumeOptions?: { driver?: unknown } } | null)?.volumeOptions;
      return options && typeof options === 'object' && typeof options.driver === 'string'
        ? { ...(m as object), volumeOptions: { ...options, driver: 'local' } }
        : m;
    });
  }
  if (route === '/api/v1/system/prune' && method === 'POST' && (b.dryRun === undefined || b.dryRun === false)) {
    b.dryRun = true;
  }
  return b;
}

// ---- what the fuzzer created, removed afterwards ------------------------------------------------

const created = { containers: new Set<string>(), volumes: new Set<string>(), networks: new Set<string>() };
let volumesBefore = new Set<string>();

function record(url: string, r: LightMyRequestResponse) {
  if (r.statusCode !== 201) return;
  const body = r.json() as { id?: string; name?: string };
  const route = url.replace(/\/$/, '');
  if (route === '/api/v1/containers' && body.id) created.containers.add(body.id);
  if (route === '/api/v1/volumes' && body.name) created.volumes.add(body.name);
  if (route === '/api/v1/networks' && body.id) created.networks.add(body.id);
}

// ---- the invariants -----------------------------------------------------------------------------

function checkAnswer(method: string, r: LightMyRequestResponse) {
  const where = `${r.statusCode} ${r.headers['content-type'] ?? ''} ${r.body.slice(0, 300)}`;
  expect(r.statusCode, where).toBeLessThan(500);
  expect(r.statusCode, where).toBeGreaterThanOrEqual(200);
  expect(({} as Record<string, unknown>).polluted, 'Object.prototype polluted').toBeUndefined();
  if (method === 'HEAD') return;
  if (r.statusCode >= 400) {
    expect(r.headers['content-type'], where).toContain('application/problem+json');
    const problem = r.json() as Record<string, unknown>;
    expect(problem, where).toMatchObject({
      type: expect.any(String),
      title: expect.any(String),
      status: r.statusCode,
      detail: expect.any(String),
      code: expect.stringMatching(/^[A-Z][A-Z_]+$/),
    });
  } else if (String(r.headers['content-type']).includes('ndjson')) {
    for (const line of r.body.split('\n').filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow();
  }
}

describe.runIf(engine)('fuzzing every endpoint (fast-check, real engine)', () => {
  beforeAll(async () => {
    registry = await startRegistry();
    volumesBefore = new Set((await app.docker.listVolumes()).map((v) => v.Name));
  });
  afterAll(async () => {
    const docker = app.docker;
    console.info(
      `fuzz (seed ${SEED}, ${RUNS} runs per route): created and removed ${created.containers.size} containers, ` +
        `${created.networks.size} networks, ${created.volumes.size} volumes (before adding container volumes)`,
    );
    for (const id of created.containers) {
      const info = await docker.inspectContainer(id).catch(() => undefined);
      for (const m of info?.Mounts ?? []) {
        if (m.Type === 'volume' && m.Name && !volumesBefore.has(m.Name)) created.volumes.add(m.Name);
      }
      await docker.removeContainer(id, { force: true, volumes: true }).catch(() => undefined);
    }
    for (const name of created.volumes) await docker.removeVolume(name, true).catch(() => undefined);
    for (const id of created.networks) await docker.removeNetwork(id).catch(() => undefined);
    await cleanup(docker, 'da-fz-');
    await app.close();
    await registry?.close();
    engine?.close();
  });

  it('enumerates the routes it fuzzes from the app itself', () => {
    expect(routes.length).toBeGreaterThan(60);
    expect(routes.filter((r) => !isPublicRoute(r.url)).length).toBeGreaterThan(45);
  });

  for (const [index, { method, url }] of routes.entries()) {
    const known = documented(method, url);
    it(`${method} ${url}`, { timeout: 120_000 }, async () => {
      const request = fc.record({
        params: fc.array(param, { minLength: 3, maxLength: 3 }),
        query: fc.option(queryFor(known.query), { freq: 3 }),
        body: bodyFor(known.body),
        contentType,
        auth,
        headers: extraHeaders,
      });
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(request, async (req) => {
          runs++;
          let i = 0;
          const path = url
            .replace(/:([a-zA-Z]+)/g, () => defangParam(req.params[i++] ?? { value: 'x' }, url))
            .replace(/\*$/, defangParam(req.params[2] ?? { value: 'x' }));
          const query = req.query ? defangQuery(req.query as Record<string, unknown>) : '';
          const headers: Record<string, string> = { ...req.headers, ...req.auth };
          if (req.contentType !== null) headers['content-type'] = req.contentType;
          const hasBody = method !== 'GET' && method !== 'HEAD' && ('json' in req.body || 'raw' in req.body);
          const payload = !hasBody
            ? undefined
            : 'raw' in req.body
              ? req.body.raw
              : JSON.stringify(defangBody(method, url, 'json' in req.body ? req.body.json : null) ?? null);
          const r = await app.inject({
            method: method as 'GET',
            url: `${path}${query ? `?${query}` : ''}`,
            headers,
            ...(payload === undefined ? {} : { payload }),
            remoteAddress: '127.0.0.1',
          });
          record(url, r);
          checkAnswer(method, r);
        }),
        { seed: SEED + index, numRuns: RUNS, timeout: 20_000, markInterruptAsFailure: true },
      );
      expect(runs).toBeGreaterThanOrEqual(RUNS);
      const health = await app.inject({ method: 'GET', url: '/health' });
      expect(health.statusCode).toBe(200);
    });
  }
});
