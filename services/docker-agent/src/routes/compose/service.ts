import { access, constants, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type ComposeModel, checkComposeModel, checkEnvFiles } from '../../compose/check.ts';
import type { ComposeCli, ExitEvent, OutputLine } from '../../compose/cli.ts';
import { LABELS, projectsFromContainers } from '../../compose/projects.ts';
import type { ProjectStore } from '../../compose/store.ts';
import type { DockerEngine } from '../../docker/engine.ts';
import {
  ComposeFailedError,
  ComposeInvalidError,
  ProjectExistsError,
  ProjectNotFoundError,
  ProjectNotManagedError,
} from '../../errors.ts';
import type { JoinLookup, Policy } from '../../policy/policy.ts';
import type { RegistryCredentials } from '../../registry/credentials.ts';
import { composeDockerConfig } from '../../registry/docker-config.ts';

export interface ComposeDeps {
  engine: DockerEngine;
  cli: ComposeCli;
  store: ProjectStore;
  policy: Policy;
  bindAllowlist: string[];
  /** Finds containers a service asks to share a namespace with (`network_mode: container:…`). */
  joins: JoinLookup;
  /** Configured registry credentials, handed to `pull` and `up` (never to other commands). */
  registryCredentials: RegistryCredentials;
}

/** Where the CLI finds a project: our stored file, or the files its labels name (started elsewhere). */
interface Target {
  name: string;
  dir: string;
  files: string[];
  envFile?: string;
}

const projectContainers = (engine: DockerEngine, name?: string) =>
  engine.listContainers({ all: true, filters: { label: [name ? `${LABELS.project}=${name}` : LABELS.project] } });

export async function listProjects(deps: ComposeDeps) {
  const [containers, managed] = await Promise.all([projectContainers(deps.engine), deps.store.names()]);
  const projects = projectsFromContainers(containers, new Set(managed));
  return { projects, count: projects.length };
}

export async function getProject(deps: ComposeDeps, name: string) {
  const [containers, managed] = await Promise.all([projectContainers(deps.engine, name), deps.store.exists(name)]);
  if (containers.length === 0 && !managed) throw new ProjectNotFoundError(`no compose project "${name}" on this host`);
  const [summary] = projectsFromContainers(containers, new Set(managed ? [name] : []));
  return { ...(summary as NonNullable<typeof summary>), ...(managed ? await deps.store.read(name) : {}) };
}

function argsFor(target: Target): string[] {
  return [
    '--ansi',
    'never',
    '-p',
    target.name,
    ...target.files.flatMap((f) => ['-f', f]),
    '--project-directory',
    target.dir,
    ...(target.envFile ? ['--env-file', target.envFile] : []),
  ];
}

/** `compose config`: the model compose will really run, after interpolation and merging. */
async function resolvedModel(deps: ComposeDeps, target: Target): Promise<ComposeModel> {
  const r = await deps.cli.capture([...argsFor(target), 'config'], { cwd: deps.store.root, env: {} });
  if (r.code !== 0) {
    const message = r.stderr.trim().split('\n').slice(-5).join(' ').trim() || `exit ${r.code}`;
    throw new ComposeInvalidError(`compose file rejected by compose: ${message}`);
  }
  return (parseYaml(r.stdout) ?? {}) as ComposeModel;
}

async function checkPolicy(deps: ComposeDeps, target: Target): Promise<ComposeModel> {
  for (const file of target.files) {
    const raw = parseYaml(await readFile(resolve(deps.store.root, file), 'utf8')) as unknown;
    await checkEnvFiles(raw, target.dir, deps.bindAllowlist);
  }
  const model = await resolvedModel(deps, target);
  await checkComposeModel(deps.policy, model, target.dir, deps.bindAllowlist, deps.joins);
  return model;
}

