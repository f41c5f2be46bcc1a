/*
 * The spec has no separate virtual-account annotation: POST/PUT/DELETE /vbanks answer with a Payment
 * (`PaymentAnnotation` with the vbank_* fields), so only the request types live here.
 */

/** `POST /vbanks`: issue a virtual account without a payment window. */
export interface VbankIssueRequest {
  /** Channel to issue on (required by the current spec; older integrations send `pg`). */
  channel_key?: string;
  /** Legacy PG selector (`{pg}` or `{pg}.{MID}`), used when `channel_key` is absent. */
  pg?: string;
  merchant_uid: string;
  amount: number;
  /** Bank code (PG-specific table). */
  vbank_code: string;
  /** Deposit deadline, UNIX seconds. */
  vbank_due: number;
  vbank_holder?: string;
  vbank_num?: string;
  vbank_key?: string;
  name?: string;
  buyer_name?: string;
  buyer_email?: string;
  buyer_tel?: string;
  buyer_addr?: string;
  buyer_postcode?: string;
  business_registration_number?: string;
  notice_url?: string | readonly string[];
  custom_data?: string;
  tax_free?: number;
  vat_amount?: number;
  product_type?: 'real' | 'digital';
  product_count?: number;
  escrow_password?: string;
  fixed_unlimited_vbank?: boolean;
  /** KG Inicis API key; sent as a query parameter. */
  pg_api_key?: string;
}

/** `PUT /vbanks/{imp_uid}`: change amount or deadline of an unpaid API-issued account. */
export interface VbankEditRequest {
  imp_uid: string;
  amount?: number;
  vbank_due?: number;
}

/** `DELETE /vbanks/{imp_uid}`: revoke an unpaid virtual account. */
export interface VbankRevokeRequest {
  imp_uid: string;
  /** KG Inicis API key (query parameter). */
  pg_api_key?: string;
}
