/**
 * Everything the emulator remembers, in one object a reader can follow:
 *
 *   EmulatorState
 *   ├─ clock                      UNIX seconds; manual (moves only when advanced) or real (+ offset)
 *   ├─ merchants                  imp_key → Merchant (configuration, survives reset)
 *   ├─ tokens                     imp_key → current token, and token value → token (notes §3.2)
 *   ├─ stores                     one MerchantStore per (imp_key, Tier) scope: a merchant, and each of
 *   │                             its sub-stores, only ever sees its own payments/customers/schedules
 *   │   ├─ payments               imp_uid → PaymentRecord
 *   │   ├─ prepared               merchant_uid → Prepared
 *   │   ├─ customers              customer_uid → CustomerRecord (billing keys)
 *   │   └─ schedules              merchant_uid → ScheduleRecord
 *   ├─ paymentIndex               imp_uid → PaymentRecord across all scopes (control API, uniqueness)
 *   └─ stats                      request counters for GET /__emulator/stats
 *
 * Faults and webhooks have their own modules; `reset()` clears them through the emulator.
 */
import { newImpUid } from './ids.ts';
import type { Customer, Payment, Prepared, ScheduleResult } from './resources.ts';

/** A merchant account: the V1 REST key pair and, for agency accounts, its sub-stores. */
export interface Merchant {
  impKey: string;
  impSecret: string;
  /** Sub-store Tier code (3 chars, `[A-Z0-9]`) → sub-store name. */
  tiers?: Record<string, string>;
}

export class Clock {
  readonly mode: 'manual' | 'real';
  private readonly start: number | undefined;
  private base = 0;
  private offset = 0;

  constructor(mode: 'manual' | 'real', start?: number) {
    this.mode = mode;
    this.start = start;
    this.reset();
  }

  /** Current emulator time, integer UNIX seconds. */
  now(): number {
    return this.mode === 'manual' ? this.base + this.offset : Math.floor(Date.now() / 1000) + this.offset;
  }

  advance(seconds: number): number {
    this.offset += seconds;
    return this.now();
  }

  /** Continues from a saved reading (a restart with a state file): time goes on from `now`. */
  resume(now: number): void {
    this.base = now;
    this.offset = this.mode === 'real' ? now - Math.floor(Date.now() / 1000) : 0;
  }

  /** Back to the configured start (`options.now`, or real time when none was given). */
  reset(): void {
    this.base = this.start ?? Math.floor(Date.now() / 1000);
    this.offset = this.mode === 'real' && this.start !== undefined ? this.start - Math.floor(Date.now() / 1000) : 0;
  }
}

export interface Token {
  access_token: string;
  impKey: string;
  expired_at: number;
}

export interface PaymentRecord {
  /** Creation order; breaks ties between payments started in the same emulated second. */
  seq: number;
  scopeKey: string;
  data: Payment;
  /** Per-payment webhook targets (`notice_url`); empty = the configured webhook URL. */
  noticeUrls: string[];
  /** Last status change, for `sorting=updated`. */
  updated: number;
}

export interface CustomerRecord {
  data: Customer;
  /** Set when the key was issued for the magic declining card; the full card number is never kept. */
  declines: boolean;
}

export interface ScheduleRecord {
  seq: number;
  data: ScheduleResult;
  noticeUrls: string[];
}

export class MerchantStore {
  readonly key: string;
  readonly payments = new Map<string, PaymentRecord>();
  readonly prepared = new Map<string, Prepared>();
  readonly customers = new Map<string, CustomerRecord>();
  readonly schedules = new Map<string, ScheduleRecord>();
  constructor(key: string) {
    this.key = key;
  }

  /** Payments for one merchant_uid, newest first. */
  paymentsFor(merchantUid: string): PaymentRecord[] {
    return [...this.payments.values()].filter((p) => p.data.merchant_uid === merchantUid).sort((a, b) => b.seq - a.seq);
  }

  /** True when a payment for this merchant_uid was ever approved (paid, or paid then cancelled). */
  hasPaid(merchantUid: string): boolean {
    return this.paymentsFor(merchantUid).some((p) => p.data.paid_at > 0);
  }
}

export interface Stats {
  tokenRequests: Record<string, number>;
  requests: number;
  byRoute: Record<string, number>;
}

/** What a state file holds: everything a restart would otherwise forget (faults and queued webhooks aside). */
export interface StateSnapshot {
  version: 1;
  now: number;
  seq: number;
  tokens: Token[];
  stores: {
    key: string;
    payments: PaymentRecord[];
    prepared: [string, Prepared][];
    customers: [string, CustomerRecord][];
    schedules: [string, ScheduleRecord][];
  }[];
}

