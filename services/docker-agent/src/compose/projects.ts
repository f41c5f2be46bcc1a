import type { ContainerInfo } from '../docker/engine.ts';

/** The labels compose (v1 and v2) puts on every container it creates. */
export const LABELS = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  oneoff: 'com.docker.compose.oneoff',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  number: 'com.docker.compose.container-number',
} as const;

export type ContainerStatus = 'running' | 'completed' | 'failed' | 'stopped' | 'created' | 'restarting' | 'paused';
export type ServiceStatus = ContainerStatus | 'partial';
export type ProjectStatus = 'running' | 'completed' | 'degraded' | 'failed' | 'stopped' | 'partial' | 'down';

export interface ProjectContainer {
  id: string;
  name: string;
  state: string;
  status: ContainerStatus;
  exitCode: number | null;
}

export interface ProjectService {
  name: string;
  status: ServiceStatus;
  containers: ProjectContainer[];
}

export interface ProjectSummary {
  name: string;
  managed: boolean;
  status: ProjectStatus;
  workingDir: string | null;
  configFiles: string[];
  services: ProjectService[];
  oneoffContainers: number;
}

/**
 * A container's status as a compose user reads it: a one-shot service that exited 0 did its job
 * (`completed`); one stopped by a signal (137/143, as `compose stop` does) is `stopped`; any other
 * exit code is `failed`.
 */
export function containerStatus(c: ContainerInfo): { status: ContainerStatus; exitCode: number | null } {
  const exit = /^Exited \((-?\d+)\)/.exec(c.Status ?? '');
  const exitCode = exit ? Number(exit[1]) : null;
  switch (c.State) {
    case 'running':
      return { status: 'running', exitCode };
    case 'exited':
      if (exitCode === 0) return { status: 'completed', exitCode };
      if (exitCode === 137 || exitCode === 143) return { status: 'stopped', exitCode };
      return { status: 'failed', exitCode };
    case 'dead':
      return { status: 'failed', exitCode };
    case 'created':
    case 'restarting':
    case 'paused':
      return { status: c.State, exitCode };
    default:
      return { status: 'stopped', exitCode };
  }
}

export function serviceStatus(containers: ProjectContainer[]): ServiceStatus {
  const statuses = new Set(containers.map((c) => c.status));
  if (statuses.size === 1) return [...statuses][0] as ContainerStatus;
  if (statuses.has('failed')) return 'failed';
  return 'partial';
}

export function projectStatus(services: ProjectService[]): ProjectStatus {
  if (services.length === 0) return 'down';
  const s = services.map((x) => x.status);
  const running = s.filter((x) => x === 'running').length;
  const completed = s.filter((x) => x === 'completed').length;
  const failed = s.filter((x) => x === 'failed').length;
  if (failed > 0) return running > 0 ? 'degraded' : 'failed';
  if (running + completed === s.length) return running > 0 ? 'running' : 'completed';
  if (running === 0) return 'stopped';
  return 'partial';
}

/** Groups containers by their compose labels: every project on the host, whoever started it. */
export function projectsFromContainers(containers: ContainerInfo[], managed: Set<string>): ProjectSummary[] {
  const byProject = new Map<string, ContainerInfo[]>();
  for (const c of containers) {
    const project = c.Labels?.[LABELS.project];
    if (!project) continue;
    const list = byProject.get(project) ?? [];
    list.push(c);
    byProject.set(project, list);
  }
  const names = new Set([...byProject.keys(), ...managed]);
  return [...names].sort().map((name) => summarise(name, byProject.get(name) ?? [], managed.has(name)));
}

function summarise(name: string, containers: ContainerInfo[], managed: boolean): ProjectSummary {
  const services = new Map<string, ProjectContainer[]>();
  let oneoff = 0;
  let workingDir: string | null = null;
  let configFiles: string[] = [];
  for (const c of containers) {
    const labels = c.Labels ?? {};
    workingDir ??= labels[LABELS.workingDir] ?? null;
    const files = labels[LABELS.configFiles];
    if (configFiles.length === 0 && files) configFiles = files.split(',');
    // `compose run` containers are not the service's own; they would mark it failed or running.
    if (/^true$/i.test(labels[LABELS.oneoff] ?? '')) {
      oneoff++;
      continue;
    }
    const service = labels[LABELS.service] ?? '(unknown)';
    const { status, exitCode } = containerStatus(c);
    const list = services.get(service) ?? [];
    list.push({ id: c.Id, name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''), state: c.State, status, exitCode });
    services.set(service, list);
  }
  const serviceList = [...services.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, list]) => ({ name: service, status: serviceStatus(list), containers: list }));
  return {
    name,
    managed,
    status: projectStatus(serviceList),
    workingDir,
    configFiles,
    services: serviceList,
    oneoffContainers: oneoff,
  };
}
