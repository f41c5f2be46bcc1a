import {
  PortOneApiError,
  PortOneAuthError,
  PortOneError,
  PortOneNetworkError,
  PortOneNotFoundError,
  PortOneOutcomeUnknownError,
  PortOneResponseError,
  PortOneTimeoutError,
  PortOneUnavailableError,
} from '@repo/portone-client';
import { type AppError, defineError } from '@repo/service-kit';

/** The gateway's error catalog: every error it means to send, with a stable code and status. */
/**
 * An amount found inexact only once its currency is known from PortOne (a cancel, a verify without a
 * currency): the same 400 problem, with the same `issues`, as a body the schema refused.
 */
export const InvalidAmountError = defineError('VALIDATION_FAILED', 400, 'invalid request');
export const BillingKeyNotFoundError = defineError('BILLING_KEY_NOT_FOUND', 404, 'billing key not found');
export const AmountMismatchError = defineError('AMOUNT_MISMATCH', 422, 'payment does not match what was expected');
export const SandboxPaymentError = defineError(
  'SANDBOX_PAYMENT',
  422,
  'the payment was made on a test channel (sandbox)',
);
export const NothingToVerifyError = defineError('NOTHING_TO_VERIFY', 422, 'no expected amount to verify against');
export const CancelAmountExceededError = defineError(
  'CANCEL_AMOUNT_EXCEEDS_BALANCE',
  422,
  'cancel amount exceeds the cancellable balance',
);
export const AlreadyCancelledError = defineError('ALREADY_CANCELLED', 409, 'payment is already fully cancelled');
export const NotCancellableError = defineError('PAYMENT_NOT_CANCELLABLE', 409, 'payment cannot be cancelled');
export const CancelInProgressError = defineError(
  'CANCEL_IN_PROGRESS',
  409,
  'another cancel of this payment is in progress',
);
export const CancelChecksumMismatchError = defineError(
  'CANCEL_CHECKSUM_MISMATCH',
  409,
  'the cancellable balance changed at PortOne',
);
export const IdempotentCancelConflictError = defineError(
  'IDEMPOTENT_CANCEL_CONFLICT',
  409,
  'the payment changed since the first attempt with this Idempotency-Key',
);
export const PaymentDeclinedError = defineError('PAYMENT_DECLINED', 422, 'the payment was declined');
export const IdempotencyKeyInvalidError = defineError('IDEMPOTENCY_KEY_INVALID', 400, 'invalid Idempotency-Key');
export const IdempotencyMismatchError = defineError(
  'IDEMPOTENCY_KEY_REUSED',
  422,
  'Idempotency-Key was used with a different request',
);
export const IdempotencyInFlightError = defineError(
  'IDEMPOTENCY_IN_FLIGHT',
  409,
  'a request with this Idempotency-Key is still in flight',
);
export const WebhookSourceForbiddenError = defineError('WEBHOOK_SOURCE_FORBIDDEN', 403, 'webhook source not allowed');
export const WebhookNotStoredError = defineError('WEBHOOK_NOT_STORED', 503, 'webhook could not be stored');
export const WebhookRateLimitedError = defineError(
  'RATE_LIMITED',
  429,
  'too many webhook deliveries from this address',
);
export const NotReadyError = defineError('NOT_READY', 503, 'not ready');
export const StoreUnavailableError = defineError('STORE_UNAVAILABLE', 503, 'the database is unavailable');

export const PortOneRejectedError = defineError('PORTONE_REJECTED', 422, 'PortOne rejected the request');
export const PortOneConflictError = defineError('PORTONE_CONFLICT', 409, 'PortOne reports a state conflict');
export const PortOneLookupNotFoundError = defineError('PORTONE_NOT_FOUND', 404, 'not found at PortOne');
export const PortOneAuthFailedError = defineError('PORTONE_AUTH_FAILED', 502, 'PortOne refused our credentials');
export const PortOneDownError = defineError('PORTONE_UNAVAILABLE', 503, 'PortOne is unavailable');
export const PortOneSlowError = defineError('PORTONE_TIMEOUT', 504, 'PortOne did not answer in time');
export const PortOneBadResponseError = defineError('PORTONE_BAD_RESPONSE', 502, 'PortOne sent an unexpected answer');
export const OutcomeUnknownError = defineError(
  'PORTONE_OUTCOME_UNKNOWN',
  502,
  'the outcome at PortOne is unknown; look the payment up by merchant_uid before retrying',
);

