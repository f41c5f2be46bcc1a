import { uid } from '@repo/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PortOneApiError, type PortOneClient, PortOneNotFoundError } from '../src/index.ts';
import { EMULATOR_EPOCH, testClient, useEmulator } from './helpers.ts';

const CARD = { card_number: '4092-0200-1234-5678', expiry: '2099-12', birth: '900101', pwd_2digit: '12' };
const DAY = 24 * 60 * 60;

const emu = useEmulator();
let client: PortOneClient;

beforeEach(() => {
  client = testClient(emu.url).client;
});
afterEach(async () => {
  await client.close();
});

describe('getToken', () => {
  it('returns PortOne token and reuses it from the cache', async () => {
    const first = await client.getToken();
    const second = await client.getToken();
    expect(first.access_token).toMatch(/^[0-9a-f]{40}$/);
    expect(first.expired_at - first.now).toBe(1800);
    expect(second.access_token).toBe(first.access_token);
    expect((await emu.stats()).tokenRequests).toEqual({ imp_emulator_key: 1 });
  });
});

describe('payments', () => {
  it('gets a payment by imp_uid, with include_sandbox, and 404 as PortOneNotFoundError without retrying', async () => {
    const paid = await emu.checkout({ merchant_uid: uid(), amount: 1000 });
    const payment = await client.payments.get({ imp_uid: paid.imp_uid, include_sandbox: true });
    expect(payment).toMatchObject({ imp_uid: paid.imp_uid, status: 'paid', amount: 1000, cancel_amount: 0 });

    const error = await client.payments.get({ imp_uid: 'imp_000000000000' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortOneNotFoundError);
    expect(error).toMatchObject({ status: 404, code: -1, attempts: 1, operation: 'payments.get' });
    expect((await emu.stats()).byRoute['GET /payments/:imp_uid']).toBe(2);
  });

  it('gets several payments: 200 is complete, 207 partial, 404 empty', async () => {
    const a = await emu.checkout({ merchant_uid: uid(), amount: 1000 });
    const b = await emu.checkout({ merchant_uid: uid(), amount: 2000 });

    const all = await client.payments.getMany({ imp_uid: [a.imp_uid], merchant_uid: [b.merchant_uid] });
    expect(all.partial).toBe(false);
    expect(all.items.map((p) => p.imp_uid).sort()).toEqual([a.imp_uid, b.imp_uid].sort());

    const some = await client.payments.getMany({ imp_uid: [a.imp_uid, 'imp_000000000000'] });
    expect(some).toMatchObject({ partial: true, items: [{ imp_uid: a.imp_uid }] });

    const none = await client.payments.getMany({ merchant_uid: ['nope'] });
    expect(none).toEqual({ items: [], partial: true });
  });

  it('lists by status with paging, time window and sorting', async () => {
    for (const amount of [1000, 2000, 3000]) {
      await emu.checkout({ merchant_uid: uid(), amount });
      await emu.advance(10);
    }
    await emu.checkout({ merchant_uid: uid(), amount: 9, pay_method: 'card' });
    const page1 = await client.payments.listByStatus({
      payment_status: 'paid',
      limit: 2,
      page: 1,
      from: EMULATOR_EPOCH,
      to: EMULATOR_EPOCH + 25,
      sorting: 'paid',
    });
    expect(page1).toMatchObject({ total: 3, previous: 0, next: 2 });
    expect(page1.list.map((p) => p.amount)).toEqual([1000, 2000]);
    const page2 = await client.payments.listByStatus({
      payment_status: 'paid',
      limit: 2,
      page: 2,
      from: EMULATOR_EPOCH,
      to: EMULATOR_EPOCH + 25,
      sorting: 'paid',
    });
    expect(page2).toMatchObject({ total: 3, previous: 1, next: 0 });
    expect(page2.list.map((p) => p.amount)).toEqual([3000]);
  });

  it('finds by merchant_uid with and without status, and lists every attempt', async () => {
    const merchantUid = uid();
    await emu.checkout({ merchant_uid: merchantUid, amount: 500, outcome: 'failed' });
    await emu.advance(5);
    const paid = await emu.checkout({ merchant_uid: merchantUid, amount: 500 });

    expect((await client.payments.find({ merchant_uid: merchantUid })).imp_uid).toBe(paid.imp_uid);
    const failed = await client.payments.find({ merchant_uid: merchantUid, payment_status: 'failed' });
    expect(failed.status).toBe('failed');
    await expect(client.payments.find({ merchant_uid: merchantUid, payment_status: 'cancelled' })).rejects.toThrow(
      PortOneNotFoundError,
    );

    const all = await client.payments.findAll({ merchant_uid: merchantUid, sorting: 'started', limit: 10 });
    expect(all.total).toBe(2);
    expect(all.list.map((p) => p.status)).toEqual(['failed', 'paid']);
    const onlyPaid = await client.payments.findAll({ merchant_uid: merchantUid, payment_status: 'paid' });
    expect(onlyPaid.list.map((p) => p.imp_uid)).toEqual([paid.imp_uid]);
  });

  it('cancels partially (tax_free, vat_amount, checksum, reason) and then fully', async () => {
    const paid = await emu.checkout({ merchant_uid: uid(), amount: 10_000 });
    const partial = await client.payments.cancel({
      imp_uid: paid.imp_uid,
      amount: 3_000,
      tax_free: 1_000,
      vat_amount: 200,
      checksum: 10_000,
      reason: 'size exchange',
    });
    expect(partial).toMatchObject({ status: 'cancelled', cancel_amount: 3_000, cancel_reason: 'size exchange' });
    expect(partial.cancel_history).toHaveLength(1);

    const rest = await client.payments.cancel({
      merchant_uid: paid.merchant_uid,
      checksum: 7_000,
      enable_webhook: false,
    });
    expect(rest.cancel_amount).toBe(10_000);
    expect(rest.cancel_history?.map((c) => c.amount)).toEqual([3_000, 7_000]);
    expect(rest.cancel_history?.every((c) => c.cancellation_id.length > 0)).toBe(true);

    const again = await client.payments.cancel({ imp_uid: paid.imp_uid }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(PortOneApiError);
    expect(again).toMatchObject({ status: 200, code: 1, attempts: 1 });
  });

  it('refunds a paid virtual account to the refund account', async () => {
    const issued = await client.vbanks.issue({
      merchant_uid: uid(),
      amount: 5_000,
      vbank_code: '004',
      vbank_due: EMULATOR_EPOCH + 3 * DAY,
      vbank_holder: 'Shop',
    });
    await emu.deposit(issued.imp_uid);
    const refunded = await client.payments.cancel({
      imp_uid: issued.imp_uid,
      checksum: 5_000,
      refund_holder: 'Hong',
      refund_bank: '088',
      refund_account: '110123456789',
      refund_tel: '01012345678',
    });
    expect(refunded).toMatchObject({ pay_method: 'vbank', cancel_amount: 5_000, status: 'cancelled' });
  });
});

describe('prepare', () => {
  it('creates, reads and updates a prepared amount', async () => {
    const merchantUid = uid();
    expect(await client.prepare.create({ merchant_uid: merchantUid, amount: 1_000, currency: 'KRW' })).toMatchObject({
      merchant_uid: merchantUid,
      amount: 1_000,
    });
    expect((await client.prepare.get({ merchant_uid: merchantUid })).amount).toBe(1_000);
    expect((await client.prepare.update({ merchant_uid: merchantUid, amount: 2_000 })).amount).toBe(2_000);
    expect((await client.prepare.get({ merchant_uid: merchantUid })).amount).toBe(2_000);
    await expect(client.prepare.get({ merchant_uid: 'never-prepared' })).rejects.toThrow(PortOneNotFoundError);
  });
});

describe('vbanks', () => {
  it('issues, edits and revokes a virtual account', async () => {
    const merchantUid = uid();
    const issued = await client.vbanks.issue({
      channel_key: 'channel-key-test',
      merchant_uid: merchantUid,
      amount: 30_000,
      vbank_code: '088',
      vbank_due: EMULATOR_EPOCH + 3 * DAY,
      vbank_holder: 'Shop',
      buyer_name: 'Hong',
    });
    expect(issued).toMatchObject({ merchant_uid: merchantUid, pay_method: 'vbank', status: 'ready', amount: 30_000 });
    expect(issued.vbank_num).toBeTruthy();

    const edited = await client.vbanks.edit({
      imp_uid: issued.imp_uid,
      amount: 31_000,
      vbank_due: EMULATOR_EPOCH + DAY,
    });
    expect(edited).toMatchObject({ amount: 31_000, vbank_date: EMULATOR_EPOCH + DAY });

    const revoked = await client.vbanks.revoke({ imp_uid: issued.imp_uid });
    expect(revoked.status).toBe('cancelled');
    await expect(client.vbanks.revoke({ imp_uid: issued.imp_uid })).rejects.toThrow(PortOneApiError);
  });
});

describe('billing keys', () => {
  it('issues, reads, lists, pays with and deletes a billing key', async () => {
    const customerUid = uid('cust');
    const issued = await client.billingKeys.issue({ customer_uid: customerUid, ...CARD, customer_name: 'Hong' });
    expect(issued).toMatchObject({ customer_uid: customerUid, customer_name: 'Hong' });
    expect(issued.card_number).not.toContain('1234-5678');

    expect((await client.billingKeys.get({ customer_uid: customerUid })).customer_uid).toBe(customerUid);
    const many = await client.billingKeys.getMany({ customer_uid: [customerUid, 'cust-missing'] });
    expect(many).toMatchObject({ partial: true, items: [{ customer_uid: customerUid }] });
    expect((await client.billingKeys.getMany({ customer_uid: [customerUid] })).partial).toBe(false);

    const payment = await client.subscribe.again({
      customer_uid: customerUid,
      merchant_uid: uid(),
      amount: 9_900,
      name: 'Monthly',
    });
    const payments = await client.billingKeys.payments({ customer_uid: customerUid, page: 1 });
    expect(payments.list.map((p) => p.imp_uid)).toEqual([payment.imp_uid]);

    const deleted = await client.billingKeys.delete({ customer_uid: customerUid, reason: 'user left' });
    expect(deleted.customer_uid).toBe(customerUid);
    await expect(client.billingKeys.get({ customer_uid: customerUid })).rejects.toThrow(PortOneNotFoundError);
  });
});

describe('subscribe', () => {
  it('charges once by key-in (onetime), storing the card', async () => {
    const customerUid = uid('cust');
    const payment = await client.subscribe.onetime({
      merchant_uid: uid(),
      amount: 12_000,
      ...CARD,
      customer_uid: customerUid,
      name: 'Key-in',
      buyer_name: 'Hong',
    });
    expect(payment).toMatchObject({ status: 'paid', channel: 'api', amount: 12_000 });
    expect((await client.billingKeys.get({ customer_uid: customerUid })).customer_uid).toBe(customerUid);
  });

  it('reports a declined `again` as a failed payment, not an error', async () => {
    const customerUid = uid('cust');
    await client.billingKeys.issue({ customer_uid: customerUid, ...CARD });
    const declined = await client.subscribe.again({
      customer_uid: customerUid,
      merchant_uid: uid(),
      amount: 4004,
      name: 'Declined',
    });
    expect(declined.status).toBe('failed');
    expect(declined.fail_reason).toBeTruthy();
  });

  it('schedules, looks up (by merchant_uid, by customer with from/to/schedule-status, in range) and unschedules', async () => {
    const customerUid = uid('cust');
    await client.billingKeys.issue({ customer_uid: customerUid, ...CARD });
    const [first, second] = [uid(), uid()];
    const created = await client.subscribe.schedule({
      customer_uid: customerUid,
      schedules: [
        { merchant_uid: first, schedule_at: EMULATOR_EPOCH + DAY, amount: 1_000, currency: 'KRW', name: 'm1' },
        { merchant_uid: second, schedule_at: EMULATOR_EPOCH + 2 * DAY, amount: 1_000, currency: 'KRW', name: 'm2' },
      ],
    });
    expect(created.map((s) => s.schedule_status)).toEqual(['scheduled', 'scheduled']);
    expect(await client.subscribe.getSchedule({ merchant_uid: first })).toMatchObject({
      merchant_uid: first,
      customer_uid: customerUid,
      payment_status: null,
    });

    const revoked = await client.subscribe.unschedule({ customer_uid: customerUid, merchant_uid: [second] });
    expect(revoked).toMatchObject([{ merchant_uid: second, schedule_status: 'revoked' }]);

    const window = { from: EMULATOR_EPOCH, to: EMULATOR_EPOCH + 3 * DAY };
    const byCustomer = await client.subscribe.schedulesByCustomer({ customer_uid: customerUid, ...window });
    expect(byCustomer.total).toBe(2);
    const onlyRevoked = await client.subscribe.schedulesByCustomer({
      customer_uid: customerUid,
      ...window,
      schedule_status: 'revoked',
      page: 1,
    });
    expect(onlyRevoked.list.map((s) => s.merchant_uid)).toEqual([second]);

    const inRange = await client.subscribe.listSchedules({
      schedule_from: window.from,
      schedule_to: window.to,
      schedule_status: 'scheduled',
      limit: 10,
    });
    expect(inRange).toMatchObject({ total: 1, previous: 0, next: 0, list: [{ merchant_uid: first }] });

    const nothingLeft = await client.subscribe
      .unschedule({ customer_uid: customerUid, merchant_uid: [second] })
      .catch((e: unknown) => e);
    expect(nothingLeft).toBeInstanceOf(PortOneApiError);
  });
});
