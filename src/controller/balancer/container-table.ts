/**
 * The warm containers this controller owns, per action revision, with their in-flight counts.
 * Pure bookkeeping, no I/O: the balancer decides what to do with what `pick` returns.
 *
 * Per action the table keeps two free lists: containers with a free slot that are running and
 * containers with a free slot that are paused. `pick` is O(1): the most recently freed running
 * container first (LIFO keeps a few containers hot and lets the rest go idle, get paused and
 * eventually released), then a paused one. Membership changes are O(1) swap-removes because each
 * entry remembers its index in its list.
 */
import type { ActionRef } from '../../model/action.js';
import type { Address, OwnedContainer } from '../../daemon/protocol.js';

/** The table's part of a container entry; the balancer extends it with its own per-container state. */
export interface TableEntry {
  readonly containerId: string;
  readonly agentId: string;
  /** the agent's control endpoint, ws://host:port */
  readonly agentUrl: string;
  readonly address: Address;
  readonly action: ActionRef;
  /** actionKey(action) */
  readonly key: string;
  /** the action's concurrency limit: slots per container */
  readonly concurrency: number;
  inFlight: number;
  paused: boolean;
  /** epoch ms when the last activation on it ended (or when it was added) */
  lastUsedAt: number;
  /** false once removed: late completions must not put it back into a free list */
  present: boolean;
  /** @internal position in its free list, -1 when in none */
  freeIndex: number;
  /** @internal which free list holds it */
  freeList: 'running' | 'paused' | undefined;
}

/** The fields a caller supplies when adding a container; the table initialises the rest. */
export type NewEntry<E extends TableEntry> = Omit<E, 'inFlight' | 'paused' | 'present' | 'freeIndex' | 'freeList' | 'lastUsedAt'> &
  Partial<Pick<E, 'paused' | 'inFlight'>>;

interface ActionSlots<E> {
  readonly all: Set<E>;
  readonly running: E[];
  readonly paused: E[];
}

export class ContainerTable<E extends TableEntry> {
  private readonly byId = new Map<string, E>();
  private readonly byAction = new Map<string, ActionSlots<E>>();
  /** containers whose inFlight/paused/lastUsedAt changed since the last `takeChanged` */
  private readonly changed = new Set<E>();

  get size(): number {
    return this.byId.size;
  }

  get(containerId: string): E | undefined {
    return this.byId.get(containerId);
  }

  /** Every owned container (iteration order: insertion). */
  all(): IterableIterator<E> {
    return this.byId.values();
  }

  /** The containers of one action revision. */
  ofAction(key: string): ReadonlySet<E> {
    return this.byAction.get(key)?.all ?? EMPTY;
  }

  /** Adds a container; it starts idle (inFlight 0 unless given) and counts as changed. */
  add(fields: NewEntry<E>, now: number): E {
    if (this.byId.has(fields.containerId)) throw new Error(`container ${fields.containerId} is already in the table`);
    const entry = {
      ...fields,
      inFlight: fields.inFlight ?? 0,
      paused: fields.paused ?? false,
      lastUsedAt: now,
      present: true,
      freeIndex: -1,
      freeList: undefined,
    } as unknown as E;
    this.byId.set(entry.containerId, entry);
    let slots = this.byAction.get(entry.key);
    if (slots === undefined) {
      slots = { all: new Set(), running: [], paused: [] };
      this.byAction.set(entry.key, slots);
    }
    slots.all.add(entry);
    this.place(entry, slots);
    this.changed.add(entry);
    return entry;
  }

  /**
   * A container of the action with a free slot, or undefined. Prefers a running one over a
   * paused one; among running ones, the most recently freed. Does not change anything.
   */
  pick(key: string): E | undefined {
    const slots = this.byAction.get(key);
    if (slots === undefined) return undefined;
    const running = slots.running;
    if (running.length > 0) return running[running.length - 1];
    const paused = slots.paused;
    return paused.length > 0 ? paused[paused.length - 1] : undefined;
  }

  /** Occupies one slot of a container (inFlight + 1). The caller ensures a free slot. */
  take(entry: E): void {
    entry.inFlight += 1;
    if (entry.inFlight >= entry.concurrency) this.unplace(entry);
    this.changed.add(entry);
  }

  /** Frees one slot (inFlight - 1) and stamps lastUsedAt. No-op on the free lists once removed. */
  give(entry: E, now: number): void {
    if (entry.inFlight > 0) entry.inFlight -= 1;
    entry.lastUsedAt = now;
    if (!entry.present) return;
    if (entry.freeList === undefined) {
      const slots = this.byAction.get(entry.key);
      if (slots !== undefined) this.place(entry, slots);
    }
    this.changed.add(entry);
  }

  setPaused(entry: E, paused: boolean): void {
    if (entry.paused === paused) return;
    entry.paused = paused;
    if (!entry.present) return;
    if (entry.freeList !== undefined) {
      this.unplace(entry);
      const slots = this.byAction.get(entry.key);
      if (slots !== undefined) this.place(entry, slots);
    }
    this.changed.add(entry);
  }

  /** Removes a container; returns false if it was not in the table. */
  remove(entry: E): boolean {
    if (!entry.present || this.byId.get(entry.containerId) !== entry) return false;
    entry.present = false;
    this.unplace(entry);
    this.byId.delete(entry.containerId);
    this.changed.delete(entry);
    const slots = this.byAction.get(entry.key);
    if (slots !== undefined) {
      slots.all.delete(entry);
      if (slots.all.size === 0) this.byAction.delete(entry.key);
    }
    return true;
  }

  /** The containers idle (nothing in flight) since at least `idleMs` before `now`. */
  idleSince(now: number, idleMs: number): E[] {
    const out: E[] = [];
    for (const entry of this.byId.values()) {
      if (entry.inFlight === 0 && now - entry.lastUsedAt >= idleMs) out.push(entry);
    }
    return out;
  }

  /** Returns and forgets the set of containers that changed since the last call (for usage batches). */
  takeChanged(): E[] {
    if (this.changed.size === 0) return [];
    const out = [...this.changed];
    this.changed.clear();
    return out;
  }

  /** The wire view of every owned container (controller.register). */
  snapshot(): OwnedContainer[] {
    return [...this.byId.values()].map(toOwned);
  }

  private place(entry: E, slots: ActionSlots<E>): void {
    if (entry.inFlight >= entry.concurrency) return;
    const list = entry.paused ? slots.paused : slots.running;
    entry.freeIndex = list.length;
    entry.freeList = entry.paused ? 'paused' : 'running';
    list.push(entry);
  }

  private unplace(entry: E): void {
    if (entry.freeList === undefined) return;
    const slots = this.byAction.get(entry.key);
    if (slots !== undefined) {
      const list = entry.freeList === 'paused' ? slots.paused : slots.running;
      const last = list.pop();
      if (last !== undefined && last !== entry) {
        list[entry.freeIndex] = last;
        last.freeIndex = entry.freeIndex;
      }
    }
    entry.freeIndex = -1;
    entry.freeList = undefined;
  }
}

const EMPTY: ReadonlySet<never> = new Set();

/** The protocol view of an entry (controller.register, usage). */
export function toOwned(entry: TableEntry): OwnedContainer {
  return {
    containerId: entry.containerId,
    agentId: entry.agentId,
    action: entry.action,
    inFlight: entry.inFlight,
    paused: entry.paused,
    lastUsedAt: entry.lastUsedAt,
  };
}
