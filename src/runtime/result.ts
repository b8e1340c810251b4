/**
 * How the outcome of one `/run` becomes the HTTP reply, as OpenWhisk's nodejs runtime answers it
 * (compat §3). Pure: no I/O, no runtime state.
 */

export type RunOutcome =
  | { kind: 'returned'; value: unknown }
  | { kind: 'rejected'; reason: unknown }
  | { kind: 'threw'; error: unknown };

export interface RunReply {
  status: 200 | 502;
  body: unknown;
  /** the runtime must stop accepting work (a developer error the platform discards the container for) */
  stop: boolean;
}

export const NOT_A_DICTIONARY = 'The action did not return a dictionary.';

/**
 * - returned `undefined`/`null` → 200 `{}`; an object or array → 200 with it; anything else → 502
 *   "The action did not return a dictionary." (the runtime keeps running, as nodejs does);
 * - rejected promise → 200 `{"error": <serialized reason>}` (an application error);
 * - synchronous throw → 502 `{"error": "An error has occurred: <err>"}` and stop.
 */
export function classifyOutcome(outcome: RunOutcome): RunReply {
  switch (outcome.kind) {
    case 'returned': {
      const value = outcome.value;
      if (value === undefined || value === null) return { status: 200, body: {}, stop: false };
      if (typeof value === 'object') return { status: 200, body: value, stop: false };
      return { status: 502, body: { error: NOT_A_DICTIONARY }, stop: false };
    }
    case 'rejected':
      return { status: 200, body: { error: serializeError(outcome.reason) }, stop: false };
    case 'threw':
      return { status: 502, body: { error: `An error has occurred: ${describeError(outcome.error)}` }, stop: true };
  }
}

/**
 * Makes a rejection reason JSON-friendly: an Error becomes `{name, message, stack, ...own fields}`
 * (JSON.stringify would give `{}`), `undefined`/`null` become `{}`, anything else is kept.
 */
export function serializeError(reason: unknown): unknown {
  if (reason === undefined || reason === null) return {};
  if (reason instanceof Error) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(reason)) out[key] = value instanceof Error ? serializeError(value) : value;
    out.name = reason.name;
    out.message = reason.message;
    if (reason.stack !== undefined) out.stack = reason.stack;
    return out;
  }
  return reason;
}

/** `String(err)` that never throws (objects with a hostile toString, symbols, ...). */
export function describeError(error: unknown): string {
  try {
    return String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}
