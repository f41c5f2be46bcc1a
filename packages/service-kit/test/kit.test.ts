import Fastify from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AppError,
  auth,
  ConfigError,
  env,
  fastifyOptions,
  loadConfig,
  NotFoundError,
  parseApiKeys,
  problemHandler,
  useZod,
} from '../src/index.ts';

async function app(keys: string[] = []) {
  const app = Fastify({ ...fastifyOptions({ name: 't', logLevel: 'silent', trustedProxies: [] }) });
  useZod(app);
  await app.register(problemHandler);
  await app.register(auth, { keys: parseApiKeys(keys), publicRoutes: ['/public'], trustedProxies: [] });
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
  typed.get('/public', async () => ({ ok: true }));
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
});

describe('config', () => {
  const schema = z.object({ PORT: env.port(3001), DEBUG: env.bool(false), KEYS: env.list() });

  it('applies defaults, treats empty as unset and names a bad variable', () => {
    expect(loadConfig(schema, { PORT: '', DEBUG: 'yes', KEYS: 'a, b,' })).toEqual({
      PORT: 3001,
      DEBUG: true,
      KEYS: ['a', 'b'],
    });
    expect(() => loadConfig(schema, { PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig(schema, { PORT: 'eighty' })).toThrow(/PORT/);
  });
});
