/** Query-string parsing with OpenWhisk's validation messages. Pure. */
import { InvalidInputError } from '../../errors.js';
import { LIST_LIMIT, MAX_BLOCKING_WAIT_MS } from '../../model/limits.js';

export type Query = ReadonlyMap<string, string>;
export const EMPTY_QUERY: Query = new Map();

/** Parses `a=1&b=x`; the first occurrence of a key wins; `+` is a space. Malformed escapes → 400. */
export function parseQuery(raw: string): Query {
  if (raw.length === 0) return EMPTY_QUERY;
  const query = new Map<string, string>();
  for (const part of raw.split('&')) {
    if (part.length === 0) continue;
    const eq = part.indexOf('=');
    const key = decode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decode(part.slice(eq + 1));
    if (!query.has(key)) query.set(key, value);
  }
  return query;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    throw new InvalidInputError(`The request's query string is malformed: '${text}'.`);
  }
}

function malformed(name: string, detail: string): InvalidInputError {
  return new InvalidInputError(`The query parameter '${name}' was malformed: ${detail}`);
}

/** `true`/`false` (any case, also yes/no/on/off), absent → `fallback`. */
export function boolParam(query: Query, name: string, fallback: boolean): boolean {
  const raw = query.get(name);
  if (raw === undefined) return fallback;
  switch (raw.toLowerCase()) {
    case 'true': case 'yes': case 'on': return true;
    case 'false': case 'no': case 'off': return false;
    default: throw malformed(name, `'${raw}' is not a valid Boolean value`);
  }
}

function intValue(raw: string): number | undefined {
  if (!/^-?\d{1,15}$/.test(raw)) return undefined;
  return Number(raw);
}

/** `limit` (0..200, 0 = 200, default 30) and `skip` (>= 0, default 0) of list endpoints. */
export function pageParams(query: Query, collection: string): { limit: number; skip: number } {
  let limit: number = LIST_LIMIT.default;
  const rawLimit = query.get('limit');
  if (rawLimit !== undefined) {
    const value = intValue(rawLimit);
    if (value === undefined) throw malformed('limit', `'${rawLimit}' is not a valid 32-bit signed integer value`);
    if (value < 0 || value > LIST_LIMIT.max) {
      throw new InvalidInputError(`The value ${value} is not in the range of 0 to ${LIST_LIMIT.max} for ${collection}.`);
    }
    limit = value === 0 ? LIST_LIMIT.max : value;
  }
  let skip = 0;
  const rawSkip = query.get('skip');
  if (rawSkip !== undefined) {
    const value = intValue(rawSkip);
    if (value === undefined) throw malformed('skip', `'${rawSkip}' is not a valid 32-bit signed integer value`);
    if (value < 0) throw new InvalidInputError(`The value ${value} is not a valid skip value: it must be 0 or more.`);
    skip = value;
  }
  return { limit, skip };
}

/** `since`/`upto`: epoch ms integers. */
export function epochParam(query: Query, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === undefined) return undefined;
  const value = intValue(raw);
  if (value === undefined) throw new InvalidInputError(`Parameter is not a valid value for epoch seconds: ${raw}`);
  return value;
}

export const TIMEOUT_MESSAGE = `Timeout must be number of milliseconds up to ${MAX_BLOCKING_WAIT_MS}.`;

/** Invoke `timeout`: 1..60000 ms, default 60000. */
export function timeoutParam(query: Query): number {
  const raw = query.get('timeout');
  if (raw === undefined) return MAX_BLOCKING_WAIT_MS;
  const value = intValue(raw);
  if (value === undefined || value < 1 || value > MAX_BLOCKING_WAIT_MS) throw new InvalidInputError(TIMEOUT_MESSAGE);
  return value;
}
