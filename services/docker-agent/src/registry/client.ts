import type { IncomingHttpHeaders } from 'node:http';
import {
  authInterceptor,
  callObserver,
  type RetryPolicy,
  TokenCache,
  withRetries,
} from '@repo/portone-client/transport';
import { LRUCache } from 'lru-cache';
import { Agent, type Dispatcher } from 'undici';
import {
  ImageNotFoundError,
  RegistryDeniedError,
  RegistryUnauthorizedError,
  RegistryUnavailableError,
} from '../errors.ts';
import { type Challenge, parseChallenge } from './challenge.ts';
import { authId, type RegistryAuth, type RegistryCredentials } from './credentials.ts';
import { DOCKER_HUB, type ImageLocation, locateImage } from './reference.ts';

/** The media types Docker's engine accepts for a manifest (indexes first), so digests match its pulls. */
export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/json',
].join(', ');

/** One HTTP attempt against a registry or its token service (no header, token or credential in it). */
export interface RegistryCallEvent {
  operation: 'manifest' | 'token';
  registry: string;
  method: string;
  status: number | undefined;
  durationMs: number;
  outcome: 'ok' | 'error';
  error?: string;
}

export interface RegistryClientOptions {
  /** Docker Hub's registry API (`https://registry-1.docker.io`). */
  dockerHubUrl: string;
  credentials: RegistryCredentials;
  retry?: Partial<RetryPolicy>;
  /** Local clock (ms) for token expiry. */
  now?: () => number;
  onCall?: (event: RegistryCallEvent) => void;
}

export interface RegistryClient {
  /** The registry's digest of `ref`'s manifest (HEAD, all of Docker's manifest types). */
  manifestDigest(
    ref: string,
    options?: { auth?: RegistryAuth | undefined; signal?: AbortSignal },
  ): Promise<{ location: ImageLocation; digest: string }>;
  close(): Promise<void>;
}

/** What a registry request tells the interceptors about itself (rides on the dispatch options). */
interface RegistryContext {
  operation: 'manifest' | 'token';
  registry: string;
  origin: string;
  repository: string;
  auth: RegistryAuth | undefined;
  attempt: number;
}
type RegistryDispatch = Dispatcher.DispatchOptions & { registry?: RegistryContext };

type TokenKey =
  | { kind: 'basic'; origin: string; registry: string; auth: { username: string; password: string } }
  | { kind: 'bearer'; realm: string; service: string; scope: string; registry: string; auth: RegistryAuth | undefined };

const DEFAULT_RETRY: RetryPolicy = { retries: 3, minTimeoutMs: 200, maxTimeoutMs: 3_000, maxRetryTimeMs: 15_000 };
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/;
// Transient failures (connection, 429, 5xx), with the Retry-After the registry asked for.
const retryable = new WeakMap<object, number | undefined>();

function unavailable(registry: string, reason: string, retry: boolean, retryAfterMs?: number, cause?: unknown) {
  const error = new RegistryUnavailableError(`registry ${registry}: ${reason}`, { details: { registry }, cause });
  if (retry) retryable.set(error, retryAfterMs);
  return error;
}

function retryAfter(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['retry-after'];
  return typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) * 1000 : undefined;
}

const hasPassword = (auth: RegistryAuth | undefined): auth is { username: string; password: string } =>
  auth !== undefined && 'username' in auth;

/**
 * A Docker Registry HTTP API V2 client on the shared transport: the auth interceptor answers the
 * registry's challenge (Basic with the configured or given credentials, or a Bearer token from the
 * realm the challenge names, cached per realm/service/scope and credentials, refreshed on expiry or
 * a 401), the call observer reports each attempt, and reads are retried with backoff.
 */
