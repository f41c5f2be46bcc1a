import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { type Logger, pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AppError,
  auth,
  ConfigError,
  env,
  envFilePath,
  envJsonSchema,
  fastifyOptions,
  loadConfig,
  loggerOptions,
  NotFoundError,
  parseApiKeys,
  parseConfig,
  problemHandler,
  redactLine,
  useZod,
} from '../src/index.ts';

async function app(keys: string[] = [], options: { trustedProxies?: string[]; localHosts?: string[] } = {}) {
  const app = Fastify({
    ...fastifyOptions({ name: 't', logLevel: 'silent', trustedProxies: options.trustedProxies ?? [] }),
  });
  useZod(app);
  await app.register(problemHandler);
  await app.register(auth, { keys: parseApiKeys(keys), localHosts: options.localHosts });
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.post(
    '/things',
    { schema: { body: z.strictObject({ amount: z.number().int().positive(), name: z.string() }) } },
    async (req) => ({ got: req.body.amount }),
  );
  typed.get('/things/:id', async () => {
    throw new NotFoundError('no thing 7');
  });
  typed.get('/clash', async () => {
    throw new AppError('CLASH', 409, 'clash', { details: { status: 'paid', code: 'X', expected: 1 } });
  });
  typed.get('/boom', async () => {
    throw new Error('secret internals');
  });
  typed.get('/public', { schema: { security: [] } }, async () => ({ ok: true }));
  return app;
}

describe('problem handler', () => {
  it('names every invalid, missing and unknown field in a 400 problem body', async () => {
    const a = await app();
    const res = await a.inject({ method: 'POST', url: '/things', payload: { amount: -1, extra: 1 } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const fields = res
      .json()
      .issues.map((i: { field: string }) => i.field)
      .sort();
    expect(fields).toEqual(['body.amount', 'body.extra', 'body.name']);
    expect(res.json()).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', title: 'Bad Request' });
  });

  it('answers malformed JSON with 400, not 500', async () => {
    const a = await app();
    const res = await a.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'application/json' },
      payload: '{"amount":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('FST_ERR_CTP_INVALID_JSON_BODY');
  });

  it('maps known errors to their status and hides unknown ones behind a generic 500', async () => {
    const a = await app();
    expect((await a.inject('/things/7')).json()).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      detail: 'no thing 7',
    });
    const boom = await a.inject('/boom');
    expect(boom.statusCode).toBe(500);
    expect(boom.body).not.toContain('secret internals');
    expect((await a.inject('/nope')).json()).toMatchObject({ status: 404, code: 'ROUTE_NOT_FOUND' });
    const clash = await a.inject('/clash');
    expect(clash.statusCode).toBe(409);
    expect(clash.json()).toMatchObject({ status: 409, code: 'CLASH', expected: 1 });
  });
});

