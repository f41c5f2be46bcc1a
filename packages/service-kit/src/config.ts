import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import fastifyEnv from '@fastify/env';
import Fastify from 'fastify';
import { z } from 'zod';

export class ConfigError extends Error {
  readonly issues: { variable: string; message: string }[];
  constructor(issues: { variable: string; message: string }[]) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * Checks already-merged variables (a test's plain object, or what loadConfig read) with the service's
 * zod schema. Empty strings count as unset, so a `.env` line like `API_KEYS=` falls back to the
 * default instead of failing.
 */
export function parseConfig<S extends z.ZodObject>(
  schema: S,
  variables: Record<string, string | undefined>,
): z.output<S> {
  const cleaned: Record<string, string> = {};
  for (const [key, value] of Object.entries(variables)) {
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({ variable: issue.path.join('.') || '(root)', message: issue.message })),
    );
  }
  return result.data;
}

/**
 * The JSON Schema @fastify/env takes, derived from the zod schema: its variable names (and any
 * `.describe()` text). Every property is a plain string on purpose: in the environment every value is
 * one, and Ajv's coercion would turn `GATEWAY_PORT=` into 0 before zod could treat it as unset; the
 * types, defaults, transforms and cross-field rules stay zod's, so each is written once.
 */
export function envJsonSchema(schema: z.ZodObject): { type: 'object'; properties: Record<string, object> } {
  const derived = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  const properties: Record<string, object> = {};
  for (const [name, property] of Object.entries(derived.properties ?? {})) {
    const description = typeof property === 'object' ? property.description : undefined;
    properties[name] = { type: 'string', ...(description ? { description } : {}) };
  }
  return { type: 'object', properties };
}

/**
 * The `.env` a service reads: the one at the root of the pnpm workspace it is started in (from the
 * root or from a service's own directory alike), or in the working directory outside a workspace (a
 * container's /app).
 */
export function envFilePath(cwd: string = process.cwd()): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return join(dir, '.env');
    if (dirname(dir) === dir) return join(resolve(cwd), '.env');
  }
}

export interface LoadConfigOptions {
  /** The process environment (default `process.env`); it wins over the file. */
  env?: Record<string, string | undefined>;
  /** The `.env` file to read (default envFilePath()); false reads none. A missing file is no error. */
  envFile?: string | false;
}

/**
 * Loads a service's configuration at start-up through @fastify/env: the `.env` file and the
 * environment merged (the environment wins), then checked by the zod schema; throws a ConfigError
 * naming each bad variable. @fastify/env is a plugin that decorates an instance, and the config must
 * exist before buildApp (which takes a typed config, so tests build apps from plain objects), so it
 * runs on a bare instance that lives only for this.
 */
export async function loadConfig<S extends z.ZodObject>(
  schema: S,
  options: LoadConfigOptions = {},
): Promise<z.output<S>> {
  const envFile = options.envFile ?? envFilePath();
  const loader = Fastify({ logger: false });
  await loader.register(fastifyEnv, {
    schema: envJsonSchema(schema),
    dotenv: envFile === false ? false : { path: envFile },
    env: false,
    data: [options.env ?? process.env],
  });
  await loader.ready();
  const merged = loader.getEnvs<Record<string, string | undefined>>();
  await loader.close();
  return parseConfig(schema, merged);
}

/** For server.ts: a ConfigError ends the process (exit 1) with one line naming each bad variable. */
export function exitOnConfigError(service: string): (error: unknown) => never {
  return (error) => {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${service}: ${error.message}`);
    process.exit(1);
  };
}

/** Env helpers: variables are strings; these read them as the types the services want. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  /** Comma-separated list; blanks dropped. */
  list: () =>
    z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
  /** Comma-separated host names without port or scheme (`app.internal`, `[fd00::1]`), lowercased. */
  hostnames: () =>
    env
      .list()
      .transform((names) => names.map((n) => n.toLowerCase()))
      .refine(
        (names) => names.every((n) => /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$/.test(n)),
        'a comma-separated list of host names without port or scheme',
      ),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};
