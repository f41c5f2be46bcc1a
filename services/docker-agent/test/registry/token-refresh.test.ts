/**
 * A cached Bearer token the registry refuses: the real token-auth registry (Distribution 2.8) and its
 * issuer, which can hand out a token that is already expired while its `expires_in` says 300 s. The
 * agent caches it as good, the registry answers 401, and the agent drops it, fetches one fresh token
 * and replays the request once (a second refusal reaches the caller, no loop).
 */
import { randomUUID } from 'node:crypto';
import { REGISTRY, REGISTRY_USER, requireRegistries, testLogStream } from '@repo/test-support';
import Docker from 'dockerode';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { BUSYBOX, requireEngine, SOCKET, testConfig } from '../support/helpers.ts';

const engine = await requireEngine();
const registries = await requireRegistries();
engine?.close();

const docker = new Docker({ socketPath: SOCKET });
const repository = `i14-refresh-${randomUUID().slice(0, 8)}`;
const image = `${REGISTRY.token}/${repository}:1`;
const scope = `repository:${repository}:pull`;
const issuer = `http://${REGISTRY.issuer}`;

const issued = async () =>
  ((await (await fetch(`${issuer}/stats?scope=${scope}`)).json()) as { issued: number }).issued;
/** The next `count` tokens for the scope come already expired. */
async function expireNext(count: number): Promise<void> {
  const res = await fetch(`${issuer}/expire-next?scope=${scope}&count=${count}`, { method: 'POST' });
  await res.arrayBuffer();
  if (res.status !== 200)
    throw new Error(
      `the token issuer on ${REGISTRY.issuer} answered ${res.status} to expire-next (one started before that endpoint existed: stop it and run scripts/services.sh registry)`,
    );
}

describe.runIf(engine && registries)('registry tokens refused with a 401 (real token-auth registry)', () => {
  let agent: FastifyInstance;
  let digest: string;
  let offsetMs = 0;
  const check = () => agent.inject({ method: 'GET', url: `/api/v1/images/${encodeURIComponent(image)}/update` });

  beforeAll(async () => {
    await docker.getImage(BUSYBOX).tag({ repo: `${REGISTRY.token}/${repository}`, tag: '1' });
    const stream = await docker
      .getImage(image)
      .push({ authconfig: { ...REGISTRY_USER, serveraddress: REGISTRY.token } });
    const events = await new Promise<Record<string, unknown>[]>((resolve, reject) =>
      docker.modem.followProgress(stream, (error: Error | null, out: Record<string, unknown>[]) =>
        error ? reject(error) : resolve(out),
      ),
    );
    const pushed = events.map((e) => /digest: (sha256:[0-9a-f]{64})/.exec(String(e.status))?.[1]).find(Boolean);
    if (!pushed) throw new Error(`no digest in the push of ${image}: ${JSON.stringify(events.at(-1))}`);
    digest = pushed;
    const config = testConfig({ DOCKER_AGENT_REGISTRY_AUTH: JSON.stringify({ [REGISTRY.token]: REGISTRY_USER }) });
    agent = await buildApp(config, {
      logStream: testLogStream('docker-agent'),
      clock: () => new Date(Date.now() + offsetMs),
    });
  }, 120_000);

  afterAll(async () => {
    await agent?.close();
    await docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
  });

  it('drops the refused token, fetches one fresh token and replays the request once', async () => {
    // A good token, cached: the next check asks the issuer nothing.
    const before = await issued();
    expect((await check()).json()).toMatchObject({ remote_digest: digest });
    expect((await check()).statusCode).toBe(200);
    expect(await issued()).toBe(before + 1);

    // Past its expires_in (by the agent's clock) it is fetched again, and this one the registry refuses.
    await expireNext(1);
    offsetMs += 300_000;
    const refreshed = await check();
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.json()).toMatchObject({ remote_digest: digest });
    expect(await issued()).toBe(before + 3);

    // The fresh token is the cached one now.
    expect((await check()).statusCode).toBe(200);
    expect(await issued()).toBe(before + 3);
  });

  it('a second refusal reaches the caller as 401 naming the registry, after exactly one refresh', async () => {
    await expireNext(2);
    offsetMs += 300_000;
    const before = await issued();
    const refused = await check();
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ code: 'REGISTRY_UNAUTHORIZED', registry: REGISTRY.token });
    expect(await issued()).toBe(before + 2);
    // The refused token is replaced on the next call.
    expect((await check()).statusCode).toBe(200);
    expect(await issued()).toBe(before + 3);
  });
});
