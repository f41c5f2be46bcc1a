import type { ContainerInspectInfo, DockerEngine } from '../docker/engine.ts';
import { dockerStatus } from '../docker/errors.ts';
import { trimSlash } from '../docker/names.ts';
import { PolicyDeniedError } from '../errors.ts';
import type { SelfContainer } from '../plugins/docker.ts';
import { normaliseImage } from './images.ts';
import { RULES } from './policy.ts';

export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';

/** Who the guarded stack is: the agent's own container (and its compose project), and the protect label. */
export interface Protection {
  protectLabel: string;
  self: SelfContainer;
}

/** Why a container is guarded: the rule a change to it breaks, and a sentence saying so. */
export interface GuardReason {
  rule: string;
  message: string;
}

/** A container of the guarded stack and what it holds: its volumes, networks (with names it answers to), image. */
export interface GuardedContainer extends GuardReason {
  id: string;
  name: string;
  /** The reference it was created from, and the image id it runs. */
  image: string;
  imageId: string;
  volumes: string[];
  /** Network id and name → the DNS names the container answers to there (its name, aliases, compose service). */
  networks: Map<string, { name: string; dnsNames: string[] }>;
}

export interface GuardedStack {
  containers: GuardedContainer[];
  byId(id: string): GuardedContainer | undefined;
  /** A guarded container using the named volume. */
  volumeUser(volume: string): GuardedContainer | undefined;
  /** A guarded container on the network (id or name) answering to `dnsName` there. */
  answersTo(networkId: string, dnsName: string): GuardedContainer | undefined;
  /** A guarded container running this image reference (compared normalised). */
  imageUser(ref: string): GuardedContainer | undefined;
}

interface Identity {
  id: string;
  names: string[];
  labels: Record<string, string> | undefined;
}

const withTag = (ref: string) => {
  const n = normaliseImage(ref);
  return n.includes('@') || n.lastIndexOf(':') > n.lastIndexOf('/') ? n : `${n}:latest`;
};

/**
 * The guarded stack: the agent itself, every container of the agent's own compose project, and every
 * container carrying the protect label. A write key can neither change them nor reach what they hold
 * (their environment, named volumes, network identities, image tags).
 */
