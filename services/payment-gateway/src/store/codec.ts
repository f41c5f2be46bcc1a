import type { ColumnType } from 'kysely';

/*
 * The one place where values cross between JavaScript and the database. Both dialects are configured
 * so that a column reads back the same JavaScript type (see create-database.ts), and the column types
 * below say exactly what the drivers return:
 *
 * - Money is DECIMAL(18,2). mysql2 returns DECIMAL as a string (`decimalNumbers: false`, lossless);
 *   SQLite's NUMERIC affinity returns a number. Writes always go in as an exact 2-decimal string made
 *   from integer hundredths, so no binary-float rounding reaches MySQL. PortOne amounts are KRW
 *   integers or foreign amounts with at most 2 decimals; more decimals are rejected, never rounded.
 * - Times are DATETIME(3) holding UTC. mysql2 runs with `dateStrings: true` and `timezone: 'Z'`, so it
 *   returns 'YYYY-MM-DD HH:MM:SS.mmm'; SQLite stores exactly that text. The fixed-width format sorts
 *   and compares the same way as the instant in both dialects. PortOne's "0 = never" becomes NULL.
 * - BIGINT auto-increment ids: mysql2 runs with `supportBigNumbers: true, bigNumberStrings: false`, so
 *   values up to 2^53 come back as numbers (strings beyond); node:sqlite returns numbers. Records
 *   expose plain numbers and refuse an id past 2^53 rather than silently rounding it.
 * - Booleans are TINYINT(1)/INTEGER 0|1 on both; JSON is kept as text (MariaDB's JSON is LONGTEXT
 *   anyway, and MySQL 8's native JSON would otherwise come back pre-parsed on one dialect only).
 */

/** DECIMAL(18,2): read as string (mysql2) or number (SQLite); always written as an exact string. */
export type DecimalColumn = ColumnType<string | number, string, string>;
export type NullableDecimalColumn = ColumnType<string | number | null, string | null, string | null>;
/** DATETIME(3) in UTC, 'YYYY-MM-DD HH:MM:SS.mmm' on both dialects. */
export type DateTimeColumn = ColumnType<string, string, string>;
export type NullableDateTimeColumn = ColumnType<string | null, string | null, string | null>;
/** BOOLEAN / TINYINT(1): 0 or 1. */
export type BoolColumn = ColumnType<number, number, number>;
/** BIGINT AUTO_INCREMENT primary key. */
export type BigIntIdColumn = ColumnType<number | string, never, never>;

const MAX_HUNDREDTHS = 10n ** 18n - 1n; // DECIMAL(18,2) holds 16 integer digits

/**
 * An amount as the exact DECIMAL(18,2) literal the database stores. Throws a RangeError for negative,
 * non-finite, too large, or more-than-2-decimal amounts: money is never rounded silently.
 */
export function toDecimal(amount: number): string {
  if (!Number.isFinite(amount) || amount < 0) throw new RangeError(`invalid amount: ${amount}`);
  const scaled = amount * 100;
  const hundredths = Math.round(scaled);
  // Only the float error of the multiplication itself is tolerated (19.99 * 100 = 1998.9999999999998).
  if (Math.abs(hundredths - scaled) > 16 * Number.EPSILON * Math.max(1, scaled)) {
    throw new RangeError(`amount has more than 2 decimals: ${amount}`);
  }
  if (!Number.isSafeInteger(hundredths) || BigInt(hundredths) > MAX_HUNDREDTHS) {
    throw new RangeError(`amount too large: ${amount}`);
  }
  const whole = Math.trunc(hundredths / 100);
  const cents = String(hundredths % 100).padStart(2, '0');
  return `${whole}.${cents}`;
}

export function toNullableDecimal(amount: number | null | undefined): string | null {
  return amount == null ? null : toDecimal(amount);
}

/** An amount in integer hundredths, so sums and differences of 2-decimal amounts carry no float residue. */
export function hundredths(amount: number): number {
  return Math.round(amount * 100);
}

/** A DECIMAL as a JavaScript number (exact for the amounts PortOne uses: up to 1e12 with 2 decimals). */
export function fromDecimal(value: string | number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new RangeError(`not a decimal: ${value}`);
  return n;
}

export function fromNullableDecimal(value: string | number | null): number | null {
  return value == null ? null : fromDecimal(value);
}

/** A Date as the DATETIME(3) text stored in both dialects (UTC). */
export function toDbTime(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('invalid date');
  return date.toISOString().slice(0, 23).replace('T', ' ');
}

export function toNullableDbTime(date: Date | null | undefined): string | null {
  return date == null ? null : toDbTime(date);
}

/** PortOne UNIX seconds (0 or null = "did not happen") as DATETIME(3) text or NULL. */
export function unixToDbTime(seconds: number | null | undefined): string | null {
  return seconds == null || seconds <= 0 ? null : toDbTime(new Date(seconds * 1000));
}

export function fromDbTime(value: string): Date {
  const date = new Date(`${value.replace(' ', 'T')}Z`);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a DATETIME: ${value}`);
  return date;
}

export function fromNullableDbTime(value: string | null): Date | null {
  return value == null ? null : fromDbTime(value);
}

export function toDbBool(value: boolean): number {
  return value ? 1 : 0;
}

export function fromDbBool(value: number | string | bigint): boolean {
  return Number(value) !== 0;
}

/** A BIGINT id as a number; refuses values that a number cannot hold exactly. */
export function fromBigIntId(value: number | string | bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`id beyond 2^53: ${value}`);
  return n;
}

export function toDbJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export function fromDbJson(value: string | null): unknown {
  return value == null ? null : JSON.parse(value);
}

/**
 * A card number fit to store: PortOne already masks (457972******1234), but anything showing more
 * than 10 digits is re-masked to first 6 + last 4, so a full card number can never reach a column.
 */
export function maskCardNumber(value: string | null | undefined): string | null {
  if (value == null || value === '') return null;
  const digits = value.replace(/\D/g, '');
  if (digits.length <= 10) return value;
  return `${digits.slice(0, 6)}${'*'.repeat(digits.length - 10)}${digits.slice(-4)}`;
}

/** Free text clipped to its column, so an unexpectedly long PortOne value cannot fail a write. */
export function clip(value: string | null | undefined, max: number): string | null {
  if (value == null) return null;
  return value.length > max ? value.slice(0, max) : value;
}
