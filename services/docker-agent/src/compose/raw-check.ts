import { isAbsolute, resolve } from 'node:path';
import { PolicyDeniedError } from '../errors.ts';
import { isWithin, resolveHostPath } from '../policy/paths.ts';
import { RULES } from '../policy/policy.ts';

/** Rules for what `compose config` cannot show the agent; named in `POLICY_DENIED` problems. */
export const RAW_RULES = {
  include: 'compose-include',
  extendsFile: 'compose-extends-file',
  labelFile: 'compose-label-file',
  envFile: RULES.envFile,
} as const;

type Path = (string | number)[];
const fieldOf = (path: Path) =>
  path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');

/** Every mapping entry in the document, at every depth, with where it sits. */
function* entries(node: unknown, path: Path = []): Generator<{ key: string; value: unknown; path: Path }> {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) yield* entries(item, [...path, i]);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      yield { key, value, path: [...path, key] };
      yield* entries(value, [...path, key]);
    }
  }
}

async function insideProject(path: string, projectDir: string): Promise<{ ok: boolean; real: string }> {
  const real = await resolveHostPath(isAbsolute(path) ? path : resolve(projectDir, path));
  return { ok: isWithin(real, await resolveHostPath(projectDir)), real };
}

/**
 * What the compose CLI reads from the host by itself while resolving the file, as the agent's own
 * user, before any rule can see the result: `include` and `extends.file` pull in other compose files
 * (never shown to the policy as files), `label_file` and `env_file` are inlined, so `config` output
 * no longer says where they came from (`env_file: /proc/1/environ` would copy the agent's API keys
 * into a container the caller controls).
 *
 * The whole document is walked, not just `services.*`: an anchor defined anywhere (`x-base: &b`)
 * reaches a service through a YAML merge key (`<<: *b`), which compose applies and a reader of
 * `services.*` alone would not. So every such key, wherever it sits, is judged. An `env_file` must
 * be a plain path inside the project directory; the other three are refused outright.
 */
export async function checkRawComposeFile(text: string, projectDir: string): Promise<void> {
  // Merge keys as compose (PyYAML / go-yaml) reads them; walking the unmerged tree finds anchors anyway.
  const { parseDocument } = await import('yaml'); // loaded by the compose routes only
  const doc = parseDocument(text, { merge: true, uniqueKeys: false }).toJS({ maxAliasCount: 1000 }) as unknown;
  for (const { key, value, path } of entries(doc)) {
    const field = fieldOf(path);
    if (key === 'include' && path.length === 1) {
      throw new PolicyDeniedError(
        RAW_RULES.include,
        field,
        'top-level "include" of other compose files is not allowed',
      );
    }
    if (key === 'label_file') {
      throw new PolicyDeniedError(RAW_RULES.labelFile, field, '"label_file" reads host files; set labels inline');
    }
    if (key === 'extends' && value && typeof value === 'object' && 'file' in value) {
      throw new PolicyDeniedError(
        RAW_RULES.extendsFile,
        `${field}.file`,
        '"extends" may only name a service of the same file (no "file")',
      );
    }
    if (key !== 'env_file' || value === null || value === undefined) continue;
    const list = Array.isArray(value) ? (value as unknown[]) : [value];
    for (const [i, entry] of list.entries()) {
      const at = Array.isArray(value) ? `${field}[${i}]` : field;
      const file = typeof entry === 'string' ? entry : (entry as { path?: unknown } | null)?.path;
      if (typeof file !== 'string' || file.includes('$') || file.startsWith('~')) {
        throw new PolicyDeniedError(RAW_RULES.envFile, at, `env_file ${JSON.stringify(file)} must be a plain path`);
      }
      const { ok, real } = await insideProject(file, projectDir);
      if (!ok) {
        throw new PolicyDeniedError(
          RAW_RULES.envFile,
          at,
          `env_file "${file}" resolves to "${real}", outside the project directory`,
        );
      }
    }
  }
}
