import { isAbsolute, relative, resolve } from 'node:path';
import { PolicyDeniedError } from '../errors.ts';
import type { ComposeModel } from './check.ts';

/** Rules for the shape of the resolved model; named in `POLICY_DENIED` problems. */
export const KEY_RULES = {
  unknownKey: 'compose-key-not-allowed',
  build: 'compose-build',
} as const;

/**
 * Service keys the agent understands: each is either harmless for the host or checked by a rule in
 * `check.ts` / `stack-guard.ts`. Anything else is refused, so a key compose learns later (or one this
 * list forgot) is denied by default rather than passed through unread. Left out on purpose, among
 * others: `device_cgroup_rules`, `gpus`, `runtime`, `cgroup_parent`, `sysctls`, `userns_mode`,
 * `oom_kill_disable`, `oom_score_adj`, `storage_opt`, `blkio_config`, `cpu_rt_*`, `isolation`,
 * `credential_spec`, `volume_driver`, `external_links` (a link to a container outside the project).
 */
const SERVICE_KEYS = new Set([
  // what runs, and as whom
  'image',
  'build',
  'command',
  'entrypoint',
  'environment',
  'env_file',
  'working_dir',
  'user',
  'group_add',
  'labels',
  'container_name',
  'hostname',
  'domainname',
  'platform',
  'pull_policy',
  'profiles',
  'scale',
  'restart',
  'depends_on',
  'healthcheck',
  'init',
  'tty',
  'stdin_open',
  'stop_signal',
  'stop_grace_period',
  'read_only',
  'cap_drop',
  'logging',
  'deploy',
  // checked by the policy
  'privileged',
  'cap_add',
  'security_opt',
  'devices',
  'network_mode',
  'pid',
  'ipc',
  'uts',
  'cgroup',
  'volumes',
  'volumes_from',
  'secrets',
  'configs',
  'networks',
  // network identity inside the project
  'ports',
  'expose',
  'links',
  'dns',
  'dns_search',
  'dns_opt',
  'extra_hosts',
  'mac_address',
  // limits (they only take resources away)
  'mem_limit',
  'memswap_limit',
  'mem_reservation',
  'mem_swappiness',
  'cpus',
  'cpu_shares',
  'cpu_quota',
  'cpu_period',
  'cpu_count',
  'cpu_percent',
  'cpuset',
  'pids_limit',
  'shm_size',
  'tmpfs',
  'ulimits',
]);

/** `deploy` as compose applies it to single-host containers (`--compatibility`); no reserved devices. */
const DEPLOY_KEYS = new Set([
  'mode',
  'replicas',
  'labels',
  'resources',
  'restart_policy',
  'update_config',
  'rollback_config',
  'placement',
  'endpoint_mode',
]);
const RESOURCES = new Set(['limits', 'reservations']);
const RESOURCE_KEYS = new Set(['cpus', 'memory', 'pids']);
const BUILD_KEYS = new Set([
  'context',
  'dockerfile',
  'args',
  'labels',
  'target',
  'shm_size',
  'extra_hosts',
  'network',
  'cache_from',
]);
const SERVICE_NETWORK_KEYS = new Set(['aliases', 'ipv4_address', 'ipv6_address', 'link_local_ips', 'priority']);
const TOP_LEVEL_KEYS = new Set(['version', 'name', 'services', 'networks', 'volumes', 'secrets', 'configs']);
/** `compose build` can only use the builder's own network or none: `host` is the host's network stack. */
const BUILD_NETWORKS = new Set(['default', 'none', 'bridge']);

const isEmpty = (v: unknown) =>
  v === null ||
  v === undefined ||
  (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && Object.keys(v).length === 0);

function refuse(field: string, message: string): never {
  throw new PolicyDeniedError(KEY_RULES.unknownKey, field, message);
}

function onlyKeys(value: unknown, allowed: Set<string>, field: string, what: string): void {
  if (!value || typeof value !== 'object') return;
  for (const [key, v] of Object.entries(value)) {
    if (!allowed.has(key) && !key.startsWith('x-') && !isEmpty(v)) {
      refuse(field ? `${field}.${key}` : key, `"${key}" is not allowed in ${what}`);
    }
  }
}

/** A build context the builder fetches itself: a URL or a git remote (compose's own test). */
const REMOTE_CONTEXT = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@|github\.com\/)/i;

function checkBuild(build: unknown, field: string, projectDir: string): void {
  const spec = typeof build === 'string' ? { context: build } : build;
  onlyKeys(spec, BUILD_KEYS, field, 'a build');
  const b = (spec ?? {}) as { context?: unknown; dockerfile?: unknown; network?: unknown };
  const context = typeof b.context === 'string' ? b.context : '.';
  if (REMOTE_CONTEXT.test(context)) {
    throw new PolicyDeniedError(
      KEY_RULES.build,
      `${field}.context`,
      `build context "${context}" is remote; only project paths build`,
    );
  }
  if (b.dockerfile !== undefined) {
    const dockerfile = String(b.dockerfile);
    const root = resolve(projectDir, context);
    const rel = relative(root, resolve(root, dockerfile));
    if (isAbsolute(dockerfile) || rel.startsWith('..') || isAbsolute(rel)) {
      throw new PolicyDeniedError(
        KEY_RULES.build,
        `${field}.dockerfile`,
        `dockerfile "${dockerfile}" must be a relative path inside the build context`,
      );
    }
  }
  if (b.network !== undefined && !BUILD_NETWORKS.has(String(b.network))) {
    throw new PolicyDeniedError(
      KEY_RULES.build,
      `${field}.network`,
      `build network "${String(b.network)}" is not allowed (only ${[...BUILD_NETWORKS].join(', ')})`,
    );
  }
}

/**
 * The shape of the resolved model: only known keys, no reserved devices under `deploy`, builds from
 * the project only. Runs before the value rules of `checkComposeModel`.
 */
export function checkAllowedKeys(model: ComposeModel, projectDir: string): void {
  onlyKeys(model, TOP_LEVEL_KEYS, '', 'a compose file');
  for (const [name, service] of Object.entries(model.services ?? {})) {
    if (!service) continue;
    const at = `services.${name}`;
    for (const [key, value] of Object.entries(service)) {
      if (!SERVICE_KEYS.has(key) && !key.startsWith('x-') && !isEmpty(value)) {
        refuse(`${at}.${key}`, `service "${name}" uses "${key}", which the agent does not allow`);
      }
    }
    const s = service as { deploy?: { resources?: Record<string, unknown> }; build?: unknown };
    onlyKeys(s.deploy, DEPLOY_KEYS, `${at}.deploy`, 'deploy');
    onlyKeys(s.deploy?.resources, RESOURCES, `${at}.deploy.resources`, 'deploy resources');
    for (const kind of ['limits', 'reservations'] as const) {
      onlyKeys(s.deploy?.resources?.[kind], RESOURCE_KEYS, `${at}.deploy.resources.${kind}`, `deploy resource ${kind}`);
    }
    if (s.build !== undefined) checkBuild(s.build, `${at}.build`, projectDir);
    const joined = (service as { networks?: unknown }).networks;
    if (joined && typeof joined === 'object' && !Array.isArray(joined)) {
      for (const [network, options] of Object.entries(joined)) {
        onlyKeys(options, SERVICE_NETWORK_KEYS, `${at}.networks.${network}`, 'a service network');
      }
    }
  }
}
