import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '@repo/test-support';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineBodyReader } from '../../src/docker/body.ts';

const CHUNK = 64 * 1024;
const CHUNKS = 512; // 32 MiB: far more than the reader holds and the sockets buffer between them

/**
 * Flow control of the engine stream reader, against a local HTTP server standing in for the engine:
 * the engine cannot be made to write faster than a test reads on demand, this server can.
 */
describe('engine stream reader', () => {
  let written = 0;
  let finished = false;
  const server = createServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    for (let i = 0; i < CHUNKS; i++) {
      const chunk = Buffer.alloc(CHUNK, i % 251);
      written += chunk.length;
      if (!res.write(chunk)) await once(res, 'drain');
    }
    res.end();
    finished = true;
  });
  let pool: Pool;

  beforeAll(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await pool.close();
    server.close();
  });

  it('stops reading while its reader is behind, then delivers every byte in order', async () => {
    const reader = new EngineBodyReader();
    pool.dispatch({ method: 'GET', path: '/' }, reader);
    await reader.started;
    // Nobody reads: the sender is held up once the reader's share and the socket buffers are full.
    let last = -1;
    await eventually(
      () => {
        const now = written;
        const settled = now === last;
        last = now;
        expect(settled).toBe(true);
      },
      10_000,
      300,
    );
    expect(finished).toBe(false);
    expect(written).toBeLessThan(CHUNK * CHUNKS);

    let received = 0;
    for await (const chunks of reader) {
      for (const chunk of chunks) {
        for (let at = 0; at < chunk.length; at += 4096) {
          expect(chunk[at]).toBe(Math.floor((received + at) / CHUNK) % 251);
        }
        received += chunk.length;
      }
    }
    expect(received).toBe(CHUNK * CHUNKS);
    expect(finished).toBe(true);
  });
});
