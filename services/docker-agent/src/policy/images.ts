/** `sha256:<hex>` or a bare hex id (full or short). */
export function isImageId(ref: string): boolean {
  return /^(sha256:)?[0-9a-f]{12,64}$/.test(ref);
}

/** `busybox` → `docker.io/library/busybox`, `me/app` → `docker.io/me/app`; registries stay. */
export function normaliseImage(ref: string): string {
  const slash = ref.indexOf('/');
  if (slash < 0) return `docker.io/library/${ref}`;
  const first = ref.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return ref;
  return `docker.io/${ref}`;
}

/** A normalised reference split into its repository path and what pins it (`:tag`, `@digest`), if anything. */
function splitReference(ref: string): { repo: string; pin: string } {
  const normalised = normaliseImage(ref);
  const at = normalised.indexOf('@');
  const named = at < 0 ? normalised : normalised.slice(0, at);
  const digest = at < 0 ? '' : normalised.slice(at);
  const colon = named.lastIndexOf(':');
  const tagged = colon > named.lastIndexOf('/');
  return { repo: tagged ? named.slice(0, colon) : named, pin: (tagged ? named.slice(colon) : '') + digest };
}

/**
 * The image allowlist matcher, by whole path segments of the normalised repository: `redis` allows
 * `redis:7` and `docker.io/library/redis`, never `redis.evil.io/x` or `redisx`; `local/` allows
 * `local/busybox` and `local/a/b`, `local/busybox` never `local/busyboxevil`. An entry with a tag or a
 * digest allows exactly that reference. A trailing `*` is ignored. An empty allowlist allows any image;
 * an image id never matches a non-empty one (it says nothing about where the image came from).
 */
export function imageAllowed(allowlist: readonly string[], image: string): boolean {
  if (allowlist.length === 0) return true;
  if (isImageId(image)) return false;
  const wanted = splitReference(image);
  return allowlist.some((raw) => {
    const entry = raw.replace(/\*$/, '');
    if (entry.endsWith('/')) return `${wanted.repo}/`.startsWith(normaliseImage(entry));
    const allowed = splitReference(entry);
    if (allowed.pin) return allowed.repo === wanted.repo && allowed.pin === wanted.pin;
    return wanted.repo === allowed.repo || wanted.repo.startsWith(`${allowed.repo}/`);
  });
}
