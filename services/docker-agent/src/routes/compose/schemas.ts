import { z } from 'zod';
import { BoolQuery, ndjsonResponse, ProjectName } from '../../schemas/common.ts';

export const ProjectParams = z.object({ project: ProjectName });

const ServiceName = z
  .string()
  .max(63)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must be a compose service name');
const EnvValues = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
    z
      .string()
      .max(8192)
      .regex(/^[^\r\n\0]*$/, 'must be a single line'),
  )
  .describe("Variables for interpolation, stored as the project's .env");

const ComposeFileText = z
  .string()
  .min(1)
  .max(512 * 1024)
  .describe('The compose file (YAML) as text');

export const PutProjectBody = z.strictObject({ composeFile: ComposeFileText, env: EnvValues.default({}) });
export const CreateProjectBody = z.strictObject({
  name: ProjectName,
  composeFile: ComposeFileText,
  env: EnvValues.default({}),
});

export const UpBody = z
  .strictObject({
    services: z.array(ServiceName).optional().describe('Only these services (default all)'),
    forceRecreate: z.boolean().default(false),
    removeOrphans: z.boolean().default(true),
  })
  .default({ forceRecreate: false, removeOrphans: true });
export const DownBody = z
  .strictObject({
    volumes: z.boolean().default(false).describe('Also remove named volumes of the project'),
    removeOrphans: z.boolean().default(true),
  })
  .default({ volumes: false, removeOrphans: true });
export const RestartBody = z
  .strictObject({
    services: z.array(ServiceName).optional(),
    timeout: z.number().int().min(0).max(600).optional(),
  })
  .default({});
export const PullBody = z
  .strictObject({
    services: z.array(ServiceName).optional(),
    ignoreFailures: z.boolean().default(false),
  })
  .default({ ignoreFailures: false });

export const LogsQuery = z.strictObject({
  follow: BoolQuery.default(false),
  tail: z.union([z.literal('all'), z.string().regex(/^\d{1,7}$/, 'must be a number of lines or "all"')]).default('all'),
  timestamps: BoolQuery.default(false),
  service: ServiceName.optional(),
});

export const RemoveQuery = z.strictObject({ volumes: BoolQuery.default(false) });

const ProjectContainer = z.object({
  id: z.string(),
  name: z.string(),
  state: z.string(),
  status: z.enum(['running', 'completed', 'failed', 'stopped', 'created', 'restarting', 'paused']),
  exitCode: z.number().nullable(),
});
export const ProjectSummary = z
  .object({
    name: z.string(),
    managed: z.boolean().describe('Created through this agent (its file is stored here)'),
    status: z
      .enum(['running', 'completed', 'degraded', 'failed', 'stopped', 'partial', 'down'])
      .describe(
        'running: every service running or completed; completed: all one-shot and exited 0; down: no containers',
      ),
    workingDir: z.string().nullable(),
    configFiles: z.array(z.string()),
    services: z.array(
      z.object({
        name: z.string(),
        status: z.enum(['running', 'completed', 'failed', 'stopped', 'created', 'restarting', 'paused', 'partial']),
        containers: z.array(ProjectContainer),
      }),
    ),
    oneoffContainers: z.number().describe('`compose run` containers, not counted in service status'),
  })
  .meta({ id: 'ComposeProject' });
export const ProjectList = z.object({ projects: z.array(ProjectSummary), count: z.number() });
export const ProjectDetail = ProjectSummary.extend({
  composeFile: z.string().optional().describe('Managed projects: the stored file'),
  envKeys: z.array(z.string()).optional().describe('Managed projects: names of stored variables (values hidden)'),
});

export const SavedProject = z.object({
  name: z.string(),
  created: z.boolean(),
  services: z.array(z.string()),
});

export const RemovedProject = z.object({
  name: z.string(),
  removed: z.boolean(),
  output: z.array(z.string()),
});

const OutputEvent = z.object({ type: z.literal('output'), stream: z.enum(['stdout', 'stderr']), line: z.string() });
const ExitEvent = z.object({ type: z.literal('exit'), code: z.number() });
const LogEvent = z.object({
  type: z.literal('log'),
  container: z.string(),
  service: z.string().nullable(),
  line: z.string(),
});
export const operationResponse = ndjsonResponse(
  z.union([OutputEvent, ExitEvent]),
  'NDJSON: compose CLI output lines, then `exit`; a non-zero exit is followed by an error line',
);
export const logsResponse = ndjsonResponse(
  z.union([LogEvent, OutputEvent, ExitEvent]),
  'NDJSON: merged service logs (container and service named on each line), then `exit`',
);
