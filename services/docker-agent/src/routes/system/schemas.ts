import { z } from 'zod';
import { LabelFilter } from '../../schemas/common.ts';

export const SystemInfo = z
  .object({
    id: z.string(),
    name: z.string(),
    serverVersion: z.string(),
    operatingSystem: z.string(),
    osType: z.string(),
    architecture: z.string(),
    kernelVersion: z.string(),
    cpus: z.number(),
    memTotal: z.number(),
    storageDriver: z.string(),
    cgroupVersion: z.string(),
    dockerRootDir: z.string(),
    containers: z.object({ total: z.number(), running: z.number(), paused: z.number(), stopped: z.number() }),
    images: z.number(),
  })
  .meta({ id: 'SystemInfo' });

export const SystemVersion = z
  .object({
    version: z.string(),
    apiVersion: z.string(),
    minApiVersion: z.string(),
    negotiatedApiVersion: z.string(),
    gitCommit: z.string(),
    goVersion: z.string(),
    os: z.string(),
    arch: z.string(),
    kernelVersion: z.string(),
  })
  .meta({ id: 'SystemVersion' });

const Usage = z.object({ count: z.number(), size: z.number(), reclaimable: z.number() });
export const DiskUsage = z
  .object({
    layersSize: z.number(),
    images: Usage,
    containers: Usage,
    volumes: Usage,
    buildCache: Usage,
  })
  .meta({ id: 'DiskUsage' });

export const PruneBody = z
  .strictObject({
    containers: z.boolean().default(false).describe('Stopped containers (never ones with the protect label)'),
    images: z.boolean().default(false).describe('Dangling images'),
    allImages: z.boolean().default(false).describe('With images: every image no container uses, not only dangling'),
    volumes: z.boolean().default(false).describe('Volumes no container uses'),
    networks: z.boolean().default(false).describe('Custom networks no container uses'),
    buildCache: z.boolean().default(false).describe('Build cache not in use (label filters do not apply)'),
    labels: z.array(LabelFilter).optional().describe('Only resources carrying these labels (key or key=value)'),
    dryRun: z.boolean().default(false).describe('List what would be removed, remove nothing'),
  })
  .refine((b) => b.containers || b.images || b.volumes || b.networks || b.buildCache, {
    message: 'choose at least one of containers, images, volumes, networks, buildCache',
  });

const PruneSection = z.object({
  removed: z.array(z.string()).describe('Ids or names removed (or, on a dry run, that would be)'),
  count: z.number(),
  spaceReclaimed: z.number().describe('Bytes; on a dry run an estimate where Docker reports sizes'),
});
export const PruneResult = z
  .object({
    dryRun: z.boolean(),
    containers: PruneSection.optional(),
    images: PruneSection.optional(),
    volumes: PruneSection.optional(),
    networks: PruneSection.optional(),
    buildCache: PruneSection.optional(),
  })
  .meta({ id: 'PruneResult' });
