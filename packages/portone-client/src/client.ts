import type { Dispatcher } from 'undici';
import type { CallOptions, Credentials } from './credentials.ts';
import { createExecutor } from './execute.ts';
import type { AccessToken } from './schemas/auth.ts';
import type { MultiResult, Paged } from './schemas/common.ts';
import type {
  BillingKeyDeleteRequest,
  BillingKeyIssueRequest,
  BillingKeyPaymentsRequest,
  Customer,
  GetBillingKeyRequest,
  GetBillingKeysRequest,
} from './schemas/customer.ts';
import type {
  CancelRequest,
  FindAllPaymentsRequest,
  FindPaymentRequest,
  GetPaymentRequest,
  GetPaymentsRequest,
  ListPaymentsByStatusRequest,
  Payment,
} from './schemas/payment.ts';
import type { GetPreparedRequest, PreparedPayment, PrepareRequest } from './schemas/prepare.ts';
import type {
  AgainRequest,
  GetScheduleRequest,
  ListSchedulesRequest,
  OnetimeRequest,
  ScheduleRequest,
  ScheduleResult,
  SchedulesByCustomerRequest,
  UnscheduleRequest,
} from './schemas/schedule.ts';
import type { VbankEditRequest, VbankIssueRequest, VbankRevokeRequest } from './schemas/vbank.ts';
import { requestToken } from './send.ts';
import { Agent } from './transport/agent.ts';
import { observeInterceptor, type PortOneCallEvent } from './transport/observe-interceptor.ts';
import { tokenInterceptor } from './transport/token-interceptor.ts';
import { TokenStore } from './transport/token-store.ts';

/** Options of {@link createPortOneClient}. */
export interface PortOneClientOptions {
  /** API origin, e.g. `https://api.iamport.kr` (a path, if any, is ignored). */
  baseUrl: string;
  /** Default merchant credentials; any call can override them with `opts.credentials`. */
  credentials: Credentials;
  /** Timeouts in milliseconds. Defaults: connect 10 000, headers 60 000, body 30 000. */
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number };
  /**
   * Retry policy (exponential backoff with jitter). Defaults: `retries` 3 (4 attempts),
   * `minTimeoutMs` 200, `maxTimeoutMs` 5 000, `maxRetryTimeMs` 20 000 (overall deadline for retrying;
   * `Retry-After` waits are capped by it).
   */
  retry?: { retries?: number; minTimeoutMs?: number; maxTimeoutMs?: number; maxRetryTimeMs?: number };
  /** Refresh a token this many seconds before it expires. Default 60. */
  tokenRefreshMarginSeconds?: number;
  /** Most merchants whose tokens are cached (LRU). Default 100. */
  tokenCacheSize?: number;
  /** Most connections to PortOne kept by the client's own pool. Default 64. */
  connections?: number;
  /** Called for every HTTP attempt, token requests included; must not throw (errors are ignored). */
  onCall?: (event: PortOneCallEvent) => void;
  /** Local clock in milliseconds, used for token expiry. Default `Date.now`. */
  now?: () => number;
  /**
   * Dispatcher to send through instead of the client's own `Agent` (tests, benchmarks, proxies). The
   * interceptors are composed on it; `close()` leaves it open, and `timeouts.connectMs` does not apply.
   */
  dispatcher?: Dispatcher;
}

/** Per-call options: an `AbortSignal` and per-merchant credentials. */
export type { CallOptions };

/** Payment lookups and cancellation. */
export interface PaymentsApi {
  /** `GET /payments/{imp_uid}`. Throws `PortOneNotFoundError` when there is no such payment. */
  get(request: GetPaymentRequest, opts?: CallOptions): Promise<Payment>;
  /** `GET /payments?imp_uid[]=&merchant_uid[]=`: `partial` is true when some ids were not found (207/404). */
  getMany(request: GetPaymentsRequest, opts?: CallOptions): Promise<MultiResult<Payment>>;
  /** `GET /payments/status/{payment_status}` with paging, time window and sorting. */
  listByStatus(request: ListPaymentsByStatusRequest, opts?: CallOptions): Promise<Paged<Payment>>;
  /** `GET /payments/find/{merchant_uid}/{payment_status?}`: the first payment under `sorting`. */
  find(request: FindPaymentRequest, opts?: CallOptions): Promise<Payment>;
  /** `GET /payments/findAll/{merchant_uid}/{payment_status?}`: every attempt for a merchant_uid. */
  findAll(request: FindAllPaymentsRequest, opts?: CallOptions): Promise<Paged<Payment>>;
  /**
   * `POST /payments/cancel`, full or partial. Retried after ambiguous failures only when `checksum` is
   * given; without it such a failure throws `PortOneOutcomeUnknownError`.
   */
  cancel(request: CancelRequest, opts?: CallOptions): Promise<Payment>;
}

