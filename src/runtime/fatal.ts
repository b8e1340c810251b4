/**
 * Errors that escape the action code asynchronously: an exception thrown in a timer, an I/O or
 * emitter callback (`uncaughtException`), or a promise rejection nobody handles
 * (`unhandledRejection`). Without handlers node prints the stack untagged and exits, which the
 * agent then blames on whichever activation is collected next (the innocent concurrent one).
 *
 * Finding the culprit: the AsyncLocalStorage store active while the handler runs. Measured on node
 * 20: for `uncaughtException` node still runs the handler inside the async context of the callback
 * that threw (timers, setImmediate, nextTick, fs and socket callbacks, emitters), and for
 * `unhandledRejection` it enters the async context of the rejected promise (which got its store
 * when it was created, in the activation's chain). The one gap is `queueMicrotask`, whose callback
 * throws after its async scope is gone: {@link installFatalErrorHandlers} wraps it to remember the
 * context of the error it lets escape. Limit: a resource keeps the context it was created in, so an
 * error in, say, a socket pool that activation A created and B reused is blamed on A.
 */
import type { ActivationContext } from './context.js';
import { describeError } from './result.js';

export type FatalKind = 'uncaughtException' | 'unhandledRejection';

export interface FatalError {
  kind: FatalKind;
  error: unknown;
  /** the activation whose async context the error escaped from; undefined outside any (init code, the runtime itself) */
  culprit: ActivationContext | undefined;
}

/** The part of `process` the handlers attach to (an EventEmitter in tests). */
export interface FatalEventSource {
  on(event: FatalKind, listener: (error: unknown) => void): unknown;
  off(event: FatalKind, listener: (error: unknown) => void): unknown;
}

type QueueMicrotask = (callback: () => void) => void;

export interface FatalHandlerOptions {
  /** the context of the current call chain */
  current: () => ActivationContext | undefined;
  /** called once per escaped error; must not throw (a throw here would end the process with code 7) */
  onFatal: (fatal: FatalError) => void;
  /** default `process` */
  source?: FatalEventSource;
  /** holder of `queueMicrotask` to wrap; default `globalThis`; `null` leaves it alone */
  microtaskHost?: { queueMicrotask: QueueMicrotask } | null;
}

export interface FatalHandlers {
  /** Detaches the handlers and restores `queueMicrotask`. */
  uninstall(): void;
}

/** Longest stack text written for one fatal error; the rest is cut with a note. */
export const MAX_REPORT_CHARS = 64 * 1024;

/** Installs the `uncaughtException` and `unhandledRejection` handlers (see the module comment). */
export function installFatalErrorHandlers(options: FatalHandlerOptions): FatalHandlers {
  const source: FatalEventSource = options.source ?? process;
  const host = options.microtaskHost === undefined ? globalThis : options.microtaskHost;
  // The last error a wrapped microtask let escape, with the context it was queued in.
  let escaped: { error: unknown; context: ActivationContext | undefined } | undefined;

  const handler = (kind: FatalKind) => (error: unknown) => {
    let culprit = options.current();
    if (culprit === undefined && escaped !== undefined && Object.is(escaped.error, error)) culprit = escaped.context;
    escaped = undefined;
    options.onFatal({ kind, error, culprit });
  };
  const onException = handler('uncaughtException');
  const onRejection = handler('unhandledRejection');
  source.on('uncaughtException', onException);
  source.on('unhandledRejection', onRejection);

  const original = host?.queueMicrotask;
  if (host && original) {
    host.queueMicrotask = wrapQueueMicrotask(original.bind(host), options.current, (error, context) => {
      escaped = { error, context };
    });
  }

  return {
    uninstall() {
      source.off('uncaughtException', onException);
      source.off('unhandledRejection', onRejection);
      if (host && original) host.queueMicrotask = original;
    },
  };
}

/**
 * Wraps `queueMicrotask` so that an error escaping a callback is first reported to `note` with the
 * context the callback was queued in, then rethrown unchanged (node then emits `uncaughtException`).
 */
export function wrapQueueMicrotask(
  original: QueueMicrotask,
  current: () => ActivationContext | undefined,
  note: (error: unknown, context: ActivationContext | undefined) => void,
): QueueMicrotask {
  return function queueMicrotask(callback: () => void): void {
    // node validates the argument; keep its error by passing non-functions through untouched
    if (typeof callback !== 'function') return original(callback);
    const context = current();
    original(() => {
      try {
        callback();
      } catch (error) {
        note(error, context);
        throw error;
      }
    });
  };
}

/**
 * The text written to stderr for a fatal error: `Uncaught exception: <stack>` or `Unhandled promise
 * rejection: <stack or value>`, newline-terminated, at most MAX_REPORT_CHARS (plus the cut note).
 */
export function fatalReport(fatal: Pick<FatalError, 'kind' | 'error'>): string {
  const label = fatal.kind === 'uncaughtException' ? 'Uncaught exception' : 'Unhandled promise rejection';
  let detail = errorDetail(fatal.error);
  if (detail.length > MAX_REPORT_CHARS) detail = `${detail.slice(0, MAX_REPORT_CHARS)}\n[cut at ${MAX_REPORT_CHARS} characters]`;
  return `${label}: ${detail}\n`;
}

/** The stack of an Error (it starts with `Name: message`), else `String(value)`; never throws. */
export function errorDetail(error: unknown): string {
  try {
    if (error instanceof Error && typeof error.stack === 'string' && error.stack !== '') return error.stack;
  } catch {
    // a hostile `stack` getter: fall back to the string form
  }
  return describeError(error);
}
