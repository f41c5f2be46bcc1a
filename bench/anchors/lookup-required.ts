/**
 * Anchor: the bare lookup proxy (lookup-proxy.ts) plus the work issue #13 requires of a gateway lookup,
 * each piece done the least way this repository knows, with nothing of the gateway's own framework
 * (no plugins, hooks, client layers, retries or metrics): the X-API-Key checked (service-kit's digest
 * in a Set), PortOne asked with `include_sandbox=true` as the gateway asks, its answer validated (the
 * portone-client's zod schema), the store kept current (the payload compared with the last one stored,
 * upserted when it differs, before answering), one audit row per PortOne call (batched INSERTs, as the
 * gateway batches them) and two info lines (the call, the request) through the project's logger
 * options and stdout destination. What it reaches against the bare proxy is the most a service doing
 * the required work can reach on the machine; the gateway against it is the gateway's own overhead.
 * `node bench/anchors/lookup-required.ts` with ANCHOR_PORT, PORTONE_API_URL, DATABASE_URL and
 * ANCHOR_API_KEY; its tables are `anchor_payments` and `anchor_calls`.
 */
import { PaymentSchema } from '@repo/portone-client';
import Fastify from 'fastify';
import { createPool } from 'mysql2/promise';
import { interpretResponse } from '../../packages/portone-client/src/transport/response.ts';
import { digest } from '../../packages/service-kit/src/auth.ts';
import { loggerOptions, serializeRequest, stdoutDestination } from '../../packages/service-kit/src/logger.ts';
import { portoneWithToken } from './portone.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const keys = new Set([digest(env('ANCHOR_API_KEY'))]);
const db = createPool({ uri: env('DATABASE_URL'), connectionLimit: 4 });
await db.query(
  'CREATE TABLE IF NOT EXISTS anchor_payments (imp_uid VARCHAR(64) NOT NULL PRIMARY KEY, raw LONGTEXT NOT NULL)',
);
await db.query(`CREATE TABLE IF NOT EXISTS anchor_calls (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, operation VARCHAR(40) NOT NULL, status INT NOT NULL,
  duration_ms DOUBLE NOT NULL, request_id VARCHAR(128) NOT NULL, at DATETIME(3) NOT NULL)`);

const { portone, authorization } = await portoneWithToken(env('PORTONE_API_URL'));

// Audit rows, written as the gateway writes its own: at most 20 ms after the call or 200 at a time.
const calls: unknown[][] = [];
let timer: NodeJS.Timeout | undefined;
const flush = () => {
  clearTimeout(timer);
  timer = undefined;
  const rows = calls.splice(0, calls.length);
  if (rows.length > 0)
    db.query('INSERT INTO anchor_calls (operation, status, duration_ms, request_id, at) VALUES ?', [rows]).catch(
      (err: unknown) => app.log.error({ err }, 'audit write failed'),
    );
};

/** The payload last stored per payment (what the gateway's StoredSnapshots remembers). */
const stored = new Map<string, string>();
const spec = { operation: 'payments.get', schema: PaymentSchema };

const app = Fastify({
  logger: {
    ...loggerOptions('info', 'lookup-required'),
    serializers: { req: serializeRequest },
    stream: stdoutDestination(),
  },
  disableRequestLogging: true,
});
app.addHook('onResponse', (request, reply, done) => {
  request.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  done();
});
app.get<{ Params: { imp_uid: string } }>('/api/v1/payments/:imp_uid', async (request, reply) => {
  const key = request.headers['x-api-key'];
  if (typeof key !== 'string' || !keys.has(digest(key))) return reply.code(401).send({ detail: 'invalid API key' });
  const impUid = request.params.imp_uid;
  const started = performance.now();
  const upstream = await portone.request({
    method: 'GET',
    path: `/payments/${encodeURIComponent(impUid)}?include_sandbox=true`,
    headers: { authorization },
  });
  const text = await upstream.body.text();
  const durationMs = performance.now() - started;
  request.log.info(
    { component: 'portone', operation: 'payments.get', status: upstream.statusCode, durationMs },
    'portone call',
  );
  calls.push(['payments.get', upstream.statusCode, durationMs, request.id, new Date()]);
  if (calls.length >= 200) flush();
  else timer ??= setTimeout(flush, 20);
  const facts = { attempts: 1, outcomeKnownIfAmbiguous: true, nowMs: Date.now() };
  const payment = interpretResponse(spec, upstream.statusCode, upstream.headers, text, facts).data;
  const raw = JSON.stringify(payment);
  if (stored.get(impUid) !== raw) {
    await db.query(
      'INSERT INTO anchor_payments (imp_uid, raw) VALUES (?, ?) ON DUPLICATE KEY UPDATE raw = VALUES(raw)',
      [impUid, raw],
    );
    stored.set(impUid, raw);
  }
  return reply.type('application/json').send(raw);
});
app.get('/ready', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.ANCHOR_PORT ?? 0) });
process.once('SIGTERM', () => void app.close().then(() => Promise.all([portone.close(), db.end()])));
