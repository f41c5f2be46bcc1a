import { z } from 'zod';

/** `AuthAnnotation`: the access token with PortOne's own clock reading and expiry (UNIX seconds). */
export const AccessTokenSchema = z.looseObject({
  access_token: z.string().min(1),
  now: z.number(),
  expired_at: z.number(),
});

/** An access token as PortOne issued it. */
export type AccessToken = z.infer<typeof AccessTokenSchema>;
