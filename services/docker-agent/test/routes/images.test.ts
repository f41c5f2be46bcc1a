import { readFileSync } from 'node:fs';
import { eventually, testLogStream } from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import type { DockerEngine } from '../../src/docker/engine.ts';
import { BUSYBOX, cleanup, json, listen, ndjson, readAll, requireEngine, testConfig } from '../support/helpers.ts';
import { startRegistry, type TestRegistry } from '../support/registry.ts';
import { tarOf } from '../support/tar.ts';

const PREFIX = 'da-img-';
const engine = await requireEngine();

describe.runIf(engine)('images (real engine)', () => {
  const docker = engine as DockerEngine;
  let app: FastifyInstance;
  let base: string;
  let registry: TestRegistry;
  let auditFile: string;
  const audited = () =>
    readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(async () => {
    await cleanup(docker, PREFIX);
    registry = await startRegistry();
    const config = testConfig({ DOCKER_AGENT_HEARTBEAT_MS: '60000', DOCKER_AGENT_BUILD_MAX_BYTES: String(64 * 1024) });
    auditFile = config.DOCKER_AGENT_AUDIT_FILE;
    app = await buildApp(config, { logStream: testLogStream('docker-agent') });
    base = await listen(app);
  });
  afterAll(async () => {
    await app?.close();
    await registry?.close();
    const pulled = await docker.listImages({ all: false, filters: { reference: [`${registry.host}/*/*`] } });
    await Promise.all(pulled.map((i) => docker.removeImage(i.Id, { force: true, noprune: false }).catch(() => {})));
    await cleanup(docker, PREFIX);
    docker.close();
  });

  const post = (path: string, body: unknown, signal?: AbortSignal) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
  const build = (tar: Buffer, query: string, signal?: AbortSignal) =>
    fetch(`${base}/api/v1/images/build?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-tar' },
      body: tar,
      ...(signal ? { signal } : {}),
    });

  it('lists and inspects images, by reference with an encoded slash', async () => {
    const list = await app.inject({ method: 'GET', url: '/api/v1/images?reference=local/busybox' });
    expect(list.statusCode).toBe(200);
    expect(list.json().images.some((i: { repoTags: string[] }) => i.repoTags.includes(BUSYBOX))).toBe(true);
    const one = await app.inject({ method: 'GET', url: `/api/v1/images/${encodeURIComponent(BUSYBOX)}` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ repoTags: expect.arrayContaining([BUSYBOX]), os: 'linux' });
    const missing = await app.inject({ method: 'GET', url: '/api/v1/images/da-img-none:1' });
    expect(missing.statusCode).toBe(404);
    const hostile = await app.inject({ method: 'GET', url: `/api/v1/images/${encodeURIComponent('../../x')}` });
    expect(hostile.statusCode).toBe(400);
    expect(hostile.json().issues[0].field).toBe('params.id');
  });

  it('pulls from a registry and streams progress to the end (NDJSON, nginx-friendly headers)', async () => {
    const image = `${registry.host}/da/ok:1`;
    const res = await post('/api/v1/images/pull', { image });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const events = await readAll(res);
    expect(events.some((e) => e.type === 'progress' && /Pull complete|Download complete/.test(String(e.status)))).toBe(
      true,
    );
    const last = events.at(-1);
    expect(last).toMatchObject({ type: 'done', image });
    const inspected = await docker.inspectImage(image);
    expect(last?.id).toBe(inspected.Id);
    await eventually(() => expect(docker.openConnections()).toBe(0));
  });

  it('an unknown image is a 404 problem before any stream starts', async () => {
    const res = await post('/api/v1/images/pull', { image: `${registry.host}/da/missing:1` });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const body = (await res.json()) as { detail: string };
    expect(body).toMatchObject({ code: 'IMAGE_NOT_FOUND', image: `${registry.host}/da/missing:1` });
    expect(body.detail).toContain('da/missing');
  });

  it("the seed's pull of redis:latest with no registry reachable is a 502 naming the image and Docker's message", async () => {
    const res = await post('/api/v1/images/pull', { image: 'redis:latest' });
    expect([404, 502]).toContain(res.status);
    const body = (await res.json()) as { detail: string };
    expect(body.detail).toContain('redis:latest');
    expect(body.detail).toMatch(/registry|lookup|dial|not found/i);
  });

  it('a failure inside a started pull stream ends it with an error event', async () => {
    const res = await post('/api/v1/images/pull', { image: `${registry.host}/da/corrupt:1` });
    expect(res.status).toBe(200);
    const events = await readAll(res);
    expect(events[0]?.type).toBe('progress');
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'PULL_FAILED' });
    expect(String(events.at(-1)?.message)).toMatch(/verification failed|digest/i);
    await eventually(() =>
      expect(audited()).toContainEqual(
        expect.objectContaining({ action: 'image.pull', result: 'error', status: 200, detail: events.at(-1)?.message }),
      ),
    );
  });

  it('abandoning a pull midway closes the engine stream and the engine cancels the download', async () => {
    const abort = new AbortController();
    const res = await post('/api/v1/images/pull', { image: `${registry.host}/da/slow:1` }, abort.signal);
    expect(res.status).toBe(200);
    const seen: Record<string, unknown>[] = [];
    for await (const event of ndjson(res)) {
      seen.push(event);
      if (event.status === 'Downloading') break;
    }
    expect(docker.openConnections()).toBe(0); // the test's own engine is idle
    await eventually(() => expect(app.docker.openConnections()).toBeGreaterThanOrEqual(1));
    abort.abort();
    await eventually(() => expect(app.docker.openConnections()).toBe(0));
    await eventually(() => expect(registry.abortedBlobRequests).toBeGreaterThanOrEqual(1), 10_000);
    expect(seen.some((e) => e.status === 'Downloading')).toBe(true);
    await eventually(() =>
      expect(audited()).toContainEqual(
        expect.objectContaining({ action: 'image.pull', target: `${registry.host}/da/slow:1`, result: 'aborted' }),
      ),
    );
  });

  it('builds from an uploaded tar, streaming builder output to the end', async () => {
    const tar = await tarOf({
      Dockerfile: `FROM ${BUSYBOX}\nRUN echo built-in-test > /built\nCMD ["cat", "/built"]\n`,
    });
    const res = await build(tar, 't=da-img-built:1');
    expect(res.status).toBe(200);
    const events = await readAll(res);
    expect(events.some((e) => e.type === 'build' && String(e.message).includes('Step 1/3'))).toBe(true);
    const done = events.at(-1);
    expect(done).toMatchObject({ type: 'done', tags: ['da-img-built:1'] });
    const image = await docker.inspectImage('da-img-built:1');
    expect(image.Id).toContain(String(done?.imageId).replace('sha256:', ''));
    await eventually(() => expect(app.docker.openConnections()).toBe(0));
  });

  it('a failing build step ends the stream with a BUILD_FAILED error event', async () => {
    const tar = await tarOf({ Dockerfile: `FROM ${BUSYBOX}\nRUN echo about to fail && exit 3\n` });
    const events = await readAll(await build(tar, 't=da-img-failed:1'));
    expect(events.some((e) => e.type === 'build' && String(e.message).includes('about to fail'))).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'BUILD_FAILED' });
    expect(String(events.at(-1)?.message)).toContain('returned a non-zero code: 3');
  });

  it('abandoning a build midway releases the engine stream and the engine cancels the build', async () => {
    const tar = await tarOf({ Dockerfile: `FROM ${BUSYBOX}\nRUN sleep 2 && echo late\n` });
    const abort = new AbortController();
    const res = await build(tar, 't=da-img-abandoned:1', abort.signal);
    expect(res.status).toBe(200);
    for await (const event of ndjson(res)) {
      if (String(event.message).includes('Step 2/2')) break;
    }
    abort.abort();
    await eventually(() => expect(app.docker.openConnections()).toBe(0));
    await new Promise((r) => setTimeout(r, 3500));
    const tagged = await docker.listImages({ all: false, filters: { reference: ['da-img-abandoned:1'] } });
    expect(tagged).toHaveLength(0);
  });

  it('refuses contexts over the size limit (413) and contexts that are not tar (415)', async () => {
    const big = await tarOf({ Dockerfile: `FROM ${BUSYBOX}\n`, blob: Buffer.alloc(128 * 1024, 1) });
    const tooLarge = await build(big, 't=da-img-big:1');
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ code: 'BUILD_CONTEXT_TOO_LARGE' });
    const chunked = await fetch(`${base}/api/v1/images/build?t=da-img-big:2`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-tar' },
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    const wrongType = await app.inject({
      method: 'POST',
      url: '/api/v1/images/build?t=da-img-x:1',
      ...json({ dockerfile: 'x' }),
    });
    expect(wrongType.statusCode).toBe(415);
  });

  it('removes an image; an image used by a container is a 409 without force', async () => {
    const tar = await tarOf({ Dockerfile: `FROM ${BUSYBOX}\nLABEL da=1\n` });
    await readAll(await build(tar, 't=da-img-rm:1'));
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/containers',
      ...json({ image: 'da-img-rm:1', name: 'da-img-user' }),
    });
    expect(created.statusCode).toBe(201);
    const inUse = await app.inject({ method: 'DELETE', url: '/api/v1/images/da-img-rm:1' });
    expect(inUse.statusCode).toBe(409);
    await app.inject({ method: 'DELETE', url: '/api/v1/containers/da-img-user' });
    const removed = await app.inject({ method: 'DELETE', url: '/api/v1/images/da-img-rm:1' });
    expect(removed.statusCode).toBe(200);
    expect(removed.json().untagged).toContain('da-img-rm:1');
    const gone = await app.inject({ method: 'GET', url: '/api/v1/images/da-img-rm:1' });
    expect(gone.statusCode).toBe(404);
  });
});
