import type { ContainerInfo, DockerEngine } from '../docker/engine.ts';
import { dockerStatus } from '../docker/errors.ts';
import { PolicyDeniedError } from '../errors.ts';
import type { SelfContainer } from '../plugins/docker.ts';
import { RULES } from '../policy/policy.ts';
import type { ComposeModel } from './check.ts';
import { LABELS } from './projects.ts';

/** Rules for the networks of a resolved model; named in `POLICY_DENIED` problems. */
export const NETWORK_RULES = {
  hostNetwork: RULES.hostNetwork,
  network: 'compose-network',
} as const;

/** What the guard needs: the engine, who the agent is, and the label that marks the stack's containers. */
export interface StackGuard {
  engine: DockerEngine;
  self: SelfContainer;
  protectLabel: string;
}

const NETWORK_KEYS = new Set(['name', 'external', 'driver', 'ipam', 'internal', 'attachable', 'labels', 'enable_ipv6']);
/** Drivers that keep containers behind the engine's own bridge; macvlan/ipvlan put them on the host's LAN. */
const NETWORK_DRIVERS = new Set(['bridge', 'overlay']);

function isSelf(c: ContainerInfo, self: SelfContainer): boolean {
  const names = (c.Names ?? []).map((n) => n.replace(/^\//, ''));
  return c.Id === self.id || Boolean(self.ref && (c.Id.startsWith(self.ref) || names.includes(self.ref)));
}

function isProtected(c: ContainerInfo, protectLabel: string): boolean {
  const label = c.Labels?.[protectLabel];
  return label !== undefined && label !== 'false';
}

/** Throws when one of `containers` is the agent or carries the protect label. */
function refuseStack(containers: ContainerInfo[], guard: StackGuard, field: string, what: string): void {
  for (const c of containers) {
    const name = (c.Names?.[0] ?? c.Id).replace(/^\//, '');
    if (isSelf(c, guard.self)) {
      throw new PolicyDeniedError(RULES.self, field, `${what} holds the docker-agent's own container "${name}"`);
    }
    if (isProtected(c, guard.protectLabel)) {
      throw new PolicyDeniedError(RULES.protectedLabel, field, `${what} holds protected container "${name}"`);
    }
  }
}

/**
 * Compose operations act on every container labelled with the project's name (`down` removes them,
 * `up --remove-orphans` removes those not in the file), whoever created them. A project holding the
 * agent itself or a protected container (the stack's own project) is never touched.
 */
export async function checkProjectContainers(guard: StackGuard, project: string): Promise<void> {
  const containers = await guard.engine.listContainers({
    all: true,
    filters: { label: [`${LABELS.project}=${project}`] },
  });
  refuseStack(containers, guard, 'project', `compose project "${project}"`);
}

/**
 * The networks services join. Compose uses an existing network of the same name as it is (always
 * for `external: true`, and for `name:` when one exists), so each is judged by what the engine has:
 * the host's network stack (`name: host`), or a network the stack's own containers sit on (joining
 * it under one of their aliases would take their traffic), is refused. Networks compose creates are
 * limited to bridge and overlay without driver options.
 */
export async function checkModelNetworks(guard: StackGuard, model: ComposeModel, project: string): Promise<void> {
  // Services without `networks` join `<project>_default`, which compose reuses when it exists.
  const declared = (model as { networks?: Record<string, Record<string, unknown> | null> }).networks;
  const networks: Record<string, Record<string, unknown> | null> = { default: {}, ...declared };
  for (const [key, spec] of Object.entries(networks)) {
    const field = `networks.${key}`;
    for (const [k, v] of Object.entries(spec ?? {})) {
      if (!NETWORK_KEYS.has(k) && v !== null && v !== undefined) {
        throw new PolicyDeniedError(NETWORK_RULES.network, `${field}.${k}`, `"${k}" is not allowed on a network`);
      }
    }
    const external = spec?.external;
    const externalName = external && typeof external === 'object' ? (external as { name?: unknown }).name : undefined;
    const name = String(externalName ?? spec?.name ?? `${project}_${key}`);
    const driver = spec?.driver;
    if (!external && driver !== undefined && !NETWORK_DRIVERS.has(String(driver))) {
      throw new PolicyDeniedError(
        NETWORK_RULES.network,
        `${field}.driver`,
        `network driver "${String(driver)}" is not allowed`,
      );
    }
    await checkExistingNetwork(guard, name, field);
  }
  // `network_mode` may name any network (the engine takes a name there too), bypassing `networks`.
  for (const [service, spec] of Object.entries(model.services ?? {})) {
    const mode = spec?.network_mode;
    if (mode && !PRIVATE_MODES.has(mode) && !/^(?:service|container):/.test(mode)) {
      await checkExistingNetwork(guard, mode, `services.${service}.network_mode`);
    }
  }
}

/** Modes the policy judges itself (`host`, `container:`) or that join no shared network. */
const PRIVATE_MODES = new Set(['bridge', 'default', 'none', 'host']);

async function checkExistingNetwork(guard: StackGuard, name: string, field: string): Promise<void> {
  const existing = await guard.engine.inspectNetwork(name).catch((error: unknown) => {
    if (dockerStatus(error) === 404) return undefined;
    throw error;
  });
  if (!existing) return;
  if (existing.Driver === 'host' || existing.Name === 'host') {
    throw new PolicyDeniedError(NETWORK_RULES.hostNetwork, field, `network "${name}" is the host's network stack`);
  }
  // Also containers created but not started, which the engine's `network` filter does not list.
  const members = (await guard.engine.listContainers({ all: true })).filter(
    (c) =>
      c.HostConfig?.NetworkMode === existing.Name ||
      c.HostConfig?.NetworkMode === existing.Id ||
      Object.entries(c.NetworkSettings?.Networks ?? {}).some(
        ([n, endpoint]) => n === existing.Name || endpoint.NetworkID === existing.Id,
      ),
  );
  refuseStack(members, guard, field, `network "${name}"`);
}
