import type { DockerEngine, Filters, PruneReport } from '../../docker/engine.ts';
import { dockerStatus } from '../../docker/errors.ts';
import type { Guard } from '../../policy/guard.ts';

interface RawInfo {
  ID?: string;
  Name?: string;
  ServerVersion?: string;
  OperatingSystem?: string;
  OSType?: string;
  Architecture?: string;
  KernelVersion?: string;
  NCPU?: number;
  MemTotal?: number;
  Driver?: string;
  CgroupVersion?: string;
  DockerRootDir?: string;
  Containers?: number;
  ContainersRunning?: number;
  ContainersPaused?: number;
  ContainersStopped?: number;
  Images?: number;
}

export async function systemInfo(engine: DockerEngine) {
  const i = (await engine.info()) as RawInfo;
  return {
    id: i.ID ?? '',
    name: i.Name ?? '',
    serverVersion: i.ServerVersion ?? '',
    operatingSystem: i.OperatingSystem ?? '',
    osType: i.OSType ?? '',
    architecture: i.Architecture ?? '',
    kernelVersion: i.KernelVersion ?? '',
    cpus: i.NCPU ?? 0,
    memTotal: i.MemTotal ?? 0,
    storageDriver: i.Driver ?? '',
    cgroupVersion: i.CgroupVersion ?? '',
    dockerRootDir: i.DockerRootDir ?? '',
    containers: {
      total: i.Containers ?? 0,
      running: i.ContainersRunning ?? 0,
      paused: i.ContainersPaused ?? 0,
      stopped: i.ContainersStopped ?? 0,
    },
    images: i.Images ?? 0,
  };
}

export async function systemVersion(engine: DockerEngine) {
  const negotiated = await engine.negotiate();
  const v = (await engine.version()) as Record<string, string | undefined>;
  return {
    version: v.Version ?? '',
    apiVersion: v.ApiVersion ?? '',
    minApiVersion: v.MinAPIVersion ?? '',
    negotiatedApiVersion: negotiated.apiVersion,
    gitCommit: v.GitCommit ?? '',
    goVersion: v.GoVersion ?? '',
    os: v.Os ?? '',
    arch: v.Arch ?? '',
    kernelVersion: v.KernelVersion ?? '',
  };
}

interface RawDf {
  LayersSize?: number;
  Images?: { Size?: number; SharedSize?: number; Containers?: number }[] | null;
  Containers?: { SizeRw?: number; State?: string }[] | null;
  Volumes?: { UsageData?: { Size?: number; RefCount?: number } }[] | null;
  BuildCache?: { ID: string; Size?: number; InUse?: boolean }[] | null;
}

export async function diskUsage(engine: DockerEngine) {
  const d = (await engine.df()) as RawDf;
  const images = d.Images ?? [];
  const containers = d.Containers ?? [];
  const volumes = d.Volumes ?? [];
  const cache = d.BuildCache ?? [];
  const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((n, x) => n + Math.max(0, f(x)), 0);
  return {
    layersSize: d.LayersSize ?? 0,
    images: {
      count: images.length,
      size: sum(images, (i) => i.Size ?? 0),
      reclaimable: sum(
        images.filter((i) => (i.Containers ?? 0) === 0),
        (i) => (i.Size ?? 0) - (i.SharedSize ?? 0),
      ),
    },
    containers: {
      count: containers.length,
      size: sum(containers, (c) => c.SizeRw ?? 0),
      reclaimable: sum(
        containers.filter((c) => c.State !== 'running'),
        (c) => c.SizeRw ?? 0,
      ),
    },
    volumes: {
      count: volumes.length,
      size: sum(volumes, (v) => v.UsageData?.Size ?? 0),
      reclaimable: sum(
        volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0),
        (v) => v.UsageData?.Size ?? 0,
      ),
    },
    buildCache: {
      count: cache.length,
      size: sum(cache, (c) => c.Size ?? 0),
      reclaimable: sum(
        cache.filter((c) => !c.InUse),
        (c) => c.Size ?? 0,
      ),
    },
  };
}

