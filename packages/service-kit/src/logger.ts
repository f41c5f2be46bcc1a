import type { LoggerOptions } from 'pino';

/**
 * One static redact list for every log line either service writes: credentials, tokens and card
 * data, wherever they appear in request/response objects or log objects.
 */
export const REDACT_PATHS: string[] = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-imptokenheader"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...[
    'authorization',
    'apiKey',
    'api_key',
    'imp_secret',
    'impSecret',
    'access_token',
    'accessToken',
    'token',
    'card_number',
    'cardNumber',
    'expiry',
    'birth',
    'pwd_2digit',
    'cvc',
    'buyer_tel',
    'customer_tel',
    'refund_tel',
    'refund_account',
    'password',
    'identitytoken',
  ].flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
];

export function loggerOptions(level: string, name: string): LoggerOptions {
  return {
    level,
    name,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
}
