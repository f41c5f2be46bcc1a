import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

/*
 * Secrets never logged, over the whole run. Setup creates a fresh directory and exports it as
 * STACK_TEST_LOG_DIR (workers are started after global setup and inherit the environment); test
 * helpers write every app's log lines there. Teardown scans every file and fails the run naming the
 * file and the kind of secret — never the secret itself.
 */

/** What a finding reports: where, and which kind of secret (the value is never repeated). */
export interface SecretFinding {
  file: string;
  kind: string;
  line: number;
}

/** Each digit of a card number, with any spacing between digits: `1234-5678 9012 3456`. */
const card = (digits: string) => new RegExp(`(?<!\\d)${digits.split('').join('[-\\s]?')}(?!\\d)`);
const literal = (value: string) => new RegExp(value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
/** A field whose value must always be redacted, in JSON (`"birth":"9001…`) or form/query (`birth=9…`). */
const unredacted = (field: string, value: string) => new RegExp(`["']?\\b${field}["']?\\s*[:=]\\s*["']?${value}`);

/**
 * The secrets the repository's tests use (grep the tests when adding one): merchant imp_secrets,
 * card numbers (the emulator's magic cards included), API keys, card holder data, access tokens.
 */
export const SECRET_PATTERNS: readonly { kind: string; pattern: RegExp }[] = [
  ...[
    'imp_emulator_secret',
    'imp_agency_secret_value',
    'imp_other_secret_value',
    'other_secret',
    'secret_a',
    'secret_b',
  ].map((s) => ({ kind: 'PortOne imp_secret', pattern: literal(s) })),
  ...[
    '1234567890123456',
    '4000000000000002',
    '4000000000000127',
    '4092020012345678',
    '4111111111111111',
    '4579721234561234',
  ].map((digits) => ({ kind: 'card number', pattern: card(digits) })),
  ...[
    'reporting-read-key-0123456789',
    'billing-write-key-0123456789',
    '0123456789abcdef0123',
    'reader-key-0123456789',
    'writer-key-0123456789',
    'auth-reader-0123456789',
    'auth-writer-0123456789',
    'fuzz-writer-0123456789',
    'fuzz-reader-0123456789',
    'sigterm-writer-0123456789',
    'gateway-read-key-0123456789',
    'gateway-write-key-0123456789',
    '0123456789abcdef',
    'fedcba9876543210',
  ].map((k) => ({ kind: 'API key', pattern: literal(k) })),
  // Registry accounts (packages/test-support/src/registry.ts), their Basic form and issued JWTs.
  ...[
    'stack-registry-password',
    'nobody-registry-password',
    'stack-registry-identity-token',
    'wrong-registry-password',
  ].map((s) => ({ kind: 'registry credential', pattern: literal(s) })),
  ...['stack:stack-registry-password', 'nobody:nobody-registry-password'].map((s) => ({
    kind: 'registry Basic credential',
    pattern: literal(Buffer.from(s).toString('base64').replace(/=+$/, '')),
  })),
  { kind: 'registry token', pattern: /eyJhbGciOiJSUzI1Ni/ },
  { kind: 'birth date', pattern: /(?<!\d)900101(?!\d)/ },
  { kind: 'birth date', pattern: unredacted('birth', '\\d') },
  { kind: 'card password digits', pattern: unredacted('pwd_2digit', '\\d') },
  { kind: 'card expiry', pattern: unredacted('expiry', '\\d') },
  { kind: 'CVC', pattern: unredacted('cvc', '\\d') },
  { kind: 'card number', pattern: unredacted('card_number', '\\d{4}[-\\s]?\\d{4}') },
  { kind: 'imp_secret', pattern: unredacted('imp_secret', '[^"\\[\\s]') },
  { kind: 'access token', pattern: /\b[0-9a-f]{40}\b/ },
];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every secret found in the files under `dir`: one finding per file and kind (first line). */
export function scanForSecrets(dir: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  for (const path of filesUnder(dir)) {
    const lines = readFileSync(path, 'utf8').split('\n');
    for (const { kind, pattern } of SECRET_PATTERNS) {
      if (findings.some((f) => f.file === relative(dir, path) && f.kind === kind)) continue;
      const index = lines.findIndex((line) => pattern.test(line));
      if (index >= 0) findings.push({ file: relative(dir, path), kind, line: index + 1 });
    }
  }
  return findings;
}

// Each vitest project runs global setup; the first creates the directory, the last one out scans it.
const shared = globalThis as { __stackTestLogs?: { dir: string; users: number } };

export default function setup(): () => void {
  shared.__stackTestLogs ??= { dir: mkdtempSync(join(tmpdir(), 'stack-test-logs-')), users: 0 };
  const logs = shared.__stackTestLogs;
  logs.users += 1;
  process.env.STACK_TEST_LOG_DIR = logs.dir;
  return () => {
    logs.users -= 1;
    if (logs.users > 0) return;
    const findings = scanForSecrets(logs.dir);
    const files = filesUnder(logs.dir).length;
    if (findings.length > 0) {
      const list = findings.map((f) => `  ${f.file}:${f.line}: ${f.kind}`).join('\n');
      throw new Error(`secrets in test logs (kept in ${logs.dir} for inspection):\n${list}`);
    }
    console.info(`test logs: ${files} file(s) scanned, no secrets`);
    rmSync(logs.dir, { recursive: true, force: true });
    delete shared.__stackTestLogs;
    delete process.env.STACK_TEST_LOG_DIR;
  };
}