export class EmulatorState {
  readonly clock: Clock;
  readonly sandbox: boolean;
  readonly merchants: ReadonlyMap<string, Merchant>;
  readonly firstMerchant: Merchant;
  tokensByKey = new Map<string, Token>();
  tokensByValue = new Map<string, Token>();
  stores = new Map<string, MerchantStore>();
  paymentIndex = new Map<string, PaymentRecord>();
  stats: Stats = { tokenRequests: {}, requests: 0, byRoute: {} };
  private seq = 0;

  constructor(options: { clock: Clock; merchants: Merchant[]; sandbox: boolean }) {
    const [first] = options.merchants;
    if (!first) throw new Error('portone-emulator: at least one merchant is required');
    this.clock = options.clock;
    this.sandbox = options.sandbox;
    this.firstMerchant = first;
    this.merchants = new Map(options.merchants.map((m) => [m.impKey, m]));
  }

  now(): number {
    return this.clock.now();
  }

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  /** The store of one merchant, or of one of its sub-stores when `tier` is given. */
  store(impKey: string, tier = ''): MerchantStore {
    const key = `${impKey}|${tier}`;
    let store = this.stores.get(key);
    if (!store) {
      store = new MerchantStore(key);
      this.stores.set(key, store);
    }
    return store;
  }

  /** The imp_uid the next payment gets, when a control call chose one (see `useImpUidOnce`). */
  #chosenImpUid: string | undefined;

  /**
   * Makes the next payment created take this imp_uid (control API `checkout` with `imp_uid`, so a
   * demo or a document's example can address a known id). Throws if the id is taken.
   */
  useImpUidOnce(impUid: string): void {
    if (this.paymentIndex.has(impUid)) throw new Error(`imp_uid ${impUid} is already in use`);
    this.#chosenImpUid = impUid;
  }

  /** Drops a chosen imp_uid that no payment took (the call failed before creating one). */
  forgetChosenImpUid(): void {
    this.#chosenImpUid = undefined;
  }

  /** A fresh imp_uid, unique across every merchant. */
  newImpUid(): string {
    const chosen = this.#chosenImpUid;
    if (chosen !== undefined) {
      this.#chosenImpUid = undefined;
      return chosen;
    }
    for (;;) {
      const id = newImpUid();
      if (!this.paymentIndex.has(id)) return id;
    }
  }

  addPayment(store: MerchantStore, data: Payment, noticeUrls: string[]): PaymentRecord {
    const record: PaymentRecord = { seq: this.nextSeq(), scopeKey: store.key, data, noticeUrls, updated: this.now() };
    store.payments.set(data.imp_uid, record);
    this.paymentIndex.set(data.imp_uid, record);
    return record;
  }

  snapshot(): StateSnapshot {
    return {
      version: 1,
      now: this.now(),
      seq: this.seq,
      tokens: [...this.tokensByKey.values()],
      stores: [...this.stores.values()].map((store) => ({
        key: store.key,
        payments: [...store.payments.values()],
        prepared: [...store.prepared],
        customers: [...store.customers],
        schedules: [...store.schedules],
      })),
    };
  }

  /** Takes over a snapshot written by `snapshot()` (merchants and config stay as configured). */
  restore(snapshot: StateSnapshot): void {
    if (snapshot.version !== 1) throw new Error(`unknown state file version ${String(snapshot.version)}`);
    this.reset();
    this.clock.resume(snapshot.now);
    this.seq = snapshot.seq;
    for (const token of snapshot.tokens) {
      this.tokensByKey.set(token.impKey, token);
      this.tokensByValue.set(token.access_token, token);
    }
    for (const saved of snapshot.stores) {
      const store = new MerchantStore(saved.key);
      this.stores.set(saved.key, store);
      for (const record of saved.payments) {
        store.payments.set(record.data.imp_uid, record);
        this.paymentIndex.set(record.data.imp_uid, record);
      }
      for (const [key, value] of saved.prepared) store.prepared.set(key, value);
      for (const [key, value] of saved.customers) store.customers.set(key, value);
      for (const [key, value] of saved.schedules) store.schedules.set(key, value);
    }
  }

  /** Forget every payment, token, billing key, schedule and counter; merchants and config stay. */
  reset(): void {
    this.clock.reset();
    this.tokensByKey = new Map();
    this.tokensByValue = new Map();
    this.stores = new Map();
    this.paymentIndex = new Map();
    this.stats = { tokenRequests: {}, requests: 0, byRoute: {} };
    this.seq = 0;
  }
}
