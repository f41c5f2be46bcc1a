/**
 * Every failure the emulator answers with, in one catalog. Domain code throws these; `http.ts` turns
 * them into the V1 envelope `{ code, message, response: null }` with `httpStatus` — the only place
 * that builds error JSON. Business-rule failures are HTTP 200 with `code != 0` (notes §2), lookups
 * that find nothing are 404 with `code: -1`.
 */
export class V1Error extends Error {
  readonly httpStatus: number;
  readonly code: number;
  constructor(httpStatus: number, code: number, message: string) {
    super(message);
    this.name = 'V1Error';
    this.httpStatus = httpStatus;
    this.code = code;
  }
}

/** A rule violation on a mutating call: HTTP 200, `code: 1` (notes §2, §16 rule 4). */
export const ruleViolation = (message: string) => new V1Error(200, 1, message);
/** A card/PG processing failure: HTTP 200, `code: -1`. */
export const pgFailure = (message: string) => new V1Error(200, -1, message);
export const badRequest = (message: string) => new V1Error(400, -1, message);
export const notFound = (message: string) => new V1Error(404, -1, message);
export const unauthorized = (detail?: string) =>
  new V1Error(401, -1, detail ? `Unauthorized (${detail})` : 'Unauthorized');

export const missingParam = (name: string) => badRequest(`${name} 파라메터가 누락되었습니다.`);
export const invalidParam = (name: string, why: string) => badRequest(`${name} 파라메터가 올바르지 않습니다. (${why})`);

// Verbatim message strings from notes §17 and the ones the emulator had to choose (§18.1).
export const MESSAGES = {
  paymentNotFound: '존재하지 않는 결제정보입니다.',
  prepareNotFound: '사전등록된 결제정보가 존재하지 않습니다.',
  prepareDuplicate: '이미 사전등록된 merchant_uid입니다. 금액 변경은 PUT /payments/prepare를 사용하세요.',
  prepareMismatch: '사전등록된 결제정보와 결제요청 금액이 일치하지 않습니다.',
  unsupportedStatus: '지원되지 않는 상태값입니다.',
  tokenParamsMissing: 'imp_key, imp_secret 파라메터가 누락되었습니다.',
  cancelTargetMissing: '취소할 결제건이 존재하지 않습니다.',
  cancelNoIdentifier: 'imp_uid 또는 merchant_uid 중 하나를 지정해주셔야합니다.',
  alreadyFullyCancelled: '이미 전액취소된 주문입니다.',
  checksumMismatch: '취소가능잔액(checksum) 검증에 실패하였습니다.',
  cancelAmountTooBig: '결제취소에 실패하였습니다.(requested cancel amount is bigger than cancelable amount)',
  vbankRefundAccountRequired:
    '가상계좌 환불시에는 환불계좌정보(refund_holder, refund_bank, refund_account)가 필요합니다.',
  alreadyPaidMerchantUid: '이미 결제가 완료된 merchant_uid입니다.',
  customerNotRegistered: '등록되지 않은 구매자입니다.',
  scheduleCustomerMissing: '등록된 고객정보가 없습니다.',
  scheduleDuplicate: '이미 등록된 merchant_uid로 결제예약을 할 수 없습니다.',
  unscheduleNothing: '취소할 예약결제 기록이 존재하지 않습니다.',
  scheduleNotFound: '결제예약 정보가 존재하지 않습니다.',
  cardAuthFailed: '카드정보 인증에 실패하였습니다.',
  billingKeyFailed: '카드정보 인증 및 빌키 발급에 실패하였습니다.',
  notVbank: '가상계좌 결제건이 아닙니다.',
  vbankNotReady: '입금대기(ready) 상태의 가상계좌가 아닙니다.',
  vbankExpired: '입금기한이 지난 가상계좌입니다.',
  vbankAmountMismatch: '입금액이 가상계좌 발급금액과 일치하지 않습니다.',
  vbankDueInPast: '입금기한(vbank_due)은 현재시각 이후여야 합니다.',
  tierNotFound: '존재하지 않는 하위가맹점입니다.',
  routeNotFound: '존재하지 않는 API입니다.',
  methodNotAllowed: '허용되지 않는 HTTP method입니다.',
  pageOutOfRange: 'page 파라메터가 범위를 벗어났습니다.',
} as const;

export const customerNotFoundMessage = (customerUid: string) =>
  `요청하신 customer_uid(${customerUid})로 등록된 정보를 찾을 수 없습니다.`;
