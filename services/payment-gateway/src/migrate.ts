import { exitOnConfigError } from '@repo/service-kit';
import { loadConfig } from './config.ts';
import { createDatabase } from './store/create-database.ts';
import { migrateToLatest } from './store/migrator.ts';

/*
 * `node dist/migrate.js` (or `pnpm --filter @repo/payment-gateway migrate`): applies pending
 * migrations to DATABASE_URL and exits. Prints one JSON line naming what it applied, so a deploy step
 * (or a test) can read the result. Safe to run from several instances at once (see migrator.ts).
 */
async function main(): Promise<number> {
  const config = await loadConfig().catch(exitOnConfigError('migrate'));
  const db = createDatabase({ url: config.DATABASE_URL, connectionLimit: 1 });
  try {
    const applied = await migrateToLatest(db);
    process.stdout.write(`${JSON.stringify({ migrated: true, applied })}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${JSON.stringify({ migrated: false, error: message })}\n`);
    return 1;
  } finally {
    await db.destroy();
  }
}

process.exitCode = await main();
