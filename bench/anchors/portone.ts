/**
 * The lookup anchors' PortOne: one undici Pool and one token fetched at start (the emulator's key),
 * sent as `authorization` on every call.
 */
import { Pool } from 'undici';

export async function portoneWithToken(url: string): Promise<{ portone: Pool; authorization: string }> {
  const portone = new Pool(url);
  const res = await portone.request({
    method: 'POST',
    path: '/users/getToken',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ imp_key: 'imp_emulator_key', imp_secret: 'imp_emulator_secret' }),
  });
  const { response } = (await res.body.json()) as { response: { access_token: string } };
  return { portone, authorization: `Bearer ${response.access_token}` };
}
