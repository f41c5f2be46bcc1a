import { describe, expect, it } from 'vitest';
import { PaymentSchema } from '../src/index.ts';
import { PagedScheduleResultSchema } from '../src/schemas/schedule.ts';

describe('schemas', () => {
  const payment = {
    imp_uid: 'imp_1',
    merchant_uid: 'o1',
    amount: 1000,
    cancel_amount: 0,
    currency: 'KRW',
    status: 'partial_refunded_someday',
    sandbox: false,
    pay_method: 'brandnewpay',
    card_type: null,
    field_added_in_2030: { anything: true },
  };

  it('tolerates new fields and new enum values, keeping the unknown fields', () => {
    const parsed = PaymentSchema.parse(payment);
    expect(parsed.pay_method).toBe('brandnewpay');
    expect(parsed.status).toBe('partial_refunded_someday');
    expect((parsed as Record<string, unknown>).field_added_in_2030).toEqual({ anything: true });
  });

  it('requires what the spec requires', () => {
    const { imp_uid: _dropped, ...withoutId } = payment;
    expect(PaymentSchema.safeParse(withoutId).success).toBe(false);
    expect(PaymentSchema.safeParse({ ...payment, amount: null }).success).toBe(false);
  });

  it('reads schedule lists paged or as a bare array', () => {
    const schedule = {
      customer_uid: 'c',
      merchant_uid: 'm',
      schedule_at: 1,
      amount: 1,
      schedule_status: 'scheduled',
      payment_status: null,
    };
    expect(PagedScheduleResultSchema.parse([schedule, schedule])).toMatchObject({
      total: 2,
      previous: 0,
      next: 0,
      list: [schedule, schedule],
    });
    expect(PagedScheduleResultSchema.parse({ total: 5, previous: 1, next: 3, list: [schedule] })).toMatchObject({
      total: 5,
      next: 3,
    });
  });
});
