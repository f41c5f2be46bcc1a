import { createServer } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../src/transport/agent.ts';
import { exchange } from '../../src/transport/exchange.ts';

describe('exchange', () => {
  it('an abort while the connection is still being made rejects at once, and the request is never sent', async () => {
    let requests = 0;
    const server = createServer((req, res) => {
      requests += 1;
      req.resume();
      res.end('late');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // A peer that does not answer the connection yet (a dropped SYN), and then does.
    let finishConnect: (() => void) | undefined;
    const agent = new Agent({
      connect: (_options, done) => {
        finishConnect = () => {
          const socket: Socket = connect(port, '127.0.0.1', () => done(null, socket));
        };
      },
    });
    try {
      const controller = new AbortController();
      const reason = new Error('caller gave up');
      const started = performance.now();
      const answer = exchange(
        agent,
        { origin: 'http://payments.internal', path: '/charge', method: 'POST', body: '{}' },
        controller.signal,
      );
      setTimeout(() => controller.abort(reason), 50);
      await expect(answer).rejects.toBe(reason);
      expect(performance.now() - started).toBeLessThan(1_000);

      expect(finishConnect).toBeDefined();
      finishConnect?.();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(requests).toBe(0);
    } finally {
      await agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('gathers a whole answer, whatever its status', async () => {
    const server = createServer((req, res) => {
      req.resume();
      res.statusCode = 418;
      res.setHeader('x-answer', 'yes');
      res.write('one, ');
      setTimeout(() => res.end('two'), 20);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const agent = new Agent();
    try {
      const answer = await exchange(agent, { origin: `http://127.0.0.1:${port}`, path: '/', method: 'GET' });
      expect(answer).toMatchObject({ status: 418, text: 'one, two', headers: { 'x-answer': 'yes' } });
    } finally {
      await agent.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
