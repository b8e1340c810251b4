/**
 * One shutdown path for long-running commands: SIGINT and SIGTERM both resolve the same promise, the
 * caller then closes what it started. A second signal while closing forces the exit (code 130), so an
 * operator is never stuck behind a hung close.
 *
 * The waiter takes the signals over: listeners that were there before are removed while it listens
 * (and put back by dispose). Why: `when-exit` (conf → atomically) hooks every signal at import and
 * re-raises it on the process after its cleanup, which turned one Ctrl-C into two and forced the
 * exit before the daemons had closed. Its cleanup still runs on the process 'exit' event.
 */

export interface ShutdownOptions {
  signals?: readonly NodeJS.Signals[];
  /** called on a second signal; default exits the process with 130 */
  onForce?: (signal: NodeJS.Signals) => void;
  /** the emitter to listen on; default `process` (tests pass an EventEmitter) */
  emitter?: Pick<NodeJS.Process, 'on' | 'off'>;
}

export interface ShutdownWaiter {
  /** resolves with the first signal received */
  readonly signal: Promise<NodeJS.Signals>;
  /** stops listening (after close finished) */
  dispose(): void;
}

export function waitForShutdown(options: ShutdownOptions = {}): ShutdownWaiter {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  const emitter = options.emitter ?? process;
  const onForce = options.onForce ?? (() => process.exit(130));
  let received: NodeJS.Signals | undefined;
  let resolve!: (signal: NodeJS.Signals) => void;
  const signal = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const handler = (name: NodeJS.Signals) => {
    if (received !== undefined) {
      onForce(name);
      return;
    }
    received = name;
    resolve(name);
  };
  const previous = new Map<NodeJS.Signals, ((...args: unknown[]) => void)[]>();
  for (const name of signals) {
    if (emitter === process) {
      const listeners = process.listeners(name) as ((...args: unknown[]) => void)[];
      previous.set(name, listeners);
      for (const listener of listeners) process.off(name, listener);
    }
    emitter.on(name, handler);
  }
  let disposed = false;
  return {
    signal,
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const name of signals) {
        emitter.off(name, handler);
        for (const listener of previous.get(name) ?? []) process.on(name, listener);
      }
    },
  };
}