describe('auth', () => {
  const keys = ['ops:write:0123456789abcdef0123', 'viewer:read:fedcba9876543210fedc'];

  it('refuses a missing or wrong key and a read-only key on a write', async () => {
    const a = await app(keys);
    expect((await a.inject('/things/1')).statusCode).toBe(401);
    expect((await a.inject({ url: '/things/1', headers: { 'x-api-key': 'wrong-key-wrong-key' } })).statusCode).toBe(
      401,
    );
    const readOnly = await a.inject({
      method: 'POST',
      url: '/things',
      headers: { 'x-api-key': 'fedcba9876543210fedc' },
      payload: { amount: 1, name: 'x' },
    });
    expect(readOnly.statusCode).toBe(403);
    const write = await a.inject({
      method: 'POST',
      url: '/things',
      headers: { authorization: 'Bearer 0123456789abcdef0123' },
      payload: { amount: 1, name: 'x' },
    });
    expect(write.json()).toEqual({ got: 1 });
    expect((await a.inject('/public')).statusCode).toBe(200);
  });

  it('in local mode answers loopback and refuses other addresses', async () => {
    const a = await app();
    expect((await a.inject({ url: '/public', remoteAddress: '10.1.2.3' })).statusCode).toBe(200);
    expect((await a.inject({ url: '/things/1', remoteAddress: '127.0.0.1' })).statusCode).toBe(404);
    expect((await a.inject({ url: '/things/1', remoteAddress: '10.1.2.3' })).statusCode).toBe(403);
  });

  it('in local mode judges the real client, not the hop: a proxy forwarding for anyone else needs a key', async () => {
    const a = await app([], { trustedProxies: ['10.0.0.0/8'] });
    const from = (remoteAddress: string, forwardedFor?: string) =>
      a.inject({
        url: '/things/1',
        remoteAddress,
        headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
      });
    // The trusted reverse proxy forwarding a client from elsewhere.
    const forwarded = await from('10.0.0.5', '203.0.113.9');
    expect(forwarded.statusCode).toBe(403);
    expect(forwarded.json()).toMatchObject({ code: 'FORBIDDEN', detail: expect.stringContaining('203.0.113.9') });
    // A local process (or a proxy on loopback) saying it forwards for someone else.
    expect((await from('127.0.0.1', '203.0.113.9')).statusCode).toBe(403);
    expect((await from('::1', '203.0.113.9')).statusCode).toBe(403);
    expect((await from('127.0.0.1', '203.0.113.9, 127.0.0.1')).statusCode).toBe(403);
    // A client nobody trusts cannot make itself local with the header.
    expect((await from('203.0.113.9', '127.0.0.1')).statusCode).toBe(403);
    // The proxy forwarding a loopback client of its own, and loopback with no proxy at all.
    expect((await from('10.0.0.5', '127.0.0.1')).statusCode).toBe(404);
    expect((await from('127.0.0.1', '127.0.0.1')).statusCode).toBe(404);
    expect((await from('::ffff:127.0.0.1')).statusCode).toBe(404);
    // Public routes answer everyone.
    expect(
      (await a.inject({ url: '/public', remoteAddress: '10.0.0.5', headers: { 'x-forwarded-for': '203.0.113.9' } }))
        .statusCode,
    ).toBe(200);
  });

  it('in local mode refuses what a web page could send: a foreign Host (DNS rebinding) or another site’s Origin', async () => {
    const a = await app([], { localHosts: ['Stack.Internal'] });
    const status = async (headers: Record<string, string>) =>
      (await a.inject({ method: 'POST', url: '/things', headers, payload: { amount: 1, name: 'x' } })).statusCode;
    for (const host of [
      'localhost',
      'localhost:8080',
      '127.0.0.1:8080',
      '[::1]:8080',
      'LOCALHOST',
      'stack.internal:80',
    ]) {
      expect(await status({ host }), host).toBe(200);
    }
    for (const host of ['evil.example', 'evil.example:8080', '127.0.0.1.nip.io', 'localhost.evil.example']) {
      expect(await status({ host }), host).toBe(403);
    }
    // curl sends no Origin; a browser sends its page's.
    expect(await status({ host: 'localhost:8080', origin: 'http://localhost:8080' })).toBe(200);
    expect(await status({ host: 'localhost:8080', origin: 'http://[::1]:3000' })).toBe(200);
    expect(await status({ host: 'localhost:8080', origin: 'https://evil.example' })).toBe(403);
    expect(await status({ host: 'localhost:8080', origin: 'null' })).toBe(403);
    const refused = await a.inject({
      url: '/things/1',
      headers: { host: 'localhost', origin: 'https://evil.example' },
    });
    expect(refused.json()).toMatchObject({ status: 403, code: 'FORBIDDEN', detail: expect.stringContaining('Origin') });
    // With keys, a key decides; Host and Origin are the browser's business.
    const keyed = await app(keys);
    const withKey = await keyed.inject({
      url: '/things/1',
      headers: { host: 'api.example', origin: 'https://evil.example', 'x-api-key': '0123456789abcdef0123' },
    });
    expect(withKey.statusCode).toBe(404);
  });
});

describe('config', () => {
  const schema = z.object({ PORT: env.port(3001), DEBUG: env.bool(false), KEYS: env.list() });

  it('reads host names for LOCAL_MODE_HOSTS and refuses a port or a scheme', () => {
    const hosts = z.object({ LOCAL_MODE_HOSTS: env.hostnames() });
    expect(parseConfig(hosts, { LOCAL_MODE_HOSTS: 'Stack.Internal, [fd00::1],my_box' }).LOCAL_MODE_HOSTS).toEqual([
      'stack.internal',
      '[fd00::1]',
      'my_box',
    ]);
    expect(() => parseConfig(hosts, { LOCAL_MODE_HOSTS: 'stack.internal:8080' })).toThrow(/LOCAL_MODE_HOSTS/);
    expect(() => parseConfig(hosts, { LOCAL_MODE_HOSTS: 'http://stack.internal' })).toThrow(/LOCAL_MODE_HOSTS/);
  });

  it('applies defaults, treats empty as unset and names a bad variable', () => {
    expect(parseConfig(schema, { PORT: '', DEBUG: 'yes', KEYS: 'a, b,' })).toEqual({
      PORT: 3001,
      DEBUG: true,
      KEYS: ['a', 'b'],
    });
    expect(() => parseConfig(schema, { PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => parseConfig(schema, { PORT: 'eighty' })).toThrow(/PORT/);
  });

  it('loads through @fastify/env: the .env file and the environment merged, the environment winning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kit-env-'));
    const file = join(dir, '.env');
    writeFileSync(file, 'PORT=4000\nDEBUG=yes\nKEYS=from-file\nUNKNOWN=x\n');
    expect(await loadConfig(schema, { envFile: file, env: { KEYS: 'from-env' } })).toEqual({
      PORT: 4000,
      DEBUG: true,
      KEYS: ['from-env'],
    });
    expect(await loadConfig(schema, { envFile: join(dir, 'missing.env'), env: {} })).toEqual({
      PORT: 3001,
      DEBUG: false,
      KEYS: [],
    });
    writeFileSync(file, 'PORT=eighty\n');
    await expect(loadConfig(schema, { envFile: file, env: {} })).rejects.toThrow(/PORT: /);
  });

  it('finds the workspace root .env from a directory below it, and the working directory one outside a workspace', () => {
    const root = mkdtempSync(join(tmpdir(), 'kit-root-'));
    mkdirSync(join(root, 'services', 'x'), { recursive: true });
    expect(envFilePath(join(root, 'services', 'x'))).toBe(join(root, 'services', 'x', '.env'));
    writeFileSync(join(root, 'pnpm-workspace.yaml'), 'packages: []\n');
    expect(envFilePath(join(root, 'services', 'x'))).toBe(join(root, '.env'));
    expect(envFilePath(root)).toBe(join(root, '.env'));
  });

  it('derives the JSON Schema @fastify/env gets from the zod schema', () => {
    const described = z.object({ A: env.port(1).describe('the port'), B: env.list() });
    expect(envJsonSchema(described)).toEqual({
      type: 'object',
      properties: { A: { type: 'string', description: 'the port' }, B: { type: 'string' } },
    });
  });
});

