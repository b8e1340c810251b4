/**
 * The overflow buffer: per action revision, the requests that found no free warm container and
 * wait while the controller acquires containers from the scheduler, plus the number of acquires
 * outstanding for them. Pure bookkeeping, no I/O, no clock: callers pass `now`.
 *
 * Policy (see `acquiresToSend`): one acquire stands for `concurrency` waiting requests, so an
 * action has at most ceil(waiting / concurrency) acquires outstanding, and never more than
 * `maxOutstanding` (the scheduler places containers one by one; a burst of 256 requests should
 * not turn into 256 placements at once — freed containers drain the buffer too).
 * Each acquire carries the deadline of the first waiter it stands for; a waiter's deadline is
 * its receipt time plus the configured acquire wait (60 s by default, the longest a blocking
 * invoke waits anyway).
 */

/** What the buffer needs of a waiting request. */
export interface Waiting {
  /** epoch ms after which the request no longer waits for a container */
  readonly deadline: number;
}

/** How many acquires to send now for an action. Pure. */
export function acquiresToSend(input: { waiting: number; outstanding: number; concurrency: number; maxOutstanding: number }): number {
  const wanted = Math.min(Math.ceil(input.waiting / Math.max(1, input.concurrency)), input.maxOutstanding);
  return Math.max(0, wanted - input.outstanding);
}

/**
 * How many of the oldest waiters to fail when an acquire for the action was rejected: those
 * that the acquires still outstanding cannot cover. Pure.
 */
export function waitersToFailOnReject(input: { waiting: number; outstanding: number; concurrency: number }): number {
  return Math.max(0, input.waiting - input.outstanding * Math.max(1, input.concurrency));
}

/** A bounded FIFO with O(1) push and shift (array with a moving head, compacted when half empty). */
class Fifo<T extends Waiting> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  at(index: number): T | undefined {
    return this.items[this.head + index];
  }

  /**
   * Inserts `item` near the head: before the first item whose deadline is later than its own, so
   * that deadlines stay in arrival order (expire() relies on it). O(1) when it goes first and the
   * head has room, else O(n); re-queues are rare.
   */
  insertByDeadline(item: T): void {
    let index = this.head;
    while (index < this.items.length && (this.items[index] as T).deadline <= item.deadline) index += 1;
    if (index === this.head && this.head > 0) {
      this.head -= 1;
      this.items[this.head] = item;
    } else {
      this.items.splice(index, 0, item);
    }
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head += 1;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes and returns the items matching `test`, keeping the others in order. */
  removeWhere(test: (item: T) => boolean): T[] {
    const kept: T[] = [];
    const removed: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T;
      (test(item) ? removed : kept).push(item);
    }
    if (removed.length > 0) {
      this.items = kept;
      this.head = 0;
    }
    return removed;
  }
}

interface ActionQueue<T extends Waiting> {
  readonly waiting: Fifo<T>;
  outstanding: number;
}

export interface OverflowBufferOptions {
  /** most requests waiting per action; default 256 */
  limit?: number;
  /** most acquires outstanding per action; default 16 */
  maxOutstanding?: number;
}

export const DEFAULT_OVERFLOW_LIMIT = 256;
export const DEFAULT_MAX_OUTSTANDING_ACQUIRES = 16;

export class OverflowBuffer<T extends Waiting> {
  readonly limit: number;
  readonly maxOutstanding: number;
  private readonly queues = new Map<string, ActionQueue<T>>();

  constructor(options: OverflowBufferOptions = {}) {
    this.limit = options.limit ?? DEFAULT_OVERFLOW_LIMIT;
    this.maxOutstanding = options.maxOutstanding ?? DEFAULT_MAX_OUTSTANDING_ACQUIRES;
    if (!(this.limit >= 1) || !(this.maxOutstanding >= 1)) throw new RangeError('overflow limit and maxOutstanding must be at least 1');
  }

  /** Appends a waiter; returns false (and keeps nothing) when the action's buffer is full. */
  enqueue(key: string, item: T): boolean {
    const queue = this.queueOf(key);
    if (queue.waiting.length >= this.limit) {
      this.forgetIfEmpty(key, queue);
      return false;
    }
    queue.waiting.push(item);
    return true;
  }

