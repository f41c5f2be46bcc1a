/**
 * The HTTP layer: a `node:http` server, a find-my-way router, body parsing (JSON or form with
 * bracket arrays), the V1 envelope, token authentication, fault injection, request stats and the
 * log hook. Route modules only see a `Ctx` and return a `Reply`; errors they throw (`V1Error`) are
 * turned into envelopes here and nowhere else.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { performance } from 'node:perf_hooks';
import Router from 'find-my-way';
import type { Ops } from './engine.ts';
import { badRequest, MESSAGES, unauthorized, V1Error } from './errors.ts';
import type { FaultRegistry } from './faults.ts';
import { normaliseJsonKeys, type Params, parseBracketParams } from './params.ts';
import type { Merchant, MerchantStore } from './state.ts';

export interface Ctx {
  ops: Ops;
  method: string;
  params: Record<string, string | undefined>;
  query: Params;
  body: Params;
  headers: IncomingHttpHeaders;
}

/** A request that passed token authentication: the merchant (or its Tier sub-store) and its data. */
export interface AuthedCtx extends Ctx {
  merchant: Merchant;
  tier: string | null;
  store: MerchantStore;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Success envelope `{ code: 0, message: null, response }` (notes §2). */
export const ok = (response: unknown, status = 200): Reply => ({ status, body: { code: 0, message: null, response } });
/** Plain JSON (control API). */
export const json = (body: unknown, status = 200): Reply => ({ status, body });
const envelopeError = (status: number, code: number, message: string): Reply => ({
  status,
  body: { code, message, response: null },
});

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
const METHODS: readonly Method[] = ['GET', 'POST', 'PUT', 'DELETE'];

interface RouteStore {
  kind: 'v1' | 'control';
  pattern: string;
  handler: (ctx: Ctx) => Reply | Promise<Reply>;
}

/** Route registration handed to each route module. */
export class RouteTable {
  readonly router = Router({ ignoreTrailingSlash: true, maxParamLength: 500 });

  /** A V1 route that needs no token (only `POST /users/getToken`). */
  open(method: Method, pattern: string, handler: (ctx: Ctx) => Reply | Promise<Reply>): void {
    this.add('v1', method, pattern, handler);
  }

  /** A V1 route behind the access token. */
  authed(method: Method, pattern: string, handler: (ctx: AuthedCtx) => Reply | Promise<Reply>): void {
    this.add('v1', method, pattern, (ctx) => handler({ ...ctx, ...authenticate(ctx) }));
  }

  /** A control-API route (`/__emulator/...`): no auth, no faults, not counted in stats. */
  control(method: Method, pattern: string, handler: (ctx: Ctx) => Reply | Promise<Reply>): void {
    this.add('control', method, `/__emulator${pattern}`, handler);
  }

  private add(kind: RouteStore['kind'], method: Method, pattern: string, handler: RouteStore['handler']): void {
    const store: RouteStore = { kind, pattern, handler };
    this.router.on(method, pattern, () => undefined, store);
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v?.trim() ? v.trim() : undefined;
}

/**
 * Token from `Authorization: Bearer <t>`, `Authorization: <t>` (any scheme word is tolerated) or
 * `X-ImpTokenHeader: <t>`; Authorization wins when both are sent (notes §3.3). An unknown or
 * malformed `Tier` header is answered with 401: the token is not authorised for that sub-store.
 */
function authenticate(ctx: Ctx): Pick<AuthedCtx, 'merchant' | 'tier' | 'store'> {
  const { state } = ctx.ops;
  const raw = headerValue(ctx.headers.authorization) ?? headerValue(ctx.headers['x-imptokenheader']);
  if (!raw) throw unauthorized();
  const value = raw.split(/\s+/).at(-1) ?? '';
  const token = state.tokensByValue.get(value);
  if (!token || state.now() >= token.expired_at) throw unauthorized();
  const merchant = state.merchants.get(token.impKey);
  if (!merchant) throw unauthorized();
  const tier = headerValue(ctx.headers.tier) ?? null;
  if (tier !== null && !merchant.tiers?.[tier]) throw unauthorized(`${MESSAGES.tierNotFound} Tier: ${tier}`);
  return { merchant, tier, store: state.store(merchant.impKey, tier ?? '') };
}

const BODY_LIMIT = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) throw new V1Error(413, -1, '요청 본문이 너무 큽니다.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string, contentType: string | undefined): Params {
  if (text.trim() === '') return {};
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const looksJson = type.endsWith('json') || (type === '' && /^\s*[{[]/.test(text));
  if (looksJson) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw badRequest('요청 본문의 JSON 형식이 올바르지 않습니다.');
    }
    return normaliseJsonKeys(parsed);
  }
  return parseBracketParams(new URLSearchParams(text));
}

export interface HttpOptions {
  ops: Ops;
  routes: RouteTable;
  faults: FaultRegistry;
  log?: ((line: { method: string; path: string; status: number; ms: number }) => void) | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createHttpServer(options: HttpOptions): Server {
  const { ops, routes, faults } = options;

  function send(res: ServerResponse, reply: Reply): void {
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(text),
      ...reply.headers,
    });
    res.end(text);
  }

