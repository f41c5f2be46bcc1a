import { describe, expect, it } from 'vitest';
import { KEY, SECRET, T0, useHarness } from './helpers.ts';

const h = useHarness({
  merchants: [
    { impKey: KEY, impSecret: SECRET, tiers: { '001': 'Gangnam store', ABC: 'Busan store' } },
    { impKey: 'imp_other', impSecret: 'other_secret' },
  ],
});

describe('POST /users/getToken', () => {
  it('issues a 40-hex token valid for 30 minutes with the server time', async () => {
    const res = await h.raw('POST', '/users/getToken', { body: { imp_key: KEY, imp_secret: SECRET } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    expect(res.body.code).toBe(0);
    expect(res.body.message).toBeNull();
    expect(res.body.response.access_token).toMatch(/^[0-9a-f]{40}$/);
    expect(res.body.response.now).toBe(T0);
    expect(res.body.response.expired_at).toBe(T0 + 1800);
  });

  it('accepts a form-urlencoded body', async () => {
    const res = await h.raw('POST', '/users/getToken', { form: `imp_key=${KEY}&imp_secret=${SECRET}` });
    expect(res.body.code).toBe(0);
    expect(res.body.response.access_token).toMatch(/^[0-9a-f]{40}$/);
  });

  it('returns the same token and expiry while valid, extends by 5 minutes in the last minute, renews after expiry', async () => {
    const first = (await h.raw('POST', '/users/getToken', { body: { imp_key: KEY, imp_secret: SECRET } })).body
      .response;
    await h.advance(1000);
    const same = (await h.raw('POST', '/users/getToken', { body: { imp_key: KEY, imp_secret: SECRET } })).body.response;
    expect(same).toEqual({ access_token: first.access_token, now: T0 + 1000, expired_at: T0 + 1800 });

    await h.advance(1800 - 1000 - 30); // 30 s before expiry
    const extended = (await h.raw('POST', '/users/getToken', { body: { imp_key: KEY, imp_secret: SECRET } })).body
      .response;
    expect(extended.access_token).toBe(first.access_token);
    expect(extended.expired_at).toBe(T0 + 1800 + 300);

    // Still usable after the original expiry thanks to the extension.
    await h.advance(60);
    expect((await h.api('GET', '/payments/imp_000000000000', { token: first.access_token })).status).toBe(404);

    await h.advance(300);
    expect((await h.api('GET', '/payments/imp_000000000000', { token: first.access_token })).status).toBe(401);
    const renewed = (await h.raw('POST', '/users/getToken', { body: { imp_key: KEY, imp_secret: SECRET } })).body
      .response;
    expect(renewed.access_token).not.toBe(first.access_token);
    expect(renewed.expired_at).toBe(renewed.now + 1800);
  });

  it('answers 401 for a wrong secret and 400 for missing parameters, counting every call', async () => {
    const wrong = await h.raw('POST', '/users/getToken', { body: { imp_key: KEY, imp_secret: 'nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: -1, response: null });
    const unknown = await h.raw('POST', '/users/getToken', { body: { imp_key: 'who', imp_secret: 'x' } });
    expect(unknown.status).toBe(401);
    const missing = await h.raw('POST', '/users/getToken', { body: { imp_key: KEY } });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toBe('imp_key, imp_secret 파라메터가 누락되었습니다.');
    await h.token();
    const stats = (await h.control('GET', '/stats')).body;
    expect(stats.tokenRequests).toEqual({ [KEY]: 3, who: 1 });
  });
});

describe('token headers', () => {
  it('accepts Bearer, a raw Authorization value and X-ImpTokenHeader; Authorization wins', async () => {
    const token = await h.token();
    const path = '/payments/imp_000000000000';
    expect((await h.raw('GET', path, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    expect((await h.raw('GET', path, { headers: { authorization: token } })).status).toBe(404);
    expect((await h.raw('GET', path, { headers: { 'x-imptokenheader': token } })).status).toBe(404);
    const both = await h.raw('GET', path, { headers: { authorization: 'Bearer wrong', 'x-imptokenheader': token } });
    expect(both.status).toBe(401);
  });

  it('answers 401 envelopes for a missing or unknown token', async () => {
    const none = await h.raw('GET', '/payments/imp_000000000000');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ code: -1, message: 'Unauthorized', response: null });
    const unknown = await h.raw('GET', '/payments/imp_000000000000', { headers: { authorization: 'f'.repeat(40) } });
    expect(unknown.status).toBe(401);
  });
});

describe('merchant isolation and Tier', () => {
  it('shows a merchant only its own payments', async () => {
    const mine = await h.checkout({ merchant_uid: 'iso-1', amount: 1000 });
    const theirs = await h.checkout({ merchant_uid: 'iso-1', amount: 2000, imp_key: 'imp_other' });
    const otherToken = await h.token('imp_other', 'other_secret');
    expect((await h.api('GET', `/payments/${mine.imp_uid}`, { token: otherToken })).status).toBe(404);
    const found = await h.api('GET', '/payments/find/iso-1', { token: otherToken });
    expect(found.body.response.imp_uid).toBe(theirs.imp_uid);
    expect(found.body.response.amount).toBe(2000);
    const own = await h.api('GET', '/payments/find/iso-1');
    expect(own.body.response.imp_uid).toBe(mine.imp_uid);
    // Tokens are per merchant.
    expect(otherToken).not.toBe(await h.token());
  });

  it('scopes data to the sub-store named by the Tier header and rejects unknown tiers with 401', async () => {
    const atTier = await h.checkout({ merchant_uid: 'tier-1', amount: 500, tier: '001' });
    const token = await h.token();
    const viaTier = await h.api('GET', `/payments/${atTier.imp_uid}`, { token, headers: { tier: '001' } });
    expect(viaTier.status).toBe(200);
    expect((await h.api('GET', `/payments/${atTier.imp_uid}`, { token })).status).toBe(404);
    expect((await h.api('GET', `/payments/${atTier.imp_uid}`, { token, headers: { tier: 'ABC' } })).status).toBe(404);
    const unknownTier = await h.api('GET', `/payments/${atTier.imp_uid}`, { token, headers: { tier: 'ZZZ' } });
    expect(unknownTier.status).toBe(401);
    expect(unknownTier.body.code).toBe(-1);
    const tierInfo = await h.api('GET', '/tiers/ABC', { token });
    expect(tierInfo.body.response).toEqual({ tier_code: 'ABC', tier_name: 'Busan store' });
    expect((await h.api('GET', '/tiers/XYZ', { token })).status).toBe(404);
  });
});
