import { z } from 'zod';
import {
  BoolQuery,
  ImageRef,
  LabelFilter,
  Labels,
  ndjsonResponse,
  RepeatedQuery,
  ResourceName,
  ResourceRef,
} from '../../schemas/common.ts';

export const ContainerParams = z.object({ id: ResourceRef });

const Port = z.coerce.number().int().min(1).max(65535);
/** `"8080:80"`, `"127.0.0.1:8080:80/udp"`, `"80"` (random host port), as `docker run -p` reads them. */
export const PortString = z
  .string()
  .regex(
    /^(?:(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(?:\d{1,5}:)?\d{1,5}(?:\/(?:tcp|udp|sctp))?$/,
    'must be "[hostIp:][hostPort:]containerPort[/tcp|udp]", e.g. "8080:80"',
  );
export const PortObject = z.strictObject({
  host: Port.optional().describe('Host port; omitted = a random free port'),
  container: Port,
  protocol: z.enum(['tcp', 'udp', 'sctp']).default('tcp'),
  hostIp: z.union([z.ipv4(), z.ipv6()]).optional(),
});

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'must be an environment variable name');
/** `"host/path:/container/path[:ro]"` or `"volume-name:/container/path[:ro]"`. */
const BindString = z
  .string()
  .max(4096)
  .regex(
    /^[^:\0\r\n]+:\/[^:\0\r\n]*(?::[a-z,]+)?$/,
    'must be "source:/container/path[:options]" with an absolute host path or a volume name as source',
  )
  .refine((b) => /^(\/|[a-zA-Z0-9][a-zA-Z0-9_.-]*:)/.test(b), 'host paths must be absolute; volume names plain');

const Mount = z.strictObject({
  type: z.enum(['bind', 'volume', 'tmpfs']),
  source: z.string().max(4096).optional(),
  target: z.string().startsWith('/').max(4096),
  readOnly: z.boolean().default(false),
  volumeOptions: z
    .strictObject({
      driver: z.string().max(255).optional(),
      driverOptions: z.record(z.string(), z.string()).optional(),
      labels: Labels.optional(),
    })
    .optional(),
});

const ByteSize = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^\d+(?:\.\d+)?[bkmg]?$/i, 'must be bytes or a size like "256m", "1g"')
    .transform((s) => {
      const unit = s.slice(-1).toLowerCase();
      const factor = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit];
      return Math.round(Number.parseFloat(s) * (factor ?? 1));
    }),
]);

export const CreateContainerBody = z.strictObject({
  image: ImageRef,
  name: ResourceName.optional(),
  cmd: z.array(z.string()).optional().describe('Command (replaces the image CMD)'),
  entrypoint: z.array(z.string()).optional(),
  env: z
    .union([
      z.record(EnvName, z.string()),
      z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*=/, 'must be "NAME=value"')),
    ])
    .optional()
    .describe('{"NAME": "value"} or ["NAME=value"]'),
  ports: z.array(z.union([PortString, PortObject])).optional(),
  binds: z.array(BindString).optional().describe('Docker Binds: "source:/target[:ro]"'),
  mounts: z.array(Mount).optional(),
  labels: Labels.optional(),
  restartPolicy: z
    .union([
      z.enum(['no', 'always', 'unless-stopped', 'on-failure']),
      z.strictObject({
        name: z.enum(['no', 'always', 'unless-stopped', 'on-failure']),
        maximumRetryCount: z.number().int().min(0).optional(),
      }),
    ])
    .optional(),
  memory: ByteSize.optional().describe('Memory limit: bytes or "256m"'),
  cpus: z.number().positive().max(1024).optional().describe('CPU limit in cores (e.g. 0.5)'),
  workingDir: z.string().max(4096).optional(),
  user: z.string().max(255).optional(),
  hostname: z.string().max(63).optional(),
  tty: z.boolean().optional(),
  networkMode: z.string().max(255).optional().describe('bridge, none, host (policy), container:<id> or a network'),
  pidMode: z.string().max(255).optional(),
  ipcMode: z.string().max(255).optional(),
  privileged: z.boolean().optional(),
  capAdd: z.array(z.string().max(64)).optional(),
  capDrop: z.array(z.string().max(64)).optional(),
  devices: z
    .array(
      z.strictObject({
        pathOnHost: z.string(),
        pathInContainer: z.string().optional(),
        permissions: z.string().optional(),
      }),
    )
    .optional(),
  pull: z.boolean().default(false).describe('Pull the image first when it is not present'),
  start: z.boolean().default(false).describe('Start the container once created'),
});
export type CreateContainerBody = z.output<typeof CreateContainerBody>;

