/**
 * `POST /users/getToken` (notes §3) and `GET /tiers/{tier_code}` (§3.4).
 *
 * Tokens live 30 minutes. While the current token of an imp_key is valid the same token and
 * `expired_at` come back, except in its last minute, when `expired_at` moves 5 minutes later. After
 * expiry a new token is issued.
 */
import { MESSAGES, notFound, unauthorized, V1Error } from '../errors.ts';
import { type Ctx, ok, type RouteTable } from '../http.ts';
import { newAccessToken } from '../ids.ts';
import type { Token } from '../state.ts';

export const TOKEN_TTL_SECONDS = 30 * 60;
export const TOKEN_EXTEND_WINDOW_SECONDS = 60;
export const TOKEN_EXTENSION_SECONDS = 5 * 60;

function getToken(ctx: Ctx) {
  const { state } = ctx.ops;
  const impKey = typeof ctx.body.imp_key === 'string' ? ctx.body.imp_key : '';
  const impSecret = typeof ctx.body.imp_secret === 'string' ? ctx.body.imp_secret : '';
  if (!impKey || !impSecret) throw new V1Error(400, -1, MESSAGES.tokenParamsMissing);
  const merchant = state.merchants.get(impKey);
  if (!merchant || merchant.impSecret !== impSecret) throw unauthorized('imp_key, imp_secret을 확인해주세요.');

  const now = state.now();
  let token = state.tokensByKey.get(impKey);
  if (token && now < token.expired_at) {
    if (token.expired_at - now <= TOKEN_EXTEND_WINDOW_SECONDS) token.expired_at += TOKEN_EXTENSION_SECONDS;
  } else {
    if (token) state.tokensByValue.delete(token.access_token);
    token = { access_token: newAccessToken(), impKey, expired_at: now + TOKEN_TTL_SECONDS } satisfies Token;
    state.tokensByKey.set(impKey, token);
    state.tokensByValue.set(token.access_token, token);
  }
  return ok({ access_token: token.access_token, now, expired_at: token.expired_at });
}

export function registerAuthRoutes(routes: RouteTable): void {
  routes.open('POST', '/users/getToken', getToken);
  routes.authed('GET', '/tiers/:tier_code', (ctx) => {
    const code = ctx.params.tier_code ?? '';
    const name = ctx.merchant.tiers?.[code];
    if (!name) throw notFound(MESSAGES.tierNotFound);
    return ok({ tier_code: code, tier_name: name });
  });
}
