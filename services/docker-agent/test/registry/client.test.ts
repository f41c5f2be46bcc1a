import { freePort } from '@repo/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryClient, type RegistryCallEvent } from '../../src/registry/client.ts';
import { RegistryCredentials } from '../../src/registry/credentials.ts';
import { startRegistry, type TestRegistry } from '../support/registry.ts';

/** The registry client's retry policy, on faults produced for real (a refused connection, an unknown tag). */
describe('registry client retries', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.close();
  });

  const client = (calls: RegistryCallEvent[]) =>
    createRegistryClient({
      dockerHubUrl: `http://${registry.host}`,
      credentials: new RegistryCredentials({}),
      retry: { retries: 2, minTimeoutMs: 20, maxTimeoutMs: 20 },
      onCall: (call) => calls.push(call),
    });

  it('retries a registry that refuses connections with backoff, then answers 502 naming it', async () => {
    const calls: RegistryCallEvent[] = [];
    const c = client(calls);
    const host = `127.0.0.1:${await freePort()}`;
    await expect(c.manifestDigest(`${host}/app:1`)).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      statusCode: 502,
      details: { registry: host },
    });
    expect(calls).toHaveLength(3);
    expect(calls.every((call) => call.outcome === 'error' && call.registry === host)).toBe(true);
    await c.close();
  });

  it('does not retry an answer that cannot change (404), and reads a digest in one call', async () => {
    const calls: RegistryCallEvent[] = [];
    const c = client(calls);
    await expect(c.manifestDigest(`${registry.host}/x/missing:1`)).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
    expect(calls).toHaveLength(1);
    const found = await c.manifestDigest(`${registry.host}/x/ok:1`);
    expect(found.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(calls).toHaveLength(2);
    // Docker Hub names go to DOCKER_AGENT_DOCKER_HUB_URL (here the test registry), under library/.
    await expect(c.manifestDigest('missing')).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
    await c.close();
  });
});
