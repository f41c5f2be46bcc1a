import { isIP } from 'node:net';
import {
  type ApiKey,
  env,
  type LoadConfigOptions,
  loadConfig as loadFromEnv,
  parseApiKeys,
  parseConfig as parseVariables,
} from '@repo/service-kit';
import { z } from 'zod';

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const millis = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** `1.2.3.4`, `10.0.0.0/8`, `::1`, `fd00::/8`. */
function isIpOrCidr(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}
const ipList = () =>
  env.list().refine((entries) => entries.every(isIpOrCidr), 'a comma-separated list of IP addresses or CIDRs');
/** proxy-addr (Fastify's trustProxy) also knows these names. */
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const proxyList = () =>
  env
    .list()
    .refine(
      (entries) => entries.every((e) => PROXY_NAMES.has(e) || isIpOrCidr(e)),
      'a comma-separated list of IP addresses, CIDRs, or loopback/linklocal/uniquelocal',
    );

/** The PortOne key pair never leaves this machine over such a URL. */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** Reconciliation with PortOne (src/jobs/reconcile.ts). */
const reconcileVariables = {
  /** Period of both the re-fetch of non-final payments and the sweep of PortOne's lists; 0 = off. */
  RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  /** How far back each sweep looks; above the interval, so consecutive sweeps overlap. PortOne allows 90 days. */
  RECONCILE_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(90 * 86_400)
    .default(3_600),
  RECONCILE_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(4),
  RECONCILE_MAX_BACKOFF_SECONDS: seconds(3_600),
  RECONCILE_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  /** Days reconciliation runs and the changes they recorded are kept (by the retention purge). */
  RECONCILE_RETENTION_DAYS: z.coerce.number().int().positive().default(90),
};

/** `[{"id":"billing","url":"http://billing:8080/hooks","secrets":["whsec_…"]}]` */
const ConfigEndpoints = z
  .array(
    z.strictObject({
      id: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, _ or -, at most 40'),
      url: z.url({ protocol: /^https?$/ }),
      secrets: z
        .array(z.string().regex(/^whsec_[A-Za-z0-9+/=]{24,}$/, 'a Standard Webhooks secret: whsec_ + base64'))
        .min(1),
    }),
  )
  .refine((list) => new Set(list.map((e) => e.id)).size === list.length, 'endpoint ids must be unique');

/** Outgoing notifications to internal services (src/notifications/). */
const notifyVariables = {
  NOTIFY_ENDPOINTS: z
    .string()
    .default('[]')
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON array of {id, url, secrets}' });
        return z.NEVER;
      }
    })
    .pipe(ConfigEndpoints),
  /** Deliveries in flight at once per replica. */
  NOTIFY_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  NOTIFY_TIMEOUT_MS: millis(10_000),
  NOTIFY_POLL_INTERVAL_MS: millis(1_000),
  NOTIFY_RETRY_MIN_MS: millis(1_000),
  NOTIFY_RETRY_MAX_MS: millis(600_000),
  /** A delivery still failing this long after its event is marked failed (replayable). */
  NOTIFY_GIVE_UP_SECONDS: seconds(3 * 86_400),
  /** After a rotation, the previous secret keeps signing this long. */
  NOTIFY_SECRET_ROLLOVER_SECONDS: seconds(86_400),
  /** Delivered or given-up notifications (and their events) are deleted after this many days. */
  NOTIFY_RETENTION_DAYS: z.coerce.number().int().positive().default(30),
};

/**
 * Every environment variable the gateway reads, with defaults that start it on a laptop against the
 * emulator and a local SQLite file. Parsed once in `server.ts`; nothing else reads `process.env`.
 */
