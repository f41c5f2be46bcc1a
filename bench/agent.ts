/**
 * docker-agent part: throughput and p99 of listing 100+ containers and of inspect (API key on), each
 * against a bare Fastify proxy on the same socket (bench/anchors/socket-proxy.ts), and log streaming
 * throughput (agent NDJSON vs the Engine's raw multiplexed stream) for the same container output.
 */
import { readFileSync } from 'node:fs';
import type { Request } from 'autocannon';
import { Agent, request } from 'undici';
import { floorRow, inspectFloor } from './floor.ts';
import {
  anchorRows,
  type CpuPerRequest,
  cpuMicros,
  cpuRow,
  cpuSummary,
  inTurn,
  type LoadResult,
  load,
  median,
  type Row,
  type Service,
  summarise,
  targetRows,
  withCpu,
} from './lib.ts';

const LABEL = 'com.portone-docker-stack.bench';

export interface Engine {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

export function engine(socketPath: string): Engine {
  const dispatcher = new Agent({ connect: { socketPath }, connections: 4 });
  return {
    async call(method, path, body) {
      const res = await request(`http://docker${path}`, {
        method: method as 'GET',
        dispatcher,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.statusCode, text: await res.body.text() };
    },
    close: () => dispatcher.close(),
  };
}

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export async function setupContainers(docker: Engine, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await docker.call('POST', `/containers/create?name=bench-${process.pid}-${i}`, {
      Image: 'local/busybox:1',
      Cmd: ['true'],
      Labels: { [LABEL]: 'true' },
    });
    ids.push((JSON.parse(res.text) as { Id: string }).Id);
  }
  return ids;
}

export async function cleanup(docker: Engine): Promise<void> {
  const res = await docker.call(
    'GET',
    `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [LABEL] }))}`,
  );
  for (const c of JSON.parse(res.text) as { Id: string }[]) await docker.call('DELETE', `/containers/${c.Id}?force=1`);
}

export interface AgentRig {
  agent: Service;
  /** The X-API-Key the agent was started with (read role). */
  apiKey: string;
  socketAnchor: Service;
}

export async function benchAgent(rig: AgentRig, docker: Engine, ids: string[], repeats: number, duration: number) {
  const { agent } = rig;
  const key = { 'x-api-key': rig.apiKey };
  const total = JSON.parse((await docker.call('GET', '/containers/json?all=1')).text).length as number;
  const runs = { list: [] as LoadResult[], listAnchor: [] as LoadResult[], inspect: [] as LoadResult[] };
  const inspectAnchor: LoadResult[] = [];
  const inspectCpu = { ours: [] as CpuPerRequest[], anchor: [] as CpuPerRequest[] };
  // The engine's pid where dockerd writes it (scripts/services.sh starts it so); NaN figures otherwise.
  let dockerd = Number.NaN;
  try {
    dockerd = Number(readFileSync('/var/run/docker.pid', 'utf8'));
  } catch {}
  // Inspect cycles over the 100 containers.
  const inspectRequests = (headers: Record<string, string>): Request[] => {
    let i = 0;
    return [
      {
        method: 'GET',
        headers,
        setupRequest: (req) => ({ ...req, path: `/api/v1/containers/${ids[i++ % ids.length]}` }),
      },
    ];
  };
  const loads = {
    list: () => load(`${agent.url}/api/v1/containers?all=true`, { duration, headers: key }),
    listAnchor: () => load(`${rig.socketAnchor.url}/api/v1/containers?all=true`, { duration }),
    inspect: () => load(agent.url, { duration, requests: inspectRequests(key) }),
    inspectAnchor: () => load(rig.socketAnchor.url, { duration, requests: inspectRequests({}) }),
  };
  // Unrecorded: the first seconds of load after start or idle run before V8 has optimised the code.
  for (const run of Object.values(loads)) await run();
  for (let r = 0; r < repeats; r++) {
    const [list, listAnchor] = await inTurn(r, loads.list, loads.listAnchor);
    runs.list.push(list);
    runs.listAnchor.push(listAnchor);
    const [inspect, anchor] = await inTurn(
      r,
      () => withCpu({ service: agent.pid, upstream: dockerd }, loads.inspect),
      () => withCpu({ service: rig.socketAnchor.pid, upstream: dockerd }, loads.inspectAnchor),
    );
    runs.inspect.push(inspect.result);
    inspectAnchor.push(anchor.result);
    inspectCpu.ours.push(inspect.cpuPerRequest);
    inspectCpu.anchor.push(anchor.cpuPerRequest);
  }

  // A container that writes ~8 MB of log lines and exits; both sides read all of it.
  const maker = await docker.call('POST', `/containers/create?name=bench-logs-${process.pid}`, {
    Image: 'local/busybox:1',
    Cmd: [
      'sh',
      '-c',
      'i=0; while [ $i -lt 100000 ]; do echo "log line $i abcdefghijklmnopqrstuvwxyz0123456789abcdef"; i=$((i+1)); done',
    ],
    Labels: { [LABEL]: 'true' },
  });
  const logId = (JSON.parse(maker.text) as { Id: string }).Id;
  await docker.call('POST', `/containers/${logId}/start`);
  await docker.call('POST', `/containers/${logId}/wait`);
  const engineBytes = (await docker.call('GET', `/containers/${logId}/logs?stdout=1&stderr=1`)).text.length;
  const agentTimes: number[] = [];
  const engineTimes: number[] = [];
  // CPU (ms) per stream of the engine, the agent and the reader (this process), on either path.
  const cpu = { agent: [] as number[][], engine: [] as number[][] };
  const withStreamCpu = async (into: number[][], fn: () => Promise<unknown>) => {
    const before = [cpuMicros(dockerd), cpuMicros(agent.pid), process.cpuUsage()] as const;
    const ms = await timed(fn);
    const self = process.cpuUsage(before[2]);
    into.push([
      (cpuMicros(dockerd) - before[0]) / 1000,
      (cpuMicros(agent.pid) - before[1]) / 1000,
      (self.user + self.system) / 1000,
    ]);
    return ms;
  };
  let text = '';
  // Both sides are read by the same client (undici's request, the whole body as text) and only the
  // reading is timed: the agent's lines are counted after the clock stops.
  const agentStream = async () => {
    const url = `${agent.url}/api/v1/containers/${logId}/logs?follow=true&tail=all`;
    text = await (await request(url, { headers: key })).body.text();
  };
  const engineStream = async () => {
    const raw = await docker.call('GET', `/containers/${logId}/logs?stdout=1&stderr=1&follow=1`);
    // An error or a short answer would be a faster, false baseline.
    if (raw.status !== 200 || raw.text.length !== engineBytes)
      throw new Error(`engine log stream answered ${raw.status} with ${raw.text.length} of ${engineBytes} bytes`);
  };
  // Unrecorded, as for the other paths: the agent's first stream runs its line encoder unoptimised
  // (one trial: 918 ms and 540 ms of the agent's CPU, the next five 691-813 ms and 340-370 ms).
  await agentStream();
  await engineStream();
  for (let r = 0; r < repeats; r++) {
    const [agentMs, engineMs] = await inTurn(
      r,
      () => withStreamCpu(cpu.agent, agentStream),
      () => withStreamCpu(cpu.engine, engineStream),
    );
    agentTimes.push(agentMs);
    engineTimes.push(engineMs);
  }
  /** Medians of the columns `columns` (0 dockerd, 1 agent, 2 reader) over the repeats. */
  const cpuText = (runs: number[][], columns: number[]) =>
    columns.map((i) => median(runs.map((c) => c[i] ?? Number.NaN)).toFixed(0)).join(' / ');
  const lines = text.split('\n').filter((l) => l.includes('"type":"log"')).length;
  const mb = engineBytes / 1024 / 1024;
  if (lines !== 100_000) throw new Error(`agent log stream carried ${lines} of 100000 lines`);
  const mbps = (times: number[]) => times.map((ms) => mb / (ms / 1000));

  const list = summarise(runs.list);
  const inspect = summarise(runs.inspect);
  const listBare = summarise(runs.listAnchor);
  const inspectBare = summarise(inspectAnchor);
  const cpuOurs = cpuSummary(inspectCpu.ours);
  const cpuAnchor = cpuSummary(inspectCpu.anchor);
  const floor = inspectFloor((await docker.call('GET', `/containers/${ids[0]}/json`)).text);
  const rows: Row[] = [
    ...anchorRows('docker-agent', `list all containers (${total} on the engine)`, runs.list, runs.listAnchor, 0.8, 1.5),
    ...anchorRows('docker-agent', 'inspect a container', runs.inspect, inspectAnchor, 0.8, 1.5),
    cpuRow('docker-agent', 'inspect a container', 'engine (dockerd)', cpuOurs, cpuAnchor),
    floorRow('docker-agent', 'inspect a container', floor, cpuAnchor.sum, 0.8),
    {
      section: 'docker-agent',
      metric: 'failed or non-2xx answers during the list and inspect runs (ours, bare anchor)',
      value: `${list.failures + inspect.failures}, ${listBare.failures + inspectBare.failures}`,
      target: '0',
      met: list.failures + inspect.failures + listBare.failures + inspectBare.failures === 0,
    },
    ...targetRows({
      section: 'docker-agent',
      metric: `log streaming throughput (MB/s of log output, ${lines} lines), agent NDJSON vs Engine raw stream`,
      what: 'log streaming throughput',
      ours: mbps(agentTimes),
      anchor: mbps(engineTimes),
      minRatio: 0.9,
      digits: { value: 1 },
    }),
    {
      section: 'docker-agent',
      metric: `log streaming CPU per stream (ms) of the engine (dockerd) / the agent / the reader, agent path vs Engine raw (${median(agentTimes).toFixed(0)} vs ${median(engineTimes).toFixed(0)} ms wall, 2 cores shared)`,
      value: cpuText(cpu.agent, [0, 1, 2]),
      baseline: cpuText(cpu.engine, [0, 2]),
    },
  ];
  return rows;
}
