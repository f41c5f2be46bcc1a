import type { DockerEngine, Filters, VolumeInspectInfo } from '../../docker/engine.ts';
import { type Guard, refuseGuardedVolume } from '../../policy/guard.ts';
import { checkReservedLabels } from '../../policy/labels.ts';
import type { Policy } from '../../policy/policy.ts';
import type { ActionResult } from '../../schemas/common.ts';

export function toVolume(v: VolumeInspectInfo) {
  const raw = v as VolumeInspectInfo & { CreatedAt?: string };
  return {
    name: v.Name,
    driver: v.Driver,
    mountpoint: v.Mountpoint,
    scope: v.Scope ?? 'local',
    ...(raw.CreatedAt ? { createdAt: raw.CreatedAt } : {}),
    labels: v.Labels ?? {},
    options: (v.Options ?? {}) as Record<string, string>,
  };
}

export async function listVolumes(engine: DockerEngine, q: { label?: string[]; dangling?: boolean }) {
  const filters: Filters = {};
  if (q.label?.length) filters.label = q.label;
  if (q.dangling !== undefined) filters.dangling = [String(q.dangling)];
  const volumes = (await engine.listVolumes(filters)).map(toVolume);
  return { volumes, count: volumes.length };
}

export async function createVolume(
  engine: DockerEngine,
  policy: Policy,
  protectLabel: string,
  body: { name?: string; driver: string; driverOpts?: Record<string, string>; labels?: Record<string, string> },
) {
  checkReservedLabels(body.labels, protectLabel, 'labels');
  // The local driver with o=bind mounts any host path: the same rule as a bind mount.
  await policy.checkVolumeDriverOptions(body.driver, body.driverOpts, 'driverOpts');
  const created = await engine.createVolume({
    ...(body.name ? { Name: body.name } : {}),
    Driver: body.driver,
    ...(body.driverOpts ? { DriverOpts: body.driverOpts } : {}),
    ...(body.labels ? { Labels: body.labels } : {}),
  });
  return toVolume(created);
}

export async function removeVolume(
  engine: DockerEngine,
  guard: Guard,
  name: string,
  force: boolean,
): Promise<ActionResult> {
  await engine.inspectVolume(name);
  refuseGuardedVolume(await guard.stack(), name, 'name');
  await engine.removeVolume(name, force);
  return { id: name, action: 'remove', changed: true, message: 'volume removed' };
}
