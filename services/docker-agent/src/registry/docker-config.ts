import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configEntry, type RegistryCredentials } from './credentials.ts';

/**
 * A private DOCKER_CONFIG directory holding the configured registry credentials, for one compose
 * CLI run (compose reads `config.json` there, v1 and v2 alike). Removed when the run ends; undefined
 * when no credentials are configured.
 */
export async function composeDockerConfig(credentials: RegistryCredentials) {
  const entries = credentials.entries();
  if (entries.length === 0) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'docker-agent-auth-'));
  const auths = Object.fromEntries(
    entries.map(([host, auth]) => [host === 'docker.io' ? 'https://index.docker.io/v1/' : host, configEntry(auth)]),
  );
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths }), { mode: 0o600 });
  return { env: { DOCKER_CONFIG: dir }, dispose: () => rm(dir, { recursive: true, force: true }) };
}