/** What a PortOne error may show a caller: upstream code and message, never bodies or headers. */
function upstream(error: PortOneError): Record<string, unknown> {
  return {
    portone: {
      operation: error.operation,
      status: error.status ?? null,
      code: error.code ?? null,
      message: error.portoneMessage ?? null,
    },
  };
}

/**
 * Maps the client's errors onto the catalog (service-kit's `translate` hook). Order matters: the
 * specific classes extend `PortOneError`.
 */
/**
 * mysql2's codes for a connection that is gone or cannot be made (the server restarted or is down): the
 * request did not reach the store, so the answer is a 503 the caller may retry, never a 500.
 */
const CONNECTION_LOST = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
]);

function isStoreConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, fatal } = error as { code?: unknown; fatal?: unknown };
  return (typeof code === 'string' && CONNECTION_LOST.has(code)) || fatal === true;
}

/** What the problem handler sends for errors that are not the gateway's own: PortOne's, and a lost store. */
export function translateGatewayError(error: unknown): AppError | undefined {
  if (isStoreConnectionError(error)) {
    return new StoreUnavailableError('the database connection was lost or refused; retry shortly', { cause: error });
  }
  return translatePortOneError(error);
}

export function translatePortOneError(error: unknown): AppError | undefined {
  if (!(error instanceof PortOneError)) return undefined;
  const details = upstream(error);
  const said = error.portoneMessage ? `: ${error.portoneMessage}` : '';
  if (error instanceof PortOneOutcomeUnknownError) {
    return new OutcomeUnknownError(
      `the outcome of ${error.operation} at PortOne is unknown; look the payment up by merchant_uid (GET /api/v1/payments/find/{merchant_uid}) before retrying`,
      { details, cause: error },
    );
  }
  if (error instanceof PortOneNotFoundError) {
    return new PortOneLookupNotFoundError(`not found at PortOne${said}`, { details, cause: error });
  }
  if (error instanceof PortOneAuthError) {
    return new PortOneAuthFailedError('PortOne refused the gateway credentials', { details, cause: error });
  }
  if (error instanceof PortOneTimeoutError) {
    return new PortOneSlowError(`PortOne did not answer ${error.operation} in time`, { details, cause: error });
  }
  if (error instanceof PortOneUnavailableError || error instanceof PortOneNetworkError) {
    return new PortOneDownError(`PortOne is unavailable for ${error.operation}`, { details, cause: error });
  }
  if (error instanceof PortOneApiError) {
    return new PortOneRejectedError(`PortOne rejected ${error.operation}${said}`, { details, cause: error });
  }
  if (error instanceof PortOneResponseError) {
    return new PortOneBadResponseError(`PortOne sent an unexpected answer to ${error.operation}`, {
      details,
      cause: error,
    });
  }
  return new PortOneBadResponseError(`PortOne call ${error.operation} failed`, { details, cause: error });
}

/** True when the call surely did not reach PortOne's money path (safe to abandon an idempotency key). */
export function isPortOneDown(error: unknown): boolean {
  return (
    error instanceof PortOneUnavailableError ||
    error instanceof PortOneNetworkError ||
    error instanceof PortOneTimeoutError
  );
}

export const NotificationEndpointNotFoundError = defineError(
  'NOTIFICATION_ENDPOINT_NOT_FOUND',
  404,
  'notification endpoint not found',
);
export const NotificationEndpointFromConfigError = defineError(
  'NOTIFICATION_ENDPOINT_FROM_CONFIG',
  409,
  'the endpoint comes from NOTIFY_ENDPOINTS; change it there',
);
export const NotificationDeliveryNotFoundError = defineError(
  'NOTIFICATION_DELIVERY_NOT_FOUND',
  404,
  'notification delivery not found',
);
export const ReconciliationRunNotFoundError = defineError(
  'RECONCILIATION_RUN_NOT_FOUND',
  404,
  'reconciliation run not found',
);
