import type { IncomingHttpHeaders } from 'node:http';

/** A parsed `WWW-Authenticate` challenge of a registry (Basic, or Bearer with realm/service/scope). */
export interface Challenge {
  scheme: 'basic' | 'bearer';
  realm: string;
  service: string;
  scope: string;
  /** `error` of a Bearer challenge: `insufficient_scope` means the token was valid but not enough. */
  error: string;
}

const PARAM = /([a-zA-Z_]+)="([^"]*)"|([a-zA-Z_]+)=([^\s,]+)/g;

/** The first challenge of a 401's `WWW-Authenticate`, or undefined when it has none we know. */
export function parseChallenge(headers: IncomingHttpHeaders): Challenge | undefined {
  const raw = headers['www-authenticate'];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!value) return undefined;
  const space = value.indexOf(' ');
  const scheme = (space < 0 ? value : value.slice(0, space)).toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  for (const m of value.slice(space + 1).matchAll(PARAM)) {
    const name = (m[1] ?? m[3] ?? '').toLowerCase();
    params[name] = m[2] ?? m[4] ?? '';
  }
  return {
    scheme,
    realm: params.realm ?? '',
    service: params.service ?? '',
    scope: params.scope ?? '',
    error: params.error ?? '',
  };
}
