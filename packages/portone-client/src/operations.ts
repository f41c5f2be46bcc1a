import type { z } from 'zod';
import { AccessTokenSchema } from './schemas/auth.ts';
import { CustomerListSchema, CustomerSchema } from './schemas/customer.ts';
import { PagedPaymentSchema, PaymentListSchema, PaymentSchema } from './schemas/payment.ts';
import { PreparedPaymentSchema } from './schemas/prepare.ts';
import { PagedScheduleResultSchema, ScheduleResultListSchema, ScheduleResultSchema } from './schemas/schedule.ts';

/**
 * What a retry may do to the world, decided once per operation:
 * - `read`: no effect; retried freely on network errors, timeouts, 5xx and 429.
 * - `checksum`: moves money, but a request carrying `checksum` cannot apply twice (PortOne refuses a
 *   replay whose balance no longer matches), so with a checksum it is retried like a read; without one
 *   it is treated like `charge`.
 * - `charge`: moves money with no replay protection; retried only when the request provably never
 *   reached PortOne, otherwise it fails with `PortOneOutcomeUnknownError`.
 * - `write`: changes state without charging; retried only when provably never sent, otherwise the
 *   transport error is thrown with `outcomeKnown: false`.
 * Business failures (`code != 0`), 4xx and invalid responses are never retried.
 */
export type Safety = 'read' | 'checksum' | 'charge' | 'write';

/** One row of the operations table. */
export interface OperationDef {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Route pattern from the spec; `{name?}` marks an optional trailing segment. */
  readonly route: string;
  readonly safety: Safety;
  /** Whether the call needs an access token (all but getToken). */
  readonly auth: boolean;
  /** Schema of the envelope's `response`. */
  readonly response: z.ZodType;
  /** Multi-lookup: 207 means some ids were missing, 404 that none were found. */
  readonly multi?: boolean;
}

/** Every operation the client performs, with its route and retry safety. */
export const OPERATIONS = {
  getToken: { method: 'POST', route: '/users/getToken', safety: 'read', auth: false, response: AccessTokenSchema },

  'payments.get': { method: 'GET', route: '/payments/{imp_uid}', safety: 'read', auth: true, response: PaymentSchema },
  'payments.getMany': {
    method: 'GET',
    route: '/payments',
    safety: 'read',
    auth: true,
    response: PaymentListSchema,
    multi: true,
  },
  'payments.listByStatus': {
    method: 'GET',
    route: '/payments/status/{payment_status}',
    safety: 'read',
    auth: true,
    response: PagedPaymentSchema,
  },
  'payments.find': {
    method: 'GET',
    route: '/payments/find/{merchant_uid}/{payment_status?}',
    safety: 'read',
    auth: true,
    response: PaymentSchema,
  },
  'payments.findAll': {
    method: 'GET',
    route: '/payments/findAll/{merchant_uid}/{payment_status?}',
    safety: 'read',
    auth: true,
    response: PagedPaymentSchema,
  },
  'payments.cancel': {
    method: 'POST',
    route: '/payments/cancel',
    safety: 'checksum',
    auth: true,
    response: PaymentSchema,
  },

  'prepare.create': {
    method: 'POST',
    route: '/payments/prepare',
    safety: 'write',
    auth: true,
    response: PreparedPaymentSchema,
  },
  'prepare.get': {
    method: 'GET',
    route: '/payments/prepare/{merchant_uid}',
    safety: 'read',
    auth: true,
    response: PreparedPaymentSchema,
  },
  'prepare.update': {
    method: 'PUT',
    route: '/payments/prepare',
    safety: 'write',
    auth: true,
    response: PreparedPaymentSchema,
  },

  'vbanks.issue': { method: 'POST', route: '/vbanks', safety: 'charge', auth: true, response: PaymentSchema },
  'vbanks.edit': { method: 'PUT', route: '/vbanks/{imp_uid}', safety: 'write', auth: true, response: PaymentSchema },
  'vbanks.revoke': {
    method: 'DELETE',
    route: '/vbanks/{imp_uid}',
    safety: 'write',
    auth: true,
    response: PaymentSchema,
  },

  'billingKeys.issue': {
    method: 'POST',
    route: '/subscribe/customers/{customer_uid}',
    safety: 'write',
    auth: true,
    response: CustomerSchema,
  },
  'billingKeys.get': {
    method: 'GET',
    route: '/subscribe/customers/{customer_uid}',
    safety: 'read',
    auth: true,
    response: CustomerSchema,
  },
  'billingKeys.getMany': {
    method: 'GET',
    route: '/subscribe/customers',
    safety: 'read',
    auth: true,
    response: CustomerListSchema,
    multi: true,
  },
  'billingKeys.delete': {
    method: 'DELETE',
    route: '/subscribe/customers/{customer_uid}',
    safety: 'write',
    auth: true,
    response: CustomerSchema,
  },
  'billingKeys.payments': {
    method: 'GET',
    route: '/subscribe/customers/{customer_uid}/payments',
    safety: 'read',
    auth: true,
    response: PagedPaymentSchema,
  },

  'subscribe.onetime': {
    method: 'POST',
    route: '/subscribe/payments/onetime',
    safety: 'charge',
    auth: true,
    response: PaymentSchema,
  },
  'subscribe.again': {
    method: 'POST',
    route: '/subscribe/payments/again',
    safety: 'charge',
    auth: true,
    response: PaymentSchema,
  },
  'subscribe.schedule': {
    method: 'POST',
    route: '/subscribe/payments/schedule',
    safety: 'charge',
    auth: true,
    response: ScheduleResultListSchema,
  },
  'subscribe.unschedule': {
    method: 'POST',
    route: '/subscribe/payments/unschedule',
    safety: 'write',
    auth: true,
    response: ScheduleResultListSchema,
  },
  'subscribe.getSchedule': {
    method: 'GET',
    route: '/subscribe/payments/schedule/{merchant_uid}',
    safety: 'read',
    auth: true,
    response: ScheduleResultSchema,
  },
  'subscribe.schedulesByCustomer': {
    method: 'GET',
    route: '/subscribe/payments/schedule/customers/{customer_uid}',
    safety: 'read',
    auth: true,
    response: PagedScheduleResultSchema,
  },
  'subscribe.listSchedules': {
    method: 'GET',
    route: '/subscribe/payments/schedule',
    safety: 'read',
    auth: true,
    response: PagedScheduleResultSchema,
  },
} as const satisfies Record<string, OperationDef>;

/** Name of a client operation. */
export type OperationName = keyof typeof OPERATIONS;

/** The validated `response` type of an operation. */
export type OperationResult<N extends OperationName> = z.output<(typeof OPERATIONS)[N]['response']>;
