import { readFile } from 'node:fs/promises';

const ID = /[0-9a-f]{64}/;

/**
 * Finds our own container id in /proc: cgroup v1 paths name it (`/docker/<id>`,
 * `docker-<id>.scope`); on cgroup v2 (`0::/`) the engine's bind mounts of
 * `/var/lib/docker/containers/<id>/{hostname,resolv.conf}` in mountinfo do.
 */
export function containerIdFromProc(cgroup: string, mountinfo: string): string | undefined {
  for (const line of cgroup.split('\n')) {
    const match = /(?:docker[-/]|\/containers\/)([0-9a-f]{64})/.exec(line);
    if (match?.[1]) return match[1];
  }
  for (const line of mountinfo.split('\n')) {
    if (!/\/(?:docker\/)?containers\//.test(line)) continue;
    const match = /\/containers\/([0-9a-f]{64})\//.exec(line);
    if (match?.[1] && ID.test(match[1])) return match[1];
  }
  return undefined;
}

/** Reads /proc/self; undefined when not in a container (or /proc is not Linux's). */
export async function detectSelfContainerId(): Promise<string | undefined> {
  const read = (path: string) => readFile(path, 'utf8').catch(() => '');
  const [cgroup, mountinfo] = await Promise.all([read('/proc/self/cgroup'), read('/proc/self/mountinfo')]);
  return containerIdFromProc(cgroup, mountinfo);
}
