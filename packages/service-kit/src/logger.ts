import type { FastifyRequest } from 'fastify';
import pino, { type DestinationStream, type LoggerOptions } from 'pino';

/**
 * One static redact list for every log line either service writes: credentials, tokens and card
 * data. A value under one of these keys is replaced by `"[redacted]"` wherever it appears in a line,
 * at any depth (request/response objects, log objects, nested bodies).
 */
export const REDACTED_KEYS: readonly string[] = [
  'authorization',
  'x-api-key',
  'x-imptokenheader',
  'cookie',
  'set-cookie',
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
];

const CENSORED = '"[redacted]"';
// A key is a quoted name right after `{` or `,`: inside a JSON string a quote is always escaped
// (`\"`), so text that merely looks like a key inside a value never matches.
const SECRET_KEY = new RegExp(`[{,]"(?:${REDACTED_KEYS.map((k) => k.replace(/[-]/g, '\\-')).join('|')})":`, 'g');

/** Index just past the JSON value that starts at `i` (a string, number, literal, object or array). */
function endOfValue(line: string, i: number): number {
  let depth = 0;
  let inString = false;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) {
        inString = false;
        if (depth === 0) return i + 1;
      }
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) return i;
      if (--depth === 0) return i + 1;
    } else if (c === 0x2c && depth === 0) return i;
  }
  return line.length;
}

/**
 * A serialized log line with the value of every REDACTED_KEYS key replaced. Done once on the finished
 * JSON instead of through pino's `redact` paths: covering these keys at three depths took 60
 * wildcard paths, and pino's path redactor cloned and walked each logged object for every one of
 * them (~0.5 ms per request for its three lines, measured in bench/); this is one regex scan.
 */
export function redactLine(line: string): string {
  SECRET_KEY.lastIndex = 0;
  let out = '';
  let from = 0;
  for (let m = SECRET_KEY.exec(line); m !== null; m = SECRET_KEY.exec(line)) {
    const start = m.index + m[0].length;
    const end = endOfValue(line, start);
    out += line.slice(from, start) + CENSORED;
    from = end;
    SECRET_KEY.lastIndex = end;
  }
  return from === 0 ? line : out + line.slice(from);
}

/**
 * Query parameters whose values never reach a log line. The API takes no secret in a URL, but a
 * caller may put one there by mistake (`?card_number=…`), and the request line is logged verbatim;
 * pino's redact list only sees object keys, not the inside of a URL.
 */
const SECRET_NAME = /card|expiry|birth|pwd|cvc|secret|token|key|password|passwd|tel|account|auth/i;

function decodedName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/** The URL with the value of every secret-looking query parameter replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const query = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && SECRET_NAME.test(decodedName(name)) ? `${name}=[redacted]` : pair;
    })
    .join('&');
  return `${url.slice(0, at)}?${query}`;
}

/**
 * Fastify's request serializer, with the URL's secret query values redacted. The request is logged
 * when it is answered, and by then its connection may be gone (an upload refused part way): the
 * caller's address is known only while the socket is there.
 */
export function serializeRequest(request: FastifyRequest) {
  const socket = request.socket as FastifyRequest['socket'] | null;
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: socket ? request.ip : undefined,
    remotePort: socket?.remotePort,
  };
}

export function loggerOptions(level: string, name: string): LoggerOptions {
  return { level, name, hooks: { streamWrite: redactLine } };
}

/** How long a log line may wait in the stdout buffer, and how much is written at once. */
const FLUSH_MS = 100;
const MIN_WRITE = 4096;
let stdout: DestinationStream | undefined;

/**
 * The process's stdout for log lines, buffered: under load a service writes a line or two per request,
 * and pino's default destination issued one write per line through libuv's thread pool (a hand-off
 * to a worker thread and back), ~13% of a lookup's CPU in bench/. Lines are collected and written
 * from this thread in 4 KiB batches, at most FLUSH_MS after they were logged, and what is left is
 * written on exit. Each line goes in as bytes: given strings, sonic-boom measures the UTF-8 length
 * of its whole pending batch again for every line and copies the batch once more after writing it,
 * which cost ~24 µs of a lookup's ~320 (bench/, in-process A/B); given Buffers it keeps a list and
 * joins it once per write. One per process: stdout is one file.
 */
export function stdoutDestination(): DestinationStream {
  if (stdout === undefined) {
    const destination = pino.destination({ dest: 1, sync: true, minLength: MIN_WRITE, contentMode: 'buffer' });
    // pino flushes only asynchronous destinations on exit by itself.
    process.once('exit', () => destination.flushSync());
    // sonic-boom's own periodicFlush writes even when nothing waits: an empty write(2) ten times a
    // second in an idle service. This flushes only after a line was written.
    let pending = false;
    setInterval(() => {
      if (pending) {
        pending = false;
        destination.flush();
      }
    }, FLUSH_MS).unref();
    // sonic-boom's types know only strings; in contentMode 'buffer' its write takes Buffers (its README).
    const writeBytes = destination.write.bind(destination) as unknown as (bytes: Buffer) => boolean;
    stdout = {
      write: (line: string) => {
        pending = true;
        writeBytes(Buffer.from(line));
      },
    };
  }
  return stdout;
}
