import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type {
  ContainerCreateOptions,
  ContainerInfo,
  ContainerInspectInfo,
  DockerEngine,
  Filters,
  HostConfig,
  MountSettings,
} from '../../docker/engine.ts';
import { dockerStatus } from '../../docker/errors.ts';
import { type LogLine, logLines } from '../../docker/logs.ts';
import { trimSlash } from '../../docker/names.ts';
import { pullCallError, pullProgress } from '../../docker/progress.ts';
import { computeStats, type StatsSnapshot, statsSnapshots } from '../../docker/stats.ts';
import { ImageNotFoundError, LogsTooLargeError, PolicyDeniedError } from '../../errors.ts';
import {
  checkNetworkNames,
  type Guard,
  type GuardedStack,
  type Protection,
  refuseGuardedVolume,
} from '../../policy/guard.ts';
import { isImageId } from '../../policy/images.ts';
import { joinLookup } from '../../policy/join-lookup.ts';
import { checkReservedLabels } from '../../policy/labels.ts';
import { isWithin } from '../../policy/paths.ts';
import { type JoinLookup, type Policy, RULES } from '../../policy/policy.ts';
import type { ActionResult } from '../../schemas/common.ts';
import type { CreateContainerBody } from './schemas.ts';

export function toSummary(c: ContainerInfo) {
  const names = (c.Names ?? []).map(trimSlash);
  return {
    id: c.Id,
    name: names[0] ?? c.Id.slice(0, 12),
    names,
    image: c.Image,
    imageId: c.ImageID,
    command: c.Command,
    created: new Date(c.Created * 1000).toISOString(),
    state: c.State,
    status: c.Status,
    ports: (c.Ports ?? []).map((p) => ({
      ...(p.IP ? { ip: p.IP } : {}),
      privatePort: p.PrivatePort,
      ...(p.PublicPort ? { publicPort: p.PublicPort } : {}),
      type: p.Type,
    })),
    labels: c.Labels ?? {},
  };
}

export async function listContainers(
  engine: DockerEngine,
  query: { all: boolean; label?: string[]; status?: string[]; name?: string[] },
) {
  const filters: Filters = {};
  if (query.label?.length) filters.label = query.label;
  if (query.status?.length) filters.status = query.status;
  if (query.name?.length) filters.name = query.name;
  const containers = (await engine.listContainers({ all: query.all, filters })).map(toSummary);
  return { containers, count: containers.length };
}

export function toDetail(c: ContainerInspectInfo, revealEnv: boolean) {
  const env = (c.Config.Env ?? []).map((e) => (revealEnv ? e : `${e.split('=')[0]}=[redacted]`));
  const networks = c.NetworkSettings?.Networks ?? {};
  return {
    id: c.Id,
    name: trimSlash(c.Name),
    image: c.Config.Image,
    imageId: c.Image,
    created: c.Created,
    state: {
      status: c.State.Status,
      running: c.State.Running,
      paused: c.State.Paused,
      restarting: c.State.Restarting,
      exitCode: c.State.ExitCode,
      startedAt: c.State.StartedAt,
      finishedAt: c.State.FinishedAt,
      ...(c.State.Health?.Status ? { health: c.State.Health.Status } : {}),
    },
    config: {
      cmd: asArray(c.Config.Cmd),
      entrypoint: asArray(c.Config.Entrypoint),
      env,
      workingDir: c.Config.WorkingDir ?? '',
      user: c.Config.User ?? '',
      tty: c.Config.Tty ?? false,
      labels: c.Config.Labels ?? {},
    },
    hostConfig: {
      restartPolicy: {
        name: c.HostConfig.RestartPolicy?.Name || 'no',
        maximumRetryCount: c.HostConfig.RestartPolicy?.MaximumRetryCount ?? 0,
      },
      memory: c.HostConfig.Memory ?? 0,
      nanoCpus: c.HostConfig.NanoCpus ?? 0,
      privileged: c.HostConfig.Privileged ?? false,
      networkMode: c.HostConfig.NetworkMode ?? '',
      binds: c.HostConfig.Binds ?? [],
      portBindings: Object.fromEntries(
        Object.entries(c.HostConfig.PortBindings ?? {}).map(([port, bindings]) => [
          port,
          ((bindings ?? []) as { HostIp?: string; HostPort?: string }[]).map((b) => ({
            hostIp: b.HostIp ?? '',
            hostPort: b.HostPort ?? '',
          })),
        ]),
      ),
    },
    ports: Object.fromEntries(
      Object.entries(c.NetworkSettings?.Ports ?? {}).map(([port, bindings]) => [
        port,
        bindings ? bindings.map((b) => ({ hostIp: b.HostIp, hostPort: b.HostPort })) : null,
      ]),
    ),
    mounts: (c.Mounts ?? []).map((m) => ({
      type: m.Type ?? '',
      source: m.Source ?? '',
      destination: m.Destination,
      readOnly: !m.RW,
    })),
    networks: Object.fromEntries(
      Object.entries(networks).map(([name, n]) => [
        name,
        { ipAddress: n.IPAddress ?? '', gateway: n.Gateway ?? '', macAddress: n.MacAddress ?? '' },
      ]),
    ),
  };
}

