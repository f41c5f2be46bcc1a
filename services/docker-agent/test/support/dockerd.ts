import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PID_FILE = '/var/run/docker.pid';

/** `docker version` answers (client and server): the engine is usable. */
export async function engineAnswers(): Promise<boolean> {
  return run('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 5000 }).then(
    () => true,
    () => false,
  );
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM to dockerd (the pid scripts/services.sh started), then wait until it has exited. */
export async function stopDockerd(timeoutMs = 60_000): Promise<void> {
  const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
  if (!pid || !alive(pid)) throw new Error(`dockerd is not running (pid file says ${pid})`);
  process.kill(pid, 'SIGTERM');
  await waitFor('dockerd did not exit', () => !alive(pid), timeoutMs);
}

/**
 * Starts dockerd the way scripts/services.sh does (nohup, log in /var/log/dockerd.log, detached
 * from the test process) unless it already answers, and waits until `docker version` does.
 */
export async function startDockerd(timeoutMs = 60_000): Promise<void> {
  if (await engineAnswers()) return;
  spawn('sh', ['-c', 'nohup dockerd >>/var/log/dockerd.log 2>&1 &'], { detached: true, stdio: 'ignore' }).unref();
  await waitFor('dockerd did not answer `docker version`', engineAnswers, timeoutMs);
}
