import { request } from 'node:http';
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * One GET on a fresh TCP connection (no keep-alive pool): what a new client sees, e.g. while a
 * server shuts down. Network errors are answered as their code, never thrown.
 */
export function freshRequest(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number } | { error: string }> {
  return new Promise((done) => {
    const failed = (e: Error) => done({ error: (e as NodeJS.ErrnoException).code ?? e.message });
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers }, (res) => {
      res.resume();
      res.on('end', () => done({ status: res.statusCode ?? 0 }));
      res.on('error', failed);
    });
    req.on('error', failed);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/**
 * New clients of a closing process: a fresh GET every 50 ms until `process` exits (at most `limitMs`).
 * Only answers to requests sent once `closing()` holds count (the test knows the service began closing,
 * e.g. from its 'shutting down' line): one that connects before the busy process has handled the signal
 * is rightly served.
 */
export async function requestsWhileClosing(
  process: { exitCode: number | null; signalCode: string | null },
  closing: () => boolean,
  port: number,
  path: string,
  headers: Record<string, string> = {},
  limitMs = 15_000,
): Promise<({ status: number } | { error: string })[]> {
  const late: ({ status: number } | { error: string })[] = [];
  const started = Date.now();
  while (process.exitCode === null && process.signalCode === null && Date.now() - started < limitMs) {
    const counts = closing();
    const answer = await freshRequest(port, path, headers);
    if (counts) late.push(answer);
    await new Promise((r) => setTimeout(r, 50));
  }
  return late;
}
