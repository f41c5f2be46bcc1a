/**
 * Anchor: the least a Fastify service can do for container list and inspect: undici on the Docker
 * socket (keep-alive), the engine's JSON passed through. No auth, no policy, no audit, no logging.
 * `node bench/anchors/socket-proxy.ts` with ANCHOR_PORT and DOCKER_SOCKET.
 */
import Fastify from 'fastify';
import { Pool } from 'undici';

const engine = new Pool('http://docker', { socketPath: process.env.DOCKER_SOCKET ?? '/var/run/docker.sock' });

async function through(path: string, reply: import('fastify').FastifyReply) {
  const upstream = await engine.request({ method: 'GET', path });
  return reply
    .code(upstream.statusCode)
    .type('application/json')
    .send(await upstream.body.text());
}

const app = Fastify();
app.get<{ Querystring: { all?: string } }>('/api/v1/containers', (request, reply) =>
  through(`/containers/json${request.query.all === 'true' ? '?all=1' : ''}`, reply),
);
app.get<{ Params: { id: string } }>('/api/v1/containers/:id', (request, reply) =>
  through(`/containers/${encodeURIComponent(request.params.id)}/json`, reply),
);
app.get('/ready', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.ANCHOR_PORT ?? 0) });
process.once('SIGTERM', () => void app.close().then(() => engine.close()));
