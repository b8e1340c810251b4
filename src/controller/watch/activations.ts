/**
 * In-flight and recent activations for the live view, with where each one's time went. Pure
 * bookkeeping (times are passed in), bounded: at most `maxInFlight` activations tracked in flight
 * (beyond that new ones are counted by the balancer but not listed), and per namespace a ring of
 * the newest `recentPerNamespace` finished ones for at most `maxNamespaces` namespaces.
 */
import { STATUS_TEXT, type ActivationRecord } from '../../model/activation.js';
import type { ActivationWatch } from '../../watch/snapshot.js';

type Phases = ActivationWatch['phases'];

function numberAnnotation(record: ActivationRecord, key: string): number | undefined {
  for (const a of record.annotations) if (a.key === key) return typeof a.value === 'number' ? a.value : undefined;
  return undefined;
}

/**
 * Where an answered activation's time went, from its record (see record.ts):
 * - an activation that did the cold start (`initTime`): its `waitTime` was spent getting a new
 *   container (acquire, then create or a stem cell) → `createMs`, then `initMs`, then `runMs`;
 * - a warm one: `waitMs` (the buffer, a busy container) and `resumeMs` when it resumed its paused
 *   container (the record counts that inside `waitTime`; here it is taken out), then `runMs`;
 * - one that never reached a container (`reachedContainer` false): only `waitMs`.
 * The phases add up to `end - receivedAt`.
 */
export function phasesOf(record: ActivationRecord, reachedContainer: boolean): Phases {
  const wait = numberAnnotation(record, 'waitTime') ?? 0;
  if (!reachedContainer) return { waitMs: wait };
  const init = numberAnnotation(record, 'initTime');
  const resume = numberAnnotation(record, 'resumeTime');
  const run = Math.max(0, record.duration - (init ?? 0));
  if (init !== undefined) return { createMs: wait, initMs: init, runMs: run };
  return {
    waitMs: Math.max(0, wait - (resume ?? 0)),
    ...(resume === undefined ? {} : { resumeMs: resume }),
    runMs: run,
  };
}

/** The view of an answered activation. `receivedAt` is when the controller got the request. */
export function finishedView(action: string, receivedAt: number, record: ActivationRecord, reachedContainer: boolean): ActivationWatch {
  return {
    activationId: record.activationId,
    action,
    status: STATUS_TEXT[record.response.statusCode] ?? 'whisk internal error',
    startedAt: receivedAt,
    durationMs: Math.max(0, record.end - receivedAt),
    phases: phasesOf(record, reachedContainer),
  };
}

export interface ActivationTrackerOptions {
  /** activations listed in flight at most, default 10 000 */
  maxInFlight?: number;
  /** finished activations kept per namespace, default 100 */
  recentPerNamespace?: number;
  /** namespaces with a recent list at most (the least recently active is forgotten), default 256 */
  maxNamespaces?: number;
}

interface InFlight {
  readonly namespace: string;
  readonly view: ActivationWatch;
}

class Ring<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }
  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }
  /** newest first */
  newest(limit: number): T[] {
    const out: T[] = [];
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const item = this.items[(this.next - i + this.capacity) % this.capacity];
      if (item === undefined) break;
      out.push(item);
    }
    return out;
  }
}

export class ActivationTracker {
  private readonly maxInFlight: number;
  private readonly recentPerNamespace: number;
  private readonly maxNamespaces: number;
  private readonly inFlight = new Map<string, InFlight>();
  /** insertion order = least recently active first (re-inserted on every finish) */
  private readonly recent = new Map<string, Ring<ActivationWatch>>();

  constructor(options: ActivationTrackerOptions = {}) {
    this.maxInFlight = options.maxInFlight ?? 10_000;
    this.recentPerNamespace = Math.max(1, options.recentPerNamespace ?? 100);
    this.maxNamespaces = Math.max(1, options.maxNamespaces ?? 256);
  }

  /** An activation was accepted (it waits for a container or runs). */
  started(activationId: string, namespace: string, action: string, receivedAt: number): void {
    if (this.inFlight.size >= this.maxInFlight) return;
    this.inFlight.set(activationId, { namespace, view: { activationId, action, status: 'running', startedAt: receivedAt, phases: {} } });
  }

  /** An activation was answered; it moves to its namespace's recent list. */
  finished(namespace: string, view: ActivationWatch): void {
    this.inFlight.delete(view.activationId);
    let ring = this.recent.get(namespace);
    if (ring === undefined) {
      if (this.recent.size >= this.maxNamespaces) {
        const oldest = this.recent.keys().next();
        if (oldest.done !== true) this.recent.delete(oldest.value);
      }
      ring = new Ring(this.recentPerNamespace);
    } else {
      this.recent.delete(namespace);
    }
    this.recent.set(namespace, ring);
    ring.push(view);
  }

  /** An accepted activation that will not be answered here (the invoker failed it synchronously). */
  forget(activationId: string): void {
    this.inFlight.delete(activationId);
  }

  /** The namespace's activations in flight, oldest first, at most `limit`. */
  inFlightOf(namespace: string, limit: number): ActivationWatch[] {
    const out: ActivationWatch[] = [];
    for (const entry of this.inFlight.values()) {
      if (out.length >= limit) break;
      if (entry.namespace === namespace) out.push(entry.view);
    }
    return out;
  }

  /** The namespace's newest finished activations, newest first, at most `limit`. */
  recentOf(namespace: string, limit: number): ActivationWatch[] {
    return this.recent.get(namespace)?.newest(limit) ?? [];
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }
}