export const ContainerState = z.enum(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

export const ListContainersQuery = z.strictObject({
  all: BoolQuery.default(true).describe('Include stopped containers (default true)'),
  label: RepeatedQuery(LabelFilter).optional().describe('key or key=value, repeatable'),
  status: RepeatedQuery(ContainerState).optional(),
  name: RepeatedQuery(
    z
      .string()
      .max(128)
      .regex(/^[a-zA-Z0-9_.^$-]+$/, 'must be a name (fragment)'),
  ).optional(),
});

const PortInfo = z.object({
  ip: z.string().optional(),
  privatePort: z.number(),
  publicPort: z.number().optional(),
  type: z.string(),
});

export const ContainerSummary = z
  .object({
    id: z.string(),
    name: z.string(),
    names: z.array(z.string()),
    image: z.string(),
    imageId: z.string(),
    command: z.string(),
    created: z.string(),
    state: z.string(),
    status: z.string(),
    ports: z.array(PortInfo),
    labels: z.record(z.string(), z.string()),
  })
  .meta({ id: 'ContainerSummary' });

export const ContainerList = z.object({ containers: z.array(ContainerSummary), count: z.number() });

export const ContainerDetail = z
  .object({
    id: z.string(),
    name: z.string(),
    image: z.string(),
    imageId: z.string(),
    created: z.string(),
    state: z.object({
      status: z.string(),
      running: z.boolean(),
      paused: z.boolean(),
      restarting: z.boolean(),
      exitCode: z.number(),
      startedAt: z.string(),
      finishedAt: z.string(),
      health: z.string().optional(),
    }),
    config: z.object({
      cmd: z.array(z.string()),
      entrypoint: z.array(z.string()),
      env: z.array(z.string()).describe('Values are shown to write keys only; read keys see NAME=[redacted]'),
      workingDir: z.string(),
      user: z.string(),
      tty: z.boolean(),
      labels: z.record(z.string(), z.string()),
    }),
    hostConfig: z.object({
      restartPolicy: z.object({ name: z.string(), maximumRetryCount: z.number() }),
      memory: z.number(),
      nanoCpus: z.number(),
      privileged: z.boolean(),
      networkMode: z.string(),
      binds: z.array(z.string()),
      portBindings: z
        .record(z.string(), z.array(z.object({ hostIp: z.string(), hostPort: z.string() })))
        .describe('Requested bindings (ports below are the live ones, once started)'),
    }),
    ports: z.record(z.string(), z.array(z.object({ hostIp: z.string(), hostPort: z.string() })).nullable()),
    mounts: z.array(z.object({ type: z.string(), source: z.string(), destination: z.string(), readOnly: z.boolean() })),
    networks: z.record(z.string(), z.object({ ipAddress: z.string(), gateway: z.string(), macAddress: z.string() })),
  })
  .meta({ id: 'ContainerDetail' });

export const CreatedContainer = z.object({
  id: z.string(),
  name: z.string(),
  image: z.string(),
  started: z.boolean(),
  warnings: z.array(z.string()),
});

export const StopQuery = z.strictObject({
  t: z.coerce.number().int().min(0).max(600).optional().describe('Seconds to wait before killing'),
});

export const RemoveQuery = z.strictObject({
  force: BoolQuery.default(false).describe('Kill a running container first'),
  volumes: BoolQuery.default(false).describe('Remove its anonymous volumes'),
});

const Since = z
  .string()
  .regex(
    /^(\d+(\.\d+)?|\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})?|\d+[smhd])$/,
    'must be a unix time, RFC 3339 time or a duration like "10m"',
  );

export const LogsQuery = z.strictObject({
  follow: BoolQuery.default(false).describe('Stream new lines (NDJSON) until the caller disconnects'),
  tail: z
    .union([z.literal('all'), z.string().regex(/^\d{1,7}$/, 'must be a number of lines or "all"')])
    .optional()
    .describe('Last lines to answer; default DOCKER_AGENT_LOGS_TAIL. Non-follow answers are capped in bytes (422)'),
  since: Since.optional(),
  until: Since.optional(),
  timestamps: BoolQuery.default(false),
  stdout: BoolQuery.default(true),
  stderr: BoolQuery.default(true),
});

export const LogEvent = z.object({
  type: z.literal('log'),
  stream: z.enum(['stdout', 'stderr']),
  line: z.string(),
  ts: z.string().optional(),
});
export const LogsJson = z.object({
  id: z.string(),
  lines: z.array(LogEvent.omit({ type: true })),
});

export const StatsQuery = z.strictObject({
  stream: BoolQuery.default(false).describe('Follow: one NDJSON stats line per second until disconnect'),
});

export const Stats = z
  .object({
    id: z.string(),
    name: z.string(),
    running: z.boolean(),
    read: z.string().nullable(),
    cpu: z.object({ percent: z.number(), onlineCpus: z.number() }),
    memory: z.object({ usage: z.number(), limit: z.number(), percent: z.number() }),
    network: z.object({ rxBytes: z.number(), txBytes: z.number() }),
    blockIo: z.object({ readBytes: z.number(), writeBytes: z.number() }),
    pids: z.number(),
  })
  .meta({ id: 'ContainerStats' });
export const StatsEvent = Stats.extend({ type: z.literal('stats') });

export const logsResponse = {
  description: 'JSON lines when follow=false; an NDJSON stream of log events when follow=true',
  content: {
    'application/json': { schema: LogsJson },
    ...ndjsonResponse(LogEvent, '').content,
  },
};
export const statsResponse = {
  description: 'One snapshot (JSON) when stream=false; NDJSON stats events when stream=true',
  content: {
    'application/json': { schema: Stats },
    ...ndjsonResponse(StatsEvent, '').content,
  },
};
