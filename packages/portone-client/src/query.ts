/** A query value: arrays are sent in bracket form (`imp_uid[]=a&imp_uid[]=b`), objects as `key[sub]=v`. */
export type QueryValue =
  | string
  | number
  | boolean
  | undefined
  | readonly string[]
  | Readonly<Record<string, string | undefined>>;

/** Builds `?a=1&ids[]=x&extra[requester]=admin`, skipping undefined values. */
export function toQueryString(query: Readonly<Record<string, QueryValue>> | undefined): string {
  if (query === undefined) return '';
  const parts: string[] = [];
  const add = (key: string, value: string) => parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      for (const item of value as readonly string[]) add(`${key}[]`, item);
    } else if (typeof value === 'object') {
      for (const [sub, item] of Object.entries(value)) if (item !== undefined) add(`${key}[${sub}]`, item);
    } else {
      add(key, String(value));
    }
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/** Fills a route's parameters: the path to send and the pattern to report (never the filled URL). */
export type RouteFiller = (params: Readonly<Record<string, string | undefined>>) => { path: string; pattern: string };

/**
 * Compiles a route such as `/payments/find/{merchant_uid}/{payment_status?}` once, for filling on
 * every call. An optional trailing parameter that is absent drops its segment from both the path and
 * the reported pattern; a missing required one throws.
 */
export function compileRoute(route: string): RouteFiller {
  const segments = route.split('/').map((segment) => {
    const match = /^\{(\w+)(\?)?\}$/.exec(segment);
    return match === null ? segment : { name: match[1] ?? '', optional: match[2] !== undefined };
  });
  return (params) => {
    const path: string[] = [];
    const pattern: string[] = [];
    for (const segment of segments) {
      if (typeof segment === 'string') {
        path.push(segment);
        pattern.push(segment);
        continue;
      }
      const value = params[segment.name];
      if (value === undefined || value === '') {
        if (segment.optional) continue;
        throw new TypeError(`missing path parameter ${segment.name}`);
      }
      path.push(encodeURIComponent(value));
      pattern.push(`{${segment.name}}`);
    }
    return { path: path.join('/'), pattern: pattern.join('/') };
  };
}
