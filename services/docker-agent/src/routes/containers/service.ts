import type { DockerEngine, EngineBody, Filters } from '../../docker/engine.ts';
import { dockerStatus } from '../../docker/errors.ts';
import type { LogLine } from '../../docker/logs.ts';
import { trimSlash } from '../../docker/names.ts';
import { pullCallError, pullProgress } from '../../docker/progress.ts';
import { computeStats, statsSnapshots } from '../../docker/stats.ts';
import { ImageNotFoundError, LogsTooLargeError } from '../../errors.ts';
import { type Guard, guardedTarget, type Protection } from '../../policy/guard.ts';
import { isImageId } from '../../policy/images.ts';
import { joinLookup } from '../../policy/join-lookup.ts';
import { checkReservedLabels } from '../../policy/labels.ts';
import type { Policy } from '../../policy/policy.ts';
import type { ActionResult } from '../../schemas/common.ts';
import { checkBindsSameOnHost, checkCreatePolicy, checkGuardedResources, readOnlyBinds } from './create-policy.ts';
import type { CreateContainerBody } from './schemas.ts';
import { toSummary, withIdentity } from './to-api.ts';
import { toCreateOptions, toUnixSeconds } from './to-docker.ts';

/** Orchestration: policy checks, then engine calls, answers mapped by ./to-api.ts. */

export async function listContainers(
  engine: DockerEngine,
  query: { all: boolean; label?: string[]; status?: string[]; name?: string[] },
) {
  const filters: Filters = {};
  if (query.label?.length) filters.label = query.label;
  if (query.status?.length) filters.status = query.status;
  if (query.name?.length) filters.name = query.name;
  const containers = (await engine.listContainers({ all: query.all, filters })).map(toSummary);
  return { containers, count: containers.length };
}

export async function createContainer(
  engine: DockerEngine,
  policy: Policy,
  body: CreateContainerBody,
  protection: Protection,
  guard: Guard,
) {
  await checkCreatePolicy(policy, body, joinLookup(engine, protection.self, protection.protectLabel, guard));
  checkReservedLabels(body.labels, protection.protectLabel, 'labels');
  for (const [i, m] of (body.mounts ?? []).entries()) {
    checkReservedLabels(m.volumeOptions?.labels, protection.protectLabel, `mounts[${i}].volumeOptions.labels`);
  }
  await checkGuardedResources(engine, body, await guard.stack());
  if (protection.self.id) await checkBindsSameOnHost(engine, protection.self.id, body);
  if (!isImageId(body.image)) policy.checkImage([body.image], 'image');
  let image = await engine.inspectImage(body.image).catch((error: unknown) => {
    if (dockerStatus(error) === 404) return undefined;
    throw error;
  });
  if (!image && body.pull) {
    try {
      for await (const _ of pullProgress(body.image, await engine.pullImage(body.image))) {
        // Progress is not reported on create; the pull either completes or throws.
      }
    } catch (error) {
      throw pullCallError(body.image, error) ?? error;
    }
    image = await engine.inspectImage(body.image);
  }
  if (!image) {
    throw new ImageNotFoundError(
      `image "${body.image}" is not present on this engine${body.pull ? '' : ' (set "pull": true to pull it first)'}`,
      { details: { image: body.image } },
    );
  }
  // An id or a second tag must not slip past the allowlist: any of the image's names may match.
  policy.checkImage([body.image, ...(image.RepoTags ?? [])], 'image');
  // Containers inherit their image's labels: a built or pulled image must not smuggle reserved ones in.
  checkReservedLabels(image.Config?.Labels, protection.protectLabel, 'image.labels');

  const created = await engine.createContainer(toCreateOptions(readOnlyBinds(policy, body)));
  if (body.start) await engine.startContainer(created.id);
  const info = await engine.inspectContainer(created.id);
  return {
    id: created.id,
    name: trimSlash(info.Name),
    image: body.image,
    started: body.start,
    warnings: created.warnings,
  };
}

type Action = 'start' | 'stop' | 'restart';

