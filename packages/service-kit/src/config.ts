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
 * Parses the environment once with the service's zod schema. Empty strings count as unset, so a
 * `.env` line like `API_KEYS=` falls back to the default instead of failing.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv | Record<string, string | undefined>,
): z.output<S> {
  const cleaned: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
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
