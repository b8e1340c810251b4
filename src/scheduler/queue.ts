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
  /** membership and each action's line (its entries by seq), so that `hasAction`, `countOf`, a head check and a repeated insert are O(1) */
  private readonly members = new Set<QueueEntry>();
  private readonly lines = new Map<string, QueueEntry[]>();
  private nextSeq = 0;
  /** inserts that landed before the tail: a pass resumed past them would miss them */
  private earlyInserts = 0;
  /** where the last `nextServable` call of the current pass stopped (see there) */
  private passSkip: ReadonlySet<string> | undefined;
  private passSeq = 0;
  private passEarlyInserts = 0;

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
    // A literal rather than a spread of `request`: one per acquire, and only these fields are kept.
    return { requestId: request.requestId, controllerId: request.controllerId, action: request.action, deadline: request.deadline, key: actionKey(request.action), enqueuedAt: now, seq: this.nextSeq++ };
  }

  /**
   * Appends a request; returns the entry, or undefined when the queue is full (the caller rejects
   * with limit `schedulerQueue`).
   */
  push(request: { requestId: string; controllerId: string; action: ActionRef; deadline: number }, now: number): QueueEntry | undefined {
    if (this.full) return undefined;
    const entry = this.make(request, now);
    this.entries.push(entry);
    this.added(entry);
    return entry;
  }

  /**
   * Inserts an entry made earlier (a new one, or one taken out whose create failed or whose agent
   * was lost) in its arrival place. False when the queue is full.
   */
  insert(entry: QueueEntry): boolean {
    // Already waiting: inserting it twice would serve it twice.
    if (this.members.has(entry)) return true;
    if (this.full) return false;
    // Nearly always the newest: check the tail before searching.
    const last = this.entries[this.entries.length - 1];
    if (last === undefined || last.seq < entry.seq) this.entries.push(entry);
    else {
      this.entries.splice(bySeq(this.entries, entry.seq), 0, entry);
      this.earlyInserts++;
    }
    this.added(entry);
    return true;
  }

  private added(entry: QueueEntry): void {
    this.members.add(entry);
    const line = this.lines.get(entry.key);
    if (!line) this.lines.set(entry.key, [entry]);
    else if (line[line.length - 1]!.seq < entry.seq) line.push(entry);
    else line.splice(bySeq(line, entry.seq), 0, entry);
  }

  private removed(entry: QueueEntry): void {
    this.members.delete(entry);
    const line = this.lines.get(entry.key);
    if (!line) return;
    const at = bySeq(line, entry.seq);
    if (line[at] === entry) line.splice(at, 1);
    if (line.length === 0) this.lines.delete(entry.key);
  }

  /** How many entries of this action wait. */
  countOf(key: string): number {
    return this.lines.get(key)?.length ?? 0;
  }

  /** The waiting entry of one controller's request (request ids collide across controllers). */
  get(controllerId: string, requestId: string): QueueEntry | undefined {
    return this.entries.find((e) => e.controllerId === controllerId && e.requestId === requestId);
  }

  hasAction(key: string): boolean {
    return this.lines.has(key);
  }

  /**
   * Removes exactly this entry (by identity, not by request id, which another controller may share).
   * False when it was not waiting.
   */
  remove(entry: QueueEntry): boolean {
    if (!this.members.has(entry)) return false;
    const at = bySeq(this.entries, entry.seq);
    this.entries.splice(this.entries[at] === entry ? at : this.entries.indexOf(entry), 1);
    this.removed(entry);
    return true;
  }

  /** Removes and returns every entry matching `predicate`, in order. */
  removeWhere(predicate: (entry: QueueEntry) => boolean): QueueEntry[] {
    const removed = this.entries.filter(predicate);
    if (removed.length > 0) {
      const gone = new Set(removed);
      this.entries = this.entries.filter((e) => !gone.has(e));
      for (const e of removed) this.removed(e);
    }
    return removed;
  }

  /** Removes and returns the entries whose deadline has passed (`deadline < now`), in order. */
  expired(now: number): QueueEntry[] {
    return this.removeWhere((e) => e.deadline < now);
  }

  /**
   * The oldest entry that heads its action's line and whose action is not in `skip` (actions the
   * caller already found unservable in this pass). Does not remove it.
   *
   * Pass contract: successive calls with the SAME `skip` set form one pass over the queue, and
   * `skip` may only grow during it. The search then resumes where the previous call stopped
   * (every entry before that point belongs to a skipped action), so a whole pass costs
   * O(queue + calls × log queue) instead of O(queue) per call. Removing entries during the pass is
   * fine; an insert before the tail (a requeue) restarts the search from the front.
   */
  nextServable(skip?: ReadonlySet<string>): QueueEntry | undefined {
    let from = 0;
    if (skip !== undefined && skip === this.passSkip && this.passEarlyInserts === this.earlyInserts) from = bySeq(this.entries, this.passSeq);
    for (let i = from; i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      if (skip?.has(entry.key) || this.lines.get(entry.key)![0] !== entry) continue;
      this.remember(skip, entry.seq);
      return entry;
    }
    // Past the tail: an entry appended later (whatever its seq, it is above the tail's) is found.
    const tail = this.entries[this.entries.length - 1];
    this.remember(skip, tail === undefined ? 0 : tail.seq + 1);
    return undefined;
  }

  private remember(skip: ReadonlySet<string> | undefined, seq: number): void {
    this.passSkip = skip;
    this.passSeq = seq;
    this.passEarlyInserts = this.earlyInserts;
  }

  list(): readonly QueueEntry[] {
    return this.entries;
  }
}

/** The index of the first entry with `seq` at least `seq` (entries sorted by seq). */
function bySeq(entries: readonly QueueEntry[], seq: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
