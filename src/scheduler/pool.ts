/**
 * The scheduler's view of the container pool: agents, and every container as a discriminated union by
 * state. `transition` is the pure lifecycle of one container; `Pool` is the mutable table the daemon
 * owns and that the policy reads through the read-only `PoolSnapshot` interface (no copying). The
 * pool keeps its own container records and updates them in place (see `Pool`): views are live.
 *
 * Memory accounting: every container in the pool counts its `memoryMB` against its agent, whatever
 * its state (a `starting` container reserves its memory before the agent confirms it). There is no
 * held `releasing` state: a container leaves the pool, and its memory is free again, as soon as the
 * scheduler sends `container.destroy` to its agent. Destroys are prompt on every backend (a kill), so
 * holding the memory until the agent's `container.exited` would only delay the create that waits
 * for it and would leak capacity whenever an agent does not confirm.
 */
import type { Address } from '../daemon/protocol.js';
import { actionKey, type ActionRef } from '../model/action.js';
import { SortedList } from './sorted-list.js';

/** An agent as the scheduler knows it. */
export interface AgentView {
  readonly agentId: string;
  /** ws:// URL of the agent's control server (empty for an agent only known from a controller's claim) */
  readonly controlUrl: string;
  /** memory capacity for containers */
  readonly memoryMB: number;
  readonly connected: boolean;
  /** epoch ms when the connection was lost; set iff `!connected` */
  readonly lostSince?: number;
  /** the agent can run OpenWhisk-compatible images (blackbox actions): its backend is docker */
  readonly runsImages?: boolean;
}

/** Why a container is being started. */
export type StartPurpose =
  | { readonly type: 'stemCell' }
  | {
      readonly type: 'acquire';
      readonly requestId: string;
      readonly controllerId: string;
      readonly action: ActionRef;
      /** the acquire's deadline, epoch ms */
      readonly deadline: number;
    };

interface ContainerBase {
  readonly containerId: string;
  readonly agentId: string;
  readonly kind: string;
  readonly memoryMB: number;
}

/** Being created on an agent; memory reserved. */
export interface StartingContainer extends ContainerBase {
  readonly state: 'starting';
  readonly purpose: StartPurpose;
}

/** A stem cell: started without /init, no owner yet. */
export interface PrewarmContainer extends ContainerBase {
  readonly state: 'prewarm';
  readonly address: Address;
}

/** Reported as assigned by an agent that re-registered, but no controller has claimed it yet. */
export interface UnclaimedContainer extends ContainerBase {
  readonly state: 'unclaimed';
  readonly address: Address;
  /** epoch ms when it was first seen unclaimed; destroyed after the peer grace */
  readonly since: number;
}

/** Handed to one owner controller for one action revision. */
export interface AssignedContainer extends ContainerBase {
  readonly state: 'assigned';
  /** unknown for a container adopted from a controller's claim before its agent registered */
  readonly address?: Address;
  readonly action: ActionRef;
  /** `actionKey(action)`, the only key a container may be reused under */
  readonly actionKey: string;
  readonly owner: string;
  readonly inFlight: number;
  readonly paused: boolean;
  /** epoch ms of the last use the owner reported (LRU order for eviction) */
  readonly lastUsedAt: number;
  /**
   * set while the owner has been asked to release it for a waiting acquire: that acquire is
   * (`controllerId`, `requestId`), as request ids collide across controllers
   */
  readonly evicting?: { readonly controllerId: string; readonly requestId: string; readonly since: number };
}

export type ContainerView = StartingContainer | PrewarmContainer | UnclaimedContainer | AssignedContainer;
export type ContainerState = ContainerView['state'];

/** An agent with its free memory, as the placement indexes hold it. */
export interface AgentFree {
  readonly agentId: string;
  /** memoryMB minus every container the pool holds there (may be negative for a claimed-only agent) */
  readonly free: number;
}

/**
 * What the policy reads. `Pool` implements it with indexes kept up to date on every change, so each
 * query below costs O(1), O(log agents) or the size of its answer, never a scan of all containers.
 */
