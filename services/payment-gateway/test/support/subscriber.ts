import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the subscriber answered. */
  status: number;
  path: string | undefined;
}

/**
 * An internal service subscribed to the gateway's notifications, on loopback: records every POST and
 * answers as told (`ok` 204, `fail` 503, `redirect` 307 to itself at `/moved`, `hang`: never answers). `stop()` closes the port (down),
 * `start()` listens again on the same port (back).
 */
export class Subscriber {
  readonly received: Received[] = [];
  mode: 'ok' | 'fail' | 'redirect' | 'hang' = 'ok';
  private server: Server | undefined;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.mode === 'hang') return;
        const status = { ok: 204, fail: 503, redirect: 307 }[this.mode];
        this.received.push({
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          status,
          path: req.url,
        });
        res.statusCode = status;
        if (this.mode === 'redirect') res.setHeader('location', '/moved');
        res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Parsed bodies of what was accepted (answered 204), in arrival order. */
  events(): { type: string; data: Record<string, unknown> }[] {
    return this.received
      .filter((r) => r.status === 204)
      .map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
  }
}