export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const now = options.now ?? Date.now;
  const policy = { ...DEFAULT_RETRY, ...options.retry };
  const hub = new URL(options.dockerHubUrl);
  const agent = new Agent({ connect: { timeout: 10_000 }, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const observers =
    options.onCall === undefined
      ? []
      : [
          callObserver({
            describe: (opts) => {
              const context = (opts as RegistryDispatch).registry;
              return context && { operation: context.operation, registry: context.registry, method: opts.method };
            },
            classify: (status) => ({ error: status >= 400 ? `HTTP ${status}` : undefined, fields: {} }),
            classifyError: (error) => ({ error: error.name, fields: {} }),
            onCall: options.onCall,
          }),
        ];
  const plain = observers.length === 0 ? agent : agent.compose(observers);
  // What each registry asked for last time, so the next request carries its token at once.
  const challenges = new LRUCache<string, Challenge>({ max: 100 });

  const originOf = (registry: string) =>
    registry === DOCKER_HUB ? hub.origin : `${LOOPBACK.test(registry) ? 'http' : 'https'}://${registry}`;

  const tokens = new TokenCache<TokenKey, string>({
    max: 500,
    now,
    keyOf: (key) =>
      key.kind === 'basic'
        ? `basic\u0000${key.origin}\u0000${authId(key.auth)}`
        : `bearer\u0000${key.realm}\u0000${key.service}\u0000${key.scope}\u0000${authId(key.auth)}`,
    fetch: async (key, attempt) => {
      if (key.kind === 'basic') {
        const basic = Buffer.from(`${key.auth.username}:${key.auth.password}`).toString('base64');
        return { token: `Basic ${basic}`, refreshAtMs: Number.POSITIVE_INFINITY };
      }
      return fetchBearer(key, attempt);
    },
  });

  async function fetchBearer(key: Extract<TokenKey, { kind: 'bearer' }>, attempt: number) {
    const requestedAt = now();
    const url = new URL(key.realm);
    const context: RegistryContext = {
      operation: 'token',
      registry: key.registry,
      origin: url.origin,
      repository: '',
      auth: undefined,
      attempt,
    };
    const headers: Record<string, string> = { accept: 'application/json' };
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    if (key.auth !== undefined && 'identitytoken' in key.auth) {
      // Docker's identity token is an OAuth2 refresh token, exchanged by POST (the registry token spec).
      method = 'POST';
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: key.auth.identitytoken,
        service: key.service,
        scope: key.scope,
        client_id: 'docker-agent',
      }).toString();
    } else {
      if (key.service) url.searchParams.set('service', key.service);
      if (key.scope) url.searchParams.set('scope', key.scope);
      if (hasPassword(key.auth)) {
        headers.authorization = `Basic ${Buffer.from(`${key.auth.username}:${key.auth.password}`).toString('base64')}`;
      }
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await plain.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method,
        headers,
        body: body ?? null,
        registry: context,
      } as Dispatcher.RequestOptions);
    } catch (error) {
      throw unavailable(key.registry, 'token service unreachable', true, undefined, error);
    }
    const text = await response.body.text();
    if (response.statusCode === 401 || response.statusCode === 403) {
      throw new RegistryUnauthorizedError(
        key.auth === undefined
          ? `registry ${key.registry} requires credentials`
          : `registry ${key.registry} rejected the credentials (token service answered ${response.statusCode})`,
        { details: { registry: key.registry } },
      );
    }
    if (response.statusCode !== 200) {
      const retry = response.statusCode === 429 || response.statusCode >= 500;
      throw unavailable(key.registry, `token service answered ${response.statusCode}`, retry);
    }
    let token: string | undefined;
    let expiresIn = 60;
    try {
      const json = JSON.parse(text) as { token?: string; access_token?: string; expires_in?: number };
      token = json.token ?? json.access_token;
      if (typeof json.expires_in === 'number' && json.expires_in > 0) expiresIn = json.expires_in;
    } catch {
      // handled below
    }
    if (!token) throw unavailable(key.registry, 'token service answered without a token', false);
    // Refresh a little before expiry: 30 s, or a tenth of a short lifetime.
    const marginMs = Math.min(30_000, expiresIn * 100);
    return { token: `Bearer ${token}`, refreshAtMs: requestedAt + expiresIn * 1000 - marginMs };
  }

  const keyFrom = (context: RegistryContext, challenge: Challenge, scope?: string): TokenKey | undefined => {
    if (challenge.scheme === 'basic') {
      return hasPassword(context.auth)
        ? { kind: 'basic', origin: context.origin, registry: context.registry, auth: context.auth }
        : undefined;
    }
    return {
      kind: 'bearer',
      realm: challenge.realm,
      service: challenge.service,
      scope: scope || `repository:${context.repository}:pull`,
      registry: context.registry,
      auth: context.auth,
    };
  };

  const api = agent.compose(
    ...observers,
    authInterceptor<TokenKey, string>({
      tokens,
      keyFor: (opts) => {
        const context = (opts as RegistryDispatch).registry;
        const known = context && challenges.get(context.origin);
        return context && known && keyFrom(context, known);
      },
      keyOnUnauthorized: (opts, headers, sentWith) => {
        const context = (opts as RegistryDispatch).registry;
        const challenge = parseChallenge(headers);
        if (context === undefined || challenge === undefined) return undefined;
        challenges.set(context.origin, challenge);
        // A valid token without the access asked for, or refused Basic credentials: a replay cannot help.
        if (sentWith !== undefined && (challenge.error === 'insufficient_scope' || challenge.scheme === 'basic')) {
          return undefined;
        }
        return keyFrom(context, challenge, challenge.scope);
      },
      authorize: (opts, token) => ({
        ...opts,
        headers: { ...(opts.headers as Record<string, string>), authorization: token },
      }),
      attempt: (opts) => (opts as RegistryDispatch).registry?.attempt ?? 1,
    }),
  );

  async function headManifest(location: ImageLocation, auth: RegistryAuth | undefined, attempt: number) {
    const { registry } = location;
    const origin = originOf(registry);
    const context: RegistryContext = {
      operation: 'manifest',
      registry,
      origin,
      repository: location.repository,
      auth,
      attempt,
    };
    let response: Dispatcher.ResponseData;
    try {
      response = await api.request({
        origin,
        path: `/v2/${location.repository}/manifests/${location.reference}`,
        method: 'HEAD',
        headers: { accept: MANIFEST_TYPES },
        registry: context,
      } as Dispatcher.RequestOptions);
    } catch (error) {
      if (error instanceof Error && 'statusCode' in error) throw error;
      throw unavailable(
        registry,
        `unreachable (${(error as { code?: string }).code ?? 'network error'})`,
        true,
        undefined,
        error,
      );
    }
    await response.body.dump();
    const { statusCode: status, headers } = response;
    const digest = headers['docker-content-digest'];
    if (status === 200 && typeof digest === 'string') return digest;
    if (status === 401) {
      const challenge = parseChallenge(headers);
      if (auth !== undefined && challenge?.error === 'insufficient_scope') {
        throw new RegistryDeniedError(`registry ${registry} denied access to ${location.repository}`, {
          details: { registry },
        });
      }
      throw new RegistryUnauthorizedError(
        auth === undefined
          ? `registry ${registry} requires credentials for ${location.repository}`
          : `registry ${registry} rejected the credentials for ${location.repository}`,
        { details: { registry } },
      );
    }
    if (status === 403) {
      throw new RegistryDeniedError(`registry ${registry} denied access to ${location.repository}`, {
        details: { registry },
      });
    }
    if (status === 404) {
      throw new ImageNotFoundError(`image "${location.canonical}" not found on registry ${registry}`, {
        details: { image: location.canonical, registry },
      });
    }
    if (status === 200) throw unavailable(registry, 'answered a manifest without Docker-Content-Digest', false);
    throw unavailable(registry, `answered ${status}`, status === 429 || status >= 500, retryAfter(headers));
  }

  return {
    async manifestDigest(ref, call = {}) {
      const location = locateImage(ref);
      const auth = options.credentials.for(location.registry, call.auth);
      const digest = await withRetries((attempt) => headManifest(location, auth, attempt), {
        policy,
        signal: call.signal,
        isRetryable: (error) => typeof error === 'object' && error !== null && retryable.has(error),
        retryAfterMs: (error) => (typeof error === 'object' && error !== null ? retryable.get(error) : undefined),
      });
      return { location, digest };
    },
    close: () => agent.close(),
  };
}
