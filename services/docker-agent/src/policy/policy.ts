import { join, relative, resolve } from 'node:path';
import type { PolicyConfig } from '../config.ts';
import { PolicyDeniedError } from '../errors.ts';
import { imageAllowed } from './images.ts';
import { isWithin, resolveHostPath } from './paths.ts';

/** Rule names as they appear in `POLICY_DENIED` problems. */
export const RULES = {
  privileged: 'privileged',
  capAdd: 'cap-add',
  hostNetwork: 'host-network-mode',
  hostPid: 'host-pid-mode',
  hostIpc: 'host-ipc-mode',
  hostUts: 'host-uts-mode',
  hostUserns: 'host-userns-mode',
  hostCgroupns: 'host-cgroupns-mode',
  securityOpt: 'security-opt',
  devices: 'devices',
  bindOutside: 'bind-mount-outside-allowlist',
  dockerSocket: 'docker-socket-mount',
  image: 'image-not-allowed',
  volumesFrom: 'volumes-from-container',
  envFile: 'env-file-outside-project',
  protectedLabel: 'protected-container',
  self: 'agent-self-protection',
  stack: 'agent-stack',
  reservedLabel: 'reserved-label',
  guardedVolume: 'guarded-volume',
  guardedNetwork: 'guarded-network',
  guardedImage: 'guarded-image-tag',
  bindSymlink: 'bind-mount-symlink',
} as const;

export type Namespace = 'network' | 'pid' | 'ipc' | 'uts' | 'userns' | 'cgroup';
const NAMESPACE_RULES: Record<Namespace, string> = {
  network: RULES.hostNetwork,
  pid: RULES.hostPid,
  ipc: RULES.hostIpc,
  uts: RULES.hostUts,
  userns: RULES.hostUserns,
  cgroup: RULES.hostCgroupns,
};

/** A container whose namespace a new one asks to join (`container:<ref>`), as the engine reports it. */
export interface JoinTarget {
  id: string;
  name: string;
  /** The docker-agent's own container. */
  self: boolean;
  /** Carries the protect label. */
  protected: boolean;
  /** Its own modes: `host`, `container:<ref>`, or anything private. */
  modes: Partial<Record<Namespace, string>>;
}

/** Finds a container to join by id or name; undefined when there is none. */
export type JoinLookup = (ref: string) => Promise<JoinTarget | undefined>;

