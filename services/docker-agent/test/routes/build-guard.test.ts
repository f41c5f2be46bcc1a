import { execFile } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.ts';
import { BUSYBOX, cleanup, json, makeApp, requireEngine, tagImage } from '../support/helpers.ts';
import { tarOf } from '../support/tar.ts';

const PREFIX = 'i10b-build-';
const BASE = `local/${PREFIX}base:1`;
const RUNNING = `local/${PREFIX}run:1`;
const OUT = `local/${PREFIX}out`;
const LABELLED = `local/${PREFIX}labelled:1`;
const PROTECT = 'com.portone-docker-stack.protected';
const engine = await requireEngine();

describe.runIf(engine)('image builds and the policy (real engine)', () => {
  const docker = engine as DockerEngine;
  let app: FastifyInstance;

  const build = async (dockerfile: string, query = `t=${OUT}:1`) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/images/build?${query}`,
      headers: { 'content-type': 'application/x-tar' },
      payload: await tarOf({ Dockerfile: dockerfile }),
    });
  const denied = (res: { statusCode: number; body: string; json(): unknown }, rule: string, field?: string) => {
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json()).toMatchObject({ code: 'POLICY_DENIED', rule, ...(field ? { field } : {}) });
  };

  beforeAll(async () => {
    await cleanup(docker, PREFIX);
    for (const tag of [BASE, RUNNING]) await tagImage(BUSYBOX, tag);
    const { id } = await docker.createContainer({
      Image: RUNNING,
      name: `${PREFIX}prot`,
      Cmd: ['sleep', '600'],
      Labels: { [PROTECT]: 'true' },
    });
    await docker.startContainer(id);
    app = await makeApp({
      DOCKER_AGENT_IMAGE_ALLOWLIST: [BASE, RUNNING, OUT, LABELLED].map((i) => i.replace(/:1$/, '')).join(','),
    });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup(docker, PREFIX);
    for (const tag of [BASE, RUNNING, `${OUT}:1`, LABELLED]) {
      await docker.removeImage(tag, { force: true, noprune: false }).catch(() => undefined);
    }
    docker.close();
  });

  it('refuses building or pulling a tag a guarded container runs', async () => {
    denied(await build(`FROM ${BASE}\n`, `t=${encodeURIComponent(RUNNING)}`), 'guarded-image-tag', 't');
    const pull = await app.inject({ method: 'POST', url: '/api/v1/images/pull', ...json({ image: RUNNING }) });
    denied(pull, 'guarded-image-tag', 'image');
  });

  it('refuses removing the image a guarded container runs, by tag or id', async () => {
    denied(
      await app.inject({ method: 'DELETE', url: `/api/v1/images/${encodeURIComponent(RUNNING)}?force=true` }),
      'guarded-image-tag',
      'id',
    );
    const id = (await docker.inspectImage(RUNNING)).Id;
    denied(await app.inject({ method: 'DELETE', url: `/api/v1/images/${id}?force=true` }), 'guarded-image-tag', 'id');
    await expect(docker.inspectImage(RUNNING)).resolves.toMatchObject({ Id: id });
  });

  it('holds FROM, COPY --from and RUN --mount from images to the image allowlist', async () => {
    denied(await build(`FROM ${BUSYBOX}\n`), 'image-not-allowed', 'dockerfile:Dockerfile:1');
    denied(
      await build(`FROM ${BASE} AS a\nFROM a\nCOPY --from=${BUSYBOX} /bin/sh /x\n`),
      'image-not-allowed',
      'dockerfile:Dockerfile:3',
    );
    denied(await build(`FROM ${BASE}\nRUN --mount=type=bind,from=${BUSYBOX},target=/m true\n`), 'image-not-allowed');
    denied(await build(`FROM ${BASE}\nONBUILD COPY --from=${BUSYBOX} /bin/sh /x\n`), 'image-not-allowed');
  });

  it('resolves ARG defaults in FROM and refuses what cannot be resolved', async () => {
    denied(await build(`ARG B=${BUSYBOX}\nFROM \${B}\n`), 'image-not-allowed', 'dockerfile:Dockerfile:2');
    denied(await build(`ARG B\nFROM $B\n`), 'image-not-allowed', 'dockerfile:Dockerfile:2');
    const ok = await build(`ARG B=${BASE}\nFROM \${B} AS first\nFROM first\nCOPY --from=first /bin/sh /copied\n`);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.body).toContain('"type":"done"');
  });

  it('refuses reserved labels in the Dockerfile and on images a container is created from', async () => {
    denied(await build(`FROM ${BASE}\nLABEL "${PROTECT}"=true\n`), 'reserved-label');
    denied(await build(`FROM ${BASE}\nLABEL com.docker.compose.project=other\n`), 'reserved-label');
    // An image carrying one anyway (built or pulled elsewhere) cannot lend it to a container.
    await new Promise<void>((resolve, reject) => {
      const child = execFile(
        'docker',
        ['-H', `unix://${docker.socketPath}`, 'build', '-q', '-t', LABELLED, '-'],
        (err) => (err ? reject(err) : resolve()),
      );
      child.stdin?.end(`FROM ${BASE}\nLABEL ${PROTECT}=true\n`);
    });
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/containers',
      ...json({ image: LABELLED, name: `${PREFIX}c` }),
    });
    denied(res, 'reserved-label', `image.labels.${PROTECT}`);
  });
});
