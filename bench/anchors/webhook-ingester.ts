/**
 * Anchor: the least a Fastify service can do to take PortOne's webhooks durably: mysql2, one
 * autocommitted INSERT per delivery, acknowledged once it has committed. No IP check, no rate limit,
 * no processing, no logging. `node bench/anchors/webhook-ingester.ts` with ANCHOR_PORT and DATABASE_URL.
 */
import Fastify from 'fastify';
import { createPool } from 'mysql2/promise';

const db = createPool({
  uri: process.env.DATABASE_URL ?? 'mysql://stack:stack@127.0.0.1:3306/stack',
  connectionLimit: 10,
});
await db.query(`CREATE TABLE IF NOT EXISTS anchor_webhooks (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  imp_uid VARCHAR(64) NOT NULL,
  merchant_uid VARCHAR(64) NOT NULL,
  status VARCHAR(32) NOT NULL,
  body TEXT NOT NULL,
  received_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
)`);

const app = Fastify();
app.post<{ Body: { imp_uid: string; merchant_uid: string; status: string } }>(
  '/api/v1/webhooks/portone',
  async (request) => {
    const { imp_uid, merchant_uid, status } = request.body;
    await db.execute('INSERT INTO anchor_webhooks (imp_uid, merchant_uid, status, body) VALUES (?, ?, ?, ?)', [
      imp_uid,
      merchant_uid,
      status,
      JSON.stringify(request.body),
    ]);
    return { ok: true };
  },
);
app.get('/ready', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.ANCHOR_PORT ?? 0) });
process.once('SIGTERM', () => void app.close().then(() => db.end()));