/** `container:<ref>` → `<ref>`; anything else → undefined. */
function joinedRef(mode: string | undefined): string | undefined {
  return mode?.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

/**
 * Security options that only take privileges away. Anything else (`seccomp=unconfined` or a custom
 * profile, `apparmor=unconfined`, `label=disable`, `systempaths=unconfined`) lifts a confinement.
 */
const HARMLESS_SECURITY_OPTS = /^no-new-privileges(?:[:=]true)?$/;

const WELL_KNOWN_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock'];

/**
 * What may be created on this engine. Each check throws `PolicyDeniedError(rule, field)`; callers
 * name the field as the client wrote it (`binds[0]`, `services.web.volumes[1]`).
 */
export interface Policy {
  checkImage(names: string[], field: string): void;
  checkPrivileged(value: boolean | undefined, field: string): void;
  checkCapAdd(values: string[] | undefined, field: string): void;
  checkNamespace(kind: Namespace, mode: string | undefined, field: string): void;
  /**
   * `container:<ref>` shares another container's namespace: refused for the agent itself, a
   * protected container, one that does not exist, and one that (itself or down its own chain of
   * `container:` modes) shares the host's namespace.
   */
  checkJoinedNamespace(kind: Namespace, mode: string | undefined, field: string, lookup: JoinLookup): Promise<void>;
  checkSecurityOpt(values: string[] | undefined, field: string): void;
  checkDevices(count: number, field: string): void;
  /**
   * A host path about to be bind-mounted: inside the allowlist, never the socket or /proc, and with no
   * symlink at or below its allowlist entry (one could be swapped for another target before a start).
   */
  checkBindSource(source: string, field: string): Promise<void>;
  /** An allowlisted bind source under an entry marked `:rw`; every other bind is mounted read-only. */
  bindWritable(source: string): boolean;
  /** Options of the `local` volume driver, which can bind any host path (`o=bind, device=...`). */
  checkVolumeDriverOptions(
    driver: string | undefined,
    options: Record<string, string> | undefined,
    field: string,
  ): Promise<void>;
}

export function createPolicy(config: PolicyConfig): Policy {
  const deny = (rule: string, field: string, message: string): never => {
    throw new PolicyDeniedError(rule, field, message);
  };

  const policy: Policy = {
    checkImage(names, field) {
      const allowlist = config.imageAllowlist;
      if (allowlist.length === 0) return;
      // Any of the image's names may match (a second tag of an allowed image); an id never does.
      if (names.some((n) => imageAllowed(allowlist, n))) return;
      deny(RULES.image, field, `image "${names[0] ?? ''}" is not in the image allowlist (${allowlist.join(', ')})`);
    },
    checkPrivileged(value, field) {
      if (value && !config.allowPrivileged) deny(RULES.privileged, field, 'privileged containers are not allowed');
    },
    checkCapAdd(values, field) {
      if (values && values.length > 0 && !config.allowCapAdd) {
        deny(RULES.capAdd, field, `adding capabilities (${values.join(', ')}) is not allowed`);
      }
    },
    checkNamespace(kind, mode, field) {
      if (mode === 'host' && !config.allowHostNamespaces) {
        deny(NAMESPACE_RULES[kind], field, `sharing the host's ${kind} namespace is not allowed`);
      }
    },
    async checkJoinedNamespace(kind, mode, field, lookup) {
      const seen = new Set<string>();
      for (let ref = joinedRef(mode); ref !== undefined; ) {
        const target = await lookup(ref);
        if (!target) {
          deny(NAMESPACE_RULES[kind], field, `cannot share the ${kind} namespace of "${ref}": no such container`);
          return; // deny throws; this tells the compiler
        }
        if (target.self) deny(RULES.self, field, `sharing the docker-agent's own ${kind} namespace is not allowed`);
        if (target.protected) {
          deny(RULES.protectedLabel, field, `container "${target.name}" is protected; its ${kind} namespace is too`);
        }
        const next = target.modes[kind];
        if (next === 'host' && !config.allowHostNamespaces) {
          deny(
            NAMESPACE_RULES[kind],
            field,
            `container "${target.name}" shares the host's ${kind} namespace; sharing its namespace would too`,
          );
        }
        if (seen.has(target.id)) return;
        seen.add(target.id);
        ref = joinedRef(next);
      }
    },
    checkSecurityOpt(values, field) {
      for (const [i, value] of (values ?? []).entries()) {
        if (!HARMLESS_SECURITY_OPTS.test(value.trim()) && !config.allowSecurityOpt) {
          deny(
            RULES.securityOpt,
            `${field}[${i}]`,
            `security option "${value}" lifts a confinement and is not allowed`,
          );
        }
      }
    },
    checkDevices(count, field) {
      if (count > 0 && !config.allowDevices) deny(RULES.devices, field, 'host devices are not allowed');
    },
    async checkBindSource(source, field) {
      // /proc/self, /proc/<pid>/root, /proc/<pid>/cwd name different places for the agent and the
      // engine that mounts them: what is checked would not be what is mounted.
      if (isWithin(resolve('/', source), '/proc') || isWithin(await resolveHostPath(source), '/proc')) {
        deny(RULES.bindOutside, field, `bind mount of "${source}" is under /proc, which resolves per process`);
      }
      const real = await resolveHostPath(source);
      const sockets = await Promise.all(
        [...new Set([config.dockerSocket, ...WELL_KNOWN_SOCKETS])].map((s) => resolveHostPath(s)),
      );
      // The socket is root on the host: never mountable, neither itself nor a directory holding it.
      if (sockets.some((s) => isWithin(s, real))) {
        deny(RULES.dockerSocket, field, `"${source}" is or contains the Docker socket`);
      }
      const allowed = await Promise.all(config.bindAllowlist.map((p) => resolveHostPath(p)));
      if (!allowed.some((root) => isWithin(real, root))) {
        const where = allowed.length
          ? `outside the allowlist (${config.bindAllowlist.join(', ')})`
          : 'not allowed (no bind allowlist configured)';
        deny(RULES.bindOutside, field, `bind mount of "${source}" (resolves to "${real}") is ${where}`);
      }
      // Within the allowlist, the path as written must be the path mounted: a symlink on the way could be
      // pointed elsewhere between this check and any later start (the engine resolves binds at each start).
      const lexical = resolve('/', source);
      const root = config.bindAllowlist.find((r) => isWithin(lexical, resolve(r)));
      const expected = root ? join(await resolveHostPath(root), relative(resolve(root), lexical)) : undefined;
      if (expected !== real) {
        deny(
          RULES.bindSymlink,
          field,
          `bind mount of "${source}" goes through a symlink (to "${real}"); name the real path`,
        );
      }
    },
    bindWritable(source) {
      const lexical = resolve('/', source);
      return (config.bindWritable ?? []).some((r) => isWithin(lexical, resolve(r)));
    },
    async checkVolumeDriverOptions(driver, options, field) {
      if (!options || (driver && driver !== 'local')) return;
      const o = options.o ?? options.O ?? '';
      const device = options.device;
      const flags = o.split(',').map((x) => x.trim());
      const isBind = flags.includes('bind') || flags.includes('rbind') || options.type === 'none';
      // Any absolute device is a host path the engine mounts: a directory (bind) or a block device
      // (type ext4/xfs/..., the host's disks), so it is held to the bind rules either way.
      if (device && (isBind || device.startsWith('/'))) {
        await policy.checkBindSource(device, `${field}.device`);
        // Mounted read-only (o=ro) or from an entry that allows writing: the same rule as a bind.
        if (!flags.includes('ro') && !policy.bindWritable(device)) {
          deny(
            RULES.bindOutside,
            `${field}.device`,
            `a volume over "${device}" is writable; it needs a ":rw" allowlist entry`,
          );
        }
      }
      // overlay takes its host directories in the options: lowerdir=/a:/b,upperdir=/c,workdir=/d.
      for (const flag of flags) {
        const m = /^(lowerdir|upperdir|workdir)=(.*)$/.exec(flag);
        for (const dir of m?.[2]?.split(':') ?? []) {
          if (dir) await policy.checkBindSource(dir, `${field}.o`);
          if (dir && m?.[1] !== 'lowerdir' && !policy.bindWritable(dir)) {
            deny(
              RULES.bindOutside,
              `${field}.o`,
              `overlay ${m?.[1]} "${dir}" is written to; it needs a ":rw" allowlist entry`,
            );
          }
        }
      }
    },
  };
  return policy;
}
