import { BlockList, isIP } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';
import rateLimit from '@fastify/rate-limit';
import { Counter, problemResponses } from '@repo/service-kit';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { LRUCache } from 'lru-cache';
import { WebhookNotStoredError, WebhookRateLimitedError, WebhookSourceForbiddenError } from '../../errors.ts';
import { contextOf } from '../../service-context.ts';
import { type InsertedWebhookDelivery, type WebhookState, webhookDedupeKey } from '../../store/webhook.repository.ts';
import { type DeliveryRef, deliveryStore, markFailed, processDelivery, startReads } from '../../webhooks/deliveries.ts';
import { WebhookAckSchema, WebhookBody } from './schemas.ts';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

export interface WebhookRouteOptions {
  /** IPs or CIDRs PortOne sends from; empty = any source. */
  allowedIps: string[];
  /** Deliveries one client address (`request.ip`) may send per window; beyond, 429 until it ends. */
  rateLimit: { max: number; windowMs: number };
}

/** `::ffff:1.2.3.4` is the IPv4 address 1.2.3.4. */
const plainIp = (ip: string) => (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip);

function allowList(entries: string[]): ((ip: string) => boolean) | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (isIP(address) === 0) throw new Error(`WEBHOOK_ALLOWED_IPS: "${entry}" is not an IP address or CIDR`);
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return (ip) => {
    const address = plainIp(ip);
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    return isIP(address) !== 0 && list.check(address, family);
  };
}

const tags = ['webhooks'];
/** How long the acknowledgement may wait for PortOne while processing inline. */
const INLINE_BUDGET_MS = 5_000;

/**
 * PortOne's notification URL. Public (no API key): PortOne cannot send one. The body is never
 * trusted; it only says which payment to re-fetch. The delivery is stored before it is acknowledged,
 * and acknowledged (200) once stored even when PortOne cannot be reached to process it — the sweeper
 * retries those — so an acknowledgement is never lost and PortOne never re-sends a stored event.
 */
