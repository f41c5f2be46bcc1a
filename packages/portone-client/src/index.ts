export {
  type BillingKeysApi,
  type CallOptions,
  createPortOneClient,
  type PaymentsApi,
  type PortOneClient,
  type PortOneClientOptions,
  type PrepareApi,
  type SubscribeApi,
  type VbanksApi,
} from './client.ts';
export type { Credentials } from './credentials.ts';
export {
  PortOneApiError,
  PortOneAuthError,
  PortOneError,
  type PortOneErrorDetails,
  PortOneNetworkError,
  PortOneNotFoundError,
  PortOneOutcomeUnknownError,
  PortOneResponseError,
  PortOneTimeoutError,
  PortOneUnavailableError,
} from './errors.ts';
export { OPERATIONS, type OperationDef, type OperationName, type Safety } from './operations.ts';
export { type AccessToken, AccessTokenSchema } from './schemas/auth.ts';
export type { MultiResult, Paged } from './schemas/common.ts';
export {
  type BillingKeyDeleteRequest,
  type BillingKeyIssueRequest,
  type BillingKeyPaymentsRequest,
  type CardInput,
  type Customer,
  CustomerSchema,
  type GetBillingKeyRequest,
  type GetBillingKeysRequest,
} from './schemas/customer.ts';
export {
  type CancelRequest,
  type FindAllPaymentsRequest,
  type FindPaymentRequest,
  type GetPaymentRequest,
  type GetPaymentsRequest,
  type ListPaymentsByStatusRequest,
  type Payment,
  type PaymentCancel,
  PaymentCancelSchema,
  PaymentSchema,
  type PaymentSorting,
  type PaymentStatus,
  type VbankDeposit,
} from './schemas/payment.ts';
export {
  type GetPreparedRequest,
  type PreparedPayment,
  PreparedPaymentSchema,
  type PrepareRequest,
} from './schemas/prepare.ts';
export {
  type AgainRequest,
  type GetScheduleRequest,
  type ListSchedulesRequest,
  type OnetimeRequest,
  type ScheduleEntry,
  type ScheduleRequest,
  type ScheduleResult,
  ScheduleResultSchema,
  type ScheduleStatus,
  type SchedulesByCustomerRequest,
  type UnscheduleRequest,
} from './schemas/schedule.ts';
export type { VbankEditRequest, VbankIssueRequest, VbankRevokeRequest } from './schemas/vbank.ts';
export type { PortOneCallEvent } from './transport/observe-interceptor.ts';
