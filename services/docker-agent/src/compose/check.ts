import { isAbsolute, resolve } from 'node:path';
import { PolicyDeniedError } from '../errors.ts';
import { isWithin, resolveHostPath } from '../policy/paths.ts';
import { type JoinLookup, type Policy, RULES } from '../policy/policy.ts';

/** The parts of a resolved compose model (`compose config`) the policy reads; v1 and v2 shapes. */
interface ComposeService {
  image?: string;
  build?: string | { context?: string };
  privileged?: boolean;
  cap_add?: string[];
  network_mode?: string;
  pid?: string;
  ipc?: string;
  uts?: string;
  userns_mode?: string;
  cgroup?: string;
  security_opt?: string[];
  devices?: unknown[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  volumes_from?: string[];
}
export interface ComposeModel {
  services?: Record<string, ComposeService | null>;
  volumes?: Record<string, { driver?: string; driver_opts?: Record<string, string | number> } | null>;
  /** File-based secrets and configs are bind-mounted from the host by compose (v1 mounts secrets). */
  secrets?: Record<string, { file?: string } | null>;
  configs?: Record<string, { file?: string } | null>;
}

async function insideProjectOrAllowlist(real: string, projectDir: string, bindAllowlist: string[]): Promise<boolean> {
  const roots = await Promise.all([projectDir, ...bindAllowlist].map((p) => resolveHostPath(p)));
  return roots.some((r) => isWithin(real, r));
}

/** A short-syntax volume `source:target[:mode]`: a bind when the source is a path. */
function shortSyntaxSource(spec: string): string | undefined {
  const parts = spec.split(':');
  if (parts.length < 2) return undefined;
  const source = parts[0] ?? '';
  return source.startsWith('/') || source.startsWith('.') || source.startsWith('~') ? source : undefined;
}

/**
 * Applies the container policy to every service of a resolved compose model, naming fields as
 * they appear in the compose file (`services.web.volumes[0]`). Build contexts are host paths the
 * builder reads, so they must lie inside the project directory or the bind allowlist.
 */
export async function checkComposeModel(
  policy: Policy,
  model: ComposeModel,
  projectDir: string,
  bindAllowlist: string[],
  joins: JoinLookup,
): Promise<void> {
  for (const [name, service] of Object.entries(model.services ?? {})) {
    if (!service) continue;
    const at = (field: string) => `services.${name}.${field}`;
    policy.checkPrivileged(service.privileged, at('privileged'));
    policy.checkCapAdd(service.cap_add, at('cap_add'));
    policy.checkNamespace('network', service.network_mode, at('network_mode'));
    policy.checkNamespace('pid', service.pid, at('pid'));
    policy.checkNamespace('ipc', service.ipc, at('ipc'));
    policy.checkNamespace('uts', service.uts, at('uts'));
    policy.checkNamespace('userns', service.userns_mode, at('userns_mode'));
    policy.checkNamespace('cgroup', service.cgroup, at('cgroup'));
    // `service:<name>` stays inside the project (checked as that service); `container:<ref>` does not.
    await policy.checkJoinedNamespace('network', service.network_mode, at('network_mode'), joins);
    await policy.checkJoinedNamespace('pid', service.pid, at('pid'), joins);
    await policy.checkJoinedNamespace('ipc', service.ipc, at('ipc'), joins);
    policy.checkSecurityOpt(service.security_opt, at('security_opt'));
    policy.checkDevices(service.devices?.length ?? 0, at('devices'));
    for (const [i, volume] of (service.volumes ?? []).entries()) {
      const source =
        typeof volume === 'string'
          ? shortSyntaxSource(volume)
          : volume.type === 'bind'
            ? (volume.source ?? '')
            : undefined;
      if (source !== undefined) {
        const absolute = isAbsolute(source) ? source : resolve(projectDir, source);
        await policy.checkBindSource(absolute, at(`volumes[${i}]`));
      }
    }
    for (const [i, from] of (service.volumes_from ?? []).entries()) {
      // Another container's mounts were never checked here (the agent's own carries the socket);
      // services of the same project are, so only those may share.
      if (from.startsWith('container:')) {
        throw new PolicyDeniedError(
          RULES.volumesFrom,
          at(`volumes_from[${i}]`),
          `volumes_from "${from}" would inherit mounts of a container outside the project`,
        );
      }
    }
    if (service.image) policy.checkImage([service.image], at('image'));
    if (service.build !== undefined) {
      const context = typeof service.build === 'string' ? service.build : (service.build.context ?? '.');
      const real = await resolveHostPath(isAbsolute(context) ? context : resolve(projectDir, context));
      if (!(await insideProjectOrAllowlist(real, projectDir, bindAllowlist))) {
        throw new PolicyDeniedError(
          'build-context-outside-project',
          at('build'),
          `build context "${context}" resolves to "${real}", outside the project directory and the bind allowlist`,
        );
      }
      if (!service.image) policy.checkImage([`${name}`], at('image'));
    }
  }
  for (const kind of ['secrets', 'configs'] as const) {
    for (const [name, entry] of Object.entries(model[kind] ?? {})) {
      if (!entry?.file) continue;
      const file = isAbsolute(entry.file) ? entry.file : resolve(projectDir, entry.file);
      await policy.checkBindSource(file, `${kind}.${name}.file`);
    }
  }
  for (const [name, volume] of Object.entries(model.volumes ?? {})) {
    if (!volume?.driver_opts) continue;
    const opts = Object.fromEntries(Object.entries(volume.driver_opts).map(([k, v]) => [k, String(v)]));
    await policy.checkVolumeDriverOptions(volume.driver, opts, `volumes.${name}.driver_opts`);
  }
}
