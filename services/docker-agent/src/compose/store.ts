import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const COMPOSE_FILE = 'compose.yaml';
export const ENV_FILE = '.env';

export interface StoredProject {
  name: string;
  dir: string;
  file: string;
  envFile: string;
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
    return { name, dir, file: join(dir, COMPOSE_FILE), envFile: join(dir, ENV_FILE) };
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
    const staged = this.paths(`.staging-${name}-${process.pid}-${Date.now()}`);
    await mkdir(staged.dir, { recursive: true });
    await writeFile(staged.file, composeFile, { mode: 0o600 });
    await writeFile(staged.envFile, envFile(env), { mode: 0o600 });
    return staged;
  }

  async commit(name: string, staged: StoredProject): Promise<StoredProject> {
    const target = this.paths(name);
    await mkdir(target.dir, { recursive: true });
    await writeFile(target.file, await readFile(staged.file));
    await writeFile(target.envFile, await readFile(staged.envFile), { mode: 0o600 });
    await this.discard(staged);
    return target;
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