/** Amount pre-registration (`/payments/prepare`). */
export interface PrepareApi {
  /** `POST /payments/prepare`. */
  create(request: PrepareRequest, opts?: CallOptions): Promise<PreparedPayment>;
  /** `GET /payments/prepare/{merchant_uid}`. */
  get(request: GetPreparedRequest, opts?: CallOptions): Promise<PreparedPayment>;
  /** `PUT /payments/prepare`. */
  update(request: PrepareRequest, opts?: CallOptions): Promise<PreparedPayment>;
}

/** Virtual accounts issued through the API. */
export interface VbanksApi {
  /** `POST /vbanks` (a charge: not retried unless provably unsent). */
  issue(request: VbankIssueRequest, opts?: CallOptions): Promise<Payment>;
  /** `PUT /vbanks/{imp_uid}`. */
  edit(request: VbankEditRequest, opts?: CallOptions): Promise<Payment>;
  /** `DELETE /vbanks/{imp_uid}`. */
  revoke(request: VbankRevokeRequest, opts?: CallOptions): Promise<Payment>;
}

/** Billing keys (`/subscribe/customers`). */
export interface BillingKeysApi {
  /** `POST /subscribe/customers/{customer_uid}`: issue or replace a billing key. */
  issue(request: BillingKeyIssueRequest, opts?: CallOptions): Promise<Customer>;
  /** `GET /subscribe/customers/{customer_uid}`. */
  get(request: GetBillingKeyRequest, opts?: CallOptions): Promise<Customer>;
  /** `GET /subscribe/customers?customer_uid[]=`: `partial` when some were not found. */
  getMany(request: GetBillingKeysRequest, opts?: CallOptions): Promise<MultiResult<Customer>>;
  /** `DELETE /subscribe/customers/{customer_uid}`. */
  delete(request: BillingKeyDeleteRequest, opts?: CallOptions): Promise<Customer>;
  /** `GET /subscribe/customers/{customer_uid}/payments`. */
  payments(request: BillingKeyPaymentsRequest, opts?: CallOptions): Promise<Paged<Payment>>;
}

/** Non-authenticated and scheduled payments. */
export interface SubscribeApi {
  /** `POST /subscribe/payments/onetime` (a charge). Check `status` of the result (`paid`/`failed`). */
  onetime(request: OnetimeRequest, opts?: CallOptions): Promise<Payment>;
  /** `POST /subscribe/payments/again` (a charge). Check `status` of the result (`paid`/`failed`). */
  again(request: AgainRequest, opts?: CallOptions): Promise<Payment>;
  /** `POST /subscribe/payments/schedule` (a charge). */
  schedule(request: ScheduleRequest, opts?: CallOptions): Promise<ScheduleResult[]>;
  /** `POST /subscribe/payments/unschedule`. */
  unschedule(request: UnscheduleRequest, opts?: CallOptions): Promise<ScheduleResult[]>;
  /** `GET /subscribe/payments/schedule/{merchant_uid}`. */
  getSchedule(request: GetScheduleRequest, opts?: CallOptions): Promise<ScheduleResult>;
  /** `GET /subscribe/payments/schedule/customers/{customer_uid}` (paged or bare-array answers). */
  schedulesByCustomer(request: SchedulesByCustomerRequest, opts?: CallOptions): Promise<Paged<ScheduleResult>>;
  /** `GET /subscribe/payments/schedule` (paged or bare-array answers). */
  listSchedules(request: ListSchedulesRequest, opts?: CallOptions): Promise<Paged<ScheduleResult>>;
}

