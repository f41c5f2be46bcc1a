/**
 * Request parameters. V1 takes the same fields as JSON or `application/x-www-form-urlencoded`, and
 * arrays in the bracket form (`imp_uid[]=a&imp_uid[]=b`, `extra[requester]=admin`,
 * `schedules[0][amount]=1000`). Both are normalised here into one plain object, then validated with
 * zod field helpers that accept either a JSON value or its form-encoded string.
 */
import { z } from 'zod';
import { badRequest, invalidParam, missingParam } from './errors.ts';

export type Params = Record<string, unknown>;

/** Turns `a[]=1&a[]=2&b[c]=3&d[0][e]=4&f=5&f=6` into `{ a: ['1','2'], b: { c: '3' }, d: [{ e: '4' }], f: ['5','6'] }`. */
export function parseBracketParams(search: URLSearchParams): Params {
  const root: Params = {};
  for (const [rawKey, value] of search) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    if (!match?.[1]) {
      assign(root, rawKey, value, false);
      continue;
    }
    const segments = [...(match[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1] ?? '');
    let target: Params = root;
    let key = match[1];
    for (const segment of segments) {
      if (segment === '') {
        // `key[]`: append to an array at `key`.
        const list = Array.isArray(target[key]) ? (target[key] as unknown[]) : toList(target[key]);
        target[key] = list;
        key = String(list.length);
        target = list as unknown as Params;
        continue;
      }
      const next = target[key];
      if (next === undefined || typeof next !== 'object' || next === null) target[key] = {};
      target = target[key] as Params;
      key = segment;
    }
    assign(target, key, value, segments.length === 0);
  }
  return arraysFromIndexedObjects(root) as Params;
}

function toList(value: unknown): unknown[] {
  return value === undefined ? [] : [value];
}

function assign(target: Params, key: string, value: string, repeatMakesArray: boolean): void {
  const existing = target[key];
  if (repeatMakesArray && existing !== undefined) {
    target[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  } else {
    target[key] = value;
  }
}

/** `{ '0': x, '1': y }` (from `schedules[0][..]`) becomes `[x, y]`. */
function arraysFromIndexedObjects(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(arraysFromIndexedObjects);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Params).map(([k, v]) => [k, arraysFromIndexedObjects(v)] as const);
  if (entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k))) {
    return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => v);
  }
  return Object.fromEntries(entries);
}

/** JSON bodies sometimes carry form-style keys (`"merchant_uid[]": [...]`); strip the brackets. */
export function normaliseJsonKeys(value: unknown): Params {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('요청 본문은 JSON object여야 합니다.');
  }
  const out: Params = {};
  for (const [key, v] of Object.entries(value as Params)) out[key.endsWith('[]') ? key.slice(0, -2) : key] = v;
  return out;
}

// ---- field helpers --------------------------------------------------------------------------------
// '' and null mean "not given" (form posts send empty fields, JSON clients send null).
const absent = (v: unknown) => (v === '' || v === null ? undefined : v);
const toNumber = (v: unknown) => {
  const a = absent(v);
  return typeof a === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(a) ? Number(a) : a;
};
const toBool = (v: unknown) => {
  const a = absent(v);
  if (a === 'true' || a === '1' || a === 1) return true;
  if (a === 'false' || a === '0' || a === 0) return false;
  return a;
};
const toStr = (v: unknown) => {
  const a = absent(v);
  return typeof a === 'number' ? String(a) : a;
};
const toStrList = (v: unknown) => {
  const a = absent(v);
  return typeof a === 'string' ? [a] : a;
};

export const f = {
  str: (max?: number) => z.preprocess(toStr, max ? z.string().max(max) : z.string()),
  optStr: (max?: number) => z.preprocess(toStr, (max ? z.string().max(max) : z.string()).optional()),
  num: () => z.preprocess(toNumber, z.number().finite()),
  optNum: () => z.preprocess(toNumber, z.number().finite().optional()),
  int: () => z.preprocess(toNumber, z.number().int()),
  optInt: () => z.preprocess(toNumber, z.number().int().optional()),
  optBool: () => z.preprocess(toBool, z.boolean().optional()),
  optStrList: () => z.preprocess(toStrList, z.array(z.string()).optional()),
  /** `custom_data` is stored as a JSON string; objects given at request time are JSON-encoded (notes §4). */
  optJsonString: () =>
    z.preprocess((v) => {
      const a = absent(v);
      return a !== undefined && typeof a !== 'string' ? JSON.stringify(a) : a;
    }, z.string().optional()),
};

/** Order and buyer fields shared by every payment-creating V1 call, with the spec's maxLength. */
export const buyerFields = {
  name: f.optStr(40),
  buyer_name: f.optStr(16),
  buyer_email: f.optStr(64),
  buyer_tel: f.optStr(16),
  buyer_addr: f.optStr(128),
  buyer_postcode: f.optStr(8),
  custom_data: f.optJsonString(),
};

/** Validates `input` against `schema`; the first problem becomes a 400 envelope naming the parameter. */
export function parseParams<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw badRequest('요청 파라메터가 올바르지 않습니다.');
  const name = issue.path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
  if (!name) throw badRequest(`요청 파라메터가 올바르지 않습니다. (${issue.message})`);
  if (absent(valueAt(input, issue.path)) === undefined && issue.code === 'invalid_type') throw missingParam(name);
  throw invalidParam(name, issue.message);
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
