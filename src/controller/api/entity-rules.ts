/**
 * Pure rules about entities at the REST edge: names, binary code detection, limit ranges and sizes,
 * worded as OpenWhisk words them (compat §1.1, §1.4, §3, §4).
 */
import { InvalidInputError, PayloadTooLargeError } from '../../errors.js';
import type { KeyValue } from '../../model/action.js';
import { LIMITS, MAX_CODE_BYTES, MAX_PAYLOAD_BYTES, type ActionLimits } from '../../model/limits.js';

export const ILLEGAL_NAME = 'The name of the entity contains illegal characters.';

const NAME_PATTERN = /^\w[\w@ .&-]*$/;

/** 1..256 chars; first a word char; then word chars, `@`, space, `.`, `&`, `-`; not ending in a space. */
export function isValidEntityName(name: string): boolean {
  return name.length > 0 && name.length <= 256 && NAME_PATTERN.test(name) && !name.endsWith(' ');
}

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * OpenWhisk's rule for `exec.binary`: the trimmed code is non-empty, a multiple of 4 long and
 * standard base64 with correct padding. (So `"function"` counts as binary, as it does in OpenWhisk.)
 */
export function isBinaryCode(code: string): boolean {
  const trimmed = code.trim();
  return trimmed.length > 0 && trimmed.length % 4 === 0 && BASE64_PATTERN.test(trimmed);
}

/** `unit` includes its leading space, or is empty. */
function range(field: string, unit: string, value: number, min: number, max: number): void {
  if (value > max) throw new InvalidInputError(`${field} ${value}${unit} exceeds allowed threshold of ${max}${unit}`);
  if (value < min) throw new InvalidInputError(`${field} ${value}${unit} below allowed threshold of ${min}${unit}`);
}

/**
 * Checks every given limit against its range; throws InvalidInputError with OpenWhisk's wording,
 * e.g. "memory size 1024 MB exceeds allowed threshold of 512 MB".
 */
export function validateLimits(limits: Partial<ActionLimits>): void {
  if (limits.timeout !== undefined) range('duration', ' milliseconds', limits.timeout, LIMITS.timeoutMs.min, LIMITS.timeoutMs.max);
  if (limits.memory !== undefined) range('memory size', ' MB', limits.memory, LIMITS.memoryMB.min, LIMITS.memoryMB.max);
  if (limits.logs !== undefined) range('log size', ' MB', limits.logs, LIMITS.logsMB.min, LIMITS.logsMB.max);
  if (limits.concurrency !== undefined) range('concurrency', '', limits.concurrency, LIMITS.concurrency.min, LIMITS.concurrency.max);
}

/** "<what> larger than allowed: X > Y bytes." as a 413. */
export function tooLarge(what: string, size: number, max: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`${what} larger than allowed: ${size} > ${max} bytes.`);
}

/** Size checks of a PUT: code 48 MB, parameters and annotations 1 MB each (their JSON size). */
export function checkEntitySizes(put: { code?: string; parameters?: KeyValue[]; annotations?: KeyValue[] }): void {
  if (put.code !== undefined) {
    const size = Buffer.byteLength(put.code);
    if (size > MAX_CODE_BYTES) throw tooLarge('exec', size, MAX_CODE_BYTES);
  }
  for (const field of ['parameters', 'annotations'] as const) {
    const value = put[field];
    if (value === undefined) continue;
    const size = Buffer.byteLength(JSON.stringify(value));
    if (size > MAX_PAYLOAD_BYTES) throw tooLarge(field, size, MAX_PAYLOAD_BYTES);
  }
}
