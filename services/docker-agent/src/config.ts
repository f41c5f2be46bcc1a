import { isAbsolute } from 'node:path';
import {
  type ApiKey,
  env,
  type LoadConfigOptions,
  loadConfig as loadFromEnv,
  parseApiKeys,
  parseConfig as parseVariables,
} from '@repo/service-kit';
import { z } from 'zod';

/** `path[:ro|:rw]` entries: absolute paths, read-only unless an entry says `:rw`. */
const bindAllowlist = () =>
  env.list().pipe(
    z.array(
      z
        .string()
        .transform((entry) => {
          const m = /^(.*?)(?::(ro|rw))?$/.exec(entry);
          return { path: m?.[1] ?? entry, writable: m?.[2] === 'rw' };
        })
        .refine((e) => isAbsolute(e.path), {
          message: 'every entry must be an absolute path, optionally with :ro or :rw',
        }),
    ),
  );

const RegistryAuthSchema = z.union([
  z.strictObject({ username: z.string().min(1), password: z.string().min(1) }),
  z.strictObject({ identitytoken: z.string().min(1) }),
]);

/** `{"host": {"username","password"} | {"identitytoken"}}` as JSON; the message never repeats the value. */
const registryAuthMap = z
  .string()
  .default('{}')
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object mapping registry hosts to credentials' });
      return z.NEVER;
    }
  })
  .pipe(
    z.record(
      z.string().regex(/^[a-zA-Z0-9.-]+(:\d+)?$/, 'keys must be registry hosts like "ghcr.io" or "127.0.0.1:5000"'),
      RegistryAuthSchema,
      { error: 'must map registry hosts to {"username","password"} or {"identitytoken"}' },
    ),
  );

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Every environment variable the agent reads, with defaults that start it on a laptop. */
export const ConfigSchema = z.object({
  DOCKER_AGENT_HOST: z.string().default('0.0.0.0'),
  DOCKER_AGENT_PORT: env.port(3002),
  LOG_LEVEL: env.logLevel(),
  /** One line per request received and answered (pnpm start turns it off to keep the terminal readable). */
  LOG_REQUESTS: env.bool(true),
  API_KEYS: env.list().transform((entries, ctx): ApiKey[] => {
    try {
      return parseApiKeys(entries);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }),
  TRUSTED_PROXIES: env.list(),
  /** Host names a keyless (local-mode) request may use beyond localhost, 127.0.0.1 and [::1]. */
  LOCAL_MODE_HOSTS: env.hostnames(),
  DOCKER_SOCKET: z.string().refine(isAbsolute, 'must be an absolute path').default('/var/run/docker.sock'),
  DOCKER_AGENT_ALLOW_PRIVILEGED: env.bool(false),
  DOCKER_AGENT_ALLOW_CAP_ADD: env.bool(false),
  DOCKER_AGENT_ALLOW_HOST_NAMESPACES: env.bool(false),
  DOCKER_AGENT_ALLOW_DEVICES: env.bool(false),
  DOCKER_AGENT_ALLOW_SECURITY_OPT: env.bool(false),
  DOCKER_AGENT_BIND_ALLOWLIST: bindAllowlist(),
  DOCKER_AGENT_IMAGE_ALLOWLIST: env.list(),
  /** Containers with this label (any value but "false") cannot be stopped, restarted or removed. */
  DOCKER_AGENT_PROTECT_LABEL: z.string().min(1).default('com.portone-docker-stack.protected'),
  /** Our own container (id or name) when known; otherwise detected from /proc at start-up. */
  DOCKER_AGENT_SELF_CONTAINER: z.string().optional(),
  DOCKER_AGENT_COMPOSE_DIR: z.string().default('.data/compose'),
  DOCKER_AGENT_COMPOSE_COMMAND: z.enum(['auto', 'docker compose', 'docker-compose']).default('auto'),
  DOCKER_AGENT_AUDIT_FILE: z.string().default('.data/docker-agent-audit.jsonl'),
  DOCKER_AGENT_HEARTBEAT_MS: positiveInt(15_000),
  DOCKER_AGENT_BUILD_MAX_BYTES: positiveInt(512 * 1024 * 1024),
  /** Lines of logs answered when the caller names no `tail`. */
  DOCKER_AGENT_LOGS_TAIL: positiveInt(1000),
  /** Largest non-follow logs answer (422 LOGS_TOO_LARGE beyond). */
  DOCKER_AGENT_LOGS_MAX_BYTES: positiveInt(16 * 1024 * 1024),
  /** Concurrent streams (429 beyond). */
  DOCKER_AGENT_MAX_STREAMS: positiveInt(64),
  /** Credentials per registry host for pulls, compose pull/up and update checks (never logged or returned). */
  DOCKER_AGENT_REGISTRY_AUTH: registryAuthMap,
  DOCKER_AGENT_DOCKER_HUB_URL: z.url({ protocol: /^https?$/ }).default('https://registry-1.docker.io'),
  // Handed to the compose CLI, which gets no other variable of ours (API keys stay here).
  PATH: z.string().default('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'),
  HOME: z.string().default('/tmp'),
});

/** The agent's configuration: the parsed variables, under their own names. */
export type Config = z.output<typeof ConfigSchema>;

/** What the policy checks read (built from the config in app.ts). */
export interface PolicyConfig {
  allowPrivileged: boolean;
  allowCapAdd: boolean;
  allowHostNamespaces: boolean;
  allowDevices: boolean;
  /** Compose `security_opt` beyond no-new-privileges (seccomp/apparmor/label overrides). */
  allowSecurityOpt: boolean;
  /** Host directories bind mounts may come from. */
  bindAllowlist: string[];
  /** The entries of `bindAllowlist` marked `:rw`; binds from anywhere else are mounted read-only. */
  bindWritable?: string[];
  imageAllowlist: string[];
  dockerSocket: string;
}

export function policyConfig(config: Config): PolicyConfig {
  return {
    allowPrivileged: config.DOCKER_AGENT_ALLOW_PRIVILEGED,
    allowCapAdd: config.DOCKER_AGENT_ALLOW_CAP_ADD,
    allowHostNamespaces: config.DOCKER_AGENT_ALLOW_HOST_NAMESPACES,
    allowDevices: config.DOCKER_AGENT_ALLOW_DEVICES,
    allowSecurityOpt: config.DOCKER_AGENT_ALLOW_SECURITY_OPT,
    bindAllowlist: config.DOCKER_AGENT_BIND_ALLOWLIST.map((b) => b.path),
    bindWritable: config.DOCKER_AGENT_BIND_ALLOWLIST.filter((b) => b.writable).map((b) => b.path),
    imageAllowlist: config.DOCKER_AGENT_IMAGE_ALLOWLIST,
    dockerSocket: config.DOCKER_SOCKET,
  };
}

/** The environment the compose CLI runs with: PATH, HOME and DOCKER_HOST, nothing else. */
export function composeEnv(config: Config): Record<string, string> {
  return { PATH: config.PATH, HOME: config.HOME, DOCKER_HOST: `unix://${config.DOCKER_SOCKET}` };
}

/** Parses given variables (a test's overrides); a bad value throws a ConfigError naming the variable. */
export function parseConfig(variables: Record<string, string | undefined>): Config {
  return parseVariables(ConfigSchema, variables);
}

/** The environment and the repository's `.env` (the environment wins), through @fastify/env. */
export function loadConfig(options?: LoadConfigOptions): Promise<Config> {
  return loadFromEnv(ConfigSchema, options);
}
