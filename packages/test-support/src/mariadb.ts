import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { mysqlUrl, realService } from './services.ts';

/**
 * Probes MariaDB once per file and answers its URL: missing locally, the file's tests are skipped with
 * a reason; with STACK_REQUIRE_SERVICES=1 (CI) the run fails instead.
 */
export async function mariadb(): Promise<string | undefined> {
  const server = mysqlUrl();
  return realService('MariaDB', async () => {
    const connection = await createConnection(server);
    await connection.end();
    return server;
  });
}

/** A new, empty database on `server` named `<prefix>_<random>`; `drop()` removes it. */
export async function freshDatabase(
  server: string,
  prefix = 'test',
): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = await createConnection(server);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const connection = await createConnection(server);
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}
