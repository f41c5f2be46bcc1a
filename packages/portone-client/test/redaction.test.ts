import { inspect } from 'node:util';
import { uid } from '@repo/test-support';
import { expect, it } from 'vitest';
import { PortOneApiError } from '../src/index.ts';
import { DEFAULT_MERCHANT, testClient, useEmulator } from './helpers.ts';

const CARD_NUMBER = '4092-0200-1234-5678';
const INVALID_CARD = '4000-0000-0000-0127';

const emu = useEmulator();

function secretsIn(text: string, token: string): string[] {
  const needles = [
    DEFAULT_MERCHANT.impSecret,
    DEFAULT_MERCHANT.impKey,
    token,
    CARD_NUMBER,
    CARD_NUMBER.replaceAll('-', ''),
    INVALID_CARD,
    INVALID_CARD.replaceAll('-', ''),
    '900101',
  ];
  return needles.filter((needle) => text.includes(needle));
}

it('keeps secrets, tokens and card data out of onCall events and errors', async () => {
  const { client, events } = testClient(emu.url);
  const token = (await client.getToken()).access_token;
  const customerUid = uid('cust');
  await client.billingKeys.issue({
    customer_uid: customerUid,
    card_number: CARD_NUMBER,
    expiry: '2099-12',
    birth: '900101',
  });
  await client.subscribe.onetime({ merchant_uid: uid(), amount: 1_000, card_number: CARD_NUMBER, expiry: '2099-12' });

  const errors: unknown[] = [];
  errors.push(
    await client.billingKeys
      .issue({ customer_uid: uid('cust'), card_number: INVALID_CARD, expiry: '2099-12', birth: '900101' })
      .catch((e: unknown) => e),
  );
  await emu.fault({ path: '/subscribe/payments/onetime', kind: 'reset', times: 1 });
  errors.push(
    await client.subscribe
      .onetime({ merchant_uid: uid(), amount: 1_000, card_number: CARD_NUMBER, expiry: '2099-12', birth: '900101' })
      .catch((e: unknown) => e),
  );
  await emu.advance(1801); // the cached token is now unknown to PortOne: a 401 and a replay follow
  errors.push(await client.payments.get({ imp_uid: 'imp_000000000000' }).catch((e: unknown) => e));

  expect(errors[0]).toBeInstanceOf(PortOneApiError);
  expect(errors.map((e) => (e as Error).name)).toEqual([
    'PortOneApiError',
    'PortOneOutcomeUnknownError',
    'PortOneNotFoundError',
  ]);
  expect(events.some((e) => e.status === 401)).toBe(true);
  expect(events.length).toBeGreaterThanOrEqual(7);

  const dump = [
    JSON.stringify(events),
    ...errors.map((e) => `${String(e)}\n${JSON.stringify(e)}\n${inspect(e, { depth: 6 })}`),
  ].join('\n');
  expect(secretsIn(dump, token)).toEqual([]);
  for (const event of events) {
    expect(event.impKey).toBe('imp_…_key');
    expect(event.path).not.toMatch(/imp_\d|cust_|order_/);
  }
  await client.close();
});

it('reports every attempt, token requests included, with the route pattern', async () => {
  const { client, events } = testClient(emu.url);
  const paid = await emu.checkout({ merchant_uid: uid(), amount: 1_000 });
  await client.payments.find({ merchant_uid: paid.merchant_uid, payment_status: 'paid' });
  await client.payments.get({ imp_uid: 'imp_000000000000' }).catch(() => undefined);
  expect(events.map(({ durationMs, ...rest }) => ({ ...rest, timed: durationMs >= 0 }))).toEqual([
    {
      operation: 'getToken',
      method: 'POST',
      path: '/users/getToken',
      status: 200,
      code: 0,
      attempt: 1,
      impKey: 'imp_…_key',
      outcome: 'ok',
      timed: true,
    },
    {
      operation: 'payments.find',
      method: 'GET',
      path: '/payments/find/{merchant_uid}/{payment_status}',
      status: 200,
      code: 0,
      attempt: 1,
      impKey: 'imp_…_key',
      outcome: 'ok',
      timed: true,
    },
    {
      operation: 'payments.get',
      method: 'GET',
      path: '/payments/{imp_uid}',
      status: 404,
      code: -1,
      attempt: 1,
      impKey: 'imp_…_key',
      outcome: 'error',
      error: 'PortOneNotFoundError',
      timed: true,
    },
  ]);
  await client.close();
});

it('survives an onCall hook that throws', async () => {
  const { client } = testClient(emu.url, {
    onCall: () => {
      throw new Error('logger down');
    },
  });
  const page = await client.payments.listByStatus({ payment_status: 'all' });
  expect(page.total).toBe(0);
  await client.close();
});
