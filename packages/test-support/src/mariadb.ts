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
