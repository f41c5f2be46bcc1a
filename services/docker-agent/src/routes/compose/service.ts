import { access, constants, readFile } from 'node:fs/promises';
import { checkAllowedKeys } from '../../compose/allowed-keys.ts';
import { type ComposeModel, checkComposeModel } from '../../compose/check.ts';
import type { ComposeCli, ExitEvent, OutputLine } from '../../compose/cli.ts';
import { type ProjectLocks, runToEnd } from '../../compose/lock.ts';
import { LABELS, projectsFromContainers } from '../../compose/projects.ts';
import { checkRawComposeFile } from '../../compose/raw-check.ts';
import { checkModelNetworks, checkProjectContainers, type StackGuard } from '../../compose/stack-guard.ts';
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

/** YAML is loaded when a compose route first needs it (it is resident memory the other routes never use). */
const parseYaml = async (text: string): Promise<unknown> => (await import('yaml')).parse(text);

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
  /** One change at a time per project. */
  locks: ProjectLocks;
  /** Who the agent is and which containers are the stack's own. */
  guard: StackGuard;
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

/** `compose config`: the model compose will really run, after interpolation and merging, as text. */
async function resolveConfig(deps: ComposeDeps, target: Target): Promise<string> {
  const r = await deps.cli.capture([...argsFor(target), 'config'], { cwd: deps.store.root, env: {} });
  if (r.code !== 0) {
    const message = r.stderr.trim().split('\n').slice(-5).join(' ').trim() || `exit ${r.code}`;
    throw new ComposeInvalidError(`compose file rejected by compose: ${message}`);
  }
  return r.stdout;
}

/** Every rule on a resolved model: its shape, then each value, then what the engine already has. */
async function checkModel(deps: ComposeDeps, name: string, dir: string, resolved: string): Promise<ComposeModel> {
  const model = ((await parseYaml(resolved)) ?? {}) as ComposeModel;
  checkAllowedKeys(model, dir);
  await checkComposeModel(deps.policy, model, dir, deps.bindAllowlist, deps.joins);
  await checkModelNetworks(deps.guard, model, name);
  return model;
}

/**
 * Checks the files a caller wrote: first what `config` cannot show (files it reads by itself), then
 * everything on the model it resolves. Returns that model's text, the snapshot operations will run.
 */
async function checkFiles(deps: ComposeDeps, target: Target): Promise<{ model: ComposeModel; resolved: string }> {
  for (const file of target.files) await checkRawComposeFile(await readFile(file, 'utf8'), target.dir);
  const resolved = await resolveConfig(deps, target);
  return { model: await checkModel(deps, target.name, target.dir, resolved), resolved };
}

export async function saveProject(
  deps: ComposeDeps,
  name: string,
  body: { composeFile: string; env: Record<string, string> },
  mode: 'create' | 'replace',
) {
  return deps.locks.with(name, 'saving', async () => {
    const existed = await deps.store.exists(name);
    if (existed && mode === 'create') throw new ProjectExistsError(`compose project "${name}" already exists`);
    if (!existed && (await projectContainers(deps.engine, name)).length > 0) {
      throw new ProjectExistsError(`compose project "${name}" exists on this host and is not managed by the agent`);
    }
    try {
      const parsed = (await parseYaml(body.composeFile)) as unknown;
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
      const { model, resolved } = await checkFiles(deps, {
        name,
        dir: deps.store.paths(name).dir,
        files: [staged.file],
        envFile: staged.envFile,
      });
      await deps.store.commit(name, staged, resolved);
      return { name, created: !existed, services: Object.keys(model.services ?? {}).sort() };
    } finally {
      await deps.store.discard(staged);
    }
  });
}

async function readable(path: string) {
  return access(path, constants.R_OK).then(
    () => true,
    () => false,
  );
}

/**
 * A managed project runs from its checked snapshot: interpolation is already applied there, so
 * neither the stored `.env` nor the file a concurrent `PUT` writes can change what runs.
 */
function snapshotTarget(deps: ComposeDeps, name: string): Target {
  const p = deps.store.paths(name);
  return { name, dir: p.dir, files: [p.resolvedFile], envFile: p.resolvedEnvFile };
}

