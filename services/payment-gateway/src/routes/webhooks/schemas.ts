import { z } from 'zod';
import { ImpUid } from '../../schemas/common.ts';

/**
 * PortOne's V1 notification: JSON or form-encoded, unsigned, and PortOne may add fields — a loose
 * object. Only imp_uid and status are needed; the payment itself is always re-fetched.
 */
export const WebhookBody = z
  .looseObject({
    imp_uid: ImpUid,
    merchant_uid: z.string().max(40).optional(),
    status: z.string().min(1).max(20).meta({ description: 'ready, paid, cancelled or failed' }),
    cancellation_id: z.string().max(100).optional(),
  })
  .meta({ id: 'PortOneWebhook' });

export const WebhookAckSchema = z.object({
  received: z.literal(true),
  id: z.union([z.number(), z.string()]),
  state: z.enum(['received', 'processed', 'duplicate', 'forged', 'failed', 'ignored', 'sandbox']),
});
