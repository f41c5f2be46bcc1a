import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

/**
 * A minimal Docker registry (API v2, schema 2 manifests) on 127.0.0.1, the only registry a pull can
 * reach here: the engine trusts 127.0.0.0/8 as an insecure registry. Each repository behaves as its
 * name says: `ok` serves a real one-layer image, `slow` drips its layer (to abandon a pull midway),
 * `corrupt` serves a layer whose bytes do not match its digest (an error inside the pull stream);
 * anything else is unknown (404).
 */
export interface TestRegistry {
  host: string;
  /** Blob requests the engine closed before the layer was sent: the pull was cancelled. */
  abortedBlobRequests: number;
  close(): Promise<void>;
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function layerTar(): Promise<Buffer> {
  const p = pack();
  // Incompressible content, so the layer is big enough to be abandoned mid-download.
  p.entry({ name: 'hello.txt' }, randomBytes(512 * 1024));
  p.entry({ name: 'greeting' }, 'hello from the test registry\n');
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of p as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

interface Image {
  config: Buffer;
  layer: Buffer;
  manifest: Buffer;
}

/** A one-layer image of its own (each mode gets different bytes, so no layer is shared or cached). */
async function makeImage(): Promise<Image> {
  const tar = await layerTar();
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/greeting'] },
      rootfs: { type: 'layers', diff_ids: [sha(tar)] },
      history: [{ created_by: 'test registry' }],
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
      layers: [
        { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: sha(layer) },
      ],
    }),
  );
  return { config, layer, manifest };
}

export async function startRegistry(): Promise<TestRegistry> {
  const images: Record<string, Image> = {
    ok: await makeImage(),
    slow: await makeImage(),
    corrupt: await makeImage(),
  };
  const state = { abortedBlobRequests: 0 };
  const timers = new Set<NodeJS.Timeout>();

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    const url = req.url ?? '';
    if (url === '/v2/' || url === '/v2') return res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url);
    const repo = m?.[1] ?? '';
    const mode = repo.split('/').pop() ?? '';
    const image = images[mode];
    if (!m || !image) {
      return res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] }));
    }
    const { manifest, config, layer } = image;
    if (m[2] === 'manifests') {
      res.writeHead(200, {
        'content-type': 'application/vnd.docker.distribution.manifest.v2+json',
        'docker-content-digest': sha(manifest),
        'content-length': manifest.length,
      });
      return res.end(req.method === 'HEAD' ? undefined : manifest);
    }
    const digest = m[3];
    if (digest === sha(config)) {
      return res.writeHead(200, { 'content-length': config.length }).end(config);
    }
    if (digest !== sha(layer)) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': layer.length });
    if (mode === 'ok') return res.end(layer);
    if (mode === 'corrupt') {
      const wrong = Buffer.from(layer);
      wrong[wrong.length - 100] = (wrong[wrong.length - 100] ?? 0) ^ 0xff;
      return res.end(wrong);
    }
    // slow: 16 KiB now, the rest a drip that outlasts any test; the engine's cancel closes it.
    res.write(layer.subarray(0, 16 * 1024));
    let offset = 16 * 1024;
    const timer = setInterval(() => {
      if (offset >= layer.length - 1024) return;
      res.write(layer.subarray(offset, offset + 256));
      offset += 256;
    }, 200);
    timers.add(timer);
    res.on('close', () => {
      clearInterval(timer);
      timers.delete(timer);
      if (!res.writableFinished) state.abortedBlobRequests++;
    });
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    get abortedBlobRequests() {
      return state.abortedBlobRequests;
    },
    async close() {
      for (const t of timers) clearInterval(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
