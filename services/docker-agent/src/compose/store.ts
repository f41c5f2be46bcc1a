import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const COMPOSE_FILE = 'compose.yaml';
export const ENV_FILE = '.env';
/** What `compose config` made of the stored files when they were checked; the only file operations run. */
export const RESOLVED_FILE = 'resolved.yaml';
/** Empty on purpose: the snapshot is interpolated already, so operations read no variables. */
export const RESOLVED_ENV_FILE = 'resolved.env';

export interface StoredProject {
  name: string;
  dir: string;
  file: string;
  envFile: string;
  resolvedFile: string;
  resolvedEnvFile: string;
}

/** Writes a temporary file beside `path`, then renames it over: a reader sees the old or the new file, whole. */
async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, data, { mode: 0o600, flush: true });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Managed projects: one directory per project under DOCKER_AGENT_COMPOSE_DIR holding the compose
 * file and its `.env`. Project names are validated before they get here, so they are safe path parts.
 */
export class ProjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  paths(name: string): StoredProject {
    const dir = join(this.root, name);
    return {
      name,
      dir,
      file: join(dir, COMPOSE_FILE),
      envFile: join(dir, ENV_FILE),
      resolvedFile: join(dir, RESOLVED_FILE),
      resolvedEnvFile: join(dir, RESOLVED_ENV_FILE),
    };
  }

  async exists(name: string): Promise<boolean> {
    return stat(this.paths(name).file).then(
      () => true,
      () => false,
    );
  }

  async names(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    const names: string[] = [];
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith('.') && (await this.exists(e.name))) names.push(e.name);
    }
    return names.sort();
  }

  /** Writes to a staging directory first, so a rejected file never replaces a good one. */
  async stage(name: string, composeFile: string, env: Record<string, string>): Promise<StoredProject> {
    const staged = this.paths(`.staging-${name}-${randomBytes(6).toString('hex')}`);
    await mkdir(staged.dir, { recursive: true });
    await writeFile(staged.file, composeFile, { mode: 0o600 });
    await writeFile(staged.envFile, envFile(env), { mode: 0o600 });
    return staged;
  }

  /**
   * Moves checked files in, each atomically; the resolved snapshot goes last, since operations read
   * only it. Callers hold the project's lock, so no two commits interleave.
   */
  async commit(name: string, staged: StoredProject, resolved: string): Promise<StoredProject> {
    const target = this.paths(name);
    await mkdir(target.dir, { recursive: true, mode: 0o700 });
    await writeAtomic(target.envFile, await readFile(staged.envFile));
    await writeAtomic(target.file, await readFile(staged.file));
    await this.saveResolved(name, resolved);
    await this.discard(staged);
    return target;
  }

  async saveResolved(name: string, resolved: string): Promise<void> {
    await writeAtomic(this.paths(name).resolvedEnvFile, '');
    await writeAtomic(this.paths(name).resolvedFile, resolved);
  }

  /** The checked snapshot, or undefined for a project stored before snapshots were kept. */
  async readResolved(name: string): Promise<string | undefined> {
    return readFile(this.paths(name).resolvedFile, 'utf8').catch((error: { code?: string }) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
  }

  async discard(staged: StoredProject): Promise<void> {
    await rm(staged.dir, { recursive: true, force: true });
  }

  async read(name: string): Promise<{ composeFile: string; envKeys: string[] }> {
    const p = this.paths(name);
    const composeFile = await readFile(p.file, 'utf8');
    const env = await readFile(p.envFile, 'utf8').catch(() => '');
    const envKeys = env
      .split('\n')
      .map((l) => l.split('=')[0]?.trim() ?? '')
      .filter(Boolean);
    return { composeFile, envKeys };
  }

  async remove(name: string): Promise<void> {
    await rm(this.paths(name).dir, { recursive: true, force: true });
  }
}

function envFile(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')
    .concat(Object.keys(env).length ? '\n' : '');
}
