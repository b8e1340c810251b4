/**
 * Per-activation context of the runtime: which activation the current async call chain belongs to,
 * its `__OW_*` environment, and its partial output lines.
 *
 * `process.env` is replaced by a proxy that answers the current activation's `__OW_*` keys first,
 * so concurrent activations in one container each see their own activation id, deadline, etc.
 * Limit: the values are also written to the real environment (last writer wins), which is what
 * code outside any activation context (and native code reading the C environment) sees.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export type StreamName = 'stdout' | 'stderr';

export interface ActivationContext {
  /** tag for output lines; undefined when /run carried no usable activation id (output stays untagged) */
  readonly activationId: string | undefined;
  readonly env: Readonly<Record<string, string>>;
  /** text after the last newline written by this activation, per stream */
  readonly partial: Record<StreamName, string>;
  /** set once the /run reply is being sent: later writes (stray timers) are flushed line by line */
  finished: boolean;
}

export const activationStorage = new AsyncLocalStorage<ActivationContext>();

export function newActivationContext(activationId: string | undefined, env: Record<string, string>): ActivationContext {
  return { activationId, env, partial: { stdout: '', stderr: '' }, finished: false };
}

/**
 * Builds the `__OW_*` variables of one /run body: every top-level string field except `value`
 * becomes `__OW_<FIELD IN UPPER CASE>`.
 */
export function activationEnv(body: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key !== 'value' && typeof value === 'string') env[`__OW_${key.toUpperCase()}`] = value;
  }
  return env;
}

let installed = false;

/** Replaces `process.env` with the per-activation proxy (idempotent). */
export function installActivationEnv(storage: AsyncLocalStorage<ActivationContext> = activationStorage): void {
  if (installed) return;
  installed = true;
  const real = process.env;
  const own = (key: string | symbol): string | undefined => {
    if (typeof key !== 'string') return undefined;
    const env = storage.getStore()?.env;
    return env !== undefined && Object.hasOwn(env, key) ? env[key] : undefined;
  };
  process.env = new Proxy(real, {
    get: (target, key) => own(key) ?? Reflect.get(target, key),
    // writes go to the real environment itself (not through the proxy as receiver, which
    // node's env object refuses)
    set: (target, key, value) => Reflect.set(target, key, value),
    has: (target, key) => own(key) !== undefined || Reflect.has(target, key),
    ownKeys: (target) => {
      const keys = new Set(Reflect.ownKeys(target));
      for (const key of Object.keys(storage.getStore()?.env ?? {})) keys.add(key);
      return [...keys];
    },
    getOwnPropertyDescriptor: (target, key) => {
      const value = own(key);
      if (value !== undefined) return { value, writable: true, enumerable: true, configurable: true };
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
  });
}
