import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Whether the local MariaDB server answers (`mariadb-admin ping`). */
export async function mariadbAlive(): Promise<boolean> {
  return run('mariadb-admin', ['ping'], { timeout: 5000 }).then(
    () => true,
    () => false,
  );
}

/** Stops the local MariaDB server (disruptive tests only) and waits until it no longer answers. */
export async function stopMariadb(): Promise<void> {
  await run('mariadb-admin', ['shutdown'], { timeout: 30_000 });
  for (let i = 0; i < 120 && (await mariadbAlive()); i++) await new Promise((r) => setTimeout(r, 250));
}

/**
 * Starts it the way `scripts/services.sh mariadb` does, and waits for `mariadb-admin ping`. Safe to
 * call when it is running (`--oknodo`); a test that stopped the server calls this in a finally.
 */
export async function startMariadb(timeoutMs = 60_000): Promise<void> {
  if (await mariadbAlive()) return;
  await run('mkdir', ['-p', '/run/mysqld']);
  await run('chown', ['mysql:mysql', '/run/mysqld']);
  await run('start-stop-daemon', [
    '--start',
    '--oknodo',
    '--background',
    '--exec',
    '/usr/sbin/mariadbd',
    '--',
    '--user=mysql',
  ]);
  const deadline = Date.now() + timeoutMs;
  while (!(await mariadbAlive())) {
    if (Date.now() > deadline) throw new Error(`MariaDB did not answer mariadb-admin ping within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
