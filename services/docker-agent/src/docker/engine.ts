import { Agent, request } from 'node:http';
import type { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { exchange } from '@repo/portone-client/transport';
import type Docker from 'dockerode';
import { Pool } from 'undici';
import { type EngineBody, EngineBodyReader } from './body.ts';
import { EngineAnswerError } from './errors.ts';

export type {
  ContainerCreateOptions,
  ContainerInfo,
  ContainerInspectInfo,
  HostConfig,
  ImageInfo,
  ImageInspectInfo,
  MountSettings,
  NetworkInspectInfo,
  VolumeInspectInfo,
} from 'dockerode';
export type { EngineBody } from './body.ts';

import type {
  ContainerCreateOptions,
  ContainerInfo,
  ContainerInspectInfo,
  ImageInfo,
  ImageInspectInfo,
  NetworkInspectInfo,
  VolumeInspectInfo,
} from 'dockerode';

/** Docker list filters: `{ label: ['a=b'], status: ['running'] }`. */
export type Filters = Record<string, string[]>;

export interface PruneReport {
  deleted: string[];
  spaceReclaimed: number;
}

export interface EngineOptions {
  socketPath: string;
  /** Highest API version the agent speaks; the engine's own version is used when lower. */
  maxApiVersion?: string;
}

/**
 * The agent's port to the Docker engine: the operations the routes use, nothing more. Everything
 * dockerode-specific stays behind it, including the HTTP agent whose sockets are the engine
 * connections (counted by `openConnections`, which is how the tests prove streams are released).
 */
export interface DockerEngine {
  readonly socketPath: string;
  /** Engine connections currently carrying a request or a stream. */
  openConnections(): number;
  /** Asks the engine its version and pins the API version both sides speak. */
  negotiate(): Promise<{ apiVersion: string; engineVersion: string; engineApiVersion: string }>;
  ping(): Promise<void>;
  info(): Promise<Record<string, unknown>>;
  version(): Promise<Record<string, unknown>>;
  df(): Promise<Record<string, unknown>>;

  listContainers(options: { all: boolean; filters?: Filters }): Promise<ContainerInfo[]>;
  inspectContainer(ref: string): Promise<ContainerInspectInfo>;
  createContainer(options: ContainerCreateOptions): Promise<{ id: string; warnings: string[] }>;
  startContainer(ref: string): Promise<void>;
  stopContainer(ref: string, timeoutSeconds?: number): Promise<void>;
  restartContainer(ref: string, timeoutSeconds?: number): Promise<void>;
  removeContainer(ref: string, options: { force: boolean; volumes: boolean }): Promise<void>;
  containerLogs(ref: string, options: LogOptions, signal?: AbortSignal): Promise<EngineBody>;
  containerStats(ref: string, options: { stream: boolean }, signal?: AbortSignal): Promise<EngineBody>;
  pruneContainers(filters: Filters): Promise<PruneReport>;

  listImages(options: { all: boolean; filters?: Filters }): Promise<ImageInfo[]>;
  inspectImage(ref: string): Promise<ImageInspectInfo>;
  /** `auth` is Docker's AuthConfig for the image's registry (sent as X-Registry-Auth, never logged). */
  pullImage(ref: string, signal?: AbortSignal, auth?: Record<string, string>): Promise<Readable>;
  buildImage(context: Readable, options: BuildOptions, signal?: AbortSignal): Promise<Readable>;
  removeImage(
    ref: string,
    options: { force: boolean; noprune: boolean },
  ): Promise<{ deleted: string[]; untagged: string[] }>;
  pruneImages(filters: Filters): Promise<PruneReport>;
  pruneBuildCache(): Promise<PruneReport>;

  listVolumes(filters?: Filters): Promise<VolumeInspectInfo[]>;
  inspectVolume(name: string): Promise<VolumeInspectInfo>;
  createVolume(options: {
    Name?: string;
    Driver?: string;
    DriverOpts?: Record<string, string>;
    Labels?: Record<string, string>;
  }): Promise<VolumeInspectInfo>;
  removeVolume(name: string, force: boolean): Promise<void>;
  pruneVolumes(filters: Filters): Promise<PruneReport>;

  listNetworks(filters?: Filters): Promise<NetworkInspectInfo[]>;
  inspectNetwork(ref: string): Promise<NetworkInspectInfo>;
  createNetwork(options: {
    Name: string;
    Driver?: string;
    Internal?: boolean;
    Attachable?: boolean;
    Labels?: Record<string, string>;
    IPAM?: { Config: { Subnet?: string; Gateway?: string }[] };
    CheckDuplicate?: boolean;
  }): Promise<{ id: string }>;
  connectNetwork(ref: string, container: string, aliases?: string[]): Promise<void>;
  disconnectNetwork(ref: string, container: string, force: boolean): Promise<void>;
  removeNetwork(ref: string): Promise<void>;
  pruneNetworks(filters: Filters): Promise<PruneReport>;

  close(): void;
}

export interface LogOptions {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  timestamps: boolean;
  tail: string;
  since?: number;
  until?: number;
}

export interface BuildOptions {
  t?: string;
  dockerfile?: string;
  nocache?: boolean;
  rm?: boolean;
  forcerm?: boolean;
  buildargs?: Record<string, string>;
  labels?: Record<string, string>;
}

const MAX_API_VERSION = '1.43';

function compareVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am - bm || an - bn;
}

