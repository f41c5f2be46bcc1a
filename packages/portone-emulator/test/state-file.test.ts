import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cardBody, startHarness, T0 } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'emulator-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('state file', () => {
  it('a restart with the same state file remembers payments, billing keys, tokens and the clock', async () => {
    const stateFile = join(dir, 'state.json');
    const first = await startHarness({ stateFile });
    await first.checkout({ merchant_uid: 'keep-1', imp_uid: 'imp_123456789', amount: 10000 });
    const token = await first.token();
    const issued = await first.api('POST', '/subscribe/customers/cust-keep', { body: cardBody() });
    expect(issued.body.code).toBe(0);
    await first.advance(60);
    await first.close();
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).version).toBe(1);

    const second = await startHarness({ stateFile });
    try {
      // The token the gateway cached before the restart still works, and the payment is still there.
      const res = await fetch(`${second.url}/payments/imp_123456789`, { headers: { Authorization: token } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { response: { merchant_uid: string } }).response.merchant_uid).toBe('keep-1');
      expect((await second.api('GET', '/subscribe/customers/cust-keep')).body.code).toBe(0);
      expect((await second.control('GET', '/clock')).body).toEqual({ now: T0 + 60 });
      // Ids stay unique: the next payment does not reuse an old sequence.
      const next = await second.checkout({ merchant_uid: 'keep-2', amount: 500 });
      expect(next.imp_uid).not.toBe('imp_123456789');
    } finally {
      await second.close();
    }
  });

  it('without a state file a restart forgets everything (the default, tests rely on it)', async () => {
    const first = await startHarness();
    await first.checkout({ merchant_uid: 'gone-1', imp_uid: 'imp_123456789', amount: 10000 });
    await first.close();
    const second = await startHarness();
    try {
      expect((await second.api('GET', '/payments/imp_123456789')).status).toBe(404);
    } finally {
      await second.close();
    }
  });

  it('an unreadable state file stops the start with its path', async () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{not json');
    await expect(startHarness({ stateFile: broken })).rejects.toThrow(broken);
  });
});
