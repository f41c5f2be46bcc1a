import type { ContainerInspectInfo } from 'dockerode';
import type { DockerEngine } from '../docker/engine.ts';
import { dockerStatus } from '../docker/errors.ts';
import { trimSlash } from '../docker/names.ts';
import type { SelfContainer } from '../plugins/docker.ts';
import type { Guard } from './guard.ts';
import type { JoinLookup } from './policy.ts';

/** The container is the docker-agent's own (by id, id prefix or name it was configured with). */
export function isAgentItself(info: ContainerInspectInfo, self: SelfContainer): boolean {
  const name = trimSlash(info.Name);
  return info.Id === self.id || Boolean(self.ref && (info.Id.startsWith(self.ref) || name === self.ref));
}

/** Carries the protect label with any value but `false`. */
export function isProtected(info: ContainerInspectInfo, protectLabel: string): boolean {
  const label = info.Config.Labels?.[protectLabel];
  return label !== undefined && label !== 'false';
}

/**
 * What the policy needs to know of a container another one asks to share a namespace with. With a
 * `guard`, the agent's own compose project counts as protected too.
 */
export function joinLookup(engine: DockerEngine, self: SelfContainer, protectLabel: string, guard?: Guard): JoinLookup {
  return async (ref) => {
    const info = await engine.inspectContainer(ref).catch((error: unknown) => {
      if (dockerStatus(error) === 404) return undefined;
      throw error;
    });
    if (!info) return undefined;
    const host = info.HostConfig as ContainerInspectInfo['HostConfig'] & { CgroupnsMode?: string };
    return {
      id: info.Id,
      name: trimSlash(info.Name),
      self: isAgentItself(info, self),
      protected: isProtected(info, protectLabel) || Boolean(guard && (await guard.reason(info))),
      modes: {
        network: host.NetworkMode,
        pid: host.PidMode,
        ipc: host.IpcMode,
        uts: host.UTSMode,
        userns: host.UsernsMode,
        cgroup: host.CgroupnsMode,
      },
    };
  };
}
