import { z } from 'zod';
import { BoolQuery, LabelFilter, Labels, RepeatedQuery, ResourceName, ResourceRef } from '../../schemas/common.ts';

export const NetworkParams = z.object({ id: ResourceRef.describe('Network id or name') });

const Cidr = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'must be an IPv4 CIDR like 10.10.0.0/24');

export const CreateNetworkBody = z.strictObject({
  name: ResourceName,
  driver: z.enum(['bridge', 'overlay', 'macvlan', 'ipvlan']).default('bridge'),
  internal: z.boolean().default(false),
  attachable: z.boolean().default(false),
  labels: Labels.optional(),
  subnet: Cidr.optional(),
  gateway: z.ipv4().optional(),
});

export const ListNetworksQuery = z.strictObject({
  label: RepeatedQuery(LabelFilter).optional(),
  driver: z
    .string()
    .max(64)
    .regex(/^[a-z0-9_-]+$/, 'must be a driver name')
    .optional(),
  dangling: BoolQuery.optional(),
});

export const ConnectBody = z.strictObject({
  container: ResourceRef.describe('Container id or name'),
  aliases: z.array(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must be a DNS name')).optional(),
});
export const DisconnectBody = z.strictObject({ container: ResourceRef, force: z.boolean().default(false) });

export const Network = z
  .object({
    id: z.string(),
    name: z.string(),
    driver: z.string(),
    scope: z.string(),
    internal: z.boolean(),
    attachable: z.boolean(),
    created: z.string(),
    subnets: z.array(z.string()),
    labels: z.record(z.string(), z.string()),
    containers: z.array(z.object({ id: z.string(), name: z.string(), ipv4Address: z.string() })),
  })
  .meta({ id: 'Network' });
export const NetworkList = z.object({ networks: z.array(Network), count: z.number() });
