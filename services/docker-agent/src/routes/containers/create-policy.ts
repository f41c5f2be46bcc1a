import { resolve } from 'node:path';
import type { DockerEngine } from '../../docker/engine.ts';
import { dockerStatus } from '../../docker/errors.ts';
import { PolicyDeniedError } from '../../errors.ts';
import { checkNetworkNames, type GuardedStack, refuseGuardedVolume } from '../../policy/guard.ts';
import { isWithin } from '../../policy/paths.ts';
import { type JoinLookup, type Policy, RULES } from '../../policy/policy.ts';
import type { CreateContainerBody } from './schemas.ts';

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
export async function checkBindsSameOnHost(engine: DockerEngine, selfId: string, body: CreateContainerBody) {
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
export async function checkGuardedResources(engine: DockerEngine, body: CreateContainerBody, stack: GuardedStack) {
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
