/**
 * The least CPU a request must spend beyond its bare anchor's, measured here with the project's own
 * code: the work each request is required to do (issue #13: API keys on, answers validated, the store
 * kept current, info logging) that the anchor, which passes the upstream's text through, does not.
 * Each piece runs alone in a warm loop in this process, so the figure is a lower bound: no HTTP, no GC
 * pressure from other work, and audit rows and metrics are not counted.
 *
 * A load run is bound by the machine's cores, which the service, its upstream (the emulator, dockerd)
 * and the load generator share: its throughput follows the CPU per request summed over them (RESULTS.md
 * shows both sums beside the throughput ratio). Reaching a throughput ratio r needs our sum ≤ the
 * anchor's sum / r, that is at most the anchor's sum × (1/r − 1) beyond it; the upstream and the load
 * generator do the same work per request on both sides, so the service's required work has that much
 * room. A floor above it means the target cannot be met with these features; a floor below it means
 * the rest of the gap is overhead beyond the required work, or what the pieces cost in a service beyond
 * their warm loops. For the gateway's lookup the loop figure (40 µs) said the second and was wrong:
 * bench/anchors/lookup-required.ts measures the required work inside a bare service instead.
 */
import type { FastifyRouteSchemaDef } from 'fastify/types/schema.js';
import pino from 'pino';
import { digest } from '../packages/service-kit/src/auth.ts';
import { loggerOptions, redactUrl } from '../packages/service-kit/src/logger.ts';
import type { ContainerInspectInfo } from '../services/docker-agent/src/docker/engine.ts';
import { ContainerDetail } from '../services/docker-agent/src/routes/containers/schemas.ts';
import { toDetail } from '../services/docker-agent/src/routes/containers/to-api.ts';
import { compiledOkSerializer } from '../services/docker-agent/src/schemas/compiled-serializer.ts';
import { median, type Row } from './lib.ts';

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

/** Work timed alone, µs per request by piece, and their sum. */
export interface Floor {
  pieces: Record<string, number>;
  total: number;
}

/**
 * The row that sets a floor against what a throughput target of `minRatio` leaves beyond the anchor's
 * CPU per request summed over service, upstream and load generator (`anchorCpu`, µs, measured in the
 * same run).
 */
export function floorRow(section: string, what: string, floor: Floor, anchorCpu: number, minRatio: number): Row {
  const share = 1 / minRatio - 1;
  const budget = anchorCpu * share;
  const pieces = Object.entries(floor.pieces);
  return {
    section,
    metric: `${what}: the least CPU the required work adds beyond the anchor's, each piece timed alone in a warm loop (µs: ${pieces.map(([name]) => name).join(' / ')}; audit, metrics and GC not counted), vs what ≥ ${minRatio}× leaves (the anchor's CPU per request summed over service, upstream and load generator × ${share.toFixed(2)}); above 1 puts ${minRatio}× out of reach with these features, below 1 leaves the rest of the gap to overhead beyond the required work`,
    value: `${floor.total.toFixed(1)} (${pieces.map(([, us]) => us.toFixed(1)).join(' / ')})`,
    baseline: budget.toFixed(1),
    ratio: (floor.total / budget).toFixed(2),
  };
}

const floor = (pieces: Record<string, number>): Floor => ({
  pieces,
  total: Object.values(pieces).reduce((a, b) => a + b, 0),
});

const N = 20_000;
const KEY = 'bench-0123456789abcdef0123456789abcdef';
const keys = new Map([[digest(KEY), 'bench']]);
/** The API key check: service-kit's digest looked up in a Map, as its auth does. */
const keyCheck = () => perCall(N, () => keys.get(digest(KEY)));

/** A service's logger as configured (redaction hook included), writing to /dev/null. */
const logger = (name: string) => pino(loggerOptions('info', name), pino.destination({ dest: '/dev/null', sync: true }));

/** The request line, on a per-request child logger as Fastify makes it. */
function requestLine(log: pino.Logger, i: number, url: string): void {
  log.child({ reqId: `req-${i}` }).info(
    {
      req: {
        method: 'GET',
        url: redactUrl(url),
        host: '127.0.0.1:3000',
        remoteAddress: '127.0.0.1',
        remotePort: 50_000,
      },
      res: { statusCode: 200 },
      responseTime: 1.234,
    },
    'request completed',
  );
}

/**
 * A docker-agent container inspect beyond the anchor (which passes the engine's text through).
 * `answer`: the engine's inspect body for one of the benchmarked containers.
 */
export function inspectFloor(answer: string): Floor {
  const info = JSON.parse(answer) as ContainerInspectInfo;
  const serialize = compiledOkSerializer({ schema: ContainerDetail, httpStatus: '200' } as FastifyRouteSchemaDef<
    typeof ContainerDetail
  >);
  const detail = toDetail(info, false);
  const log = logger('docker-agent');
  return floor({
    'key check': keyCheck(),
    'answer parsed': perCall(N, () => JSON.parse(answer)),
    'API shape, environment redacted': perCall(N, () => toDetail(info, false)),
    'answer written': perCall(N, () => serialize(detail)),
    'info line': perCall(N, (i) => requestLine(log, i, `/api/v1/containers/${info.Id}`)),
  });
}