export async function saveProject(
  deps: ComposeDeps,
  name: string,
  body: { composeFile: string; env: Record<string, string> },
  mode: 'create' | 'replace',
) {
  const existed = await deps.store.exists(name);
  if (existed && mode === 'create') throw new ProjectExistsError(`compose project "${name}" already exists`);
  if (!existed && (await projectContainers(deps.engine, name)).length > 0) {
    throw new ProjectExistsError(`compose project "${name}" exists on this host and is not managed by the agent`);
  }
  try {
    const parsed = parseYaml(body.composeFile) as unknown;
    if (!parsed || typeof parsed !== 'object' || !('services' in parsed)) {
      throw new ComposeInvalidError('compose file must be a YAML mapping with a "services" key');
    }
  } catch (error) {
    if (error instanceof ComposeInvalidError) throw error;
    throw new ComposeInvalidError(`compose file is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const staged = await deps.store.stage(name, body.composeFile, body.env);
  try {
    // Checked from the staging copy but with the final directory, so relative paths resolve as they will.
    const model = await checkPolicy(deps, {
      name,
      dir: deps.store.paths(name).dir,
      files: [staged.file],
      envFile: staged.envFile,
    });
    await deps.store.commit(name, staged);
    return { name, created: !existed, services: Object.keys(model.services ?? {}).sort() };
  } finally {
    await deps.store.discard(staged);
  }
}

async function readable(path: string) {
  return access(path, constants.R_OK).then(
    () => true,
    () => false,
  );
}

async function resolveTarget(deps: ComposeDeps, name: string): Promise<Target> {
  if (await deps.store.exists(name)) {
    const p = deps.store.paths(name);
    return { name, dir: p.dir, files: [p.file], envFile: p.envFile };
  }
  const containers = await projectContainers(deps.engine, name);
  if (containers.length === 0) throw new ProjectNotFoundError(`no compose project "${name}" on this host`);
  const labels = containers[0]?.Labels ?? {};
  const files = (labels[LABELS.configFiles] ?? '').split(',').filter(Boolean);
  const dir = labels[LABELS.workingDir] ?? '';
  const all = await Promise.all(files.map(readable));
  if (!dir || files.length === 0 || all.includes(false)) {
    throw new ProjectNotManagedError(
      `project "${name}" was not created by the agent and its compose files (${files.join(', ') || 'unknown'}) ` +
        'are not readable here',
    );
  }
  return { name, dir, files };
}

export type ComposeOperation =
  | { op: 'up'; services?: string[]; forceRecreate: boolean; removeOrphans: boolean }
  | { op: 'down'; volumes: boolean; removeOrphans: boolean }
  | { op: 'restart'; services?: string[]; timeout?: number }
  | { op: 'pull'; services?: string[]; ignoreFailures: boolean };

function operationArgs(o: ComposeOperation): string[] {
  switch (o.op) {
    case 'up':
      return [
        'up',
        '-d',
        ...(o.forceRecreate ? ['--force-recreate'] : []),
        ...(o.removeOrphans ? ['--remove-orphans'] : []),
        ...(o.services ?? []),
      ];
    case 'down':
      return ['down', ...(o.volumes ? ['--volumes'] : []), ...(o.removeOrphans ? ['--remove-orphans'] : [])];
    case 'restart':
      return ['restart', ...(o.timeout === undefined ? [] : ['-t', String(o.timeout)]), ...(o.services ?? [])];
    case 'pull':
      return ['pull', ...(o.ignoreFailures ? ['--ignore-pull-failures'] : []), ...(o.services ?? [])];
  }
}

/** Ends the stream with an error line when the CLI failed, naming its last words. */
async function* failOnExit(op: string, events: AsyncIterable<OutputLine | ExitEvent>) {
  const tail: string[] = [];
  for await (const e of events) {
    if (e.type === 'output' && e.stream === 'stderr' && e.line.trim()) {
      tail.push(e.line.trim());
      if (tail.length > 3) tail.shift();
    }
    yield e;
    if (e.type === 'exit' && e.code !== 0) {
      throw new ComposeFailedError(`compose ${op} failed (exit ${e.code})${tail.length ? `: ${tail.join(' ')}` : ''}`);
    }
  }
}

/**
 * Runs a compose operation. `up` creates containers, so the resolved model is policy-checked first
 * (and a denial is a 403 before anything runs). Changes run to completion even if the caller leaves.
 */
export async function runOperation(deps: ComposeDeps, name: string, operation: ComposeOperation) {
  const target = await resolveTarget(deps, name);
  if (operation.op === 'up') await checkPolicy(deps, target);
  const pulls = operation.op === 'up' || operation.op === 'pull';
  const auth = pulls ? await composeDockerConfig(deps.registryCredentials) : undefined;
  const events = deps.cli.stream([...argsFor(target), ...operationArgs(operation)], {
    cwd: target.dir,
    env: auth?.env ?? {},
  });
  return (async function* () {
    try {
      yield* failOnExit(operation.op, events);
    } finally {
      await auth?.dispose();
    }
  })();
}

/** The images a project's services run (services that only build are left out). */
export async function projectImages(deps: ComposeDeps, name: string): Promise<string[]> {
  const model = await resolvedModel(deps, await resolveTarget(deps, name));
  const images = Object.values(model.services ?? {}).flatMap((service) => (service?.image ? [service.image] : []));
  return [...new Set(images)].sort();
}

export async function openLogs(
  deps: ComposeDeps,
  name: string,
  q: { follow: boolean; tail: string; timestamps: boolean; service?: string },
  signal: AbortSignal,
) {
  const target = await resolveTarget(deps, name);
  const containers = await projectContainers(deps.engine, name);
  // compose prefixes lines with the container name (v2: proj-web-1) or service_number (v1: web_1).
  const serviceOf = new Map<string, string>();
  for (const c of containers) {
    const service = c.Labels?.[LABELS.service];
    if (!service) continue;
    const n = c.Labels?.[LABELS.number] ?? '1';
    for (const key of [(c.Names?.[0] ?? '').replace(/^\//, ''), `${service}_${n}`, `${service}-${n}`]) {
      serviceOf.set(key, service);
    }
  }
  const args = [
    ...argsFor(target),
    'logs',
    '--no-color',
    '--tail',
    q.tail,
    ...(q.timestamps ? ['-t'] : []),
    ...(q.follow ? ['-f'] : []),
    ...(q.service ? [q.service] : []),
  ];
  const events = deps.cli.stream(args, { cwd: target.dir, env: {}, signal });
  return (async function* () {
    for await (const e of failOnExit('logs', events)) {
      const m = e.type === 'output' && e.stream === 'stdout' ? /^(\S+)\s+\| ?(.*)$/.exec(e.line) : null;
      if (m) {
        const container = m[1] as string;
        yield { type: 'log' as const, container, service: serviceOf.get(container) ?? null, line: m[2] ?? '' };
      } else yield e;
    }
  })();
}

export async function removeProject(deps: ComposeDeps, name: string, volumes: boolean) {
  if (!(await deps.store.exists(name))) {
    if ((await projectContainers(deps.engine, name)).length > 0) {
      throw new ProjectNotManagedError(`project "${name}" is not managed by the agent; use POST .../down`);
    }
    throw new ProjectNotFoundError(`no compose project "${name}" on this host`);
  }
  const output: string[] = [];
  for await (const e of await runOperation(deps, name, { op: 'down', volumes, removeOrphans: true })) {
    if (e.type === 'output') output.push(e.line);
  }
  await deps.store.remove(name);
  return { name, removed: true, output };
}
