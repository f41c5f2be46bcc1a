/**
 * The error catalog of the PortOne client. Every failure a caller can see is one of these classes.
 *
 * What an error carries is safe to log: the operation, the HTTP status, PortOne's `code` and message
 * (with anything that looks like a card number or an access token masked), the attempt count and
 * whether the outcome of the call is known. Never the request or response body, never headers, never
 * credentials (undici's error classes are the model).
 */

/** What every PortOne error is built from. */
export interface PortOneErrorDetails {
  /** Client operation name, e.g. `payments.get` or `getToken`. */
  operation: string;
  /** HTTP status of the response, or undefined when no response arrived. */
  status?: number | undefined;
  /** PortOne's envelope `code`, or undefined when the body had none. */
  code?: number | undefined;
  /** PortOne's envelope `message` (masked), or undefined. */
  portoneMessage?: string | undefined;
  /** How many HTTP attempts the call made (token requests not counted). */
  attempts?: number | undefined;
  /**
   * True when the caller knows what happened: the call had no effect (a read, or a request that
   * provably never reached PortOne) or PortOne answered definitively. False when a write may or may not
   * have taken effect.
   */
  outcomeKnown?: boolean | undefined;
  /** Short description of the failure, used in the message when PortOne gave none. */
  reason?: string | undefined;
  /** The underlying error (an undici transport error, or the token request's error). */
  cause?: unknown;
}

// 13-19 digits, optionally grouped by spaces or dashes: card numbers (PANs). Masked keeping the last 4.
const CARD_NUMBER = /\b\d(?:[ -]?\d){12,18}\b/g;
// Long hex strings: PortOne access tokens are 40 lowercase hex characters.
const TOKEN_LIKE = /\b[0-9a-fA-F]{32,}\b/g;

/** Masks card numbers and token-like strings in text that came from upstream. */
export function maskSensitive(text: string): string {
  return text
    .replace(CARD_NUMBER, (match) => `****${match.replace(/[ -]/g, '').slice(-4)}`)
    .replace(TOKEN_LIKE, '[redacted]');
}

function describe(details: PortOneErrorDetails, fallback: string): string {
  const parts: string[] = [];
  if (details.status !== undefined) parts.push(`HTTP ${details.status}`);
  if (details.code !== undefined) parts.push(`code ${details.code}`);
  const head = parts.length > 0 ? ` (${parts.join(', ')})` : '';
  const text = details.portoneMessage ?? details.reason ?? fallback;
  return `PortOne ${details.operation} failed${head}: ${text}`;
}

/** Base class of every error the client throws (except a caller's own abort reason). */
export class PortOneError extends Error {
  readonly operation: string;
  readonly status: number | undefined;
  readonly code: number | undefined;
  readonly portoneMessage: string | undefined;
  readonly attempts: number;
  readonly outcomeKnown: boolean;

  constructor(details: PortOneErrorDetails, fallback = 'request failed') {
    const portoneMessage = details.portoneMessage === undefined ? undefined : maskSensitive(details.portoneMessage);
    const safe = { ...details, portoneMessage };
    super(describe(safe, fallback), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.operation = details.operation;
    this.status = details.status;
    this.code = details.code;
    this.portoneMessage = portoneMessage;
    this.attempts = details.attempts ?? 1;
    this.outcomeKnown = details.outcomeKnown ?? true;
  }

  /** The details this error was built from, for re-creating it under another operation or attempt count. */
  toDetails(): PortOneErrorDetails {
    return {
      operation: this.operation,
      status: this.status,
      code: this.code,
      portoneMessage: this.portoneMessage,
      attempts: this.attempts,
      outcomeKnown: this.outcomeKnown,
      cause: this.cause,
    };
  }
}

/** PortOne answered with `code != 0`: a business failure (declined rule, duplicate, checksum mismatch...). */
export class PortOneApiError extends PortOneError {
  constructor(details: PortOneErrorDetails) {
    super(details, 'PortOne rejected the request');
  }
}

/** HTTP 404: the payment, prepared amount, billing key or schedule does not exist. */
export class PortOneNotFoundError extends PortOneError {
  constructor(details: PortOneErrorDetails) {
    super(details, 'not found');
  }
}

/** Bad `imp_key`/`imp_secret`, or a 401 that persisted after one token refresh and replay. */
export class PortOneAuthError extends PortOneError {
  constructor(details: PortOneErrorDetails) {
    super(details, 'unauthorized');
  }
}

/** PortOne answered 5xx or 429 (after the retries the operation allows). */
export class PortOneUnavailableError extends PortOneError {
  /** Delay PortOne asked for in `Retry-After`, in milliseconds, if any. */
  readonly retryAfterMs: number | undefined;

  constructor(details: PortOneErrorDetails & { retryAfterMs?: number | undefined }) {
    super(details, 'PortOne is unavailable');
    this.retryAfterMs = details.retryAfterMs;
  }

  override toDetails(): PortOneErrorDetails & { retryAfterMs?: number | undefined } {
    return { ...super.toDetails(), retryAfterMs: this.retryAfterMs };
  }
}

/** A connect, headers or body timeout. */
export class PortOneTimeoutError extends PortOneError {
  constructor(details: PortOneErrorDetails) {
    super(details, 'timed out');
  }
}

/** The connection failed (refused, reset, DNS, socket closed). */
export class PortOneNetworkError extends PortOneError {
  constructor(details: PortOneErrorDetails) {
    super(details, 'network error');
  }
}

/**
 * A call that moves money (a charge, or a cancel without `checksum`) failed in a way that leaves its
 * outcome unknown: the request may have reached PortOne. It is not retried; look the payment up by
 * `merchantUid` (or `impUid`) before trying again.
 */
export class PortOneOutcomeUnknownError extends PortOneError {
  /** The first (usually only) merchant_uid of the request. */
  readonly merchantUid: string | undefined;
  /** Every merchant_uid of the request (several for `subscribe.schedule`). */
  readonly merchantUids: readonly string[];
  /** The imp_uid the request addressed, if any (cancel). */
  readonly impUid: string | undefined;

  constructor(details: PortOneErrorDetails & { merchantUids?: readonly string[]; impUid?: string | undefined }) {
    super({ ...details, outcomeKnown: false }, 'outcome unknown; look the payment up before retrying');
    this.merchantUids = details.merchantUids ?? [];
    this.merchantUid = this.merchantUids[0];
    this.impUid = details.impUid;
  }
}

/** PortOne's response was not a valid envelope or did not match the expected schema. */
export class PortOneResponseError extends PortOneError {
  /** Where the response failed validation (paths and messages only, never values). */
  readonly issues: readonly { path: string; message: string }[];

  constructor(details: PortOneErrorDetails & { issues?: readonly { path: string; message: string }[] }) {
    super(details, 'unexpected response');
    this.issues = details.issues ?? [];
  }
}
