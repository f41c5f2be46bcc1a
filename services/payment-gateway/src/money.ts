/*
 * Money as PortOne V1 carries it: JSON numbers in major units (10000 KRW, 10.55 USD), each exact to
 * its currency's ISO 4217 minor unit. A caller's amount is never rounded: one that is not exact for
 * its currency is refused. Balances and comparisons are integer minor units, so floating-point
 * residue (10.55 − 3.2 = 7.3500000000000005) never decides anything.
 */

/** PortOne's currency when a request names none. */
export const DEFAULT_CURRENCY = 'KRW';

/** ISO 4217 minor units other than 2 (every other current code has 2). */
const MINOR_DIGITS: Readonly<Record<string, number>> = {
  ...Object.fromEntries(
    [
      'BIF',
      'CLP',
      'DJF',
      'GNF',
      'ISK',
      'JPY',
      'KMF',
      'KRW',
      'PYG',
      'RWF',
      'UGX',
      'VND',
      'VUV',
      'XAF',
      'XOF',
      'XPF',
    ].map((code) => [code, 0]),
  ),
  ...Object.fromEntries(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'].map((code) => [code, 3])),
};

/** Current ISO 4217 codes, as the runtime's ICU knows them. */
const ISO_CODES = new Set(Intl.supportedValuesOf('currency'));

export function minorDigits(currency: string): number {
  return MINOR_DIGITS[currency] ?? 2;
}

/**
 * Why the gateway cannot take amounts in `currency`, or undefined: it must be an ISO 4217 code, and
 * have at most 2 decimals (amounts are stored as DECIMAL(18,2)).
 */
export function currencyIssue(currency: string): string | undefined {
  if (!ISO_CODES.has(currency)) return `${currency} is not an ISO 4217 currency code`;
  if (minorDigits(currency) > 2)
    return `${currency} has ${minorDigits(currency)} decimals; the gateway supports up to 2`;
  return undefined;
}

/** Decimal places of a number as written (its shortest round-trip form): 10.55 → 2, 1e-7 → 7. */
function decimalPlaces(n: number): number {
  const [mantissa = '', exponent = '0'] = String(Math.abs(n)).split('e');
  return Math.max(0, (mantissa.split('.')[1]?.length ?? 0) - Number(exponent));
}

/** `amount` in integer minor units, or undefined when it is not exact for `currency`. */
export function exactMinor(amount: number, currency: string): number | undefined {
  if (!Number.isFinite(amount)) return undefined;
  const digits = minorDigits(currency);
  if (decimalPlaces(amount) > digits) return undefined;
  // Exact: the decimal has at most `digits` places, so only the multiplication's float error is rounded.
  const minor = Math.round(amount * 10 ** digits);
  return Number.isSafeInteger(minor) ? minor : undefined;
}

/** Why `amount` is not an amount of `currency`, or undefined when it is exact. */
export function amountIssue(amount: number, currency: string): string | undefined {
  if (exactMinor(amount, currency) !== undefined) return undefined;
  const digits = minorDigits(currency);
  return digits === 0
    ? `must be a whole amount: ${currency} has no minor unit`
    : `must have at most ${digits} decimals in ${currency}`;
}

/** An amount PortOne reported, in minor units (PortOne's own figures are exact; float residue is dropped). */
export function minorOf(amount: number, currency: string): number {
  return Math.round(amount * 10 ** minorDigits(currency));
}

/** Minor units back to the JSON number PortOne expects (7.35, not 7.3500000000000005). */
export function fromMinor(minor: number, currency: string): number {
  return minor / 10 ** minorDigits(currency);
}

/** A payment's currency as PortOne reports it (an empty one is PortOne's default). */
export function currencyOf(payment: { currency?: string | null }): string {
  return payment.currency || DEFAULT_CURRENCY;
}
