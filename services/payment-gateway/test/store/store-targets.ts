import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Payment, PaymentCancel } from '@repo/portone-client';
import { freshDatabase, mariadb } from '@repo/test-support';
import type { Kysely } from 'kysely';
import { createDatabase } from '../../src/store/create-database.ts';
import type { Database } from '../../src/store/database.ts';
import { migrateToLatest } from '../../src/store/migrator.ts';

export interface EmptyStore {
  url: string;
  /** Removes the database (MariaDB) or file (SQLite). */
  remove: () => Promise<void>;
}

export interface StoreTarget {
  name: 'mariadb' | 'sqlite';
  /** A new, empty database nobody else uses. */
  empty: () => Promise<EmptyStore>;
}

const sqliteTarget: StoreTarget = {
  name: 'sqlite',
  empty: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pg-store-'));
    return {
      url: `sqlite:${join(dir, 'gateway.sqlite')}`,
      remove: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

function mariadbTarget(server: string): StoreTarget {
  return {
    name: 'mariadb',
    empty: async () => {
      const database = await freshDatabase(server, 'pg_store');
      return { url: database.url, remove: database.drop };
    },
  };
}

/**
 * Both dialects, for `describe.each`. A missing MariaDB fails the run when STACK_REQUIRE_SERVICES=1
 * (CI); locally it is left out with a visible warning (test-support's realService).
 */
export async function storeTargets(): Promise<StoreTarget[]> {
  const server = await mariadb();
  return server ? [mariadbTarget(server), sqliteTarget] : [sqliteTarget];
}

export interface MigratedStore {
  url: string;
  db: Kysely<Database>;
  close: () => Promise<void>;
}

/** A fresh, migrated store; `close()` destroys the handle and drops the database. */
export async function migratedStore(target: StoreTarget): Promise<MigratedStore> {
  const empty = await target.empty();
  const db = createDatabase({ url: empty.url });
  await migrateToLatest(db);
  return {
    url: empty.url,
    db,
    close: async () => {
      await db.destroy();
      await empty.remove();
    },
  };
}

/** A PortOne Payment as GET /payments/{imp_uid} returns it (notes §4.2), with overrides. */
export function portonePayment(overrides: Partial<Payment> = {}): Payment {
  return {
    imp_uid: `imp_${randomBytes(6).toString('hex')}`,
    merchant_uid: `order_${randomBytes(4).toString('hex')}`,
    pay_method: 'card',
    channel: 'pc',
    pg_provider: 'html5_inicis',
    emb_pg_provider: null,
    pg_tid: 'StdpayCARD0001',
    pg_id: 'INIpayTest',
    sandbox: true,
    escrow: false,
    apply_num: '30012345',
    card_code: '366',
    card_name: '신한카드',
    card_quota: 0,
    card_number: '457972******1234',
    card_type: 0,
    vbank_code: null,
    vbank_name: null,
    vbank_num: null,
    vbank_holder: null,
    vbank_date: 0,
    vbank_issued_at: 0,
    name: 'Monthly plan',
    amount: 8900,
    cancel_amount: 0,
    currency: 'KRW',
    buyer_name: '홍길동',
    buyer_email: 'a@b.c',
    buyer_tel: '01012345678',
    buyer_addr: null,
    buyer_postcode: null,
    custom_data: '{"plan":"m"}',
    user_agent: 'Mozilla/5.0',
    status: 'paid',
    started_at: 1704067200,
    paid_at: 1704067230,
    failed_at: 0,
    cancelled_at: 0,
    fail_reason: null,
    cancel_reason: null,
    receipt_url: 'https://example.test/receipt',
    cancel_history: [] as PaymentCancel[],
    cancel_receipt_urls: [],
    cash_receipt_issued: false,
    customer_uid: null,
    customer_uid_usage: null,
    ...overrides,
  };
}