function asArray(v: string | string[] | null | undefined): string[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

const PORT_RE = /^(?:(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(?:(\d{1,5}):)?(\d{1,5})(?:\/(tcp|udp|sctp))?$/;

function portBindings(ports: CreateContainerBody['ports']) {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp?: string; HostPort: string }[]> = {};
  for (const p of ports ?? []) {
    let hostIp: string | undefined;
    let host: string | undefined;
    let container: string;
    let protocol: string;
    if (typeof p === 'string') {
      const m = PORT_RE.exec(p);
      if (!m) continue; // the schema already rejected it
      hostIp = m[1]?.replace(/^\[|\]$/g, '');
      host = m[2];
      container = m[3] as string;
      protocol = m[4] ?? 'tcp';
    } else {
      hostIp = p.hostIp;
      host = p.host === undefined ? undefined : String(p.host);
      container = String(p.container);
      protocol = p.protocol;
    }
    const key = `${Number(container)}/${protocol}`;
    exposed[key] = {};
    const list = bindings[key] ?? [];
    list.push({ ...(hostIp ? { HostIp: hostIp } : {}), HostPort: host ?? '' });
    bindings[key] = list;
  }
  return { exposed, bindings };
}

/** The Docker create request for a body: nothing the caller did not ask for. */
export function toCreateOptions(body: CreateContainerBody): ContainerCreateOptions {
  const { exposed, bindings } = portBindings(body.ports);
  const env =
    body.env === undefined
      ? undefined
      : Array.isArray(body.env)
        ? body.env
        : Object.entries(body.env).map(([k, v]) => `${k}=${v}`);
  const restart =
    body.restartPolicy === undefined
      ? undefined
      : typeof body.restartPolicy === 'string'
        ? { Name: body.restartPolicy }
        : { Name: body.restartPolicy.name, MaximumRetryCount: body.restartPolicy.maximumRetryCount ?? 0 };
  const mounts: MountSettings[] | undefined = body.mounts?.map((m) => ({
    Type: m.type,
    Target: m.target,
    ...(m.source !== undefined ? { Source: m.source } : {}),
    ReadOnly: m.readOnly,
    ...(m.volumeOptions
      ? {
          VolumeOptions: {
            ...(m.volumeOptions.labels ? { Labels: m.volumeOptions.labels } : {}),
            ...(m.volumeOptions.driver || m.volumeOptions.driverOptions
              ? {
                  DriverConfig: {
                    Name: m.volumeOptions.driver ?? 'local',
                    Options: m.volumeOptions.driverOptions ?? {},
                  },
                }
              : {}),
          },
        }
      : {}),
  })) as MountSettings[] | undefined;
  const hostConfig: HostConfig = {
    ...(body.binds ? { Binds: body.binds } : {}),
    ...(mounts ? { Mounts: mounts } : {}),
    ...(Object.keys(bindings).length ? { PortBindings: bindings } : {}),
    ...(restart ? { RestartPolicy: restart } : {}),
    ...(body.memory !== undefined ? { Memory: body.memory } : {}),
    ...(body.cpus !== undefined ? { NanoCpus: Math.round(body.cpus * 1e9) } : {}),
    ...(body.networkMode ? { NetworkMode: body.networkMode } : {}),
    ...(body.pidMode ? { PidMode: body.pidMode } : {}),
    ...(body.ipcMode ? { IpcMode: body.ipcMode } : {}),
    ...(body.privileged !== undefined ? { Privileged: body.privileged } : {}),
    ...(body.capAdd ? { CapAdd: body.capAdd } : {}),
    ...(body.capDrop ? { CapDrop: body.capDrop } : {}),
    ...(body.devices
      ? {
          Devices: body.devices.map((d) => ({
            PathOnHost: d.pathOnHost,
            PathInContainer: d.pathInContainer ?? d.pathOnHost,
            CgroupPermissions: d.permissions ?? 'rwm',
          })),
        }
      : {}),
  };
  return {
    Image: body.image,
    ...(body.name ? { name: body.name } : {}),
    ...(body.cmd ? { Cmd: body.cmd } : {}),
    ...(body.entrypoint ? { Entrypoint: body.entrypoint } : {}),
    ...(env ? { Env: env } : {}),
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    ...(body.labels ? { Labels: body.labels } : {}),
    ...(body.workingDir ? { WorkingDir: body.workingDir } : {}),
    ...(body.user ? { User: body.user } : {}),
    ...(body.hostname ? { Hostname: body.hostname } : {}),
    ...(body.tty !== undefined ? { Tty: body.tty } : {}),
    HostConfig: hostConfig,
  };
}

/** Every rule that applies to a container create, each naming the body field it objects to. */
export async function checkCreatePolicy(policy: Policy, body: CreateContainerBody, lookup: JoinLookup): Promise<void> {
  policy.checkPrivileged(body.privileged, 'privileged');
  policy.checkCapAdd(body.capAdd, 'capAdd');
  policy.checkNamespace('network', body.networkMode, 'networkMode');
  policy.checkNamespace('pid', body.pidMode, 'pidMode');
  policy.checkNamespace('ipc', body.ipcMode, 'ipcMode');
  await policy.checkJoinedNamespace('network', body.networkMode, 'networkMode', lookup);
  await policy.checkJoinedNamespace('pid', body.pidMode, 'pidMode', lookup);
  await policy.checkJoinedNamespace('ipc', body.ipcMode, 'ipcMode', lookup);
  policy.checkDevices(body.devices?.length ?? 0, 'devices');
  for (const [i, bind] of (body.binds ?? []).entries()) {
    const source = bind.slice(0, bind.indexOf(':'));
    if (source.startsWith('/')) await policy.checkBindSource(source, `binds[${i}]`);
  }
  for (const [i, m] of (body.mounts ?? []).entries()) {
    if (m.type === 'bind') await policy.checkBindSource(m.source ?? '', `mounts[${i}].source`);
    if (m.type === 'volume') {
      await policy.checkVolumeDriverOptions(
        m.volumeOptions?.driver,
        m.volumeOptions?.driverOptions,
        `mounts[${i}].volumeOptions.driverOptions`,
      );
    }
  }
}

/** Binds from allowlist entries not marked `:rw` are mounted read-only, whatever the caller asked. */
export function readOnlyBinds(policy: Policy, body: CreateContainerBody): CreateContainerBody {
  const binds = body.binds?.map((bind) => {
    const [source = '', target = '', options = ''] = bind.split(':');
    if (!source.startsWith('/') || policy.bindWritable(source)) return bind;
    const flags = options.split(',').filter((o) => o && o !== 'rw' && o !== 'ro');
    return `${source}:${target}:${['ro', ...flags].join(',')}`;
  });
  const mounts = body.mounts?.map((m) =>
    m.type === 'bind' && !policy.bindWritable(m.source ?? '') ? { ...m, readOnly: true } : m,
  );
  return { ...body, ...(binds ? { binds } : {}), ...(mounts ? { mounts } : {}) };
}

/**
 * When the agent runs in a container, it checks paths in its own filesystem while the engine mounts
 * them from the host's. They agree only where the agent has the host directory mounted at the same
 * path, so a bind source must lie in such a mount of the agent's own container.
 */
async function checkBindsSameOnHost(engine: DockerEngine, selfId: string, body: CreateContainerBody) {
  const sources = [
    ...(body.binds ?? []).map((b, i) => ({ source: b.slice(0, b.indexOf(':')), field: `binds[${i}]` })),
    ...(body.mounts ?? []).flatMap((m, i) =>
      m.type === 'bind' ? [{ source: m.source ?? '', field: `mounts[${i}].source` }] : [],
    ),
  ].filter((s) => s.source.startsWith('/'));
  if (sources.length === 0) return;
  const mounts = (await engine.inspectContainer(selfId)).Mounts ?? [];
  for (const { source, field } of sources) {
    const path = resolve('/', source);
    const holder = mounts
      .filter((m) => m.Type === 'bind' && isWithin(path, m.Destination))
      .sort((a, b) => b.Destination.length - a.Destination.length)[0];
    if (!holder || holder.Source !== holder.Destination) {
      throw new PolicyDeniedError(
        RULES.bindOutside,
        field,
        `the docker-agent runs in a container: "${source}" must lie in a host directory mounted into the agent at the same path`,
      );
    }
  }
}

const PREDEFINED_NETWORK_MODES = /^(?:default|bridge|host|none|container:.*)$/;

/**
 * What a new container would take from the guarded stack: a named volume one of them uses (raw
 * database files, the audit log), or a place on one of their networks under a name they answer to.
 */
async function checkGuardedResources(engine: DockerEngine, body: CreateContainerBody, stack: GuardedStack) {
  const volumes = [
    ...(body.binds ?? []).map((b, i) => ({ source: b.slice(0, b.indexOf(':')), field: `binds[${i}]` })),
    ...(body.mounts ?? []).flatMap((m, i) =>
      m.type === 'volume' && m.source ? [{ source: m.source, field: `mounts[${i}].source` }] : [],
    ),
  ];
  for (const { source, field } of volumes) {
    if (!source.startsWith('/')) refuseGuardedVolume(stack, source, field);
  }
  if (body.networkMode && body.name && !PREDEFINED_NETWORK_MODES.test(body.networkMode)) {
    const network = await engine.inspectNetwork(body.networkMode).catch((error: unknown) => {
      if (dockerStatus(error) === 404) return undefined; // the engine's own 404 follows on create
      throw error;
    });
    if (network) checkNetworkNames(stack, network.Id, network.Name, [body.name], 'name');
  }
}

export async function createContainer(
  engine: DockerEngine,
  policy: Policy,
  body: CreateContainerBody,
  protection: Protection,
  guard: Guard,
) {
  await checkCreatePolicy(policy, body, joinLookup(engine, protection.self, protection.protectLabel, guard));
  checkReservedLabels(body.labels, protection.protectLabel, 'labels');
  for (const [i, m] of (body.mounts ?? []).entries()) {
    checkReservedLabels(m.volumeOptions?.labels, protection.protectLabel, `mounts[${i}].volumeOptions.labels`);
  }
  await checkGuardedResources(engine, body, await guard.stack());
  if (protection.self.id) await checkBindsSameOnHost(engine, protection.self.id, body);
  if (!isImageId(body.image)) policy.checkImage([body.image], 'image');
  let image = await engine.inspectImage(body.image).catch((error: unknown) => {
    if (dockerStatus(error) === 404) return undefined;
    throw error;
  });
  if (!image && body.pull) {
    try {
      for await (const _ of pullProgress(body.image, await engine.pullImage(body.image))) {
        // Progress is not reported on create; the pull either completes or throws.
      }
    } catch (error) {
      throw pullCallError(body.image, error) ?? error;
    }
    image = await engine.inspectImage(body.image);
  }
  if (!image) {
    throw new ImageNotFoundError(
      `image "${body.image}" is not present on this engine${body.pull ? '' : ' (set "pull": true to pull it first)'}`,
      { details: { image: body.image } },
    );
  }
  // An id or a second tag must not slip past the allowlist: any of the image's names may match.
  policy.checkImage([body.image, ...(image.RepoTags ?? [])], 'image');
  // Containers inherit their image's labels: a built or pulled image must not smuggle reserved ones in.
  checkReservedLabels(image.Config?.Labels, protection.protectLabel, 'image.labels');

  const created = await engine.createContainer(toCreateOptions(readOnlyBinds(policy, body)));
  if (body.start) await engine.startContainer(created.id);
  const info = await engine.inspectContainer(created.id);
  return {
    id: created.id,
    name: trimSlash(info.Name),
    image: body.image,
    started: body.start,
    warnings: created.warnings,
  };
}

/** Inspects the target of a change and refuses the guarded stack (the agent, its project, protected ones). */
export async function guardedTarget(engine: DockerEngine, ref: string, guard: Guard) {
  const info = await engine.inspectContainer(ref);
  await guard.refuse(info, 'id');
  return info;
}

type Action = 'start' | 'stop' | 'restart';

/** start/stop/restart; Docker's 304 (already in that state) is a success with `changed: false`. */
export async function changeState(
  engine: DockerEngine,
  ref: string,
  action: Action,
  guard: Guard,
  timeoutSeconds?: number,
): Promise<ActionResult> {
  const info = action === 'start' ? await engine.inspectContainer(ref) : await guardedTarget(engine, ref, guard);
  try {
    if (action === 'start') await engine.startContainer(info.Id);
    else if (action === 'stop') await engine.stopContainer(info.Id, timeoutSeconds);
    else await engine.restartContainer(info.Id, timeoutSeconds);
  } catch (error) {
    if (dockerStatus(error) === 304) {
      const state = action === 'start' ? 'started' : 'stopped';
      return { id: info.Id, action, changed: false, message: `container already ${state}` };
    }
    throw error;
  }
  const done = { start: 'started', stop: 'stopped', restart: 'restarted' }[action];
  return { id: info.Id, action, changed: true, message: `container ${done}` };
}

export async function removeContainer(
  engine: DockerEngine,
  ref: string,
  options: { force: boolean; volumes: boolean },
  guard: Guard,
): Promise<ActionResult> {
  const info = await guardedTarget(engine, ref, guard);
  await engine.removeContainer(info.Id, options);
  return { id: info.Id, action: 'remove', changed: true, message: 'container removed' };
}

/** `since`/`until` as Docker wants them: unix seconds. Durations count back from `now`. */
export function toUnixSeconds(value: string, now: Date): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const duration = /^(\d+)([smhd])$/.exec(value);
  if (duration) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[duration[2] as 's' | 'm' | 'h' | 'd'];
    return Math.floor(now.getTime() / 1000) - Number(duration[1]) * unit;
  }
  return Math.floor(Date.parse(value) / 1000);
}

