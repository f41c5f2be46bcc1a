/**
 * The least CPU a gateway lookup must spend beyond the bare anchor's, measured here with the
 * project's own code: the work each lookup is required to do (issue: API key on, PortOne's answer
 * validated, the store check, info logging) that the anchor, which passes PortOne's text through,
 * does not. Each piece runs alone in a warm loop in this process, so the figure is a lower bound: no
 * HTTP, no GC pressure from other work, and the PortOne audit row and the metrics are not counted.
 *
 * If a lookup is CPU-bound (it is: the throughput ratio tracks the CPU ratio in RESULTS.md), reaching
 * a throughput ratio r needs our CPU per request ≤ anchor / r, that is at most anchor × (1/r − 1)
 * beyond the anchor's. A floor above that budget means the target cannot be met with these features.
 */
import { hash } from 'node:crypto';
import { PaymentSchema } from '@repo/portone-client';
import pino from 'pino';
import { interpretResponse } from '../packages/portone-client/src/transport/response.ts';
import { loggerOptions, redactUrl } from '../packages/service-kit/src/logger.ts';
import { toDbJson } from '../services/payment-gateway/src/store/codec.ts';
import { median } from './lib.ts';

/** µs per call of `fn`: median of 5 timed rounds of `n` calls after a warm-up round. */
function perCall(n: number, fn: (i: number) => unknown): number {
  const rounds: number[] = [];
  let sink: unknown;
  for (let r = 0; r < 6; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sink = fn(i);
    if (r > 0) rounds.push(((performance.now() - t0) * 1000) / n);
  }
  if (sink === Symbol.for('never')) console.info(sink); // keep the result observable
  return median(rounds);
}

export interface LookupFloor {
  /** µs per lookup, by piece. */
  pieces: Record<'key check' | 'answer validated' | 'store check' | 'answer written' | 'two info lines', number>;
  total: number;
}

/** `answer`: PortOne's HTTP body for the benchmarked payment, as the emulator sends it. */
export function lookupFloor(answer: string): LookupFloor {
  const key = 'bench-0123456789abcdef0123456789abcdef';
  const keys = new Map([[hash('sha256', key, 'base64'), 'bench']]);
  const spec = { operation: 'payments.get', schema: PaymentSchema };
  const facts = { attempts: 1, outcomeKnownIfAmbiguous: false, nowMs: 0 };
  const payment = interpretResponse(spec, 200, {}, answer, facts).data;
  const stored = toDbJson(payment);
  // The service's logger as configured (redaction hook included), writing to /dev/null.
  const log = pino(loggerOptions('info', 'payment-gateway'), pino.destination({ dest: '/dev/null', sync: true }));
  const n = 20_000;
  const pieces = {
    'key check': perCall(n, () => keys.get(hash('sha256', key, 'base64'))),
    'answer validated': perCall(n, () => interpretResponse(spec, 200, {}, answer, facts)),
    'store check': perCall(n, () => toDbJson(payment) === stored),
    'answer written': perCall(n, () => JSON.stringify(payment)),
    // The request line (on a per-request child logger, as Fastify makes) and the PortOne call line.
    'two info lines': perCall(n, (i) => {
      const reqLog = log.child({ reqId: `req-${i}` });
      reqLog.info(
        {
          req: {
            method: 'GET',
            url: redactUrl('/api/v1/payments/imp_123456789012'),
            host: '127.0.0.1:3000',
            remoteAddress: '127.0.0.1',
            remotePort: 50_000,
          },
          res: { statusCode: 200 },
          responseTime: 1.234,
        },
        'request completed',
      );
      log.info(
        {
          component: 'portone',
          operation: 'payments.get',
          method: 'GET',
          path: '/payments/{imp_uid}',
          status: 200,
          code: 0,
          durationMs: 0.9,
          attempt: 1,
          impKey: 'imp_…',
          outcome: 'ok',
          reqId: `req-${i}`,
        },
        'portone call',
      );
    }),
  };
  const total = Object.values(pieces).reduce((a, b) => a + b, 0);
  return { pieces, total };
}