  function toReply(error: unknown): Reply {
    if (error instanceof V1Error) return envelopeError(error.httpStatus, error.code, error.message);
    const detail = error instanceof Error ? error.message : String(error);
    return envelopeError(500, -1, `emulator internal error: ${detail}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const found = METHODS.includes(method as Method) ? routes.router.find(method as Method, url.pathname) : null;
    const route = found?.store as RouteStore | undefined;
    const isV1 = !url.pathname.startsWith('/__emulator');

    if (isV1) {
      const stats = ops.state.stats;
      stats.requests += 1;
      const key = `${method} ${route?.pattern ?? '(unmatched)'}`;
      stats.byRoute[key] = (stats.byRoute[key] ?? 0) + 1;
    }

    let body: Params = {};
    try {
      body = parseBody(await readBody(req), req.headers['content-type']);
    } catch (error) {
      if (route?.pattern === '/users/getToken') countTokenRequest(ops, {});
      const reply = toReply(error);
      send(res, reply);
      return reply.status;
    }

    if (!route || !found) {
      const allowed = METHODS.filter((m) => routes.router.find(m, url.pathname));
      const reply =
        allowed.length > 0
          ? { ...envelopeError(405, -1, MESSAGES.methodNotAllowed), headers: { allow: allowed.join(', ') } }
          : envelopeError(404, -1, MESSAGES.routeNotFound);
      send(res, reply);
      return reply.status;
    }
    if (route.pattern === '/users/getToken') countTokenRequest(ops, body);

    const fault = route.kind === 'v1' ? faults.take(method, route.pattern) : undefined;
    if (fault?.kind === 'reset') {
      req.socket.resetAndDestroy();
      return 0;
    }
    if (fault?.kind === 'status') {
      const status = fault.status ?? 503;
      const reply = envelopeError(status, -1, `emulated fault: HTTP ${status}`);
      if (fault.retryAfter !== undefined) reply.headers = { 'retry-after': String(fault.retryAfter) };
      if (fault.delayMs) await sleep(fault.delayMs);
      send(res, reply);
      return status;
    }
    if (fault?.kind === 'latency' && fault.delayMs) await sleep(fault.delayMs);

    const ctx: Ctx = {
      ops,
      method,
      params: found.params,
      query: parseBracketParams(url.searchParams),
      body,
      headers: req.headers,
    };
    let reply: Reply;
    try {
      reply = await route.handler(ctx);
    } catch (error) {
      reply = toReply(error);
    }

    if (fault?.kind === 'timeout-after-commit') {
      // The operation has happened; the client never hears about it.
      if (fault.delayMs !== undefined) setTimeout(() => req.socket.destroy(), fault.delayMs).unref();
      return 0;
    }
    send(res, reply);
    return reply.status;
  }

  return createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    const started = performance.now();
    handle(req, res).then(
      (status) => {
        options.log?.({
          method: req.method ?? 'GET',
          path: (req.url ?? '/').split('?')[0] ?? '/',
          status,
          ms: Math.round((performance.now() - started) * 10) / 10,
        });
      },
      (error: unknown) => {
        if (!res.headersSent) send(res, toReply(error));
        else res.destroy();
      },
    );
  }).on('clientError', (_error, socket) => {
    if (socket.writable) {
      const text = JSON.stringify({ code: -1, message: 'Bad Request', response: null });
      socket.end(
        `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=UTF-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
      );
    } else {
      socket.destroy();
    }
  });
}

/** Every `POST /users/getToken` counts, including failed ones, under the imp_key it named ('' if none). */
function countTokenRequest(ops: Ops, body: Params): void {
  const key = typeof body.imp_key === 'string' ? body.imp_key : '';
  const counts = ops.state.stats.tokenRequests;
  counts[key] = (counts[key] ?? 0) + 1;
}
