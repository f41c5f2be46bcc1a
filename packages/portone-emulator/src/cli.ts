#!/usr/bin/env node
/**
 * `pnpm --filter @repo/portone-emulator start` / `node dist/cli.js`: runs the emulator until SIGTERM or
 * SIGINT. The only place that reads the environment; a bad value stops it with the variable's name.
 *
 *   PORTONE_EMULATOR_PORT            default 3003
 *   PORTONE_EMULATOR_HOST            default 127.0.0.1
 *   PORTONE_EMULATOR_MERCHANTS       key:secret[:TIER=name;TIER=name],...  default imp_emulator_key:imp_emulator_secret
 *   PORTONE_EMULATOR_WEBHOOK_URL     where webhooks go (unset = only per-payment notice_url)
 *   PORTONE_EMULATOR_WEBHOOK_FORMAT  json | form, default json
 *   PORTONE_EMULATOR_CLOCK           real | manual, default real
 *   PORTONE_EMULATOR_NOW             UNIX seconds the clock starts at (default: real time); e.g.
 *                                    1704034800 (2024-01-01 KST) replays the seed documents' dated examples
 *   PORTONE_EMULATOR_SANDBOX         true | false, default false
 *   PORTONE_EMULATOR_LOG             true | false, default false; true = one line per request on stdout
 *   PORTONE_EMULATOR_STATE_FILE      a JSON file the state is kept in across restarts (unset = memory only)
 */
import { z } from 'zod';
import { DEFAULT_MERCHANT, type Merchant, startEmulator } from './index.ts';

function parseMerchants(value: string): Merchant[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [impKey, impSecret, tierList] = entry.split(':');
      if (!impKey || !impSecret) throw new Error(`"${entry}" is not key:secret`);
      const merchant: Merchant = { impKey, impSecret };
      if (tierList) {
        merchant.tiers = Object.fromEntries(
          tierList.split(';').map((t) => {
            const [code, name] = t.split('=');
            if (!code || !/^[A-Z0-9]{3}$/.test(code))
              throw new Error(`tier "${t}" must be CODE=name, CODE 3 of [A-Z0-9]`);
            return [code, name || code];
          }),
        );
      }
      return merchant;
    });
}

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const envSchema = z.object({
  PORTONE_EMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(3003),
  PORTONE_EMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  PORTONE_EMULATOR_MERCHANTS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v?.trim()) return [DEFAULT_MERCHANT];
      try {
        return parseMerchants(v);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  PORTONE_EMULATOR_WEBHOOK_URL: z.string().url().optional(),
  PORTONE_EMULATOR_WEBHOOK_FORMAT: z.enum(['json', 'form']).default('json'),
  PORTONE_EMULATOR_CLOCK: z.enum(['real', 'manual']).default('real'),
  PORTONE_EMULATOR_NOW: z.coerce.number().int().positive().optional(),
  PORTONE_EMULATOR_SANDBOX: bool.default(false),
  PORTONE_EMULATOR_LOG: bool.default(false),
  PORTONE_EMULATOR_STATE_FILE: z.string().min(1).optional(),
});

const emptyAsUnset = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== ''));
const parsed = envSchema.safeParse(emptyAsUnset);
if (!parsed.success) {
  for (const issue of parsed.error.issues) console.error(`portone-emulator: ${issue.path.join('.')}: ${issue.message}`);
  process.exit(1);
}
const env = parsed.data;

const emulator = await startEmulator({
  host: env.PORTONE_EMULATOR_HOST,
  port: env.PORTONE_EMULATOR_PORT,
  merchants: env.PORTONE_EMULATOR_MERCHANTS,
  webhookUrl: env.PORTONE_EMULATOR_WEBHOOK_URL,
  webhookFormat: env.PORTONE_EMULATOR_WEBHOOK_FORMAT,
  clock: env.PORTONE_EMULATOR_CLOCK,
  now: env.PORTONE_EMULATOR_NOW,
  sandbox: env.PORTONE_EMULATOR_SANDBOX,
  stateFile: env.PORTONE_EMULATOR_STATE_FILE,
  log: env.PORTONE_EMULATOR_LOG
    ? (line) => console.info(`${line.method} ${line.path} ${line.status} ${line.ms}ms`)
    : undefined,
});
console.info(
  `portone-emulator listening on ${emulator.url} (control API ${emulator.url}/__emulator); state ${
    env.PORTONE_EMULATOR_STATE_FILE ? `kept in ${env.PORTONE_EMULATOR_STATE_FILE}` : 'in memory only'
  }`,
);

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (closing) return;
    closing = true;
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('portone-emulator: close failed', error);
        process.exit(1);
      },
    );
  });
}
