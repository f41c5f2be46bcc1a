/**
 * Injected transport faults for V1 routes, so a client's timeouts, retries and idempotency can be
 * tested against real sockets. A rule names a route pattern exactly as registered
 * (`/payments/:imp_uid`) or `*`; the first rule that matches a request (and wins its `rate` roll)
 * is applied and uses up one of its `times`.
 */
import { z } from 'zod';

export type FaultKind = 'latency' | 'status' | 'reset' | 'timeout-after-commit';

export const faultSchema = z.strictObject({
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .optional(),
  path: z.string().min(1),
  kind: z.enum(['latency', 'status', 'reset', 'timeout-after-commit']),
  status: z.number().int().min(100).max(599).optional(),
  retryAfter: z.number().int().min(0).optional(),
  delayMs: z.number().int().min(0).optional(),
  times: z.number().int().min(1).optional(),
  rate: z.number().min(0).max(1).optional(),
});

export type FaultInput = z.output<typeof faultSchema>;

export interface FaultRule extends FaultInput {
  id: string;
  /** How many more requests this rule applies to; `undefined` = unlimited. */
  remaining: number | undefined;
  applied: number;
}

export class FaultRegistry {
  private rules: FaultRule[] = [];
  private nextId = 1;
  private readonly random: () => number;

  constructor(random: () => number = Math.random) {
    this.random = random;
  }

  add(input: FaultInput): FaultRule {
    const rule: FaultRule = { ...input, id: `fault_${this.nextId++}`, remaining: input.times, applied: 0 };
    this.rules.push(rule);
    return rule;
  }

  list(): FaultRule[] {
    return [...this.rules];
  }

  clear(): void {
    this.rules = [];
  }

  /** The rule to apply to this request, consuming one use of it, or `undefined`. */
  take(method: string, routePattern: string): FaultRule | undefined {
    for (const rule of this.rules) {
      if (rule.method && rule.method !== method) continue;
      if (rule.path !== '*' && rule.path !== routePattern) continue;
      if (rule.remaining !== undefined && rule.remaining <= 0) continue;
      if (rule.rate !== undefined && this.random() >= rule.rate) continue;
      if (rule.remaining !== undefined) rule.remaining -= 1;
      rule.applied += 1;
      return rule;
    }
    return undefined;
  }
}
