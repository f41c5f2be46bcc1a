import { z } from 'zod';
import { BoolQuery, LabelFilter, Labels, RepeatedQuery, ResourceName, ResourceRef } from '../../schemas/common.ts';

export const VolumeParams = z.object({ name: ResourceRef.describe('Volume name') });

export const CreateVolumeBody = z.strictObject({
  name: ResourceName.optional().describe('Omitted: Docker picks a random name'),
  driver: z
    .string()
    .max(255)
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.:/-]*$/, 'must be a driver name')
    .default('local'),
  driverOpts: z.record(z.string().max(255), z.string().max(4096)).optional(),
  labels: Labels.optional(),
});

export const ListVolumesQuery = z.strictObject({
  label: RepeatedQuery(LabelFilter).optional(),
  dangling: BoolQuery.optional().describe('Only volumes no container uses'),
});

export const RemoveVolumeQuery = z.strictObject({ force: BoolQuery.default(false) });

export const Volume = z
  .object({
    name: z.string(),
    driver: z.string(),
    mountpoint: z.string(),
    scope: z.string(),
    createdAt: z.string().optional(),
    labels: z.record(z.string(), z.string()),
    options: z.record(z.string(), z.string()),
  })
  .meta({ id: 'Volume' });
export const VolumeList = z.object({ volumes: z.array(Volume), count: z.number() });
