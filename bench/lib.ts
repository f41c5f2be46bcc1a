/**
 * Shared benchmark plumbing: services run as child processes (so load generator and server do not
 * share a core's event loop and RSS is the service's own), autocannon drives HTTP load, and every
 * figure is a median over repeated runs taken side by side in one `pnpm bench`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { ended, stopChild } from '../scripts/child.ts';

export const ROOT = new URL('..', import.meta.url).pathname;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export { freePort } from '@repo/test-support';

/** Resident set size of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return Number.NaN; // the process is gone (its exit is reported where it was started)
  }
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/**
 * CPU time (user + system) a process has used so far, in microseconds, from /proc (clock ticks of
 * 10 ms: over a load run of seconds that is well under 1%); NaN once the process is gone.
 */
export function cpuMicros(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return Number.NaN;
  }
}

/**
 * Runs a load run and reports the CPU each process spent per answered request (µs): where a request's
 * time goes when services, database and load generator share the machine's cores.
 */
export async function withCpu<K extends string>(
  pids: Record<K, number>,
  run: () => Promise<LoadResult>,
): Promise<{ result: LoadResult; cpuPerRequest: Record<K | 'loadGenerator', number> }> {
  const names = Object.keys(pids) as K[];
  const before = names.map((name) => cpuMicros(pids[name]));
  const self = process.cpuUsage();
  const result = await run();
  const used = process.cpuUsage(self);
  const requests = Math.max(1, result.ok + result.non2xx);
  const cpuPerRequest = { loadGenerator: (used.user + used.system) / requests } as Record<K | 'loadGenerator', number>;
  names.forEach((name, i) => {
    cpuPerRequest[name] = (cpuMicros(pids[name]) - (before[i] ?? Number.NaN)) / requests;
  });
  return { result, cpuPerRequest };
}

export interface Service {
  name: string;
  url: string;
  pid: number;
  readyMs: number;
  stop(): Promise<void>;
}