export interface PoolSnapshot {
  readonly agents: ReadonlyMap<string, AgentView>;
  readonly containers: ReadonlyMap<string, ContainerView>;
  /** acquires waiting in the scheduler's queue */
  readonly queuedRequests: number;
  /** memory held on the agent by every container the pool holds there, whatever its state */
  usedMemory(agentId: string): number;
  /** the largest capacity of any known agent (connected or within its grace), 0 when none */
  largestAgentMB(): number;
  /** connected agents, ordered by agentId */
  connectedAgents(): readonly AgentView[];
  /** the connected agent with the least free memory that still fits `memoryMB` (ties: lowest agentId) */
  leastFreeFitting(memoryMB: number): AgentFree | undefined;
  /** the connected agent with the most free memory (ties: lowest agentId) */
  mostFree(): AgentFree | undefined;
  /** free memory of an agent */
  freeMemory(agentId: string): number;
  /** free memory of a connected agent, undefined when it is not connected (or unknown): one lookup */
  connectedFree(agentId: string): number | undefined;
  /** stem cells (prewarm) of this kind and memory on any agent, oldest first */
  prewarmOf(kind: string, memoryMB: number): Iterable<PrewarmContainer>;
  /** stem cells of this kind and memory on the agent, ready (prewarm) or being started */
  stemCellCount(agentId: string, kind: string, memoryMB: number): number;
  /** agentId → how many containers (assigned, or being created for an acquire) of this action it holds */
  actionAgents(actionKey: string): ReadonlyMap<string, number>;
  /** assigned containers on the agent with nothing in flight and no eviction under way, least recently used first */
  evictable(agentId: string): Iterable<AssignedContainer>;
  /** ready stem cells on the agent, by containerId */
  stemCellsOn(agentId: string): Iterable<PrewarmContainer>;
  /** memory of `evictable(agentId)` plus `stemCellsOn(agentId)`: what evictions could free there */
  reclaimableMB(agentId: string): number;
  /** agents with `reclaimableMB` above 0 */
  reclaimableAgents(): Iterable<string>;
  /**
   * every evictable container in the cluster, in the order they became evictable (idle longest
   * first): the eviction step takes its candidate agents from the front
   */
  idleLongest(): Iterable<AssignedContainer>;
  /** containers being evicted for the acquire (`controllerId`, `requestId`) */
  evictingFor(controllerId: string, requestId: string): number;
}

// ------------------------------------------------------------------ lifecycle

export type ContainerEvent =
  /** the agent reports the container is up */
  | { readonly type: 'ready'; readonly address: Address; readonly now: number }
  /** a stem cell or an unclaimed container handed to an owner */
  | { readonly type: 'assign'; readonly owner: string; readonly action: ActionRef; readonly now: number; readonly inFlight?: number; readonly paused?: boolean; readonly lastUsedAt?: number }
  /** the owner's usage batch */
  | { readonly type: 'usage'; readonly inFlight: number; readonly paused: boolean; readonly lastUsedAt: number }
  /** asked to be released for the acquire (`controllerId`, `requestId`) */
  | { readonly type: 'evict'; readonly controllerId: string; readonly requestId: string; readonly now: number }
  /** the owner did not release in time, or reported a run on it */
  | { readonly type: 'evictRefused' }
  /** the scheduler destroys it (release, written off, no longer wanted) */
  | { readonly type: 'destroy'; readonly reason: string }
  /** the agent reports it gone (crash, oom, ...) or failed to create it */
  | { readonly type: 'exited'; readonly reason: 'crash' | 'oom' | 'timeout' | 'destroyed' };

export type ContainerEffect =
  | { readonly type: 'destroy'; readonly agentId: string; readonly containerId: string; readonly reason: string }
  /** tell the owner its container is gone */
  | { readonly type: 'gone'; readonly controllerId: string; readonly containerId: string; readonly reason: 'crash' | 'oom' | 'timeout' | 'destroyed' }
  /** an acquire was waiting on this container being created */
  | { readonly type: 'createAborted'; readonly purpose: Extract<StartPurpose, { type: 'acquire' }> };

export interface Transition {
  /** undefined: the container left the pool */
  readonly state: ContainerView | undefined;
  readonly effects: readonly ContainerEffect[];
  /** set when the event does not apply to the state; state is then unchanged */
  readonly ignored?: string;
}

/** Shared by every transition without effects (frozen: nobody may push to it). */
const NO_EFFECTS: readonly ContainerEffect[] = Object.freeze([]);

