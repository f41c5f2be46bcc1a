import type { Readable } from 'node:stream';
import type { AppError } from '@repo/service-kit';
import { BuildFailedError, ImageNotFoundError, PullFailedError } from '../errors.ts';
import { registryRefusal } from '../registry/engine-errors.ts';
import { dockerMessage, dockerStatus } from './errors.ts';
import { jsonLines } from './json-lines.ts';

export interface ProgressEvent {
  type: 'progress';
  status: string;
  id?: string;
  current?: number;
  total?: number;
}

const NOT_FOUND = /not found|name unknown|manifest unknown|does not exist|pull access denied|no such image/i;

/** A pull failure, wherever Docker reported it (HTTP status or an error line in the stream). */
export function pullError(image: string, message: string, status?: number): AppError {
  const refused = registryRefusal(image, message);
  if (refused !== undefined) return refused;
  if (status === 404 || NOT_FOUND.test(message)) {
    return new ImageNotFoundError(`image "${image}" not found: ${message}`, { details: { image } });
  }
  return new PullFailedError(`pulling "${image}" failed: ${message}`, { details: { image } });
}

/** The same for errors dockerode throws when the engine refuses the pull outright. */
export function pullCallError(image: string, error: unknown): AppError | undefined {
  const status = dockerStatus(error);
  if (status === undefined) return undefined;
  return pullError(image, dockerMessage(error), status);
}

interface DockerProgress {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
  stream?: string;
  aux?: { ID?: string };
}

/** Docker's pull progress as agent events; an error line in the stream is thrown. */
export async function* pullProgress(image: string, source: Readable): AsyncGenerator<ProgressEvent> {
  for await (const raw of jsonLines(source)) {
    const line = raw as DockerProgress;
    if (line.error || line.errorDetail) {
      throw pullError(image, line.errorDetail?.message ?? line.error ?? 'unknown error');
    }
    yield {
      type: 'progress',
      status: line.status ?? '',
      ...(line.id ? { id: line.id } : {}),
      ...(line.progressDetail?.current !== undefined ? { current: line.progressDetail.current } : {}),
      ...(line.progressDetail?.total !== undefined ? { total: line.progressDetail.total } : {}),
    };
  }
}

export type BuildEvent = { type: 'build'; message: string } | { type: 'aux'; imageId: string };

/** Docker's (classic builder) output as agent events; an error line is thrown. */
export async function* buildProgress(source: Readable): AsyncGenerator<BuildEvent> {
  for await (const raw of jsonLines(source)) {
    const line = raw as DockerProgress;
    if (line.error || line.errorDetail) {
      throw new BuildFailedError(`build failed: ${line.errorDetail?.message ?? line.error}`);
    }
    if (line.aux?.ID) yield { type: 'aux', imageId: line.aux.ID };
    else if (typeof line.stream === 'string' && line.stream.trim()) {
      yield { type: 'build', message: line.stream.replace(/\n$/, '') };
    } else if (line.status) yield { type: 'build', message: line.status };
  }
}