/** Starts `node script` with env, waits until `readyPath` answers 2xx, and times it. */
export async function startService(
  name: string,
  script: string,
  env: Record<string, string>,
  port: number,
  readyPath: string,
): Promise<Service> {
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (ended(child)) throw new Error(`${name} exited: ${stderr}`);
    try {
      const res = await fetch(url + readyPath);
      if (res.ok) break;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) throw new Error(`${name} not ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const readyMs = performance.now() - started;
  let stopping = false;
  // A service that dies mid-run would otherwise surface only as a missing /proc entry: say why. Ctrl-C
  // reaches every process of the group: a service ending on it (by the signal, or cleanly) did not die.
  child.once('exit', (code, signal) => {
    if (!stopping && code !== 0 && signal !== 'SIGINT')
      console.error(`[bench] ${name} exited during the run (code ${code}, signal ${signal}): ${stderr}`);
  });
  return {
    name,
    url,
    pid: child.pid!,
    readyMs,
    stop: () => {
      stopping = true;
      return stopChild(child);
    },
  };
}

/**
 * Runs ours and the anchor one after the other, the anchor first on even repeats and ours first on
 * odd ones, so that neither always runs in the other's wake (MariaDB still flushing the previous
 * storm's rows, a warmer engine cache).
 */
export async function inTurn<O, A>(repeat: number, ours: () => Promise<O>, anchor: () => Promise<A>): Promise<[O, A]> {
  if (repeat % 2 === 0) {
    const a = await anchor();
    return [await ours(), a];
  }
  const o = await ours();
  return [o, await anchor()];
}

export interface LoadResult {
  /** 2xx answers. */
  ok: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /**
   * How long the run took. Not always `duration`: autocannon stops at its first one-second tick once
   * `duration` has passed, and when that tick fires just before its stop timer it runs a second more.
   */
  seconds: number;
}

export async function load(
  url: string,
  options: {
    connections?: number;
    duration?: number;
    headers?: Record<string, string>;
    requests?: autocannon.Request[];
    /** Requests per second across all connections (an open rate) instead of as many as answered. */
    rate?: number;
  } = {},
): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections: options.connections ?? 16,
    duration: options.duration ?? 3,
    headers: options.headers ?? {},
    ...(options.requests ? { requests: options.requests } : {}),
    ...(options.rate ? { overallRate: options.rate } : {}),
  });
  return {
    ok: result['2xx'],
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    seconds: result.duration,
  };
}

export interface Summary {
  rps: number;
  p50: number;
  p99: number;
  failures: number;
}

/** Medians of repeated runs (throughput and latency percentiles), failures summed. */
export const summarise = (runs: LoadResult[]): Summary => ({
  rps: median(runs.map((r) => r.rps)),
  p50: median(runs.map((r) => r.p50)),
  p99: median(runs.map((r) => r.p99)),
  failures: runs.reduce((n, r) => n + r.errors + r.non2xx, 0),
});

/**
 * Ours / anchor in each repeat, and the ratio a target is checked on. Each repeat runs the two in
 * turns, so a change in the machine's speed between repeats falls on both sides of its ratio (a ratio
 * of the two sides' medians would pair figures taken at different moments). Consecutive repeats swap
 * which side goes first (`inTurn`), and the side going second runs slower: ours over the anchor read
 * 0.56-0.80 with the anchor first and 0.87-1.46 with ours first (webhook ingest, two runs of five
 * repeats), so with an odd number of repeats the order taken three times would decide the median. The
 * ratio is therefore the median over pairs of consecutive repeats, each pair the geometric mean of its
 * two ratios: one of each order. An odd last repeat is shown but left out.
 */
export function pairedRatio(ours: number[], anchor: number[]): { each: number[]; median: number } {
  const each = ours.map((o, i) => o / (anchor[i] ?? Number.NaN));
  const balanced: number[] = [];
  for (let i = 0; i + 1 < each.length; i += 2)
    balanced.push(Math.sqrt((each[i] ?? Number.NaN) * (each[i + 1] ?? Number.NaN)));
  return { each, median: median(balanced.length > 0 ? balanced : each) };
}

/** The paired p99 ratio of two series of load runs (1 ms is autocannon's resolution). */
export function p99Ratio(ours: LoadResult[], anchor: LoadResult[]): number {
  return pairedRatio(
    ours.map((r) => Math.max(r.p99, 1)),
    anchor.map((r) => Math.max(r.p99, 1)),
  ).median;
}

/**
 * A figure where more is better, measured per repeat on both sides: the target row (each side's
 * median, the paired ratio against `minRatio`; without one, the row has no target) and after it each
 * repeat's ratio and the best, the best figure the run reached.
 */
export function targetRows(options: {
  section: string;
  /** The target row's metric. */
  metric: string;
  /** What the repeats row names (`… throughput`). */
  what: string;
  ours: number[];
  anchor: number[];
  minRatio?: number;
  target?: string;
  /** Decimals of the medians shown and of the ratio. */
  digits?: { value?: number; ratio?: number };
  /** The two sides as the repeats row names them. */
  pair?: string;
}): Row[] {
  const { section, ours, anchor, minRatio } = options;
  const { each, median: ratio } = pairedRatio(ours, anchor);
  const valueDigits = options.digits?.value ?? 0;
  return [
    {
      section,
      metric: options.metric,
      value: median(ours).toFixed(valueDigits),
      baseline: median(anchor).toFixed(valueDigits),
      ratio: ratio.toFixed(options.digits?.ratio ?? 2),
      ...(minRatio === undefined ? {} : { target: options.target ?? `≥ ${minRatio}×`, met: ratio >= minRatio }),
    },
    {
      section,
      metric: `${options.what}, ${options.pair ?? 'ours / anchor'} in each repeat (ratio: the best)`,
      value: each.map((r) => r.toFixed(2)).join(', '),
      ratio: Math.max(...each).toFixed(2),
    },
  ];
}

/**
 * The rows comparing ours with an anchor measured side by side, repeat by repeat: throughput (the
 * paired ratio at least `minRatio`, then each repeat's) and p99 latency (the paired ratio at most
 * `maxP99Ratio`). The values shown are the medians of each side.
 */
export function anchorRows(
  section: string,
  what: string,
  ours: LoadResult[],
  anchor: LoadResult[],
  minRatio: number,
  maxP99Ratio: number,
): Row[] {
  const o = summarise(ours);
  const a = summarise(anchor);
  const latency = p99Ratio(ours, anchor);
  return [
    ...targetRows({
      section,
      metric: `${what} throughput (req/s), ours vs bare anchor`,
      what: `${what} throughput`,
      ours: ours.map((r) => r.rps),
      anchor: anchor.map((r) => r.rps),
      minRatio,
    }),
    {
      section,
      metric: `${what} p50 / p99 latency (ms), ours vs bare anchor`,
      value: `${o.p50} / ${o.p99}`,
      baseline: `${a.p50} / ${a.p99}`,
      ratio: `${latency.toFixed(2)} (p99)`,
      target: `p99 ≤ ${maxP99Ratio}×`,
      met: latency <= maxP99Ratio,
    },
  ];
}

/** CPU per answered request (µs) of the service, its upstream (emulator, dockerd) and the load generator. */
export type CpuPerRequest = Record<'service' | 'upstream' | 'loadGenerator', number>;

export type CpuSummary = CpuPerRequest & { sum: number };

/** Medians over repeated runs of each process's CPU per request and of their sum. */
export function cpuSummary(runs: CpuPerRequest[]): CpuSummary {
  return {
    service: median(runs.map((c) => c.service)),
    upstream: median(runs.map((c) => c.upstream)),
    loadGenerator: median(runs.map((c) => c.loadGenerator)),
    sum: median(runs.map((c) => c.service + c.upstream + c.loadGenerator)),
  };
}

/**
 * Where a request's CPU goes, ours vs the anchor. The three processes share the machine's cores, so
 * the throughput ratio follows the inverse of the sums' ratio, not of the services' alone.
 */
export function cpuRow(
  section: string,
  what: string,
  upstream: string,
  ours: CpuSummary,
  theirs: CpuSummary,
  sides = 'ours vs bare anchor',
): Row {
  const text = (c: CpuSummary) =>
    `${c.service.toFixed(0)} / ${c.upstream.toFixed(0)} / ${c.loadGenerator.toFixed(0)} (${c.sum.toFixed(0)})`;
  return {
    section,
    metric: `${what} CPU per request (µs): service / ${upstream} / load generator (their sum), ${sides} (ratio: service; sum, whose inverse the throughput ratio follows)`,
    value: text(ours),
    baseline: text(theirs),
    ratio: `${(ours.service / theirs.service).toFixed(2)}; ${(ours.sum / theirs.sum).toFixed(2)}`,
  };
}

export function fmt(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n >= 100 ? n.toFixed(0) : n.toFixed(digits);
}

export interface Row {
  section: string;
  metric: string;
  value: string;
  baseline?: string;
  ratio?: string;
  target?: string;
  met?: boolean;
}

export function markdownTable(rows: Row[]): string {
  const lines = [
    '| section | metric | measured | baseline | ratio | target | met |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const met = r.met === undefined ? '' : r.met ? 'yes' : '**MISSED**';
    lines.push(
      `| ${r.section} | ${r.metric} | ${r.value} | ${r.baseline ?? ''} | ${r.ratio ?? ''} | ${r.target ?? ''} | ${met} |`,
    );
  }
  return lines.join('\n');
}
