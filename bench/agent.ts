/**
 * docker-agent part: median latency of listing 100+ containers and of inspect, each as a ratio to the
 * same Engine API call made directly on the socket, and log streaming throughput (agent NDJSON vs the
 * Engine's raw multiplexed stream) for the same container output.
 */
import { Agent, request } from 'undici';
import { median, type Row, type Service } from './lib.ts';

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

async function timed(fn: () => Promise<unknown>): Promise<number> {
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

export async function benchAgent(agent: Service, docker: Engine, ids: string[], repeats: number): Promise<Row[]> {
  const listAgent: number[] = [];
  const listEngine: number[] = [];
  const inspectAgent: number[] = [];
  const inspectEngine: number[] = [];
  const total = JSON.parse((await docker.call('GET', '/containers/json?all=1')).text).length as number;
  for (let r = 0; r < repeats; r++) {
    const la: number[] = [];
    const le: number[] = [];
    const ia: number[] = [];
    const ie: number[] = [];
    for (let i = 0; i < 40; i++) {
      la.push(await timed(async () => (await fetch(`${agent.url}/api/v1/containers?all=true`)).text()));
      le.push(await timed(() => docker.call('GET', '/containers/json?all=1')));
      const id = ids[i % ids.length]!;
      ia.push(await timed(async () => (await fetch(`${agent.url}/api/v1/containers/${id}`)).text()));
      ie.push(await timed(() => docker.call('GET', `/containers/${id}/json`)));
    }
    listAgent.push(median(la));
    listEngine.push(median(le));
    inspectAgent.push(median(ia));
    inspectEngine.push(median(ie));
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
  let lines = 0;
  for (let r = 0; r < repeats; r++) {
    agentTimes.push(
      await timed(async () => {
        const text = await (await fetch(`${agent.url}/api/v1/containers/${logId}/logs?follow=true`)).text();
        lines = text.split('\n').filter((l) => l.includes('"type":"log"')).length;
      }),
    );
    engineTimes.push(await timed(() => docker.call('GET', `/containers/${logId}/logs?stdout=1&stderr=1&follow=1`)));
  }
  const mb = engineBytes / 1024 / 1024;
  const agentMbps = mb / (median(agentTimes) / 1000);
  const engineMbps = mb / (median(engineTimes) / 1000);

  const lam = median(listAgent);
  const lem = median(listEngine);
  const iam = median(inspectAgent);
  const iem = median(inspectEngine);
  return [
    {
      section: 'docker-agent',
      metric: `median latency, list all containers (${total} on the engine) (ms), agent vs Engine API on the socket`,
      value: lam.toFixed(2),
      baseline: lem.toFixed(2),
      ratio: (lam / lem).toFixed(2),
    },
    {
      section: 'docker-agent',
      metric: 'median latency, inspect one container (ms), agent vs Engine API',
      value: iam.toFixed(2),
      baseline: iem.toFixed(2),
      ratio: (iam / iem).toFixed(2),
    },
    {
      section: 'docker-agent',
      metric: `log streaming throughput (MB/s of log output, ${lines} lines), agent NDJSON vs Engine raw stream`,
      value: agentMbps.toFixed(1),
      baseline: engineMbps.toFixed(1),
      ratio: (agentMbps / engineMbps).toFixed(2),
    },
  ];
}