export function createGuard(engine: DockerEngine, protection: Protection) {
  const { self, protectLabel } = protection;
  let ownProject: string | undefined;
  let projectKnown = false;

  const isSelf = (c: Identity) =>
    c.id === self.id || Boolean(self.ref && (c.id.startsWith(self.ref) || c.names.includes(self.ref)));

  /** The agent's compose project, read once from its own container's labels. */
  async function selfProject(): Promise<string | undefined> {
    const ref = self.id ?? self.ref;
    if (projectKnown || !ref) return ownProject;
    const info = await engine.inspectContainer(ref).catch((error: unknown) => {
      if (dockerStatus(error) === 404) return undefined;
      throw error;
    });
    ownProject = info?.Config.Labels?.[COMPOSE_PROJECT_LABEL];
    projectKnown = info !== undefined;
    return ownProject;
  }

  function reasonFor(c: Identity, project: string | undefined): GuardReason | undefined {
    const name = c.names[0] ?? c.id.slice(0, 12);
    if (isSelf(c)) return { rule: RULES.self, message: `container "${name}" is the docker-agent itself` };
    const label = c.labels?.[protectLabel];
    if (label !== undefined && label !== 'false') {
      return { rule: RULES.protectedLabel, message: `container "${name}" carries the protect label ${protectLabel}` };
    }
    if (project && c.labels?.[COMPOSE_PROJECT_LABEL] === project) {
      return { rule: RULES.stack, message: `container "${name}" belongs to the docker-agent's own compose project` };
    }
    return undefined;
  }

  const identity = (info: ContainerInspectInfo): Identity => ({
    id: info.Id,
    names: [trimSlash(info.Name)],
    labels: info.Config.Labels ?? undefined,
  });

  return {
    /** Why this container is guarded, if it is. */
    async reason(info: ContainerInspectInfo): Promise<GuardReason | undefined> {
      return reasonFor(identity(info), await selfProject());
    },

    /** Refuses a change to a guarded container (field names it in the problem). */
    async refuse(info: ContainerInspectInfo, field: string): Promise<void> {
      const why = await this.reason(info);
      if (why) throw new PolicyDeniedError(why.rule, field, why.message);
    },

    /** Every guarded container with what it holds, as the engine reports it now. */
    async stack(): Promise<GuardedStack> {
      const project = await selfProject();
      const all = await engine.listContainers({ all: true });
      const guarded = all.filter((c) =>
        reasonFor({ id: c.Id, names: (c.Names ?? []).map(trimSlash), labels: c.Labels }, project),
      );
      const inspected = await Promise.all(
        guarded.map((c) =>
          engine.inspectContainer(c.Id).catch((error: unknown) => {
            if (dockerStatus(error) === 404) return undefined; // removed meanwhile
            throw error;
          }),
        ),
      );
      const containers: GuardedContainer[] = [];
      for (const info of inspected) {
        const why = info && reasonFor(identity(info), project);
        if (!info || !why) continue;
        const name = trimSlash(info.Name);
        const networks = new Map<string, { name: string; dnsNames: string[] }>();
        for (const [netName, n] of Object.entries(info.NetworkSettings?.Networks ?? {})) {
          const endpoint = n as { NetworkID?: string; Aliases?: string[] | null; DNSNames?: string[] | null };
          const dnsNames = new Set([
            name,
            info.Id.slice(0, 12),
            ...(endpoint.Aliases ?? []),
            ...(endpoint.DNSNames ?? []),
          ]);
          const service = info.Config.Labels?.['com.docker.compose.service'];
          if (service) dnsNames.add(service);
          // A created (never started) container may not have its network's id yet: keyed by name too.
          const entry = { name: netName, dnsNames: [...dnsNames] };
          networks.set(netName, entry);
          if (endpoint.NetworkID) networks.set(endpoint.NetworkID, entry);
        }
        containers.push({
          ...why,
          id: info.Id,
          name,
          image: info.Config.Image,
          imageId: info.Image,
          volumes: (info.Mounts ?? []).flatMap((m) => (m.Type === 'volume' && m.Name ? [m.Name] : [])),
          networks,
        });
      }
      return {
        containers,
        byId: (id) => containers.find((c) => c.id === id),
        volumeUser: (volume) => containers.find((c) => c.volumes.includes(volume)),
        answersTo: (networkId, dnsName) =>
          containers.find((c) =>
            c.networks.get(networkId)?.dnsNames.some((d) => d.toLowerCase() === dnsName.toLowerCase()),
          ),
        imageUser: (ref) => containers.find((c) => !c.image.startsWith('sha256:') && withTag(c.image) === withTag(ref)),
      };
    },
  };
}

export type Guard = ReturnType<typeof createGuard>;

/** Refuses joining a network under a name a guarded container answers to there. */
export function checkNetworkNames(
  stack: GuardedStack,
  networkId: string,
  networkName: string,
  names: string[],
  field: string,
): void {
  for (const name of names) {
    const owner = stack.answersTo(networkId, name) ?? stack.answersTo(networkName, name);
    if (owner) {
      throw new PolicyDeniedError(
        RULES.guardedNetwork,
        field,
        `"${name}" is a name guarded container "${owner.name}" answers to on network "${networkName}"`,
      );
    }
  }
}

/** Refuses mounting or removing a named volume a guarded container uses. */
export function refuseGuardedVolume(stack: GuardedStack, volume: string, field: string): void {
  const user = stack.volumeUser(volume);
  if (user) {
    throw new PolicyDeniedError(
      RULES.guardedVolume,
      field,
      `volume "${volume}" is used by "${user.name}", which is guarded (${user.rule})`,
    );
  }
}

/** Inspects the target of a change and refuses the guarded stack (the agent, its project, protected ones). */
export async function guardedTarget(engine: DockerEngine, ref: string, guard: Guard) {
  const info = await engine.inspectContainer(ref);
  await guard.refuse(info, 'id');
  return info;
}
