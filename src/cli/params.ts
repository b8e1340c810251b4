/**
 * wsk-style parameters: `-p KEY VALUE` (repeatable; VALUE is JSON when it parses as JSON, else the
 * string itself) and `-P FILE` (a JSON object). oclif flags take one value each, so the two-token
 * `-p` pairs are taken out of argv before oclif parses the rest.
 */
import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '../errors.js';
import { MAX_PAYLOAD_BYTES } from '../model/limits.js';

/** `42` → 42, `true` → true, `{"a":1}` → {a:1}, `"x"` → 'x', `Ada` → 'Ada' (not JSON, so the string). */
export function parseParamValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export interface ExtractedPairs {
  /** argv without the pairs */
  argv: string[];
  /** `[key, rawValue]` in the order given */
  pairs: [string, string][];
}

/**
 * Takes every `<flag> KEY VALUE` out of argv for the given flag spellings (e.g. `-p`, `--param`),
 * stopping at `--`. Throws InvalidInputError when a flag is not followed by two tokens.
 */
export function extractPairs(argv: readonly string[], spellings: readonly string[]): ExtractedPairs {
  const rest: string[] = [];
  const pairs: [string, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (spellings.includes(token)) {
      const key = argv[i + 1];
      const value = argv[i + 2];
      if (key === undefined || value === undefined) {
        throw new InvalidInputError(`${token} needs a key and a value: ${token} KEY VALUE`);
      }
      pairs.push([key, value]);
      i += 2;
      continue;
    }
    rest.push(token);
  }
  return { argv: rest, pairs };
}

/** Reads a `-P` file: it must hold one JSON object of at most 1 MB. */
export async function readParamFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError(`Cannot read the parameter file '${file}'.`, { cause: error, hint: 'Check the path given to -P.' });
  }
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) throw new InvalidInputError(`The parameter file '${file}' is larger than ${MAX_PAYLOAD_BYTES} bytes.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`The parameter file '${file}' is not valid JSON.`, { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidInputError(`The parameter file '${file}' must hold a JSON object.`);
  }
  return parsed as Record<string, unknown>;
}

/** The file's object first, then each `-p` pair over it in order (later wins), as wsk merges them. */
export function mergeParams(fromFile: Record<string, unknown> | undefined, pairs: readonly (readonly [string, string])[]): Record<string, unknown> {
  const params: Record<string, unknown> = { ...fromFile };
  for (const [key, raw] of pairs) params[key] = parseParamValue(raw);
  return params;
}

/** Parameters as the API stores them: `[{key, value}]`. */
export function toKeyValues(params: Record<string, unknown>): { key: string; value: unknown }[] {
  return Object.entries(params).map(([key, value]) => ({ key, value }));
}
