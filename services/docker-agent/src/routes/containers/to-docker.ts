import type { ContainerCreateOptions, HostConfig, MountSettings } from '../../docker/engine.ts';
import type { CreateContainerBody } from './schemas.ts';

/** API → Docker: a request body or query in the shapes the engine takes. */

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
