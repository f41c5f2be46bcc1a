/**
 * A small token issuer for the token-auth registry (Docker's token auth spec and its OAuth2 variant).
 * It signs RS256 JWTs with the key whose certificate the registry trusts (`rootcertbundle`), the
 * certificate riding in the `x5c` header, which is how Distribution 2.8 finds the verifying key.
 *
 *   node packages/test-support/src/registry-token-issuer.ts <state-dir>
 *
 * reads `<state-dir>/token.key` and `<state-dir>/token.crt` (scripts/services.sh makes them) and
 * listens on REGISTRY.issuer. Built on node: modules only, so it runs before `pnpm install`.
 *
 * - `GET /token?service=&scope=` with Basic credentials (what the engine and the agent send);
 * - `POST /token` form with `grant_type=password` or `grant_type=refresh_token` (Docker's
 *   `identitytoken`);
 * - `GET /stats?scope=`: how many tokens were issued for that scope (tests check the agent's cache);
 * - `POST /expire-next?scope=&count=`: the next `count` (default 1) tokens for that scope are issued
 *   already expired, past the registry's 60 s leeway, while `expires_in` still says 300 s: a token the
 *   client caches as good and the registry refuses with a 401 (the refresh-and-replay path).
 *
 * Anonymous and wrong credentials get 401. REGISTRY_USER gets pull and push on every repository it
 * asks for; REGISTRY_NOBODY is authenticated but granted nothing, so the registry refuses it.
 */
import { createSign, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { REGISTRY, REGISTRY_IDENTITY_TOKEN, REGISTRY_NOBODY, REGISTRY_USER } from './registry.ts';

const TOKEN_SECONDS = 300;

interface Grant {
  type: string;
  name: string;
  actions: string[];
}

const b64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

function sign(key: string, certDer: Buffer, subject: string, grants: Grant[], expired: boolean): string {
  // An expired token was valid for a minute, two minutes ago (Distribution allows 60 s of clock skew).
  const now = Math.floor(Date.now() / 1000) - (expired ? TOKEN_SECONDS + 120 : 0);
  const lifetime = expired ? 60 : TOKEN_SECONDS;
  const header = { alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')] };
  const claims = {
    iss: REGISTRY.issuerName,
    sub: subject,
    aud: REGISTRY.service,
    iat: now,
    nbf: now - 5,
    exp: now + lifetime,
    jti: randomUUID(),
    access: grants,
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`;
}

/** `repository:name:pull,push` → a grant; the user gets only the actions it may have. */
function grantsFor(user: string, scopes: string[]): Grant[] {
  if (user !== REGISTRY_USER.username) return [];
  return scopes.flatMap((scope) => {
    const match = /^([a-z]+):(.+):([a-z*,]+)$/.exec(scope);
    if (match === null) return [];
    const [, type = '', name = '', actions = ''] = match;
    return [{ type, name, actions: actions.split(',').filter((a) => a === 'pull' || a === 'push') }];
  });
}

function basicUser(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return checkPassword(decoded.slice(0, colon), decoded.slice(colon + 1));
}

function checkPassword(username: string, password: string): string | undefined {
  for (const user of [REGISTRY_USER, REGISTRY_NOBODY]) {
    if (user.username === username && user.password === password) return username;
  }
  return undefined;
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of request) body += chunk;
  return new URLSearchParams(body);
}

export function startTokenIssuer(stateDir: string) {
  const key = readFileSync(join(stateDir, 'token.key'), 'utf8');
  const certDer = new X509Certificate(readFileSync(join(stateDir, 'token.crt'))).raw;
  const issued = new Map<string, number>();
  const expireNext = new Map<string, number>();

  const answer = (response: ServerResponse, status: number, body: object) => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', `http://${REGISTRY.issuer}`);
    if (url.pathname === '/stats') {
      answer(response, 200, { issued: issued.get(url.searchParams.get('scope') ?? '') ?? 0 });
      return;
    }
    if (url.pathname === '/expire-next' && request.method === 'POST') {
      const scope = url.searchParams.get('scope') ?? '';
      expireNext.set(scope, Number(url.searchParams.get('count') ?? 1));
      answer(response, 200, { scope, expireNext: expireNext.get(scope) });
      return;
    }
    if (url.pathname !== '/token') return answer(response, 404, { error: 'not found' });
    let user: string | undefined;
    let scopes = url.searchParams.getAll('scope');
    let offline = false;
    if (request.method === 'POST') {
      const form = await readForm(request);
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      offline = form.get('access_type') === 'offline';
      const grantType = form.get('grant_type');
      if (grantType === 'password') user = checkPassword(form.get('username') ?? '', form.get('password') ?? '');
      if (grantType === 'refresh_token' && form.get('refresh_token') === REGISTRY_IDENTITY_TOKEN) {
        user = REGISTRY_USER.username;
      }
    } else {
      user = basicUser(request);
    }
    if (user === undefined)
      return answer(response, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] });
    let expired = false;
    for (const scope of scopes) {
      issued.set(scope, (issued.get(scope) ?? 0) + 1);
      const left = expireNext.get(scope) ?? 0;
      if (left > 0) {
        expired = true;
        expireNext.set(scope, left - 1);
      }
    }
    const token = sign(key, certDer, user, grantsFor(user, scopes), expired);
    answer(response, 200, {
      token,
      access_token: token,
      expires_in: TOKEN_SECONDS,
      issued_at: new Date().toISOString(),
      ...(offline && user === REGISTRY_USER.username ? { refresh_token: REGISTRY_IDENTITY_TOKEN } : {}),
    });
  });
  const [host, port] = REGISTRY.issuer.split(':');
  server.listen(Number(port), host);
  return server;
}

if (import.meta.main) {
  const stateDir = process.argv[2];
  if (stateDir === undefined) throw new Error('usage: registry-token-issuer.ts <state-dir>');
  const server = startTokenIssuer(stateDir);
  server.on('listening', () => process.stdout.write(`token issuer on ${REGISTRY.issuer}\n`));
}