/** start/stop/restart; Docker's 304 (already in that state) is a success with `changed: false`. */
export async function changeState(
  engine: DockerEngine,
  ref: string,
  action: Action,
  guard: Guard,
  timeoutSeconds?: number,
): Promise<ActionResult> {
  const info = action === 'start' ? await engine.inspectContainer(ref) : await guardedTarget(engine, ref, guard);
  try {
    if (action === 'start') await engine.startContainer(info.Id);
    else if (action === 'stop') await engine.stopContainer(info.Id, timeoutSeconds);
    else await engine.restartContainer(info.Id, timeoutSeconds);
  } catch (error) {
    if (dockerStatus(error) === 304) {
      const state = action === 'start' ? 'started' : 'stopped';
      return { id: info.Id, action, changed: false, message: `container already ${state}` };
    }
    throw error;
  }
  const done = { start: 'started', stop: 'stopped', restart: 'restarted' }[action];
  return { id: info.Id, action, changed: true, message: `container ${done}` };
}

export async function removeContainer(
  engine: DockerEngine,
  ref: string,
  options: { force: boolean; volumes: boolean },
  guard: Guard,
): Promise<ActionResult> {
  const info = await guardedTarget(engine, ref, guard);
  await engine.removeContainer(info.Id, options);
  return { id: info.Id, action: 'remove', changed: true, message: 'container removed' };
}

export interface LogsRequest {
  follow: boolean;
  tail?: string | undefined;
  since?: string;
  until?: string;
  timestamps: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface LogLimits {
  /** Lines when the caller names no `tail`. */
  tail: number;
  /** Largest non-follow answer, in bytes of line text. */
  maxBytes: number;
}

export async function openLogs(
  engine: DockerEngine,
  ref: string,
  q: LogsRequest,
  limits: LogLimits,
  now: Date,
  signal?: AbortSignal,
) {
  const info = await engine.inspectContainer(ref);
  const stream = await engine.containerLogs(
    info.Id,
    {
      follow: q.follow,
      stdout: q.stdout,
      stderr: q.stderr,
      timestamps: q.timestamps,
      tail: q.tail ?? String(limits.tail),
      ...(q.since ? { since: toUnixSeconds(q.since, now) } : {}),
      ...(q.until ? { until: toUnixSeconds(q.until, now) } : {}),
    },
    signal,
  );
  return { info, body: stream, format: { tty: info.Config.Tty ?? false, timestamps: q.timestamps } };
}

/**
 * A non-follow answer is built in memory, so it is capped: past `maxBytes` the engine stream is
 * released (`abort`) and the caller told to ask for less, rather than the agent holding a whole log.
 */
export async function collectLogs(batches: AsyncIterable<LogLine[]>, maxBytes: number, abort: AbortController) {
  const collected: LogLine[] = [];
  let bytes = 0;
  for await (const batch of batches) {
    for (const line of batch) {
      bytes += Buffer.byteLength(line.line) + (line.ts?.length ?? 0);
      if (bytes > maxBytes) {
        abort.abort();
        throw new LogsTooLargeError(
          `the logs asked for exceed ${maxBytes} bytes (DOCKER_AGENT_LOGS_MAX_BYTES); ask for fewer lines (tail), a time window (since/until) or follow=true`,
        );
      }
      collected.push(line);
    }
  }
  return collected;
}

export async function statsSnapshot(engine: DockerEngine, ref: string) {
  const info = await engine.inspectContainer(ref);
  const stream = await engine.containerStats(info.Id, { stream: false });
  const raw = JSON.parse(await readAll(stream)) as Parameters<typeof computeStats>[0];
  return withIdentity(info, computeStats(raw));
}

export async function openStats(engine: DockerEngine, ref: string, signal: AbortSignal) {
  const info = await engine.inspectContainer(ref);
  const stream = await engine.containerStats(info.Id, { stream: true }, signal);
  return (async function* () {
    for await (const s of statsSnapshots(stream)) yield { type: 'stats' as const, ...withIdentity(info, s) };
  })();
}

async function readAll(body: EngineBody): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const read of body) chunks.push(...read);
  return Buffer.concat(chunks).toString('utf8');
}
