/**
 * V1 webhook sender (notes §13): `POST {imp_uid, merchant_uid, status[, cancellation_id]}` as JSON or
 * form-urlencoded to the payment's `notice_url` or the configured URL. No signature, no amount — the
 * receiver must look the payment up.
 *
 * Retries: off by default (one attempt, as PortOne). With `retries: n` (0..5) a delivery is repeated
 * up to n more times on a network error, a timeout or a 5xx, `retryDelayMs` apart in real time
 * (PortOne waits one minute; the emulator does not make tests wait). Any other status stops it.
 * Every attempt is logged.
 */
export type WebhookFormat = 'json' | 'form';
export type WebhookStatus = 'ready' | 'paid' | 'cancelled' | 'failed';

export interface WebhookBody {
  imp_uid: string;
  merchant_uid: string;
  status: WebhookStatus;
  cancellation_id?: string;
}

export interface WebhookConfig {
  url: string | null;
  format: WebhookFormat;
  /** Extra attempts after the first on network error/timeout/5xx, at most 5. */
  retries: number;
  retryDelayMs: number;
  /** Per attempt, covering connect and response. */
  timeoutMs: number;
}

export interface WebhookDelivery {
  id: number;
  url: string;
  body: WebhookBody;
  format: WebhookFormat;
  attempt: number;
  responseStatus: number | null;
  error: string | null;
  /** Emulator clock, UNIX seconds. */
  at: number;
}

const LOG_LIMIT = 1000;

export class WebhookSender {
  config: WebhookConfig;
  private log: WebhookDelivery[] = [];
  private nextId = 1;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly now: () => number;

  constructor(config: WebhookConfig, now: () => number) {
    this.config = config;
    this.now = now;
  }

  /** Where a payment's webhook goes: its own notice URLs, else the configured URL (none = not sent). */
  targets(noticeUrls: readonly string[]): string[] {
    if (noticeUrls.length > 0) return [...noticeUrls];
    return this.config.url ? [this.config.url] : [];
  }

  /** Delivers to every target, resolving when all attempts are done (never rejects). */
  deliver(urls: readonly string[], body: WebhookBody, format: WebhookFormat = this.config.format) {
    const run = Promise.all(urls.map((url) => this.deliverOne(url, body, format))).then((lists) => lists.flat());
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
    return run;
  }

  /** Waits for every delivery started so far (including ones started while waiting). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  deliveries(): WebhookDelivery[] {
    return [...this.log];
  }

  clearLog(): void {
    this.log = [];
  }

  private async deliverOne(url: string, body: WebhookBody, format: WebhookFormat): Promise<WebhookDelivery[]> {
    const attempts: WebhookDelivery[] = [];
    const maxAttempts = 1 + Math.min(5, Math.max(0, this.config.retries));
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await new Promise((r) => setTimeout(r, this.config.retryDelayMs));
      const entry: WebhookDelivery = {
        id: this.nextId++,
        url,
        body,
        format,
        attempt,
        responseStatus: null,
        error: null,
        at: this.now(),
      };
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': format === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
            'user-agent': 'portone-emulator',
          },
          body: format === 'json' ? JSON.stringify(body) : new URLSearchParams({ ...body }).toString(),
          redirect: 'manual',
          signal: AbortSignal.timeout(this.config.timeoutMs),
        });
        await response.arrayBuffer();
        entry.responseStatus = response.status;
      } catch (error) {
        entry.error = describe(error);
      }
      this.record(entry);
      attempts.push(entry);
      const retryable = entry.error !== null || (entry.responseStatus !== null && entry.responseStatus >= 500);
      if (!retryable) break;
    }
    return attempts;
  }

  private record(entry: WebhookDelivery): void {
    this.log.push(entry);
    if (this.log.length > LOG_LIMIT) this.log.splice(0, this.log.length - LOG_LIMIT);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    return `${error.name}: ${error.message}${detail}`;
  }
  return String(error);
}
