import type { ContainerInfo, ContainerInspectInfo } from '../../docker/engine.ts';
import { trimSlash } from '../../docker/names.ts';
import type { StatsSnapshot } from '../../docker/stats.ts';

/** Docker → API: what the engine reports, in the shapes of ./schemas.ts. */

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

export function toDetail(c: ContainerInspectInfo, revealEnv: boolean) {
  const env = revealEnv ? (c.Config.Env ?? []) : (c.Config.Env ?? []).map(redactEnv);
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

/** `NAME=value` → `NAME=[redacted]` (the name only, without splitting the value). */
function redactEnv(e: string): string {
  const eq = e.indexOf('=');
  return `${eq < 0 ? e : e.slice(0, eq)}=[redacted]`;
}

function asArray(v: string | string[] | null | undefined): string[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

export function withIdentity(info: ContainerInspectInfo, s: StatsSnapshot) {
  return { id: info.Id, name: trimSlash(info.Name), running: info.State.Running, ...s };
}