const Variables = z.object({
  GATEWAY_HOST: z.string().default('0.0.0.0'),
  GATEWAY_PORT: env.port(3001),
  DATABASE_URL: z
    .string()
    .regex(/^(mysql:\/\/|mariadb:\/\/|sqlite:)/, 'must start with mysql://, mariadb:// or sqlite:')
    .default('sqlite:.data/payment-gateway.sqlite'),
  MIGRATE_ON_START: env.bool(true),
  PORTONE_API_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:3003'),
  /** Plain http:// to a non-loopback PortOne (the compose dev profile's emulator). */
  PORTONE_ALLOW_INSECURE_HTTP: env.bool(false),
  PORTONE_IMP_KEY: z.string().min(1).default('imp_emulator_key'),
  PORTONE_IMP_SECRET: z.string().min(1).default('imp_emulator_secret'),
  PORTONE_TIER: z
    .string()
    .regex(/^[A-Z0-9]{3}$/, 'a tier code is 3 uppercase letters or digits')
    .optional(),
  /**
   * Whether a payment made on a PortOne test channel (`sandbox: true`) counts as a real one: verify
   * passes it and its webhook stores it. Off by default; a staging deployment turns it on.
   */
  ACCEPT_SANDBOX_PAYMENTS: env.bool(false),
  /** The old name (it defaulted to true); set to true, it stops the start naming its replacement. */
  PORTONE_INCLUDE_SANDBOX: z
    .enum(['false', '0', 'no'], {
      error:
        'replaced by ACCEPT_SANDBOX_PAYMENTS (default false); set ACCEPT_SANDBOX_PAYMENTS=true to accept test-channel payments, and remove PORTONE_INCLUDE_SANDBOX',
    })
    .optional()
    .transform(() => undefined),
  PORTONE_TIMEOUT_MS: millis(30_000),
  PORTONE_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  API_KEYS: env.list().transform((entries, ctx): ApiKey[] => {
    try {
      return parseApiKeys(entries);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
      return z.NEVER;
    }
  }),
  TRUSTED_PROXIES: proxyList(),
  /** Host names a keyless (local-mode) request may use beyond localhost, 127.0.0.1 and [::1]. */
  LOCAL_MODE_HOSTS: env.hostnames(),
  LOG_LEVEL: env.logLevel(),
  /** One line per request received and answered (pnpm start turns it off to keep the terminal readable). */
  LOG_REQUESTS: env.bool(true),
  WEBHOOK_ALLOWED_IPS: ipList(),
  WEBHOOK_SWEEP_INTERVAL_MS: millis(30_000),
  /** Deliveries one client address may send per window before it gets 429s. */
  WEBHOOK_RATE_LIMIT_MAX: z.coerce.number().int().positive().default(600),
  WEBHOOK_RATE_LIMIT_WINDOW_MS: millis(60_000),
  WEBHOOK_RETENTION_DAYS: z.coerce.number().int().positive().default(90),
  PORTONE_CALL_RETENTION_DAYS: z.coerce.number().int().positive().default(90),
  RETENTION_PURGE_INTERVAL_MS: millis(3_600_000),
  /** Rows per DELETE: each batch is its own short statement, so the tables are never locked for long. */
  RETENTION_PURGE_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(1000),
  CANCEL_FORGED_PAYMENTS: env.bool(false),
  IDEMPOTENCY_TTL_SECONDS: seconds(86_400),
  /**
   * Key of the Idempotency-Key request hash (HMAC-SHA256; 32+ characters). Unset: derived from
   * PORTONE_IMP_SECRET. Set it explicitly before rotating that secret (see idempotencyHashKey).
   */
  IDEMPOTENCY_HASH_KEY: z.string().min(32, 'at least 32 characters (e.g. openssl rand -hex 32)').optional(),
  /** An in-flight Idempotency-Key's lease: above the longest request, so only a dead holder loses it. */
  IDEMPOTENCY_LEASE_SECONDS: seconds(120),
  VBANK_DUE_DAYS: z.coerce.number().int().min(1).max(60).default(3),
  ...reconcileVariables,
  ...notifyVariables,
});

/** PORTONE_API_URL over plain http:// would send the key pair in the clear (except on loopback). */
export const ConfigSchema = Variables.superRefine((config, ctx) => {
  const url = new URL(config.PORTONE_API_URL);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !config.PORTONE_ALLOW_INSECURE_HTTP) {
    ctx.addIssue({
      code: 'custom',
      path: ['PORTONE_API_URL'],
      message:
        'plain http:// would send the PortOne key pair in the clear: use https://, a loopback host, or set PORTONE_ALLOW_INSECURE_HTTP=true (only for an emulator on a private network)',
    });
  }
});

export type Config = z.output<typeof ConfigSchema>;

/** Parses given variables (a test's overrides); throws a ConfigError naming each bad variable. */
export function parseConfig(variables: Record<string, string | undefined>): Config {
  return parseVariables(ConfigSchema, variables);
}

/** The environment and the repository's `.env` (the environment wins), through @fastify/env. */
export function loadConfig(options?: LoadConfigOptions): Promise<Config> {
  return loadFromEnv(ConfigSchema, options);
}
