import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { buildTestApp } from '../helpers.ts';

// The root global setup is outside this package's tsconfig; its scanner is loaded at run time.
const setup = new URL('../../../../test/global-setup.ts', import.meta.url).href;
const { scanForSecrets } = (await import(setup)) as {
  scanForSecrets: (dir: string) => { file: string; kind: string; line: number }[];
};

const dirs: string[] = [];
const scratch = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'scan-test-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the run-wide log scan (test/global-setup.ts)', () => {
  it('reports each planted secret with its file and kind, never the value', () => {
    const planted: [string, string][] = [
      ['imp_secret.log', '{"msg":"getToken","body":"imp_emulator_secret"}'],
      ['card-dashes.log', 'card 4111-1111-1111-1111 declined'],
      ['card-plain.log', '{"n":"4000000000000002"}'],
      ['card-spaces.log', 'pan 4000 0000 0000 0127'],
      ['token.log', `{"access_token_was":"${'ab12'.repeat(10)}"}`],
      ['api-key.log', '{"headers":{"x-api-key":"billing-write-key-0123456789"}}'],
      ['birth.log', '{"body":{"birth":"900101"}}'],
      ['pwd.log', 'customer_uid=c&pwd_2digit=00'],
    ];
    const dir = scratch(Object.fromEntries(planted));
    const findings = scanForSecrets(dir);
    const byFile = new Map(findings.map((f) => [f.file, f.kind]));
    expect(byFile.get('imp_secret.log')).toBe('PortOne imp_secret');
    expect(byFile.get('card-dashes.log')).toBe('card number');
    expect(byFile.get('card-plain.log')).toBe('card number');
    expect(byFile.get('card-spaces.log')).toBe('card number');
    expect(byFile.get('token.log')).toBe('access token');
    expect(byFile.get('api-key.log')).toBe('API key');
    expect(byFile.get('birth.log')).toBe('birth date');
    expect(byFile.get('pwd.log')).toBe('card password digits');
    for (const f of findings) expect(JSON.stringify(f)).not.toMatch(/imp_emulator_secret|4111|0123456789|900101/);
  });

  it('finds nothing in a clean log: redacted fields, masked cards, request ids, sha256 hashes', () => {
    const dir = scratch({
      'clean.log': [
        '{"level":30,"reqId":"req-1","msg":"incoming request","req":{"headers":{"x-api-key":"[redacted]"}}}',
        '{"body":{"card_number":"[redacted]","birth":"[redacted]","pwd_2digit":"[redacted]","imp_secret":"[redacted]"}}',
        '{"card_number":"411111******1111","imp_uid":"imp_123456789012","amount":1000000000000000}',
        `{"bodyHash":"${'a1'.repeat(32)}","maskedKey":"imp_emu…"}`,
      ].join('\n'),
    });
    expect(scanForSecrets(dir)).toEqual([]);
  });

  it('test workers see STACK_TEST_LOG_DIR, and test apps log there at trace level', async () => {
    const dir = process.env.STACK_TEST_LOG_DIR;
    expect(dir, 'global setup ran and workers inherited its environment').toBeTruthy();
    const before = new Set(readdirSync(dir as string));
    // Asked for silence; the run-wide capture still gets every line.
    const config = parseConfig({
      DATABASE_URL: 'sqlite::memory:',
      LOG_LEVEL: 'silent',
      PORTONE_API_URL: 'http://127.0.0.1:9',
    });
    const app = await buildTestApp(config);
    const res = await app.inject({ method: 'GET', url: '/health', headers: { 'x-api-key': 'not-a-configured-key' } });
    await app.close();
    expect(res.statusCode).toBe(200);
    const created = readdirSync(dir as string).filter(
      (f) => !before.has(f) && f.startsWith('payment-gateway.log-secrets'),
    );
    expect(created).toHaveLength(1);
    const lines = readFileSync(join(dir as string, created[0] as string), 'utf8')
      .trim()
      .split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('request completed');
  });
});