/** A PortOne V1 client. */
export interface PortOneClient {
  /** A valid access token for the call's credentials (cached; fetched once when missing or expiring). */
  getToken(opts?: CallOptions): Promise<AccessToken>;
  /**
   * PortOne's own clock, UNIX seconds: the `now` of the last token (fetched if none is cached) carried
   * forward by the local clock. Dates PortOne checks (a virtual account's due date) are relative to it.
   */
  now(opts?: CallOptions): Promise<number>;
  readonly payments: PaymentsApi;
  readonly prepare: PrepareApi;
  readonly vbanks: VbanksApi;
  readonly billingKeys: BillingKeysApi;
  readonly subscribe: SubscribeApi;
  /** Closes the client's own connection pool (not a dispatcher passed in options). */
  close(): Promise<void>;
}

const DEFAULTS = {
  connectMs: 10_000,
  headersMs: 60_000,
  bodyMs: 30_000,
  retries: 3,
  minTimeoutMs: 200,
  maxTimeoutMs: 5_000,
  maxRetryTimeMs: 20_000,
  tokenRefreshMarginSeconds: 60,
  tokenCacheSize: 100,
  connections: 64,
} as const;

function omit<T extends object, K extends keyof T>(value: T, ...keys: K[]): Omit<T, K> {
  const copy = { ...value } as Record<string, unknown>;
  for (const key of keys) delete copy[key as string];
  return copy as Omit<T, K>;
}

/**
 * Creates a PortOne V1 client: an undici `Agent` with a token interceptor (and an observing one when
 * `onCall` is given), a bounded token cache, and one p-retry layer per call.
 */