function ignore(container: ContainerView, event: ContainerEvent): Transition {
  return { state: container, effects: NO_EFFECTS, ignored: `${event.type} does not apply to a ${container.state} container` };
}

/**
 * An assigned container as a literal with every field present, in one order: every assigned record
 * then shares one hidden class, and the pool can update one in place without changing its shape.
 */
function assignedRecord(
  base: ContainerBase,
  address: Address | undefined,
  action: ActionRef,
  key: string,
  owner: string,
  inFlight: number,
  paused: boolean,
  lastUsedAt: number,
  evicting: AssignedContainer['evicting'],
): AssignedContainer {
  return {
    state: 'assigned',
    containerId: base.containerId,
    agentId: base.agentId,
    kind: base.kind,
    memoryMB: base.memoryMB,
    address,
    action,
    actionKey: key,
    owner,
    inFlight,
    paused,
    lastUsedAt,
    evicting,
  };
}

function assigned(base: ContainerBase, address: Address | undefined, e: Extract<ContainerEvent, { type: 'assign' }>): AssignedContainer {
  return assignedRecord(base, address, e.action, actionKey(e.action), e.owner, e.inFlight ?? 0, e.paused ?? false, e.lastUsedAt ?? e.now, undefined);
}

/**
 * The pure lifecycle of one container. Events that do not apply leave it unchanged with `ignored`
 * set (the daemon logs them: they are races between peers, not bugs to crash on).
 *
 * starting --ready--> prewarm (stem cell) | assigned (for the acquire; the daemon decides whether the
 * requester still wants it) ; prewarm|unclaimed --assign--> assigned ; any --destroy--> gone (destroy
 * sent) ; any --exited--> gone (owner told, a waiting acquire aborted).
 *
 * The returned state is always a new value (never the input, unless ignored); an assigned
 * container's optional `address` and `evicting` are present as keys (possibly undefined).
 */