  /**
   * Puts back a waiter that was already accepted and taken out (its container could not be made
   * ready before the run): at the front, among other waiters by deadline (it keeps its receipt time
   * and deadline, so it normally goes first). It is NOT refused when the action's buffer is full:
   * an accepted activation must end with a record, never a throw. The excess is bounded by the
   * caller: only activations that held a slot can come back, and each at most a few times, so the
   * buffer exceeds `limit` by at most the action's slots in flight, briefly.
   */
  requeue(key: string, item: T): void {
    this.queueOf(key).waiting.insertByDeadline(item);
  }

  /** The oldest waiter of the action, removed. */
  shift(key: string): T | undefined {
    const queue = this.queues.get(key);
    if (queue === undefined) return undefined;
    const item = queue.waiting.shift();
    this.forgetIfEmpty(key, queue);
    return item;
  }

  waiting(key: string): number {
    return this.queues.get(key)?.waiting.length ?? 0;
  }

  outstanding(key: string): number {
    return this.queues.get(key)?.outstanding ?? 0;
  }

  /**
   * Records `count` new acquires for the action as outstanding and returns the deadline each
   * should carry (the deadline of the first waiter it stands for, in order).
   */
  beginAcquires(key: string, count: number, concurrency: number): number[] {
    const queue = this.queueOf(key);
    const deadlines: number[] = [];
    for (let i = 0; i < count; i++) {
      const first = queue.waiting.at(Math.min((queue.outstanding + i) * Math.max(1, concurrency), queue.waiting.length - 1));
      deadlines.push(first?.deadline ?? 0);
    }
    queue.outstanding += count;
    this.forgetIfEmpty(key, queue);
    return deadlines;
  }

  /** One acquire of the action got its answer (granted, rejected or failed). */
  endAcquire(key: string): void {
    const queue = this.queues.get(key);
    if (queue === undefined) return;
    if (queue.outstanding > 0) queue.outstanding -= 1;
    this.forgetIfEmpty(key, queue);
  }

  /** Removes and returns the `count` oldest waiters of the action. */
  takeOldest(key: string, count: number): T[] {
    const queue = this.queues.get(key);
    if (queue === undefined) return [];
    const out: T[] = [];
    while (out.length < count) {
      const item = queue.waiting.shift();
      if (item === undefined) break;
      out.push(item);
    }
    this.forgetIfEmpty(key, queue);
    return out;
  }

  /** Removes and returns every waiter whose deadline is at or before `now`, with its action key. */
  expire(now: number): Array<{ key: string; item: T }> {
    const out: Array<{ key: string; item: T }> = [];
    for (const [key, queue] of this.queues) {
      if (queue.waiting.length === 0 || (queue.waiting.at(0)?.deadline ?? Infinity) > now) {
        // FIFO order is arrival order and deadlines grow with arrival, so the head decides.
        continue;
      }
      for (const item of queue.waiting.removeWhere((w) => w.deadline <= now)) out.push({ key, item });
      this.forgetIfEmpty(key, queue);
    }
    return out;
  }

  /** Removes and returns every waiter of every action (shutdown). */
  drainAll(): Array<{ key: string; item: T }> {
    const out: Array<{ key: string; item: T }> = [];
    for (const [key, queue] of this.queues) {
      for (let item = queue.waiting.shift(); item !== undefined; item = queue.waiting.shift()) out.push({ key, item });
    }
    this.queues.clear();
    return out;
  }

  /** Action keys that have waiters or outstanding acquires. */
  keys(): IterableIterator<string> {
    return this.queues.keys();
  }

  private queueOf(key: string): ActionQueue<T> {
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = { waiting: new Fifo<T>(), outstanding: 0 };
      this.queues.set(key, queue);
    }
    return queue;
  }

  private forgetIfEmpty(key: string, queue: ActionQueue<T>): void {
    if (queue.waiting.length === 0 && queue.outstanding === 0) this.queues.delete(key);
  }
}