export function createPortOneClient(options: PortOneClientOptions): PortOneClient {
  const origin = new URL(options.baseUrl).origin;
  const timeouts = {
    connectMs: options.timeouts?.connectMs ?? DEFAULTS.connectMs,
    headersMs: options.timeouts?.headersMs ?? DEFAULTS.headersMs,
    bodyMs: options.timeouts?.bodyMs ?? DEFAULTS.bodyMs,
  };
  const retry = {
    retries: options.retry?.retries ?? DEFAULTS.retries,
    minTimeoutMs: options.retry?.minTimeoutMs ?? DEFAULTS.minTimeoutMs,
    maxTimeoutMs: options.retry?.maxTimeoutMs ?? DEFAULTS.maxTimeoutMs,
    maxRetryTimeMs: options.retry?.maxRetryTimeMs ?? DEFAULTS.maxRetryTimeMs,
  };
  const own =
    options.dispatcher === undefined
      ? new Agent({
          connect: { timeout: timeouts.connectMs },
          headersTimeout: timeouts.headersMs,
          bodyTimeout: timeouts.bodyMs,
          connections: options.connections ?? DEFAULTS.connections,
        })
      : undefined;
  const base: Dispatcher = own ?? (options.dispatcher as Dispatcher);
  const observers = options.onCall === undefined ? [] : [observeInterceptor({ onCall: options.onCall })];
  let closed = false;

  const transport = { origin, headersTimeoutMs: timeouts.headersMs, bodyTimeoutMs: timeouts.bodyMs };
  // Token requests go through the observer but not the token interceptor.
  const plain = observers.length === 0 ? base : base.compose(observers);
  const tokens = new TokenStore({
    fetchToken: (credentials, attempt) => requestToken(plain, transport, credentials, attempt),
    now: options.now ?? Date.now,
    refreshMarginMs: (options.tokenRefreshMarginSeconds ?? DEFAULTS.tokenRefreshMarginSeconds) * 1000,
    max: options.tokenCacheSize ?? DEFAULTS.tokenCacheSize,
  });
  const api = base.compose(...observers, tokenInterceptor({ tokens }));
  const executor = createExecutor({
    transport,
    api,
    tokens,
    credentials: options.credentials,
    retry,
    isClosed: () => closed,
  });
  const { run } = executor;
  const data = async <T>(result: Promise<{ data: T }>): Promise<T> => (await result).data;
  const multi = async <T>(result: Promise<{ status: number; data: T[] }>): Promise<MultiResult<T>> => {
    const { status, data: items } = await result;
    return { items, partial: status !== 200 };
  };

  const payments: PaymentsApi = {
    get: ({ imp_uid, include_sandbox }, opts) =>
      data(run('payments.get', { params: { imp_uid }, query: { include_sandbox } }, opts)),
    getMany: ({ imp_uid, merchant_uid }, opts) =>
      multi(run('payments.getMany', { query: { imp_uid, merchant_uid } }, opts)),
    listByStatus: ({ payment_status, ...query }, opts) =>
      data(run('payments.listByStatus', { params: { payment_status }, query }, opts)),
    find: ({ merchant_uid, payment_status, sorting }, opts) =>
      data(run('payments.find', { params: { merchant_uid, payment_status }, query: { sorting } }, opts)),
    findAll: ({ merchant_uid, payment_status, ...query }, opts) =>
      data(run('payments.findAll', { params: { merchant_uid, payment_status }, query }, opts)),
    cancel: (request, opts) =>
      data(
        run(
          'payments.cancel',
          {
            body: request,
            checksum: request.checksum !== undefined && request.checksum !== null,
            merchantUids: request.merchant_uid === undefined ? [] : [request.merchant_uid],
            impUid: request.imp_uid,
          },
          opts,
        ),
      ),
  };

  const prepare: PrepareApi = {
    create: (request, opts) => data(run('prepare.create', { body: request }, opts)),
    get: ({ merchant_uid }, opts) => data(run('prepare.get', { params: { merchant_uid } }, opts)),
    update: (request, opts) => data(run('prepare.update', { body: request }, opts)),
  };

  const vbanks: VbanksApi = {
    issue: (request, opts) =>
      data(
        run(
          'vbanks.issue',
          {
            body: omit(request, 'pg_api_key'),
            query: { pg_api_key: request.pg_api_key },
            merchantUids: [request.merchant_uid],
          },
          opts,
        ),
      ),
    edit: ({ imp_uid, ...body }, opts) => data(run('vbanks.edit', { params: { imp_uid }, body }, opts)),
    revoke: ({ imp_uid, pg_api_key }, opts) =>
      data(run('vbanks.revoke', { params: { imp_uid }, query: { pg_api_key } }, opts)),
  };

  const billingKeys: BillingKeysApi = {
    issue: ({ customer_uid, ...body }, opts) =>
      data(run('billingKeys.issue', { params: { customer_uid }, body }, opts)),
    get: ({ customer_uid }, opts) => data(run('billingKeys.get', { params: { customer_uid } }, opts)),
    getMany: ({ customer_uid }, opts) => multi(run('billingKeys.getMany', { query: { customer_uid } }, opts)),
    delete: ({ customer_uid, reason, extra }, opts) =>
      data(run('billingKeys.delete', { params: { customer_uid }, query: { reason, extra } }, opts)),
    payments: ({ customer_uid, page }, opts) =>
      data(run('billingKeys.payments', { params: { customer_uid }, query: { page } }, opts)),
  };

  const subscribe: SubscribeApi = {
    onetime: (request, opts) =>
      data(run('subscribe.onetime', { body: request, merchantUids: [request.merchant_uid] }, opts)),
    again: (request, opts) =>
      data(run('subscribe.again', { body: request, merchantUids: [request.merchant_uid] }, opts)),
    schedule: (request, opts) =>
      data(
        run(
          'subscribe.schedule',
          { body: request, merchantUids: request.schedules.map((entry) => entry.merchant_uid) },
          opts,
        ),
      ),
    unschedule: (request, opts) => data(run('subscribe.unschedule', { body: request }, opts)),
    getSchedule: ({ merchant_uid }, opts) => data(run('subscribe.getSchedule', { params: { merchant_uid } }, opts)),
    schedulesByCustomer: ({ customer_uid, from, to, schedule_status, page }, opts) =>
      data(
        run(
          'subscribe.schedulesByCustomer',
          { params: { customer_uid }, query: { from, to, 'schedule-status': schedule_status, page } },
          opts,
        ),
      ),
    listSchedules: (query, opts) => data(run('subscribe.listSchedules', { query: { ...query } }, opts)),
  };

  return {
    getToken: (opts) => executor.getToken(opts),
    now: (opts) => executor.portoneNow(opts),
    payments,
    prepare,
    vbanks,
    billingKeys,
    subscribe,
    async close() {
      if (closed) return;
      closed = true;
      await own?.close();
    },
  };
}
