import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/store/create-database.ts';
import { migrateToEmpty, migrateToLatest, migrations, pendingMigrations, readiness } from '../../src/store/migrator.ts';
import { type EmptyStore, storeTargets } from './store-targets.ts';

const targets = await storeTargets();
const serviceDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const allMigrations = Object.keys(migrations).sort();

/** Runs `src/migrate.ts` as its own process, the way a second gateway instance would at start-up. */
function runMigrateProcess(url: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=development', 'src/migrate.ts'], {
      cwd: serviceDir,
      env: { ...process.env, DATABASE_URL: url },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function tableColumns(url: string, table: string): Promise<string[]> {
  const db = createDatabase({ url });
  try {
    const tables = await db.introspection.getTables();
    return (tables.find((t) => t.name === table)?.columns ?? []).map((c) => c.name).sort();
  } finally {
    await db.destroy();
  }
}

describe.each(targets)('migrations on $name', (target) => {
  const stores: EmptyStore[] = [];
  const fresh = async () => {
    const store = await target.empty();
    stores.push(store);
    return store;
  };
  afterAll(async () => {
    for (const store of stores) await store.remove();
  });

  it('migration names are <yyyyMMddHHmm>_<name> and in order', () => {
    for (const name of allMigrations) expect(name).toMatch(/^\d{12}_[a-z0-9_]+$/);
    expect(Object.keys(migrations)).toEqual(allMigrations);
  });

  it('apply from empty, then are a no-op; readiness follows', async () => {
    const { url } = await fresh();
    const db = createDatabase({ url });
    try {
      const before = await readiness(db);
      expect(before).toMatchObject({ ready: false, reachable: true });
      expect(before.pendingMigrations).toEqual(allMigrations);

      expect(await migrateToLatest(db)).toEqual(allMigrations);
      expect(await migrateToLatest(db)).toEqual([]);
      expect(await pendingMigrations(db)).toEqual([]);
      expect(await readiness(db)).toEqual({ ready: true, reachable: true, pendingMigrations: [] });

      const tables = (await db.introspection.getTables()).map((t) => t.name).sort();
      expect(tables).toEqual([
        'billing_keys',
        'idempotency_keys',
        'job_leases',
        'notification_deliveries',
        'notification_endpoints',
        'notification_events',
        'payment_cancels',
        'payment_rechecks',
        'payment_schedules',
        'payments',
        'portone_calls',
        'prepared_payments',
        'reconciliation_changes',
        'reconciliation_runs',
        'webhook_deliveries',
      ]);
    } finally {
      await db.destroy();
    }
  });

  it('roll back to empty and forward again (every down works)', async () => {
    const { url } = await fresh();
    const db = createDatabase({ url });
    try {
      await migrateToLatest(db);
      expect(await readiness(db)).toMatchObject({ ready: true });
      expect(await migrateToEmpty(db)).toEqual([...allMigrations].reverse());
      expect(await db.introspection.getTables()).toEqual([]);
      // Readiness remembers a migrated store; rolling back forgets it.
      expect(await readiness(db)).toMatchObject({ ready: false, pendingMigrations: allMigrations });
      expect(await migrateToLatest(db)).toEqual(allMigrations);
      expect(await readiness(db)).toMatchObject({ ready: true });
    } finally {
      await db.destroy();
    }
  });

  it('two instances migrating one fresh database at once both succeed, applying one set', async () => {
    const { url } = await fresh();
    const [a, b] = await Promise.all([runMigrateProcess(url), runMigrateProcess(url)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const appliedA = JSON.parse(a.stdout).applied as string[];
    const appliedB = JSON.parse(b.stdout).applied as string[];
    // Each migration ran in exactly one of the two processes.
    expect([...appliedA, ...appliedB].sort()).toEqual(allMigrations);
    expect(appliedA.filter((name) => appliedB.includes(name))).toEqual([]);

    const db = createDatabase({ url });
    try {
      const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
      expect(rows.rows.map((r) => r.name)).toEqual(allMigrations);
      expect(await readiness(db)).toMatchObject({ ready: true });
    } finally {
      await db.destroy();
    }
  });

  it('readiness reports an unreachable store instead of throwing', async () => {
    const url =
      // Port 1 refuses connections; a path below a regular file cannot be created.
      target.name === 'mariadb' ? 'mysql://nobody:wrong@127.0.0.1:1/none' : 'sqlite:/etc/hostname/gateway.sqlite';
    const db = createDatabase({ url });
    try {
      const result = await readiness(db);
      expect(result.ready).toBe(false);
      expect(result.reachable).toBe(false);
      expect(result.reason).toBeTruthy();
    } finally {
      await db.destroy().catch(() => undefined);
    }
  });

  describe('schema', () => {
    let url: string;
    beforeAll(async () => {
      url = (await fresh()).url;
      const db = createDatabase({ url });
      await migrateToLatest(db);
      await db.destroy();
    });

    it('billing_keys has no column that could hold card secrets', async () => {
      const columns = await tableColumns(url, 'billing_keys');
      expect(columns).toEqual(
        [
          'customer_uid',
          'pg_provider',
          'pg_id',
          'card_name',
          'card_code',
          'card_number',
          'card_type',
          'customer_name',
          'customer_email',
          'portone_inserted_at',
          'portone_updated_at',
          'created_at',
          'updated_at',
          'deleted_at',
        ].sort(),
      );
      for (const column of columns) expect(column).not.toMatch(/expir|birth|pwd|password|cvc|cvv|secret|full|pan/);
    });

    it('money columns are DECIMAL(18,2) and times DATETIME(3)', async () => {
      const db = createDatabase({ url });
      try {
        const payments = (await db.introspection.getTables()).find((t) => t.name === 'payments');
        const type = (name: string) => payments?.columns.find((c) => c.name === name)?.dataType.toLowerCase();
        if (target.name === 'mariadb') {
          expect(type('amount')).toBe('decimal');
          expect(type('paid_at')).toBe('datetime');
          const precision = await sql<{ p: number; s: number }>`
            select numeric_precision as p, numeric_scale as s from information_schema.columns
            where table_schema = database() and table_name = 'payments' and column_name = 'amount'`.execute(db);
          expect(precision.rows[0]).toMatchObject({ p: 18, s: 2 });
        } else {
          expect(type('amount')).toBe('decimal(18, 2)');
          expect(type('paid_at')).toBe('datetime(3)');
        }
      } finally {
        await db.destroy();
      }
    });
  });
});
