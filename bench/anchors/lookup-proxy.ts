/**
 * Anchor: the least a Fastify service can do for `GET /api/v1/payments/{imp_uid}`: one undici Pool
 * to PortOne, one token fetched at start, PortOne's JSON passed through. No auth, no validation, no
 * store, no logging. `node bench/anchors/lookup-proxy.ts` with ANCHOR_PORT and PORTONE_API_URL.
 */
import Fastify from 'fastify';
import { portoneWithToken } from './portone.ts';

const { portone, authorization } = await portoneWithToken(process.env.PORTONE_API_URL ?? 'http://127.0.0.1:3003');

const app = Fastify();
app.get<{ Params: { imp_uid: string } }>('/api/v1/payments/:imp_uid', async (request, reply) => {
  const upstream = await portone.request({
    method: 'GET',
    path: `/payments/${encodeURIComponent(request.params.imp_uid)}`,
    headers: { authorization },
  });
  return reply
    .code(upstream.statusCode)
    .type('application/json')
    .send(await upstream.body.text());
});
app.get('/ready', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.ANCHOR_PORT ?? 0) });
process.once('SIGTERM', () => void app.close().then(() => portone.close()));