/** A streamed answer, destroyed when the caller aborts. */
function abortable(stream: Readable, signal: AbortSignal | undefined): Readable {
  if (signal) {
    if (signal.aborted) stream.destroy();
    else signal.addEventListener('abort', () => stream.destroy(), { once: true });
  }
  return stream;
}

function pruneReport(deleted: (string | undefined)[] | null | undefined, space: number | undefined): PruneReport {
  return { deleted: (deleted ?? []).filter((d): d is string => typeof d === 'string'), spaceReclaimed: space ?? 0 };
}

export function createEngine(options: EngineOptions): DockerEngine {
  // keepAlive reuses engine connections (up to 32 kept idle, so a burst of concurrent requests does
  // not reconnect for most of them) until the engine or close() ends them. No socket timeout: it
  // re-armed a timer and a listener on every engine call (~10 µs of an inspect), and only ever
  // closed idle connections (a call in flight was never cut by it).
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 32 });
  // docker-modem runs util.inspect(request options, { showHidden: true, depth: null }) on every call,
  // debug enabled or not, and the options hold this agent: without this, each engine call walked the
  // agent's pooled sockets (inspect of one container: 0.65 ms instead of 0.27 ms).
  Object.defineProperty(agent, inspect.custom, { value: () => 'Agent(docker engine)' });
  // The start-up and readiness calls (version, ping) are plain node:http requests on the same agent;
  // the reads that carry data (inspect, list, the log and stats streams) are dispatched on one undici
  // pool (direct below). dockerode's modem costs about as much CPU per call as the rest of an inspect
  // request together, and dockerode (with its ssh and gRPC dependencies, ~15 MiB resident, ~0.4 s to
  // load) is loaded only when a route first needs it.
  /** The API version both sides speak (`v1.43`), once negotiated. */
  let apiVersion: string | undefined;
  let loading: Promise<Docker> | undefined;
  type Modem = { version?: string | undefined };
  async function docker(): Promise<Docker> {
    loading ??= import('dockerode').then(
      ({ default: Dockerode }) => new Dockerode({ socketPath: options.socketPath, agent } as Docker.DockerOptions),
    );
    const d = await loading;
    (d.modem as unknown as Modem).version = apiVersion;
    return d;
  }
  let dfInFlight: Promise<Record<string, unknown>> | undefined;

  const maxApi = options.maxApiVersion ?? MAX_API_VERSION;

  /**
   * A start-up or readiness call's answer as text; a non-2xx answer throws the error dockerode would
   * (see errors.ts). node:http, so an agent that only starts and answers its probes never compiles
   * undici's WASM parser (once V8 optimises it, ~10 MiB resident).
   */
  function get(path: string) {
    return new Promise<string>((resolve, reject) => {
      const req = request({ socketPath: options.socketPath, agent, path }, (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (status >= 200 && status < 300) resolve(text);
          else reject(new EngineAnswerError(status, text));
        });
      });
      req.on('error', reject);
      req.end();
    });
  }
  // Inspect, list and the log and stats streams. Against node:http on the agent, an inspect request
  // costs the agent ~19 µs less CPU (README design notes), and a stream's chunks are handed over without the
  // stream machinery node:http runs per chunk (the engine sends each log line as its own chunk; body.ts).
  // No timeouts: a followed stream stays quiet as long as its container is.
  let pool: Pool | undefined;
  const direct = () =>
    (pool ??= new Pool('http://docker', { socketPath: options.socketPath, headersTimeout: 0, bodyTimeout: 0 }));
  const versioned = (path: string) => `${apiVersion ? `/${apiVersion}` : ''}${path}`;
  const getStream = async (
    path: string,
    query: Record<string, string | number | boolean>,
    signal?: AbortSignal,
  ): Promise<EngineBody> => {
    const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
    const reader = new EngineBodyReader(signal);
    direct().dispatch({ method: 'GET', path: `${versioned(path)}?${search}` }, reader);
    await reader.started;
    return reader;
  };
  /** A hot read's answer, parsed; a non-2xx answer throws the error dockerode would (errors.ts). */
  const getJson = async <T>(path: string): Promise<T> => {
    const { status, text } = await exchange(direct(), { method: 'GET', path: versioned(path) });
    if (status < 200 || status >= 300) throw new EngineAnswerError(status, text);
    return JSON.parse(text) as T;
  };

  return {
    socketPath: options.socketPath,
    openConnections() {
      const requests = Object.values(agent.sockets).reduce((n, list) => n + (list?.length ?? 0), 0);
      return requests + (pool?.stats.running ?? 0);
    },
    async negotiate() {
      // Unversioned: the engine answers in its own API version.
      const v = JSON.parse(await get('/version')) as { ApiVersion: string; Version: string };
      const version = compareVersions(v.ApiVersion, maxApi) < 0 ? v.ApiVersion : maxApi;
      apiVersion = `v${version}`;
      return { apiVersion: version, engineVersion: v.Version, engineApiVersion: v.ApiVersion };
    },
    async ping() {
      await get('/_ping');
    },
    async info() {
      return (await (await docker()).info()) as Record<string, unknown>;
    },
    async version() {
      return (await (await docker()).version()) as unknown as Record<string, unknown>;
    },
    // The engine runs one disk-usage operation at a time and refuses the others ("a disk usage
    // operation is already running"): concurrent callers share the one in flight.
    df() {
      dfInFlight ??= docker()
        .then((d) => d.df() as Promise<Record<string, unknown>>)
        .finally(() => {
          dfInFlight = undefined;
        });
      return dfInFlight;
    },

    listContainers: (o) =>
      getJson(`/containers/json?all=${o.all}&filters=${encodeURIComponent(JSON.stringify(o.filters ?? {}))}`),
    inspectContainer: (ref) => getJson(`/containers/${encodeURIComponent(ref)}/json`),
    async createContainer(o) {
      const container = await (await docker()).createContainer(o);
      // dockerode keeps the engine's answer; Warnings may be null.
      const raw = container as unknown as { id: string; Warnings?: string[] | null };
      return { id: raw.id, warnings: raw.Warnings ?? [] };
    },
    async startContainer(ref) {
      await (await docker()).getContainer(ref).start();
    },
    async stopContainer(ref, t) {
      await (await docker()).getContainer(ref).stop(t === undefined ? {} : { t });
    },
    async restartContainer(ref, t) {
      await (await docker()).getContainer(ref).restart(t === undefined ? {} : { t });
    },
    async removeContainer(ref, o) {
      await (await docker()).getContainer(ref).remove({ force: o.force, v: o.volumes });
    },
    containerLogs: (ref, o, signal) =>
      getStream(
        `/containers/${encodeURIComponent(ref)}/logs`,
        {
          follow: o.follow,
          stdout: o.stdout,
          stderr: o.stderr,
          timestamps: o.timestamps,
          tail: o.tail,
          ...(o.since === undefined ? {} : { since: o.since }),
          ...(o.until === undefined ? {} : { until: o.until }),
        },
        signal,
      ),
    containerStats: (ref, o, signal) =>
      getStream(`/containers/${encodeURIComponent(ref)}/stats`, { stream: o.stream }, signal),
    async pruneContainers(filters) {
      const r = await (await docker()).pruneContainers({ filters });
      return pruneReport(r.ContainersDeleted, r.SpaceReclaimed);
    },

    listImages: async (o) =>
      (await docker()).listImages({ all: o.all, filters: o.filters ?? {} } as Docker.ListImagesOptions),
    inspectImage: async (ref) => (await docker()).getImage(ref).inspect(),
    async pullImage(ref, signal, auth) {
      const d = await docker();
      const stream = (await d.pull(ref, {
        abortSignal: signal,
        ...(auth ? { authconfig: auth } : {}),
      })) as Readable;
      return abortable(stream, signal);
    },
    async buildImage(context, o, signal) {
      const d = await docker();
      const stream = (await d.buildImage(context, {
        ...o,
        ...(o.buildargs ? { buildargs: JSON.stringify(o.buildargs) } : {}),
        ...(o.labels ? { labels: JSON.stringify(o.labels) } : {}),
        abortSignal: signal,
      } as unknown as Docker.ImageBuildOptions)) as Readable;
      return abortable(stream, signal);
    },
    async removeImage(ref, o) {
      const r = (await (await docker()).getImage(ref).remove({ force: o.force, noprune: o.noprune })) as unknown as {
        Deleted?: string;
        Untagged?: string;
      }[];
      return {
        deleted: r.flatMap((e) => (e.Deleted ? [e.Deleted] : [])),
        untagged: r.flatMap((e) => (e.Untagged ? [e.Untagged] : [])),
      };
    },
    async pruneImages(filters) {
      const r = await (await docker()).pruneImages({ filters });
      return pruneReport(
        (r.ImagesDeleted ?? []).map((d) => d.Deleted ?? d.Untagged),
        r.SpaceReclaimed,
      );
    },
    async pruneBuildCache() {
      const r = (await (await docker()).pruneBuilder()) as { CachesDeleted?: string[] | null; SpaceReclaimed?: number };
      return pruneReport(r.CachesDeleted, r.SpaceReclaimed);
    },

    async listVolumes(filters) {
      const r = await (await docker()).listVolumes({ filters: filters ?? {} });
      return r.Volumes ?? [];
    },
    inspectVolume: async (name) => (await docker()).getVolume(name).inspect(),
    async createVolume(o) {
      // dockerode answers with a handle, not the volume: inspect it.
      const volume = (await (await docker()).createVolume(o)) as unknown as { name: string };
      return (await docker()).getVolume(volume.name).inspect();
    },
    async removeVolume(name, force) {
      await (await docker()).getVolume(name).remove({ force });
    },
    async pruneVolumes(filters) {
      const r = await (await docker()).pruneVolumes({ filters });
      return pruneReport(r.VolumesDeleted, r.SpaceReclaimed);
    },

    listNetworks: async (filters) => (await docker()).listNetworks({ filters: filters ?? {} }),
    inspectNetwork: async (ref) => (await docker()).getNetwork(ref).inspect(),
    async createNetwork(o) {
      const network = await (await docker()).createNetwork(o);
      return { id: network.id };
    },
    async connectNetwork(ref, container, aliases) {
      const d = await docker();
      await d
        .getNetwork(ref)
        .connect({ Container: container, ...(aliases?.length ? { EndpointConfig: { Aliases: aliases } } : {}) });
    },
    async disconnectNetwork(ref, container, force) {
      await (await docker()).getNetwork(ref).disconnect({ Container: container, Force: force });
    },
    async removeNetwork(ref) {
      await (await docker()).getNetwork(ref).remove();
    },
    async pruneNetworks(filters) {
      const r = await (await docker()).pruneNetworks({ filters });
      return pruneReport(r.NetworksDeleted, 0);
    },

    close() {
      agent.destroy();
      void pool?.destroy();
    },
  };
}