export interface PruneRequest {
  containers: boolean;
  images: boolean;
  allImages: boolean;
  volumes: boolean;
  networks: boolean;
  buildCache: boolean;
  labels?: string[];
  dryRun: boolean;
}

const section = (r: PruneReport) => ({ removed: r.deleted, count: r.deleted.length, spaceReclaimed: r.spaceReclaimed });
const PREDEFINED = new Set(['bridge', 'host', 'none']);

/**
 * Prune what the body chooses. Protected containers (the protect label) are excluded by a
 * `label!=` filter the engine applies itself; a dry run lists by the same rules Docker prunes by.
 * The rest of the guarded stack (the agent's own compose project) cannot be named in an engine
 * filter next to that one (the engine ANDs them), so when a stopped container of it would match,
 * the candidates are removed one by one instead.
 */
export async function prune(engine: DockerEngine, body: PruneRequest, protectLabel: string, guard: Guard) {
  const labels: Filters = body.labels?.length ? { label: body.labels } : {};
  const result: Record<string, ReturnType<typeof section>> = {};

  if (body.containers) {
    const filters: Filters = { ...labels, 'label!': [protectLabel] };
    const stopped = await engine.listContainers({
      all: true,
      filters: { ...labels, status: ['created', 'exited', 'dead'] },
    });
    const stack = await guard.stack();
    const unlabelled = stopped.filter((c) => !(protectLabel in (c.Labels ?? {})));
    const candidates = unlabelled.filter((c) => !stack.byId(c.Id));
    if (body.dryRun) {
      result.containers = section({ deleted: candidates.map((c) => c.Id), spaceReclaimed: 0 });
    } else if (candidates.length === unlabelled.length) {
      result.containers = section(await engine.pruneContainers(filters));
    } else {
      const removed: string[] = [];
      for (const c of candidates) {
        try {
          await engine.removeContainer(c.Id, { force: false, volumes: false });
          removed.push(c.Id);
        } catch (error) {
          // Started or removed meanwhile: a prune leaves it, as the engine's would.
          if (dockerStatus(error) !== 404 && dockerStatus(error) !== 409) throw error;
        }
      }
      result.containers = section({ deleted: removed, spaceReclaimed: 0 });
    }
  }
  if (body.images) {
    const filters: Filters = { ...labels, dangling: [body.allImages ? 'false' : 'true'] };
    if (body.dryRun) {
      const used = new Set((await engine.listContainers({ all: true })).map((c) => c.ImageID));
      const images = await engine.listImages({
        all: false,
        filters: { ...labels, ...(body.allImages ? {} : { dangling: ['true'] }) },
      });
      const candidates = images.filter((i) => !used.has(i.Id));
      result.images = section({
        deleted: candidates.map((i) => i.Id),
        spaceReclaimed: candidates.reduce((n, i) => n + i.Size, 0),
      });
    } else result.images = section(await engine.pruneImages(filters));
  }
  if (body.volumes) {
    if (body.dryRun) {
      const unused = await engine.listVolumes({ ...labels, dangling: ['true'] });
      result.volumes = section({ deleted: unused.map((v) => v.Name), spaceReclaimed: 0 });
    } else result.volumes = section(await engine.pruneVolumes(labels));
  }
  if (body.networks) {
    if (body.dryRun) {
      const unused = (await engine.listNetworks({ ...labels, dangling: ['true'] })).filter(
        (n) => !PREDEFINED.has(n.Name),
      );
      result.networks = section({ deleted: unused.map((n) => n.Name), spaceReclaimed: 0 });
    } else result.networks = section(await engine.pruneNetworks(labels));
  }
  if (body.buildCache) {
    if (body.dryRun) {
      const cache = ((await engine.df()) as RawDf).BuildCache ?? [];
      const idle = cache.filter((c) => !c.InUse);
      result.buildCache = section({
        deleted: idle.map((c) => c.ID),
        spaceReclaimed: idle.reduce((n, c) => n + (c.Size ?? 0), 0),
      });
    } else result.buildCache = section(await engine.pruneBuildCache());
  }
  return { dryRun: body.dryRun, ...result };
}
