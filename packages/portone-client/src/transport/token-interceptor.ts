import type { Dispatcher } from 'undici';
import type { Credentials } from '../credentials.ts';
import { PortOneError } from '../errors.ts';
import type { AccessToken } from '../schemas/auth.ts';
import { authInterceptor } from './auth-interceptor.ts';
import type { PortOneDispatchOptions } from './context.ts';
import { markNeverSent } from './failure.ts';
import type { TokenStore } from './token-store.ts';

export interface TokenInterceptorOptions {
  tokens: TokenStore;
}

/**
 * Adds `Authorization: Bearer <token>` (and `Tier`) to calls whose context carries credentials: the
 * shared {@link authInterceptor} (cached token, single-flight refresh, one replay on 401) with
 * PortOne's hooks. A token failure is marked "never sent": the call itself did not leave, which the
 * retry layer may rely on even for charges.
 */
export function tokenInterceptor({ tokens }: TokenInterceptorOptions): Dispatcher.DispatcherComposeInterceptor {
  return authInterceptor<Credentials, AccessToken>({
    tokens: {
      get: (credentials, options) => tokens.get(credentials, options),
      peek: (credentials) => tokens.peek(credentials),
      invalidate: (credentials, stale) => tokens.invalidate(credentials, stale.access_token),
    },
    keyFor: (opts) => (opts as PortOneDispatchOptions).portone?.credentials,
    attempt: (opts) => (opts as PortOneDispatchOptions).portone?.attempt ?? 1,
    authorize: (opts, token, credentials) => withToken(opts, token.access_token, credentials),
    tokenFailure: (error) => (error instanceof PortOneError ? markNeverSent(error) : (error as Error)),
  });
}

function withToken(opts: Dispatcher.DispatchOptions, accessToken: string, credentials: Credentials) {
  const headers: Record<string, string> = {
    ...(opts.headers as Record<string, string> | undefined),
    authorization: `Bearer ${accessToken}`,
  };
  if (credentials.tier !== undefined) headers.tier = credentials.tier;
  return { ...opts, headers };
}