export interface LogsRequest {
  follow: boolean;
  tail?: string | undefined;
  since?: string;
  until?: string;
  timestamps: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface LogLimits {
  /** Lines when the caller names no `tail`. */
  tail: number;
  /** Largest non-follow answer, in bytes of line text. */
  maxBytes: number;
}

export async function openLogs(
  engine: DockerEngine,
  ref: string,
  q: LogsRequest,
  limits: LogLimits,
  now: Date,
  signal?: AbortSignal,
) {
  const info = await engine.inspectContainer(ref);
  const stream = await engine.containerLogs(
    info.Id,
    {
      follow: q.follow,
      stdout: q.stdout,
      stderr: q.stderr,
      timestamps: q.timestamps,
      tail: q.tail ?? String(limits.tail),
      ...(q.since ? { since: toUnixSeconds(q.since, now) } : {}),
      ...(q.until ? { until: toUnixSeconds(q.until, now) } : {}),
    },
    signal,
  );
  return { info, lines: logLines(stream, { tty: info.Config.Tty ?? false, timestamps: q.timestamps }) };
}

/**
 * A non-follow answer is built in memory, so it is capped: past `maxBytes` the engine stream is
 * released (`abort`) and the caller told to ask for less, rather than the agent holding a whole log.
 */
export async function collectLogs(lines: AsyncIterable<LogLine>, maxBytes: number, abort: AbortController) {
  const collected: LogLine[] = [];
  let bytes = 0;
  for await (const line of lines) {
    bytes += Buffer.byteLength(line.line) + (line.ts?.length ?? 0);
    if (bytes > maxBytes) {
      abort.abort();
      throw new LogsTooLargeError(
        `the logs asked for exceed ${maxBytes} bytes (DOCKER_AGENT_LOGS_MAX_BYTES); ask for fewer lines (tail), a time window (since/until) or follow=true`,
      );
    }
    collected.push(line);
  }
  return collected;
}

export async function* logEvents(lines: AsyncIterable<LogLine>) {
  for await (const l of lines) yield { type: 'log' as const, ...l };
}

export async function statsSnapshot(engine: DockerEngine, ref: string) {
  const info = await engine.inspectContainer(ref);
  const stream = await engine.containerStats(info.Id, { stream: false });
  const raw = JSON.parse(await readAll(stream)) as Parameters<typeof computeStats>[0];
  return withIdentity(info, computeStats(raw));
}

export async function openStats(engine: DockerEngine, ref: string, signal: AbortSignal) {
  const info = await engine.inspectContainer(ref);
  const stream = await engine.containerStats(info.Id, { stream: true }, signal);
  return (async function* () {
    for await (const s of statsSnapshots(stream)) yield { type: 'stats' as const, ...withIdentity(info, s) };
  })();
}

function withIdentity(info: ContainerInspectInfo, s: StatsSnapshot) {
  return { id: info.Id, name: trimSlash(info.Name), running: info.State.Running, ...s };
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