export function transition(container: ContainerView, event: ContainerEvent): Transition {
  const base: ContainerBase = container;
  switch (event.type) {
    case 'ready': {
      if (container.state !== 'starting') return ignore(container, event);
      const purpose = container.purpose;
      if (purpose.type === 'stemCell') {
        return { state: { state: 'prewarm', containerId: base.containerId, agentId: base.agentId, kind: base.kind, memoryMB: base.memoryMB, address: event.address }, effects: NO_EFFECTS };
      }
      return {
        state: assignedRecord(base, event.address, purpose.action, actionKey(purpose.action), purpose.controllerId, 0, false, event.now, undefined),
        effects: NO_EFFECTS,
      };
    }
    case 'assign':
      if (container.state !== 'prewarm' && container.state !== 'unclaimed') return ignore(container, event);
      return { state: assigned(base, container.address, event), effects: NO_EFFECTS };
    case 'usage': {
      if (container.state !== 'assigned') return ignore(container, event);
      const c = container;
      // A run on a container being evicted means the owner will not release it: the eviction is refused.
      const evicting = c.evicting !== undefined && event.inFlight === 0 ? c.evicting : undefined;
      return { state: assignedRecord(c, c.address, c.action, c.actionKey, c.owner, event.inFlight, event.paused, event.lastUsedAt, evicting), effects: NO_EFFECTS };
    }
    case 'evict': {
      if (container.state !== 'assigned' || container.inFlight > 0 || container.evicting) return ignore(container, event);
      const c = container;
      const evicting = { controllerId: event.controllerId, requestId: event.requestId, since: event.now };
      return { state: assignedRecord(c, c.address, c.action, c.actionKey, c.owner, c.inFlight, c.paused, c.lastUsedAt, evicting), effects: NO_EFFECTS };
    }
    case 'evictRefused': {
      if (container.state !== 'assigned' || !container.evicting) return ignore(container, event);
      const c = container;
      return { state: assignedRecord(c, c.address, c.action, c.actionKey, c.owner, c.inFlight, c.paused, c.lastUsedAt, undefined), effects: NO_EFFECTS };
    }
    case 'destroy': {
      const effects: ContainerEffect[] = [{ type: 'destroy', agentId: base.agentId, containerId: base.containerId, reason: event.reason }];
      if (container.state === 'starting' && container.purpose.type === 'acquire') effects.push({ type: 'createAborted', purpose: container.purpose });
      return { state: undefined, effects };
    }
    case 'exited': {
      const effects: ContainerEffect[] = [];
      if (container.state === 'assigned') effects.push({ type: 'gone', controllerId: container.owner, containerId: base.containerId, reason: event.reason });
      if (container.state === 'starting' && container.purpose.type === 'acquire') effects.push({ type: 'createAborted', purpose: container.purpose });
      return { state: undefined, effects };
    }
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

// ------------------------------------------------------------------ the table

/** Memory used on an agent by every container the pool holds there. */
export function usedMemory(snapshot: Pick<PoolSnapshot, 'usedMemory'>, agentId: string): number {
  return snapshot.usedMemory(agentId);
}

const EMPTY_MAP: ReadonlyMap<string, number> = new Map();
const EMPTY: readonly never[] = [];

/** The pool's own records are written in place; everyone else sees them through the readonly views. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function byAgentFree(a: AgentFree, b: AgentFree): number {
  return a.free - b.free || (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0);
}

function byLastUse(a: AssignedContainer, b: AssignedContainer): number {
  return a.lastUsedAt - b.lastUsedAt || (a.containerId < b.containerId ? -1 : a.containerId > b.containerId ? 1 : 0);
}

function byContainerId(a: ContainerView, b: ContainerView): number {
  return a.containerId < b.containerId ? -1 : a.containerId > b.containerId ? 1 : 0;
}

/** Interned (kind, memory) keys: the hot path looks shapes up without building a string each time. */
const shapeKeys = new Map<string, Map<number, string>>();

function shapeKey(kind: string, memoryMB: number): string {
  let byMemory = shapeKeys.get(kind);
  if (!byMemory) shapeKeys.set(kind, (byMemory = new Map()));
  let key = byMemory.get(memoryMB);
  // Bounded by the runtime kinds and memory sizes in use (a few dozen): never evicted.
  if (key === undefined) byMemory.set(memoryMB, (key = `${kind}\u0000${memoryMB}`));
  return key;
}

function isEvictable(c: ContainerView): c is AssignedContainer {
  return c.state === 'assigned' && c.inFlight === 0 && c.evicting === undefined;
}

/**
 * `actionKey` of the action references of containers being created, remembered per reference: a
 * create is indexed (put, then ready) several times and should not build the key string each time.
 */
const startingKeys = new WeakMap<ActionRef, string>();

/** The action a container holds the code of (or is being created for), if any. */
function codeOf(c: ContainerView): string | undefined {
  if (c.state === 'assigned') return c.actionKey;
  if (c.state === 'starting' && c.purpose.type === 'acquire') {
    const action = c.purpose.action;
    let key = startingKeys.get(action);
    if (key === undefined) startingKeys.set(action, (key = actionKey(action)));
    return key;
  }
  return undefined;
}

function isStemCell(c: ContainerView): boolean {
  return c.state === 'prewarm' || (c.state === 'starting' && c.purpose.type === 'stemCell');
}

/** Same agent, memory and kind: what it counts against, and its stem cell shape, are unchanged. */
function sameHome(a: ContainerView, b: ContainerView): boolean {
  return a.agentId === b.agentId && a.memoryMB === b.memoryMB && a.kind === b.kind;
}

function bump<K>(map: Map<K, number>, key: K, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n === 0) map.delete(key);
  else map.set(key, n);
}

/** Counts keyed by two strings, without joining them into one key string per lookup. */
class PairCounts {
  private readonly outer = new Map<string, Map<string, number>>();

  get(a: string, b: string): number {
    return this.outer.get(a)?.get(b) ?? 0;
  }

  bump(a: string, b: string, by: number): void {
    let inner = this.outer.get(a);
    if (!inner) this.outer.set(a, (inner = new Map()));
    bump(inner, b, by);
    if (inner.size === 0) this.outer.delete(a);
  }
}

/**
 * The pool's own copy of a container, with the fields of its state in one order (so that records
 * of one state share a hidden class and can be updated in place). The caller's object is never
 * kept: it may be reused or frozen.
 */
function own(c: ContainerView): ContainerView {
  switch (c.state) {
    case 'starting':
      return { state: 'starting', containerId: c.containerId, agentId: c.agentId, kind: c.kind, memoryMB: c.memoryMB, purpose: c.purpose };
    case 'prewarm':
      return { state: 'prewarm', containerId: c.containerId, agentId: c.agentId, kind: c.kind, memoryMB: c.memoryMB, address: c.address };
    case 'unclaimed':
      return { state: 'unclaimed', containerId: c.containerId, agentId: c.agentId, kind: c.kind, memoryMB: c.memoryMB, address: c.address, since: c.since };
    case 'assigned':
      return assignedRecord(c, c.address, c.action, c.actionKey, c.owner, c.inFlight, c.paused, c.lastUsedAt, c.evicting);
    default: {
      const unreachable: never = c;
      return unreachable;
    }
  }
}

/**
 * The mutable pool the daemon owns. It only stores; every decision is made by the policy over it
 * (it is a `PoolSnapshot`) and every container state change goes through `apply` → `transition`.
 *
 * Records: the pool keeps its own copy of each container (`put` copies) and updates it IN PLACE
 * when a change keeps its state, agent, memory, owner and action (usage batches, evictions: the hot
 * path), so that the update allocates nothing that outlives it and no index holding the record
 * needs a new reference. A view read from `containers` (or returned in a `Transition`) is therefore
 * live: read what you need from it before the next write, or copy it.
 *
 * Index contract: every write goes through `put`, `remove`, `apply`, `setAgent` or `removeAgent`,
 * which keep the indexes below in step. A write touches only the indexes whose membership changes
 * (each O(1), or O(log n) plus a shift within one agent's sorted list); `agents` and `containers`
 * are exposed read-only for that reason.
 */
export class Pool implements PoolSnapshot {
  private readonly agentTable = new Map<string, AgentView>();
  private readonly containerTable = new Map<string, ContainerView>();
  queuedRequests = 0;

  private readonly used = new Map<string, number>();
  private readonly byAgent = new Map<string, Set<string>>();
  private readonly byOwner = new Map<string, Set<string>>();
  /** ready stem cells by shape, in the order they became ready */
  private readonly prewarmByShape = new Map<string, Map<string, PrewarmContainer>>();
  /** (agentId, shape) → stem cells ready or being started */
  private readonly stemCounts = new PairCounts();
  private readonly lru = new Map<string, SortedList<AssignedContainer>>();
  private readonly stems = new Map<string, SortedList<PrewarmContainer>>();
  private readonly reclaimable = new Map<string, number>();
  private readonly idleOrder = new Map<string, AssignedContainer>();
  private readonly code = new Map<string, Map<string, number>>();
  /** (controllerId, requestId) → containers being evicted for that acquire */
  private readonly evictions = new PairCounts();
  private readonly freeOrder = new SortedList<AgentFree>(byAgentFree);
  private readonly freeEntry = new Map<string, Mutable<AgentFree>>();
  /** reused for the binary searches of the free-memory order */
  private readonly freeProbe: Mutable<AgentFree> = { agentId: '', free: 0 };
  private connectedCache: AgentView[] | undefined;
  private largestCache: number | undefined;
  /** unclaimed containers and containers being evicted: what the housekeeping tick looks at */
  private readonly watched = new Set<string>();
  /** agents whose containers or capacity changed since `takeChangedAgents` (stem cell refills look only at these) */
  private readonly changed = new Set<string>();

  get agents(): ReadonlyMap<string, AgentView> {
    return this.agentTable;
  }

  get containers(): ReadonlyMap<string, ContainerView> {
    return this.containerTable;
  }

  setAgent(agent: AgentView): void {
    this.agentTable.set(agent.agentId, agent);
    this.connectedCache = undefined;
    this.largestCache = undefined;
    this.changed.add(agent.agentId);
    this.refreshFree(agent.agentId);
  }

  /** Forgets an agent (its containers must have been removed first). */
  removeAgent(agentId: string): void {
    this.agentTable.delete(agentId);
    this.connectedCache = undefined;
    this.largestCache = undefined;
    this.changed.delete(agentId);
    this.refreshFree(agentId);
  }

  /** Adds or replaces a container in any state (creation, re-registration). The pool keeps a copy. */
  put(container: ContainerView): void {
    const old = this.containerTable.get(container.containerId);
    if (old && this.updateInPlace(old, container)) return;
    this.replace(old, own(container));
  }

  /** Removes a container without a transition (it never existed for its agent, or the agent dropped it). */
  remove(containerId: string): boolean {
    const old = this.containerTable.get(containerId);
    if (!old) return false;
    this.track(old, -1, undefined);
    this.containerTable.delete(containerId);
    this.refreshFree(old.agentId);
    return true;
  }

  /**
   * Applies one lifecycle event; returns the transition so the daemon can carry out its effects.
   * Its `state` is the pool's (live) record of the container, or undefined when it left the pool.
   */
  apply(containerId: string, event: ContainerEvent): Transition | undefined {
    const container = this.containerTable.get(containerId);
    if (!container) return undefined;
    const result = transition(container, event);
    const next = result.state;
    if (next === container) return result;
    if (next === undefined) {
      this.remove(containerId);
      return result;
    }
    if (this.updateInPlace(container, next)) return { state: container, effects: result.effects };
    // `transition` returns a new record in the pool's field order: it is kept as it is.
    this.replace(container, next);
    return result;
  }

  onAgent(agentId: string): ContainerView[] {
    const ids = this.byAgent.get(agentId);
    return ids ? [...ids].map((id) => this.containerTable.get(id)!) : [];
  }

  ownedBy(controllerId: string): AssignedContainer[] {
    const ids = this.byOwner.get(controllerId);
    return ids ? [...ids].map((id) => this.containerTable.get(id) as AssignedContainer) : [];
  }

  /** Unclaimed containers and containers being evicted (both expire with time). */
  watchedContainers(): ContainerView[] {
    return [...this.watched].map((id) => this.containerTable.get(id)!);
  }

  /** Agents changed since the last call, and forgets them. */
  takeChangedAgents(): string[] {
    const ids = [...this.changed];
    this.changed.clear();
    return ids;
  }

  /** Marks an agent as changed again (e.g. its stem cells were skipped during a backoff). */
  markChanged(agentId: string): void {
    if (this.agentTable.has(agentId)) this.changed.add(agentId);
  }

  // ---------------------------------------------------------------- PoolSnapshot

  usedMemory(agentId: string): number {
    return this.used.get(agentId) ?? 0;
  }

  freeMemory(agentId: string): number {
    return (this.agentTable.get(agentId)?.memoryMB ?? 0) - this.usedMemory(agentId);
  }

  connectedFree(agentId: string): number | undefined {
    // The free-memory order holds exactly the connected agents, with their free memory.
    return this.freeEntry.get(agentId)?.free;
  }

  largestAgentMB(): number {
    if (this.largestCache === undefined) {
      let largest = 0;
      for (const a of this.agentTable.values()) largest = Math.max(largest, a.memoryMB);
      this.largestCache = largest;
    }
    return this.largestCache;
  }

  connectedAgents(): readonly AgentView[] {
    this.connectedCache ??= [...this.agentTable.values()].filter((a) => a.connected).sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
    return this.connectedCache;
  }

  /** The entry returned is the index's own: valid until the next write (copy it to keep it). */
  leastFreeFitting(memoryMB: number): AgentFree | undefined {
    return this.freeOrder.at(this.firstWithFree(memoryMB));
  }

  /** The entry returned is the index's own: valid until the next write (copy it to keep it). */
  mostFree(): AgentFree | undefined {
    const last = this.freeOrder.at(this.freeOrder.size - 1);
    if (!last) return undefined;
    return this.freeOrder.at(this.firstWithFree(last.free));
  }

  prewarmOf(kind: string, memoryMB: number): Iterable<PrewarmContainer> {
    return this.prewarmByShape.get(shapeKey(kind, memoryMB))?.values() ?? EMPTY;
  }

  stemCellCount(agentId: string, kind: string, memoryMB: number): number {
    return this.stemCounts.get(agentId, shapeKey(kind, memoryMB));
  }

  actionAgents(key: string): ReadonlyMap<string, number> {
    return this.code.get(key) ?? EMPTY_MAP;
  }

  evictable(agentId: string): Iterable<AssignedContainer> {
    return this.lru.get(agentId) ?? EMPTY;
  }

  stemCellsOn(agentId: string): Iterable<PrewarmContainer> {
    return this.stems.get(agentId) ?? EMPTY;
  }

  reclaimableMB(agentId: string): number {
    return this.reclaimable.get(agentId) ?? 0;
  }

  reclaimableAgents(): Iterable<string> {
    return this.reclaimable.keys();
  }

  idleLongest(): Iterable<AssignedContainer> {
    return this.idleOrder.values();
  }

  evictingFor(controllerId: string, requestId: string): number {
    return this.evictions.get(controllerId, requestId);
  }

  // ---------------------------------------------------------------- index upkeep

  /**
   * Writes `next` over the record `rec` in place when the change keeps its state, home and (for an
   * assigned container) owner and action; false when it does not (the caller then replaces it).
   */
  private updateInPlace(rec: ContainerView, next: ContainerView): boolean {
    if (rec.state !== next.state || !sameHome(rec, next)) return false;
    switch (rec.state) {
      case 'assigned': {
        const n = next as AssignedContainer;
        if (rec.owner !== n.owner || rec.actionKey !== n.actionKey) return false;
        this.refileAssigned(rec, n);
        return true;
      }
      case 'prewarm':
        (rec as Mutable<PrewarmContainer>).address = (next as PrewarmContainer).address;
        return true;
      case 'unclaimed': {
        const r = rec as Mutable<UnclaimedContainer>;
        r.address = (next as UnclaimedContainer).address;
        r.since = (next as UnclaimedContainer).since;
        return true;
      }
      case 'starting':
        // Its purpose (and so the code it counts for) may change: re-filed as a new record.
        return false;
      default: {
        const unreachable: never = rec;
        return unreachable;
      }
    }
  }

  /**
   * The hot path (a run starts or ends, an eviction starts or is refused): only the LRU order, the
   * reclaimable sum, the idle order and the evictions under way can change. The record leaves its
   * sorted list BEFORE it is written (the list finds it by its old sort key).
   */
  private refileAssigned(rec: AssignedContainer, n: AssignedContainer): void {
    const r = rec as Mutable<AssignedContainer>;
    const { agentId, containerId } = r;
    const was = isEvictable(r);
    const is = isEvictable(n);
    const moves = was && is && r.lastUsedAt !== n.lastUsedAt;
    if (was && (!is || moves)) this.sortedOf(this.lru, agentId, byLastUse, r, -1);
    if (r.evicting !== n.evicting) {
      if (r.evicting) this.evictions.bump(r.evicting.controllerId, r.evicting.requestId, -1);
      if (n.evicting) {
        this.evictions.bump(n.evicting.controllerId, n.evicting.requestId, 1);
        this.watched.add(containerId);
      } else this.watched.delete(containerId);
    }
    r.address = n.address;
    r.action = n.action;
    r.inFlight = n.inFlight;
    r.paused = n.paused;
    r.lastUsedAt = n.lastUsedAt;
    r.evicting = n.evicting;
    if (is && (!was || moves)) this.sortedOf(this.lru, agentId, byLastUse, r, 1);
    if (was !== is) {
      bump(this.reclaimable, agentId, (is ? 1 : -1) * r.memoryMB);
      // An update that leaves it evictable keeps its place in the idle order (the order in which
      // containers became idle, not the order of their reports).
      if (is) this.idleOrder.set(containerId, r);
      else this.idleOrder.delete(containerId);
    }
  }

  /** Replaces `old` (if any) by the pool's own record `next`. */
  private replace(old: ContainerView | undefined, next: ContainerView): void {
    if (old) this.track(old, -1, next);
    this.containerTable.set(next.containerId, next);
    this.track(next, 1, old);
    // An update that keeps agent and memory moves nothing in the free-memory order.
    if (old && sameHome(old, next)) return;
    if (old && old.agentId !== next.agentId) this.refreshFree(old.agentId);
    this.refreshFree(next.agentId);
  }

  /**
   * Adds (`sign` 1) or removes (-1) one container from every index. `other` is the record it is
   * replaced by (or replaces): the indexes in which both hold the same place are left alone.
   */
  private track(c: ContainerView, sign: 1 | -1, other: ContainerView | undefined): void {
    const { agentId, containerId } = c;
    const same = other !== undefined && sameHome(c, other);
    const stem = isStemCell(c);
    const sameStem = same && stem === isStemCell(other);
    // The stem cell refill looks only at agents whose memory or stem cells changed.
    if (!sameStem) this.changed.add(agentId);
    if (!same) {
      bump(this.used, agentId, sign * c.memoryMB);
      let onAgent = this.byAgent.get(agentId);
      if (sign > 0) {
        if (!onAgent) this.byAgent.set(agentId, (onAgent = new Set()));
        onAgent.add(containerId);
      } else if (onAgent?.delete(containerId) && onAgent.size === 0) this.byAgent.delete(agentId);
    }
    if (stem && !sameStem) this.stemCounts.bump(agentId, shapeKey(c.kind, c.memoryMB), sign);

    if (c.state === 'prewarm') {
      const shape = shapeKey(c.kind, c.memoryMB);
      let ready = this.prewarmByShape.get(shape);
      if (sign > 0) {
        if (!ready) this.prewarmByShape.set(shape, (ready = new Map()));
        ready.set(containerId, c);
      } else if (ready?.delete(containerId) && ready.size === 0) this.prewarmByShape.delete(shape);
      this.sortedOf(this.stems, agentId, byContainerId, c, sign);
      bump(this.reclaimable, agentId, sign * c.memoryMB);
    } else if (c.state === 'assigned') {
      let owned = this.byOwner.get(c.owner);
      if (sign > 0) {
        if (!owned) this.byOwner.set(c.owner, (owned = new Set()));
        owned.add(containerId);
      } else if (owned?.delete(containerId) && owned.size === 0) this.byOwner.delete(c.owner);
      if (isEvictable(c)) {
        this.sortedOf(this.lru, agentId, byLastUse, c, sign);
        bump(this.reclaimable, agentId, sign * c.memoryMB);
        // Set on a key already present keeps its place: an update that leaves the container
        // evictable (e.g. re-claimed by another owner) keeps it where it is in the idle order.
        if (sign > 0) this.idleOrder.set(containerId, c);
        else if (!(other !== undefined && isEvictable(other))) this.idleOrder.delete(containerId);
      }
      if (c.evicting) this.evictions.bump(c.evicting.controllerId, c.evicting.requestId, sign);
    }
    const key = codeOf(c);
    if (key !== undefined && !(same && codeOf(other) === key)) {
      let agents = this.code.get(key);
      if (!agents) this.code.set(key, (agents = new Map()));
      bump(agents, agentId, sign);
      if (agents.size === 0) this.code.delete(key);
    }
    if (c.state === 'unclaimed' || (c.state === 'assigned' && c.evicting)) {
      if (sign > 0) this.watched.add(containerId);
      else this.watched.delete(containerId);
    }
  }

  private sortedOf<T extends ContainerView>(map: Map<string, SortedList<T>>, agentId: string, compare: (a: T, b: T) => number, c: T, sign: 1 | -1): void {
    let list = map.get(agentId);
    if (sign > 0) {
      if (!list) map.set(agentId, (list = new SortedList(compare)));
      list.insert(c);
    } else if (list) {
      list.delete(c);
      if (list.size === 0) map.delete(agentId);
    }
  }

  /** Index of the first connected agent with at least `free` MB free, in the free-memory order. */
  private firstWithFree(free: number): number {
    // '' sorts before every agent id: the lower bound is the first entry with at least `free`.
    this.freeProbe.free = free;
    return this.freeOrder.lowerBound(this.freeProbe);
  }

  /** Re-files the agent in the free-memory order (connected agents only); its entry is reused. */
  private refreshFree(agentId: string): void {
    const entry = this.freeEntry.get(agentId);
    const agent = this.agentTable.get(agentId);
    const connected = agent?.connected === true;
    const free = agent ? agent.memoryMB - this.usedMemory(agentId) : 0;
    if (entry) {
      if (connected && entry.free === free) return;
      this.freeOrder.delete(entry);
      if (connected) {
        entry.free = free;
        this.freeOrder.insert(entry);
      } else this.freeEntry.delete(agentId);
    } else if (connected) {
      const fresh = { agentId, free };
      this.freeOrder.insert(fresh);
      this.freeEntry.set(agentId, fresh);
    }
  }
}
