import type { DockerEngine } from '../docker/engine.ts';
import { dockerStatus } from '../docker/errors.ts';
import type { RegistryClient } from './client.ts';
import type { RegistryAuth } from './credentials.ts';
import { locateImage } from './reference.ts';

/** The answer of an update check. */
export interface UpdateCheck {
  image: string;
  /** The registry digest the local image was pulled or pushed as; null when it is not here. */
  local_digest: string | null;
  remote_digest: string;
  update_available: boolean;
  checked_at: string;
}

/**
 * The digest the local image has on `image`'s repository, from its RepoDigests (what the engine
 * recorded when it pulled or pushed it), or null when the image is not here or never came from there.
 */
async function localDigest(engine: DockerEngine, image: string): Promise<string | null> {
  let repoDigests: string[];
  try {
    repoDigests = (await engine.inspectImage(image)).RepoDigests ?? [];
  } catch (error) {
    if (dockerStatus(error) === 404) return null;
    throw error;
  }
  const wanted = locateImage(image);
  for (const entry of repoDigests) {
    const at = entry.lastIndexOf('@');
    const found = locateImage(`${entry.slice(0, at)}:x`);
    if (found.registry === wanted.registry && found.repository === wanted.repository) return entry.slice(at + 1);
  }
  return null;
}

/** Compares the local image's repo digest with the registry's manifest digest for the same tag. */
export async function checkUpdate(
  engine: DockerEngine,
  client: RegistryClient,
  image: string,
  clock: () => Date,
  options: { auth?: RegistryAuth | undefined; signal?: AbortSignal } = {},
): Promise<UpdateCheck> {
  const [local, remote] = await Promise.all([localDigest(engine, image), client.manifestDigest(image, options)]);
  return {
    image,
    local_digest: local,
    remote_digest: remote.digest,
    update_available: local !== remote.digest,
    checked_at: clock().toISOString(),
  };
}
