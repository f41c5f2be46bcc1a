import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import { fromDbBool, fromDbJson, fromDbTime, toDbBool, toDbJson, toDbTime } from './codec.ts';
import type { Db } from './database.ts';
import type { NotificationEndpointTable } from './notification.table.ts';

interface StoredSecret {
  secret: string;
  created_at: string;
  /** Set when a newer secret replaced it: signatures with it stop after this instant. */
  expires_at: string | null;
}

export interface EndpointRecord {
  id: string;
  url: string;
  description: string | null;
  enabled: boolean;
  source: 'api' | 'config';
  /** How many secrets currently sign (more than one during a rotation). */
  activeSecrets: number;
  createdAt: Date;
  updatedAt: Date;
}

function parseSecrets(text: string): StoredSecret[] {
  return (fromDbJson(text) as StoredSecret[] | null) ?? [];
}

/** Secrets that still sign at `now`, newest first. */
export function activeSecrets(text: string, now: Date): string[] {
  const at = now.getTime();
  return parseSecrets(text)
    .filter((s) => s.expires_at === null || Date.parse(s.expires_at) > at)
    .map((s) => s.secret);
}

function toEndpointRecord(row: Selectable<NotificationEndpointTable>, now = new Date()): EndpointRecord {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    enabled: fromDbBool(row.enabled),
    source: row.source === 'config' ? 'config' : 'api',
    activeSecrets: activeSecrets(row.secrets, now).length,
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  };
}

/** A Standard Webhooks secret: `whsec_` + base64 of 24 random bytes. */
export function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export async function createEndpoint(
  db: Db,
  input: { id?: string; url: string; description?: string | null; secrets: string[]; source: 'api' | 'config' },
  now: Date = new Date(),
): Promise<EndpointRecord> {
  const at = toDbTime(now);
  const row = {
    id: input.id ?? `ep_${randomBytes(10).toString('hex')}`,
    url: input.url,
    description: input.description ?? null,
    secrets: toDbJson(input.secrets.map((secret) => ({ secret, created_at: now.toISOString(), expires_at: null }))),
    enabled: toDbBool(true),
    source: input.source,
    created_at: at,
    updated_at: at,
  };
  await db.insertInto('notification_endpoints').values(row).execute();
  return toEndpointRecord(row, now);
}

/** Config endpoints: the listed ones are created or updated (secrets as listed), the others disabled. */
export async function syncConfigEndpoints(
  db: Db,
  endpoints: readonly { id: string; url: string; secrets: readonly string[] }[],
  now: Date = new Date(),
): Promise<void> {
  const at = toDbTime(now);
  for (const e of endpoints) {
    const secrets = toDbJson(e.secrets.map((secret) => ({ secret, created_at: now.toISOString(), expires_at: null })));
    const updated = await db
      .updateTable('notification_endpoints')
      .set({ url: e.url, secrets, enabled: 1, source: 'config', updated_at: at })
      .where('id', '=', e.id)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) {
      await createEndpoint(db, { id: e.id, url: e.url, secrets: [...e.secrets], source: 'config' }, now);
    }
  }
  let stale = db
    .updateTable('notification_endpoints')
    .set({ enabled: 0, updated_at: at })
    .where('source', '=', 'config')
    .where('enabled', '=', 1);
  if (endpoints.length > 0)
    stale = stale.where(
      'id',
      'not in',
      endpoints.map((e) => e.id),
    );
  await stale.execute();
}

export async function listEndpoints(db: Db): Promise<EndpointRecord[]> {
  const rows = await db.selectFrom('notification_endpoints').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map((r) => toEndpointRecord(r));
}

export async function getEndpointRow(db: Db, id: string) {
  return db.selectFrom('notification_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getEndpoint(db: Db, id: string): Promise<EndpointRecord | undefined> {
  const row = await getEndpointRow(db, id);
  return row ? toEndpointRecord(row) : undefined;
}

export async function updateEndpoint(
  db: Db,
  id: string,
  change: { url?: string; description?: string | null; enabled?: boolean },
): Promise<EndpointRecord | undefined> {
  const set: Partial<{ url: string; description: string | null; enabled: number; updated_at: string }> = {
    updated_at: toDbTime(new Date()),
  };
  if (change.url !== undefined) set.url = change.url;
  if (change.description !== undefined) set.description = change.description;
  if (change.enabled !== undefined) set.enabled = toDbBool(change.enabled);
  await db.updateTable('notification_endpoints').set(set).where('id', '=', id).execute();
  return getEndpoint(db, id);
}

/**
 * Rotation: a new secret signs from now on; the current ones keep signing (each delivery carries
 * every active signature) until `rolloverSeconds` from now, so a subscriber can switch without a gap.
 */
export async function rotateEndpointSecret(
  db: Db,
  id: string,
  rolloverSeconds: number,
  now: Date = new Date(),
): Promise<{ endpoint: EndpointRecord; secret: string } | undefined> {
  const row = await getEndpointRow(db, id);
  if (!row) return undefined;
  const until = new Date(now.getTime() + rolloverSeconds * 1000).toISOString();
  const secret = newSecret();
  const kept = parseSecrets(row.secrets)
    .filter((s) => s.expires_at === null || Date.parse(s.expires_at) > now.getTime())
    .map((s) => ({ ...s, expires_at: s.expires_at ?? until }));
  const secrets = toDbJson([{ secret, created_at: now.toISOString(), expires_at: null }, ...kept]);
  await db
    .updateTable('notification_endpoints')
    .set({ secrets, updated_at: toDbTime(now) })
    .where('id', '=', id)
    .execute();
  const updated = await getEndpointRow(db, id);
  return updated ? { endpoint: toEndpointRecord(updated, now), secret } : undefined;
}

/** Removes an endpoint; its pending deliveries are marked failed (nobody left to send them to). */
export async function deleteEndpoint(db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom('notification_endpoints').where('id', '=', id).executeTakeFirst();
  await db
    .updateTable('notification_deliveries')
    .set({ status: 'failed', last_error: 'endpoint deleted', claimed_until: null, claim_token: null })
    .where('endpoint_id', '=', id)
    .where('status', '=', 'pending')
    .execute();
  return Number(result.numDeletedRows) > 0;
}