describe('log redaction', () => {
  function logged(write: (log: Logger) => void): Record<string, unknown> {
    const lines: string[] = [];
    const log = pino(loggerOptions('info', 'test'), { write: (line: string) => lines.push(line) });
    write(log);
    expect(lines).toHaveLength(1);
    return JSON.parse(lines[0] as string) as Record<string, unknown>;
  }

  it('censors every listed key at any depth, whatever its value, and leaves the rest intact', () => {
    const line = logged((log) =>
      log.info(
        {
          req: { headers: { 'x-api-key': 'k-123', authorization: 'Bearer t', accept: 'a' } },
          body: { card: { card_number: '4111-1111', cvc: 123, nested: { token: { a: [1, '}'] } } }, note: 'ok' },
          imp_secret: 'shh',
          list: [{ password: 'p"w\\"d' }, { birth: null }],
          text: 'a "token":"not a key" inside a string',
        },
        'hello',
      ),
    );
    expect(line).toMatchObject({
      req: { headers: { 'x-api-key': '[redacted]', authorization: '[redacted]', accept: 'a' } },
      body: { card: { card_number: '[redacted]', cvc: '[redacted]', nested: { token: '[redacted]' } }, note: 'ok' },
      imp_secret: '[redacted]',
      list: [{ password: '[redacted]' }, { birth: '[redacted]' }],
      text: 'a "token":"not a key" inside a string',
      msg: 'hello',
    });
  });

  it('leaves a line without secrets as it was', () => {
    const line = '{"level":30,"msg":"request completed","res":{"statusCode":200}}\n';
    expect(redactLine(line)).toBe(line);
  });
});

describe('request log', () => {
  async function served(level: string) {
    const lines: Record<string, unknown>[] = [];
    const logStream = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
    const app = Fastify(fastifyOptions({ name: 't', logLevel: level, trustedProxies: [], logStream }));
    app.get('/things/:id', async () => ({ ok: true }));
    await app.inject({ method: 'GET', url: '/things/7?card_number=4111', headers: { 'x-request-id': 'r-1' } });
    await app.close();
    return lines.filter((l) => l.reqId === 'r-1');
  }

  it('writes one info line per request, on completion: request, status and time taken', async () => {
    const lines = await served('info');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      req: { method: 'GET', url: '/things/7?card_number=[redacted]' },
      res: { statusCode: 200 },
    });
    expect(lines[0]?.responseTime).toEqual(expect.any(Number));
  });

  it('logs a request whose connection is gone by the time it is answered', async () => {
    const lines: Record<string, unknown>[] = [];
    const logStream = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
    const app = Fastify(fastifyOptions({ name: 't', logLevel: 'info', trustedProxies: [], logStream }));
    // As an upload refused part way does: the request stream is destroyed, and the answer follows.
    app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
    app.post('/uploads', async (request, reply) => {
      for await (const _ of request.body as AsyncIterable<Buffer>) break;
      request.raw.destroy();
      return reply.code(413).send({ refused: true });
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const upload = new AbortController();
    void fetch(`${url}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'x-request-id': 'r-gone' },
      body: new Blob([Buffer.alloc(4 << 20)]).stream(),
      duplex: 'half',
      signal: upload.signal,
    } as RequestInit).catch(() => undefined);
    for (let i = 0; i < 250 && !lines.some((l) => l.reqId === 'r-gone' && l.msg === 'request completed'); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    upload.abort();
    // Fastify's close waits forever for a request destroyed this way (with its default log controller too).
    app.server.closeAllConnections();
    await app.close();
    expect(lines.find((l) => l.reqId === 'r-gone' && l.msg === 'request completed')).toMatchObject({
      req: { method: 'POST', url: '/uploads' },
    });
  });

  it('logs the arrival too at debug level', async () => {
    const lines = await served('debug');
    expect(lines.map((l) => l.msg)).toEqual(['incoming request', 'request completed']);
    expect(lines[0]).toMatchObject({ level: 20, req: { method: 'GET', url: '/things/7?card_number=[redacted]' } });
  });
});
