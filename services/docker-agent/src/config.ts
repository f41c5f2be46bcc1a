import { isAbsolute } from 'node:path';
import {
  type ApiKey,
  env,
  type LoadConfigOptions,
  loadConfig as loadFromEnv,
  parseApiKeys,
  parseConfig,
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
export const EnvSchema = z.object({
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
  DOCKER_AGENT_PROTECT_LABEL: z.string().min(1).default('com.portone-docker-stack.protected'),
  DOCKER_AGENT_SELF_CONTAINER: z.string().optional(),
  DOCKER_AGENT_COMPOSE_DIR: z.string().default('.data/compose'),
  DOCKER_AGENT_COMPOSE_COMMAND: z.enum(['auto', 'docker compose', 'docker-compose']).default('auto'),
  DOCKER_AGENT_AUDIT_FILE: z.string().default('.data/docker-agent-audit.jsonl'),
  DOCKER_AGENT_HEARTBEAT_MS: positiveInt(15_000),
  DOCKER_AGENT_BUILD_MAX_BYTES: positiveInt(512 * 1024 * 1024),
  DOCKER_AGENT_LOGS_TAIL: positiveInt(1000),
  DOCKER_AGENT_LOGS_MAX_BYTES: positiveInt(16 * 1024 * 1024),
  DOCKER_AGENT_MAX_STREAMS: positiveInt(64),
  /** Credentials per registry host for pulls, compose pull/up and update checks (never logged or returned). */
  DOCKER_AGENT_REGISTRY_AUTH: registryAuthMap,
  DOCKER_AGENT_DOCKER_HUB_URL: z.url({ protocol: /^https?$/ }).default('https://registry-1.docker.io'),
  // Handed to the compose CLI, which gets no other variable of ours (API keys stay here).
  PATH: z.string().default('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'),
  HOME: z.string().default('/tmp'),
});

export interface Config {
  host: string;
  port: number;
  logLevel: string;
  logRequests: boolean;
  apiKeys: ApiKey[];
  trustedProxies: string[];
  localModeHosts: string[];
  dockerSocket: string;
  policy: PolicyConfig;
  /** Containers with this label (any value but "false") cannot be stopped, restarted or removed. */
  protectLabel: string;
  /** Our own container (id or name) when known; otherwise detected from /proc at start-up. */
  selfContainer: string | undefined;
  composeDir: string;
  composeCommand: 'auto' | 'docker compose' | 'docker-compose';
  /** The environment the compose CLI runs with: PATH, HOME and DOCKER_HOST, nothing else. */
  composeEnv: Record<string, string>;
  auditFile: string;
  heartbeatMs: number;
  buildMaxBytes: number;
  /** Lines of logs answered when the caller names no `tail`. */
  logsTail: number;
  /** Largest non-follow logs answer (422 LOGS_TOO_LARGE beyond). */
  logsMaxBytes: number;
  /** Concurrent streams (429 beyond). */
  maxStreams: number;
  /** Configured registry credentials by host. */
  registryAuth: Record<string, z.infer<typeof RegistryAuthSchema>>;
  /** Docker Hub's registry API, for update checks of Docker Hub images. */
  dockerHubUrl: string;
}

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

/** Parses given variables (a test's overrides); a bad value throws a ConfigError naming the variable. */
export function loadAgentConfig(source: Record<string, string | undefined>): Config {
  return toConfig(parseConfig(EnvSchema, source));
}

/** The environment and the repository's `.env` (the environment wins), through @fastify/env. */
export async function loadConfig(options?: LoadConfigOptions): Promise<Config> {
  return toConfig(await loadFromEnv(EnvSchema, options));
}

function toConfig(e: z.output<typeof EnvSchema>): Config {
  return {
    host: e.DOCKER_AGENT_HOST,
    port: e.DOCKER_AGENT_PORT,
    logLevel: e.LOG_LEVEL,
    logRequests: e.LOG_REQUESTS,
    apiKeys: e.API_KEYS,
    trustedProxies: e.TRUSTED_PROXIES,
    localModeHosts: e.LOCAL_MODE_HOSTS,
    dockerSocket: e.DOCKER_SOCKET,
    policy: {
      allowPrivileged: e.DOCKER_AGENT_ALLOW_PRIVILEGED,
      allowCapAdd: e.DOCKER_AGENT_ALLOW_CAP_ADD,
      allowHostNamespaces: e.DOCKER_AGENT_ALLOW_HOST_NAMESPACES,
      allowDevices: e.DOCKER_AGENT_ALLOW_DEVICES,
      allowSecurityOpt: e.DOCKER_AGENT_ALLOW_SECURITY_OPT,
      bindAllowlist: e.DOCKER_AGENT_BIND_ALLOWLIST.map((b) => b.path),
      bindWritable: e.DOCKER_AGENT_BIND_ALLOWLIST.filter((b) => b.writable).map((b) => b.path),
      imageAllowlist: e.DOCKER_AGENT_IMAGE_ALLOWLIST,
      dockerSocket: e.DOCKER_SOCKET,
    },
    protectLabel: e.DOCKER_AGENT_PROTECT_LABEL,
    selfContainer: e.DOCKER_AGENT_SELF_CONTAINER,
    composeDir: e.DOCKER_AGENT_COMPOSE_DIR,
    composeCommand: e.DOCKER_AGENT_COMPOSE_COMMAND,
    composeEnv: { PATH: e.PATH, HOME: e.HOME, DOCKER_HOST: `unix://${e.DOCKER_SOCKET}` },
    auditFile: e.DOCKER_AGENT_AUDIT_FILE,
    heartbeatMs: e.DOCKER_AGENT_HEARTBEAT_MS,
    buildMaxBytes: e.DOCKER_AGENT_BUILD_MAX_BYTES,
    logsTail: e.DOCKER_AGENT_LOGS_TAIL,
    logsMaxBytes: e.DOCKER_AGENT_LOGS_MAX_BYTES,
    maxStreams: e.DOCKER_AGENT_MAX_STREAMS,
    registryAuth: e.DOCKER_AGENT_REGISTRY_AUTH,
    dockerHubUrl: e.DOCKER_AGENT_DOCKER_HUB_URL,
  };
}