/** The snapshot, or the stored files of a project saved before snapshots were kept (for what creates nothing). */
async function storedTarget(deps: ComposeDeps, name: string): Promise<Target> {
  if ((await deps.store.readResolved(name)) !== undefined) return snapshotTarget(deps, name);
  const p = deps.store.paths(name);
  return { name, dir: p.dir, files: [p.file], envFile: p.envFile };
}

/** Where logs are read from: a managed project's snapshot, or the files another tool's labels name. */
async function logsTarget(deps: ComposeDeps, name: string): Promise<Target> {
  if (await deps.store.exists(name)) return storedTarget(deps, name);
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

/** A managed project, or why not: 409 for one another tool started, 404 for none. */
async function requireManaged(deps: ComposeDeps, name: string, op: string): Promise<void> {
  if (await deps.store.exists(name)) return;
  if ((await projectContainers(deps.engine, name)).length > 0) {
    throw new ProjectNotManagedError(
      `project "${name}" was not created through the agent; it can be listed and its logs read, not ${op}`,
    );
  }
  throw new ProjectNotFoundError(`no compose project "${name}" on this host`);
}

/**
 * The snapshot to run, checked again against the engine as it is now (a network may have gained a
 * protected container, the policy may have changed). A project stored before snapshots were kept gets
 * one from its files, checked the same way as on save.
 */
async function checkedSnapshot(deps: ComposeDeps, name: string): Promise<void> {
  const stored = await deps.store.readResolved(name);
  const dir = deps.store.paths(name).dir;
  if (stored !== undefined) {
    await checkModel(deps, name, dir, stored);
    return;
  }
  const p = deps.store.paths(name);
  const { resolved } = await checkFiles(deps, { name, dir, files: [p.file], envFile: p.envFile });
  await deps.store.saveResolved(name, resolved);
}

/**
 * Runs a compose operation on a managed project, under its lock until the CLI exits. Never on a
 * project holding the agent or a protected container. `up` and `pull` run every rule on the snapshot
 * first (a denial is a 403 before anything runs). Changes run to completion even if the caller leaves.
 */
export async function runOperation(deps: ComposeDeps, name: string, operation: ComposeOperation) {
  await requireManaged(deps, name, operation.op);
  const release = deps.locks.acquire(name, operation.op);
  try {
    return runToEnd(await startOperation(deps, name, operation), release);
  } catch (error) {
    release();
    throw error;
  }
}

/** The operation itself, for callers holding the project's lock. Pulls get the configured registry credentials. */
async function startOperation(deps: ComposeDeps, name: string, operation: ComposeOperation) {
  await checkProjectContainers(deps.guard, name);
  const creates = operation.op === 'up' || operation.op === 'pull';
  if (creates) await checkedSnapshot(deps, name);
  // `down` and `restart` create nothing: a project stored before snapshots were kept uses its files.
  const target = creates ? snapshotTarget(deps, name) : await storedTarget(deps, name);
  const auth = creates ? await composeDockerConfig(deps.registryCredentials) : undefined;
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

/** The images a project's services run (services that only build are left out), from what compose resolves. */
export async function projectImages(deps: ComposeDeps, name: string): Promise<string[]> {
  const model = ((await parseYaml(await resolveConfig(deps, await logsTarget(deps, name)))) ?? {}) as ComposeModel;
  const images = Object.values(model.services ?? {}).flatMap((service) => (service?.image ? [service.image] : []));
  return [...new Set(images)].sort();
}

export async function openLogs(
  deps: ComposeDeps,
  name: string,
  q: { follow: boolean; tail: string; timestamps: boolean; service?: string },
  signal: AbortSignal,
) {
  const target = await logsTarget(deps, name);
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
  if (!(await deps.store.exists(name))) await requireManaged(deps, name, 'removed');
  return deps.locks.with(name, 'removing', async () => {
    const output: string[] = [];
    for await (const e of await startOperation(deps, name, { op: 'down', volumes, removeOrphans: true })) {
      if (e.type === 'output') output.push(e.line);
    }
    await deps.store.remove(name);
    return { name, removed: true, output };
  });
}