export const webhookRoutes: FastifyPluginAsyncZod<WebhookRouteOptions> = async (app, options) => {
  const allowed = allowList(options.allowedIps);
  // Events this process saw confirmed: their copies are stored as duplicates in one statement.
  const confirmed = new LRUCache<string, number>({ max: 10_000, ttl: 10 * 60_000 });
  const storeDelivery = deliveryStore(app.db, confirmed, app.log);
  // /metrics: deliveries by the state they were acknowledged with (processed, forged, duplicate, …).
  // Counted in a plain map and handed to prom-client when /metrics is scraped: a labelled inc()
  // hashes and checks its labels on every call, once per delivery on this path.
  const acknowledged = new Map<WebhookState, number>();
  const count = (state: WebhookState) => acknowledged.set(state, (acknowledged.get(state) ?? 0) + 1);
  new Counter({
    name: 'webhook_deliveries_total',
    help: 'PortOne webhook deliveries acknowledged, by state',
    labelNames: ['state'],
    registers: [app.metricsRegistry],
    collect() {
      this.reset();
      for (const [state, n] of acknowledged) this.inc({ state }, n);
    },
  });

  // Each delivery can cost a PortOne lookup and a stored row: a flood from one address is cut off
  // before its body is read. Counted per process, in memory (one gateway instance = one budget).
  await app.register(rateLimit, {
    max: options.rateLimit.max,
    timeWindow: options.rateLimit.windowMs,
    errorResponseBuilder: (request, context) =>
      new WebhookRateLimitedError(
        `more than ${context.max} webhook deliveries from ${request.ip} in ${options.rateLimit.windowMs} ms; retry in ${context.after}`,
      ),
  });

  // Own parsers (rather than @fastify/formbody) so the raw body can be stored as it arrived.
  const json = app.getDefaultJsonParser('error', 'ignore');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 64 * 1024 }, (request, body, done) => {
    request.rawBody = body as string;
    json(request, body as string, done);
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (request, body, done) => {
      request.rawBody = body as string;
      done(null, { ...parseQueryString(body as string) });
    },
  );

  /** What processing a delivery inline needs; with `readNow`, its reads start at once. */
  function startProcessing(request: FastifyRequest, readNow?: Pick<DeliveryRef, 'impUid' | 'merchantUid'>) {
    const ctx = contextOf(app, request);
    // PortOne waits 30 s at most; past the budget the delivery stays `received` for the sweeper.
    const budget = AbortSignal.timeout(INLINE_BUDGET_MS);
    return { ctx, budget, reads: readNow && startReads(ctx, readNow, budget) };
  }

  if (allowed) {
    app.addHook('onRequest', async (request) => {
      if (!allowed(request.ip)) {
        request.log.warn({ sourceIp: request.ip }, 'webhook from a source outside WEBHOOK_ALLOWED_IPS');
        throw new WebhookSourceForbiddenError(`webhook source ${request.ip} is not allowed`);
      }
    });
  }

  app.post(
    '/portone',
    {
      schema: {
        tags,
        summary: 'Receive a PortOne V1 webhook (paid, ready, cancelled, failed, vbank deposit)',
        description:
          'JSON or form-encoded. Public; optionally limited to WEBHOOK_ALLOWED_IPS. The payment is re-fetched from PortOne; a status or amount PortOne does not confirm is recorded as forged and changes nothing.',
        security: [],
        body: WebhookBody,
        response: { 200: WebhookAckSchema, ...problemResponses(400, 403, 415, 429, 503) },
      },
    },
    async (request) => {
      const body = request.body;
      const delivery = {
        impUid: body.imp_uid,
        merchantUid: body.merchant_uid ?? null,
        status: body.status,
        cancellationId: body.cancellation_id ?? null,
        rawBody: request.rawBody ?? JSON.stringify(body),
        contentType: request.headers['content-type'] ?? null,
        sourceIp: request.ip,
      };
      const dedupeKey = webhookDedupeKey(delivery);
      // A delivery that is not a copy of an event known to be confirmed will most likely be processed:
      // what that reads (PortOne's payment above all) is asked for while it is being stored, so the
      // answer waits for the slower of the two rather than for both in turn. Reads only: nothing acts
      // on them before the delivery is stored.
      let processing: ReturnType<typeof startProcessing> | undefined;
      if (dedupeKey === null || !confirmed.has(dedupeKey)) processing = startProcessing(request, delivery);
      let stored: InsertedWebhookDelivery;
      try {
        stored = await storeDelivery({ ...delivery, dedupeKey });
      } catch (error) {
        // Not stored = not acknowledged: a 503 lets PortOne (with re-sends enabled) try again.
        throw new WebhookNotStoredError('the webhook could not be stored; send it again', { cause: error });
      }
      if (stored.duplicate) {
        // A re-send of an event already taken: the stored row and webhook_deliveries_total{state="duplicate"}
        // record it, and the request line is logged anyway; a third line per re-send is only for debugging.
        request.log.debug({ webhookId: stored.id, impUid: body.imp_uid, status: body.status }, 'duplicate webhook');
        count('duplicate');
        return { received: true as const, id: stored.id, state: 'duplicate' as const };
      }
      processing ??= startProcessing(request);
      const { ctx } = processing;
      try {
        const state = await processDelivery(
          ctx,
          { id: stored.id, impUid: body.imp_uid, status: body.status, merchantUid: delivery.merchantUid },
          processing.budget,
          processing.reads,
        );
        if (state === 'processed' && stored.claim !== null) confirmed.set(stored.claim, stored.id);
        count(state);
        return { received: true as const, id: stored.id, state };
      } catch (error) {
        // Stored but not processed: acknowledge anyway, the sweeper retries it.
        request.log.error({ err: error, webhookId: stored.id }, 'webhook processing failed; left for the sweeper');
        await markFailed(ctx, stored.id, error);
        count('failed');
        return { received: true as const, id: stored.id, state: 'failed' as const };
      }
    },
  );
};
