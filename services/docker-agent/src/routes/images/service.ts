import type { Readable } from 'node:stream';
import type { DockerEngine, Filters, ImageInfo, ImageInspectInfo } from '../../docker/engine.ts';
import { dockerMessage, dockerStatus } from '../../docker/errors.ts';
import { buildProgress, pullCallError, pullProgress } from '../../docker/progress.ts';
import { BuildContextInvalidError, PolicyDeniedError } from '../../errors.ts';
import { checkDockerfile } from '../../policy/dockerfile.ts';
import type { Guard } from '../../policy/guard.ts';
import { isImageId } from '../../policy/images.ts';
import { type Policy, RULES } from '../../policy/policy.ts';
import { engineAuth, type RegistryAuth } from '../../registry/credentials.ts';
import { locateImage } from '../../registry/reference.ts';
import { readDockerfile, spoolContext } from './context.ts';

export function toImageSummary(i: ImageInfo) {
  return {
    id: i.Id,
    repoTags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
    repoDigests: (i.RepoDigests ?? []).filter((d) => d !== '<none>@<none>'),
    created: new Date(i.Created * 1000).toISOString(),
    size: i.Size,
    containers: i.Containers ?? -1,
    labels: i.Labels ?? {},
  };
}

export async function listImages(
  engine: DockerEngine,
  q: { all: boolean; label?: string[]; reference?: string; dangling?: boolean },
) {
  const filters: Filters = {};
  if (q.label?.length) filters.label = q.label;
  if (q.reference) filters.reference = [q.reference];
  if (q.dangling !== undefined) filters.dangling = [String(q.dangling)];
  const images = (await engine.listImages({ all: q.all, filters })).map(toImageSummary);
  return { images, count: images.length };
}

const list = (v: string | string[] | null | undefined) => (v == null ? [] : Array.isArray(v) ? v : [v]);

export function toImageDetail(i: ImageInspectInfo) {
  return {
    id: i.Id,
    repoTags: i.RepoTags ?? [],
    repoDigests: i.RepoDigests ?? [],
    created: i.Created,
    size: i.Size,
    architecture: i.Architecture,
    os: i.Os,
    author: i.Author ?? '',
    config: {
      cmd: list(i.Config?.Cmd),
      entrypoint: list(i.Config?.Entrypoint as string | string[] | undefined),
      env: i.Config?.Env ?? [],
      workingDir: i.Config?.WorkingDir ?? '',
      exposedPorts: Object.keys(i.Config?.ExposedPorts ?? {}),
      labels: i.Config?.Labels ?? {},
    },
    layers: i.RootFS?.Layers ?? [],
  };
}

/** Starts a pull; a refusal the engine answers at once (no registry, unknown image) is thrown here. */
export async function openPull(
  engine: DockerEngine,
  guards: ImageGuards,
  image: string,
  signal: AbortSignal,
  auth?: RegistryAuth | undefined,
) {
  guards.policy.checkImage([image], 'image');
  // A pull replaces the tag too: a registry's image of the same name must not take a guarded container's.
  await refuseGuardedTag(guards.guard, image, 'image');
  const registry = locateImage(image).registry;
  let stream: Readable;
  try {
    stream = await engine.pullImage(image, signal, auth && engineAuth(registry, auth));
  } catch (error) {
    throw pullCallError(image, error) ?? error;
  }
  return (async function* () {
    yield* pullProgress(image, stream);
    const ref = image.includes(':') || image.includes('@') ? image : `${image}:latest`;
    const info = await engine.inspectImage(ref);
    yield { type: 'done' as const, image: ref, id: info.Id };
  })();
}

/** What the engine says (as a 500) about a context it cannot read: the caller's upload, not the engine, is at fault. */
const BAD_CONTEXT =
  /unexpected EOF|archive\/tar|gzip|invalid tar|Cannot locate specified Dockerfile|outside the build context/i;

function contextError(error: unknown) {
  const message = dockerMessage(error);
  if (dockerStatus(error) !== 500 || !BAD_CONTEXT.test(message)) return undefined;
  return new BuildContextInvalidError(`the build context is not usable: ${message}`);
}

/** Retagging the image a guarded container runs would swap it under the stack at its next recreate. */
async function refuseGuardedTag(guard: Guard, tag: string, field: string) {
  const user = (await guard.stack()).imageUser(tag);
  if (user) {
    throw new PolicyDeniedError(
      RULES.guardedImage,
      field,
      `tag "${tag}" is the image of "${user.name}", which is guarded`,
    );
  }
}

export interface ImageGuards {
  policy: Policy;
  guard: Guard;
  protectLabel: string;
}

export async function openBuild(
  engine: DockerEngine,
  { policy, guard, protectLabel }: ImageGuards,
  context: Readable,
  q: { t?: string; dockerfile: string; nocache: boolean },
  maxBytes: number,
  signal: AbortSignal,
) {
  if (q.t) {
    policy.checkImage([q.t], 't');
    await refuseGuardedTag(guard, q.t, 't');
  }
  const spooled = await spoolContext(context, maxBytes, signal);
  let stream: Readable;
  try {
    await checkDockerfile(
      await readDockerfile(spooled, q.dockerfile),
      policy,
      protectLabel,
      `dockerfile:${q.dockerfile}`,
    );
    const upload = spooled.createReadStream({ start: 0 });
    // An abandoned build may leave the upload unread: release the file with the request.
    signal.addEventListener('abort', () => upload.destroy(), { once: true });
    stream = await engine.buildImage(
      upload,
      // forcerm: the container of a failed step goes too, not only those of successful ones.
      { ...(q.t ? { t: q.t } : {}), dockerfile: q.dockerfile, nocache: q.nocache, rm: true, forcerm: true },
      signal,
    );
  } catch (error) {
    await spooled.close();
    throw contextError(error) ?? error;
  }
  return (async function* () {
    let imageId: string | null = null;
    for await (const event of buildProgress(stream)) {
      if (event.type === 'aux') imageId = event.imageId;
      else {
        const built = /^Successfully built ([0-9a-f]+)/.exec(event.message);
        if (built?.[1] && !imageId) imageId = built[1];
      }
      yield event;
    }
    yield { type: 'done' as const, imageId, tags: q.t ? [q.t] : [] };
  })();
}

export async function removeImage(
  engine: DockerEngine,
  guard: Guard,
  ref: string,
  o: { force: boolean; noprune: boolean },
) {
  const info = await engine.inspectImage(ref);
  // Untagging (or deleting) what a guarded container runs would let another image take its name.
  const stack = await guard.stack();
  const user =
    stack.imageUser(ref) ?? (isImageId(ref) ? stack.containers.find((c) => c.imageId === info.Id) : undefined);
  if (user) {
    throw new PolicyDeniedError(RULES.guardedImage, 'id', `image "${ref}" is run by "${user.name}", which is guarded`);
  }
  const r = await engine.removeImage(ref, o);
  return { id: info.Id, ...r };
}
