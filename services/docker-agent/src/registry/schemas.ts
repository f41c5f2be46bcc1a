import { z } from 'zod';

/** Docker's AuthConfig fields a request may carry for a registry (never logged, audited or returned). */
export const RegistryAuthBody = z
  .union([
    z.strictObject({ username: z.string().min(1).max(255), password: z.string().min(1).max(4096) }),
    z.strictObject({ identitytoken: z.string().min(1).max(8192) }),
  ])
  .describe(
    'Credentials for the image\'s registry: {"username","password"} or {"identitytoken"} (Docker\'s AuthConfig). ' +
      'Default: the credentials configured for that host (DOCKER_AGENT_REGISTRY_AUTH).',
  );

export const UpdateCheck = z
  .object({
    image: z.string(),
    local_digest: z.string().nullable().describe('Repo digest of the local image; null when not pulled from there'),
    remote_digest: z.string().describe("The registry's manifest digest for the same tag"),
    update_available: z.boolean(),
    checked_at: z.string().describe('ISO 8601'),
  })
  .meta({ id: 'UpdateCheck' });

export const UpdateChecks = z.object({
  project: z.string(),
  images: z.array(UpdateCheck),
  update_available: z.boolean().describe('true when any image has an update'),
  checked_at: z.string(),
});
