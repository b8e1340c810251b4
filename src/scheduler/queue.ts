/**
 * The scheduler's bounded queue of acquires that could not be served at once. Pure: no clock, the
 * caller passes `now`.
 *
 * Ordering contract: entries of one action (one `actionKey`) are served strictly in arrival order:
 * only the oldest entry of an action is ever offered by `nextServable`. Across actions, the oldest
 * head is offered first, but a head that cannot be served now does not block other actions (a
 * small action may be served while a large one waits for memory).
 *
 * Identity contract: a request id is only unique per controller (every controller numbers its
 * acquires q1, q2, …), so an entry is identified by the entry object itself, or by
 * (`controllerId`, `requestId`) where only the ids are at hand; never by `requestId` alone.
 */
import { actionKey, type ActionRef } from '../model/action.js';

export interface QueueEntry {
  readonly requestId: string;
  readonly controllerId: string;
  readonly action: ActionRef;
  /** `actionKey(action)` */
  readonly key: string;
  /** epoch ms after which the requester no longer wants a container */
  readonly deadline: number;
  /** epoch ms when it first entered the queue */
  readonly enqueuedAt: number;
  /** arrival order; a re-queued entry keeps its original place */
  readonly seq: number;
}

export interface AcquireQueueOptions {
  /** most entries held, default 1000 */
  maxSize?: number;
}

export const DEFAULT_QUEUE_SIZE = 1000;

export class AcquireQueue {
  readonly maxSize: number;
  /** sorted by seq */
  private entries: QueueEntry[] = [];
  private nextSeq = 0;

  constructor(options: AcquireQueueOptions = {}) {
    this.maxSize = options.maxSize ?? DEFAULT_QUEUE_SIZE;
  }

  get size(): number {
    return this.entries.length;
  }

  get full(): boolean {
    return this.entries.length >= this.maxSize;
  }

  /** Makes an entry (with its arrival order) without inserting it: for acquires served at once. */
  make(request: { requestId: string; controllerId: string; action: ActionRef; deadline: number }, now: number): QueueEntry {
    return { ...request, key: actionKey(request.action), enqueuedAt: now, seq: this.nextSeq++ };
  }

  /**
   * Appends a request; returns the entry, or undefined when the queue is full (the caller rejects
   * with limit `schedulerQueue`).
   */
  push(request: { requestId: string; controllerId: string; action: ActionRef; deadline: number }, now: number): QueueEntry | undefined {
    if (this.full) return undefined;
    const entry = this.make(request, now);
    this.entries.push(entry);
    return entry;
  }

  /**
   * Inserts an entry made earlier (a new one, or one taken out whose create failed or whose agent
   * was lost) in its arrival place. False when the queue is full.
   */
  insert(entry: QueueEntry): boolean {
    // Already waiting: inserting it twice would serve it twice.
    if (this.entries.includes(entry)) return true;
    if (this.full) return false;
    const at = this.entries.findIndex((e) => e.seq > entry.seq);
    if (at === -1) this.entries.push(entry);
    else this.entries.splice(at, 0, entry);
    return true;
  }

  /** The waiting entry of one controller's request (request ids collide across controllers). */
  get(controllerId: string, requestId: string): QueueEntry | undefined {
    return this.entries.find((e) => e.controllerId === controllerId && e.requestId === requestId);
  }

  hasAction(key: string): boolean {
    return this.entries.some((e) => e.key === key);
  }

  /**
   * Removes exactly this entry (by identity, not by request id, which another controller may share).
   * False when it was not waiting.
   */
  remove(entry: QueueEntry): boolean {
    const at = this.entries.indexOf(entry);
    if (at === -1) return false;
    this.entries.splice(at, 1);
    return true;
  }

  /** Removes and returns every entry matching `predicate`, in order. */
  removeWhere(predicate: (entry: QueueEntry) => boolean): QueueEntry[] {
    const removed = this.entries.filter(predicate);
    if (removed.length > 0) this.entries = this.entries.filter((e) => !predicate(e));
    return removed;
  }

  /** Removes and returns the entries whose deadline has passed (`deadline < now`), in order. */
  expired(now: number): QueueEntry[] {
    return this.removeWhere((e) => e.deadline < now);
  }

  /**
   * The oldest entry that heads its action's line and whose action is not in `skip` (actions the
   * caller already found unservable in this pass). Does not remove it.
   */
  nextServable(skip: ReadonlySet<string> = new Set()): QueueEntry | undefined {
    const seen = new Set<string>();
    for (const entry of this.entries) {
      if (seen.has(entry.key)) continue;
      seen.add(entry.key);
      if (!skip.has(entry.key)) return entry;
    }
    return undefined;
  }

  list(): readonly QueueEntry[] {
    return this.entries;
  }
}
