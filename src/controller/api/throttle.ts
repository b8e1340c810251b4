/**
 * Per-namespace invoke throttles (compat §4): a per-minute rate (fixed one-minute windows, as
 * OpenWhisk's RateThrottler) and a cap on activations in flight. Pure state, clock injected.
 */
import { ThrottledError } from '../../errors.js';

export interface NamespaceLimits {
  invocationsPerMinute: number;
  concurrentInvocations: number;
}

export const DEFAULT_NAMESPACE_LIMITS: NamespaceLimits = { invocationsPerMinute: 60_000, concurrentInvocations: 1000 };

interface Window { minute: number; count: number }

/** Bounds the rate table: namespaces idle for a whole window are pruned past this size. */
const MAX_TRACKED = 10_000;

export class NamespaceThrottle {
  readonly #limits: NamespaceLimits;
  readonly #clock: () => number;
  readonly #windows = new Map<string, Window>();
  readonly #inFlight = new Map<string, number>();

  constructor(limits: NamespaceLimits, clock: () => number) {
    this.#limits = limits;
    this.#clock = clock;
  }

  /**
   * Counts one invoke attempt and checks both limits (rate first, as OpenWhisk does); returns the
   * ThrottledError to answer with, or undefined when admitted. Does not mark the activation in flight.
   */
  check(namespace: string): ThrottledError | undefined {
    const minute = Math.floor(this.#clock() / 60_000);
    let window = this.#windows.get(namespace);
    if (window === undefined || window.minute !== minute) {
      if (window === undefined && this.#windows.size >= MAX_TRACKED) this.#prune(minute);
      window = { minute, count: 0 };
      this.#windows.set(namespace, window);
    }
    window.count += 1;
    const { invocationsPerMinute, concurrentInvocations } = this.#limits;
    if (window.count > invocationsPerMinute) {
      return new ThrottledError(
        'invocationsPerMinute',
        `Too many requests in the last minute (count: ${window.count}, allowed: ${invocationsPerMinute}).`,
      );
    }
    const inFlight = this.inFlight(namespace);
    if (inFlight >= concurrentInvocations) {
      return new ThrottledError(
        'concurrentInvocations',
        `Too many concurrent requests in flight (count: ${inFlight}, allowed: ${concurrentInvocations}).`,
      );
    }
    return undefined;
  }

  started(namespace: string): void {
    this.#inFlight.set(namespace, this.inFlight(namespace) + 1);
  }

  finished(namespace: string): void {
    const n = this.inFlight(namespace) - 1;
    if (n <= 0) this.#inFlight.delete(namespace);
    else this.#inFlight.set(namespace, n);
  }

  inFlight(namespace: string): number {
    return this.#inFlight.get(namespace) ?? 0;
  }

  #prune(minute: number): void {
    for (const [ns, w] of this.#windows) if (w.minute !== minute) this.#windows.delete(ns);
  }
}
