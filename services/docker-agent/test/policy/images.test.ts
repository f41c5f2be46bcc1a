import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.ts';
import { imageAllowed } from '../../src/policy/images.ts';
import { BUSYBOX, cleanup, json, makeApp, requireEngine, tagImage } from '../support/helpers.ts';

describe('image allowlist matcher', () => {
  it('matches whole path segments of the normalised repository', () => {
    const list = ['redis', 'local/busybox', 'ghcr.io/acme/', 'nginx:1.27'];
    expect(imageAllowed(list, 'redis')).toBe(true);
    expect(imageAllowed(list, 'redis:7')).toBe(true);
    expect(imageAllowed(list, 'docker.io/library/redis:7')).toBe(true);
    expect(imageAllowed(list, 'redis@sha256:'.padEnd(77, 'a'))).toBe(true);
    expect(imageAllowed(list, 'redis.evil.io/x')).toBe(false);
    expect(imageAllowed(list, 'redisx')).toBe(false);
    expect(imageAllowed(list, 'redis/evil')).toBe(false);
    expect(imageAllowed(list, 'local/busybox:1')).toBe(true);
    expect(imageAllowed(list, 'local/busybox/sub:1')).toBe(true);
    expect(imageAllowed(list, 'local/busyboxevil:1')).toBe(false);
    expect(imageAllowed(list, 'ghcr.io/acme/app:2')).toBe(true);
    expect(imageAllowed(list, 'ghcr.io/acmeevil/app')).toBe(false);
    expect(imageAllowed(list, 'nginx:1.27')).toBe(true);
    expect(imageAllowed(list, 'nginx:latest')).toBe(false);
    expect(imageAllowed(list, 'sha256:'.padEnd(71, 'a'))).toBe(false);
    expect(imageAllowed(['local/*'], 'local/busybox:1')).toBe(true);
    expect(imageAllowed(['local/*'], 'localx/busybox:1')).toBe(false);
  });

  it('allows any image when the allowlist is empty', () => {
    expect(imageAllowed([], 'anything.example/x:1')).toBe(true);
  });
});

const PREFIX = 'i10b-img-';
const EVIL = `local/${PREFIX}busyboxevil:1`;
const engine = await requireEngine();

describe.runIf(engine)('image allowlist on container create (real engine)', () => {
  const docker = engine as DockerEngine;
  let app: FastifyInstance;

  beforeAll(async () => {
    await cleanup(docker, PREFIX);
    await tagImage(BUSYBOX, EVIL);
    app = await makeApp({ DOCKER_AGENT_IMAGE_ALLOWLIST: `local/${PREFIX}busybox,redis` });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup(docker, PREFIX);
    await docker.removeImage(EVIL, { force: true, noprune: false }).catch(() => undefined);
    docker.close();
  });

  it.each([EVIL, 'redis.evil.io/x:1'])('refuses %s, which only shares a prefix with an entry', async (image) => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/containers',
      ...json({ image, name: `${PREFIX}c`, pull: false }),
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'POLICY_DENIED', rule: 'image-not-allowed', field: 'image' });
  });
});
