import type { DockerEngine, Filters, NetworkInspectInfo } from '../../docker/engine.ts';
import { dockerMessage, dockerStatus } from '../../docker/errors.ts';
import { trimSlash } from '../../docker/names.ts';
import { DockerConflictError, DockerRejectedError } from '../../errors.ts';
import { checkNetworkNames, type Guard } from '../../policy/guard.ts';
import { checkReservedLabels } from '../../policy/labels.ts';
import type { ActionResult } from '../../schemas/common.ts';

const PREDEFINED = new Set(['bridge', 'host', 'none']);

export function toNetwork(n: NetworkInspectInfo) {
  return {
    id: n.Id,
    name: n.Name,
    driver: n.Driver,
    scope: n.Scope,
    internal: n.Internal ?? false,
    attachable: n.Attachable ?? false,
    created: n.Created,
    subnets: (n.IPAM?.Config ?? []).flatMap((c) => (c.Subnet ? [c.Subnet] : [])),
    labels: n.Labels ?? {},
    containers: Object.entries(n.Containers ?? {}).map(([id, c]) => ({
      id,
      name: c.Name ?? '',
      ipv4Address: c.IPv4Address ?? '',
    })),
  };
}

export async function listNetworks(engine: DockerEngine, q: { label?: string[]; driver?: string; dangling?: boolean }) {
  const filters: Filters = {};
  if (q.label?.length) filters.label = q.label;
  if (q.driver) filters.driver = [q.driver];
  if (q.dangling !== undefined) filters.dangling = [String(q.dangling)];
  const networks = (await engine.listNetworks(filters)).map(toNetwork);
  return { networks, count: networks.length };
}

export async function createNetwork(
  engine: DockerEngine,
  protectLabel: string,
  body: {
    name: string;
    driver: string;
    internal: boolean;
    attachable: boolean;
    labels?: Record<string, string>;
    subnet?: string;
    gateway?: string;
  },
) {
  checkReservedLabels(body.labels, protectLabel, 'labels');
  // Docker allows duplicate network names; the agent does not, so names stay usable as ids.
  const existing = await engine.listNetworks({ name: [body.name] });
  if (existing.some((n) => n.Name === body.name)) {
    throw new DockerConflictError(`network "${body.name}" already exists`);
  }
  const { id } = await engine
    .createNetwork({
      Name: body.name,
      Driver: body.driver,
      Internal: body.internal,
      Attachable: body.attachable,
      CheckDuplicate: true,
      ...(body.labels ? { Labels: body.labels } : {}),
      ...(body.subnet
        ? { IPAM: { Config: [{ Subnet: body.subnet, ...(body.gateway ? { Gateway: body.gateway } : {}) }] } }
        : {}),
    })
    .catch((error: unknown) => {
      // The kernel lacks the driver (ipvlan/macvlan modules): Docker says 500, the caller asked for the impossible.
      if (dockerStatus(error) === 500 && /operation not supported/i.test(dockerMessage(error))) {
        throw new DockerRejectedError(
          `network driver "${body.driver}" is not supported by this engine's host: ${dockerMessage(error)}`,
        );
      }
      throw error;
    });
  return toNetwork(await engine.inspectNetwork(id));
}

export async function connect(engine: DockerEngine, guard: Guard, ref: string, container: string, aliases?: string[]) {
  const network = await engine.inspectNetwork(ref);
  const target = await engine.inspectContainer(container);
  // A guarded container joined to a caller's network would hand the caller its traffic.
  await guard.refuse(target, 'container');
  // Joining a guarded container's network under a name it answers to (e.g. `mysql`) would take its traffic.
  const stack = await guard.stack();
  checkNetworkNames(stack, network.Id, network.Name, [trimSlash(target.Name)], 'container');
  checkNetworkNames(stack, network.Id, network.Name, aliases ?? [], 'aliases');
  await engine.connectNetwork(network.Id, target.Id, aliases);
  return {
    id: network.Id,
    action: 'connect',
    changed: true,
    message: `container ${trimSlash(target.Name)} connected to ${network.Name}`,
  } satisfies ActionResult;
}

export async function disconnect(engine: DockerEngine, guard: Guard, ref: string, container: string, force: boolean) {
  const network = await engine.inspectNetwork(ref);
  const target = await engine.inspectContainer(container);
  await guard.refuse(target, 'container');
  // Docker answers a 500 for this; it is the caller's conflict, not an engine failure. The container's
  // own settings say where it is attached: a created (never started) one has no live endpoint yet.
  const attached = Object.entries(target.NetworkSettings?.Networks ?? {}).some(
    ([name, n]) => name === network.Name || (n as { NetworkID?: string }).NetworkID === network.Id,
  );
  if (!attached) {
    throw new DockerConflictError(`container ${trimSlash(target.Name)} is not connected to ${network.Name}`);
  }
  await engine.disconnectNetwork(network.Id, target.Id, force);
  return {
    id: network.Id,
    action: 'disconnect',
    changed: true,
    message: `container ${trimSlash(target.Name)} disconnected from ${network.Name}`,
  } satisfies ActionResult;
}

export async function removeNetwork(engine: DockerEngine, ref: string): Promise<ActionResult> {
  const network = await engine.inspectNetwork(ref);
  if (PREDEFINED.has(network.Name)) {
    throw new DockerConflictError(`"${network.Name}" is a predefined network and cannot be removed`);
  }
  await engine.removeNetwork(network.Id);
  return { id: network.Id, action: 'remove', changed: true, message: 'network removed' };
}
