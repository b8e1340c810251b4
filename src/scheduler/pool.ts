/**
 * The scheduler's view of the container pool: agents, and every container as a discriminated union by
 * state. `transition` is the pure lifecycle of one container; `Pool` is the mutable table the daemon
 * owns and that the policy reads through the read-only `PoolSnapshot` interface (no copying).
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

function ignore(container: ContainerView, event: ContainerEvent): Transition {
  return { state: container, effects: [], ignored: `${event.type} does not apply to a ${container.state} container` };
}

function assigned(base: ContainerBase, address: Address | undefined, e: Extract<ContainerEvent, { type: 'assign' }>): AssignedContainer {
  return {
    state: 'assigned',
    containerId: base.containerId,
    agentId: base.agentId,
    kind: base.kind,
    memoryMB: base.memoryMB,
    ...(address ? { address } : {}),
    action: e.action,
    actionKey: actionKey(e.action),
    owner: e.owner,
    inFlight: e.inFlight ?? 0,
    paused: e.paused ?? false,
    lastUsedAt: e.lastUsedAt ?? e.now,
  };
}

/**
 * The pure lifecycle of one container. Events that do not apply leave it unchanged with `ignored`
 * set (the daemon logs them: they are races between peers, not bugs to crash on).
 *
 * starting --ready--> prewarm (stem cell) | assigned (for the acquire; the daemon decides whether the
 * requester still wants it) ; prewarm|unclaimed --assign--> assigned ; any --destroy--> gone (destroy
 * sent) ; any --exited--> gone (owner told, a waiting acquire aborted).
 */
export function transition(container: ContainerView, event: ContainerEvent): Transition {
  const base: ContainerBase = container;
  switch (event.type) {
    case 'ready': {
      if (container.state !== 'starting') return ignore(container, event);
      const purpose = container.purpose;
      if (purpose.type === 'stemCell') {
        return { state: { state: 'prewarm', containerId: base.containerId, agentId: base.agentId, kind: base.kind, memoryMB: base.memoryMB, address: event.address }, effects: [] };
      }
      return {
        state: assigned(base, event.address, { type: 'assign', owner: purpose.controllerId, action: purpose.action, now: event.now }),
        effects: [],
      };
    }
    case 'assign':
      if (container.state !== 'prewarm' && container.state !== 'unclaimed') return ignore(container, event);
      return { state: assigned(base, container.address, event), effects: [] };
    case 'usage': {
      if (container.state !== 'assigned') return ignore(container, event);
      const { evicting, ...rest } = container;
      // A run on a container being evicted means the owner will not release it: the eviction is refused.
      const keepEvicting = evicting !== undefined && event.inFlight === 0;
      return {
        state: { ...rest, inFlight: event.inFlight, paused: event.paused, lastUsedAt: event.lastUsedAt, ...(keepEvicting ? { evicting } : {}) },
        effects: [],
      };
    }
    case 'evict':
      if (container.state !== 'assigned' || container.inFlight > 0 || container.evicting) return ignore(container, event);
      return { state: { ...container, evicting: { controllerId: event.controllerId, requestId: event.requestId, since: event.now } }, effects: [] };
    case 'evictRefused': {
      if (container.state !== 'assigned' || !container.evicting) return ignore(container, event);
      const { evicting: _refused, ...rest } = container;
      return { state: rest, effects: [] };
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

function byAgentFree(a: AgentFree, b: AgentFree): number {
  return a.free - b.free || (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0);
}

function byLastUse(a: AssignedContainer, b: AssignedContainer): number {
  return a.lastUsedAt - b.lastUsedAt || (a.containerId < b.containerId ? -1 : a.containerId > b.containerId ? 1 : 0);
}

function byContainerId(a: ContainerView, b: ContainerView): number {
  return a.containerId < b.containerId ? -1 : a.containerId > b.containerId ? 1 : 0;
}

function shapeKey(kind: string, memoryMB: number): string {
  return `${kind}\u0000${memoryMB}`;
}

function evictionKey(controllerId: string, requestId: string): string {
  return `${controllerId}\u0000${requestId}`;
}

function isEvictable(c: ContainerView): c is AssignedContainer {
  return c.state === 'assigned' && c.inFlight === 0 && c.evicting === undefined;
}

/** The action a container holds the code of (or is being created for), if any. */
function codeOf(c: ContainerView): string | undefined {
  if (c.state === 'assigned') return c.actionKey;
  if (c.state === 'starting' && c.purpose.type === 'acquire') return actionKey(c.purpose.action);
  return undefined;
}

function isStemCell(c: ContainerView): boolean {
  return c.state === 'prewarm' || (c.state === 'starting' && c.purpose.type === 'stemCell');
}

function bump<K>(map: Map<K, number>, key: K, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n === 0) map.delete(key);
  else map.set(key, n);
}

function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  return set;
}

/**
 * The mutable pool the daemon owns. It only stores; every decision is made by the policy over it
 * (it is a `PoolSnapshot`) and every container state change goes through `apply` → `transition`.
 *
 * Index contract: every write goes through `put`, `remove`, `apply`, `setAgent` or `removeAgent`,
 * which keep the indexes below in step (each write costs O(log n) plus a shift within one agent's
 * lists); `agents` and `containers` are exposed read-only for that reason.
 */
export class Pool implements PoolSnapshot {
  private readonly agentTable = new Map<string, AgentView>();
  private readonly containerTable = new Map<string, ContainerView>();
  queuedRequests = 0;

  private readonly used = new Map<string, number>();
  private readonly byAgent = new Map<string, Set<string>>();
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly prewarmByShape = new Map<string, Set<string>>();
  private readonly stemCounts = new Map<string, number>();
  private readonly lru = new Map<string, SortedList<AssignedContainer>>();
  private readonly stems = new Map<string, SortedList<PrewarmContainer>>();
  private readonly reclaimable = new Map<string, number>();
  private readonly idleOrder = new Map<string, AssignedContainer>();
  private keepIdlePlace = false;
  /** set by `put` while re-filing a container whose change cannot matter to stem cell refills */
  private quiet = false;
  private readonly code = new Map<string, Map<string, number>>();
  private readonly evictions = new Map<string, number>();
  private readonly freeOrder = new SortedList<AgentFree>(byAgentFree);
  private readonly freeEntry = new Map<string, AgentFree>();
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

  /** Adds or replaces a container in any state (creation, re-registration). */
  put(container: ContainerView): void {
    const old = this.containerTable.get(container.containerId);
    if (
      old?.state === 'assigned' &&
      container.state === 'assigned' &&
      old.agentId === container.agentId &&
      old.memoryMB === container.memoryMB &&
      old.owner === container.owner &&
      old.actionKey === container.actionKey
    ) {
      // The hot path (usage batches, evictions): only use, eviction and idle order change.
      this.containerTable.set(container.containerId, container);
      this.reuse(old, container);
      return;
    }
    if (old) {
      // Evictable before and after (e.g. a usage batch moving lastUsedAt): keep its place in the
      // idle order, which is the order containers became idle, not the order of their reports.
      this.keepIdlePlace = isEvictable(old) && isEvictable(container);
      // Same agent, memory and stem cell standing: the stem cell refill has nothing new to look at.
      this.quiet = old.agentId === container.agentId && old.memoryMB === container.memoryMB && isStemCell(old) === isStemCell(container);
      this.unindex(old);
      this.keepIdlePlace = false;
    }
    this.containerTable.set(container.containerId, container);
    this.index(container);
    this.quiet = false;
    // Once per write, after both halves: an update that keeps the memory moves nothing.
    if (old && old.agentId !== container.agentId) this.refreshFree(old.agentId);
    this.refreshFree(container.agentId);
  }

  /** Removes a container without a transition (it never existed for its agent, or the agent dropped it). */
  remove(containerId: string): boolean {
    const old = this.containerTable.get(containerId);
    if (!old) return false;
    this.unindex(old);
    this.containerTable.delete(containerId);
    this.refreshFree(old.agentId);
    return true;
  }

  /** Applies one lifecycle event; returns the transition so the daemon can carry out its effects. */
  apply(containerId: string, event: ContainerEvent): Transition | undefined {
    const container = this.containerTable.get(containerId);
    if (!container) return undefined;
    const result = transition(container, event);
    if (result.state === container) return result;
    if (result.state) this.put(result.state);
    else this.remove(containerId);
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

  leastFreeFitting(memoryMB: number): AgentFree | undefined {
    return this.freeOrder.at(this.freeOrder.firstWhere((e) => e.free >= memoryMB));
  }

  mostFree(): AgentFree | undefined {
    const last = this.freeOrder.at(this.freeOrder.size - 1);
    if (!last) return undefined;
    return this.freeOrder.at(this.freeOrder.firstWhere((e) => e.free >= last.free));
  }

  *prewarmOf(kind: string, memoryMB: number): Iterable<PrewarmContainer> {
    const ids = this.prewarmByShape.get(shapeKey(kind, memoryMB));
    if (!ids) return;
    for (const id of ids) yield this.containerTable.get(id) as PrewarmContainer;
  }

  stemCellCount(agentId: string, kind: string, memoryMB: number): number {
    return this.stemCounts.get(`${agentId}\u0000${shapeKey(kind, memoryMB)}`) ?? 0;
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
    return this.evictions.get(evictionKey(controllerId, requestId)) ?? 0;
  }

  // ---------------------------------------------------------------- index upkeep

  private index(c: ContainerView): void {
    this.track(c, 1);
  }

  private unindex(c: ContainerView): void {
    this.track(c, -1);
  }

  /** Adds (`sign` 1) or removes (-1) one container from every index. */
  private track(c: ContainerView, sign: 1 | -1): void {
    const { agentId, containerId } = c;
    bump(this.used, agentId, sign * c.memoryMB);
    if (!this.quiet) this.changed.add(agentId);
    const onAgent = setOf(this.byAgent, agentId);
    if (sign > 0) onAgent.add(containerId);
    else if (onAgent.delete(containerId) && onAgent.size === 0) this.byAgent.delete(agentId);

    if (isStemCell(c)) bump(this.stemCounts, `${agentId}\u0000${shapeKey(c.kind, c.memoryMB)}`, sign);
    if (c.state === 'prewarm') {
      const shape = shapeKey(c.kind, c.memoryMB);
      const ids = setOf(this.prewarmByShape, shape);
      if (sign > 0) ids.add(containerId);
      else if (ids.delete(containerId) && ids.size === 0) this.prewarmByShape.delete(shape);
      this.sortedOf(this.stems, agentId, byContainerId, c, sign);
      bump(this.reclaimable, agentId, sign * c.memoryMB);
    }
    if (c.state === 'assigned') {
      const owned = setOf(this.byOwner, c.owner);
      if (sign > 0) owned.add(containerId);
      else if (owned.delete(containerId) && owned.size === 0) this.byOwner.delete(c.owner);
      if (isEvictable(c)) {
        this.sortedOf(this.lru, agentId, byLastUse, c, sign);
        bump(this.reclaimable, agentId, sign * c.memoryMB);
        // Set on a key already present keeps its place (see `put`: an update that leaves the
        // container evictable keeps it where it is in the idle order).
        if (sign > 0) this.idleOrder.set(containerId, c);
        else if (!this.keepIdlePlace) this.idleOrder.delete(containerId);
      }
      if (c.evicting) bump(this.evictions, evictionKey(c.evicting.controllerId, c.evicting.requestId), sign);
    }
    const key = codeOf(c);
    if (key !== undefined) {
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

  /** Re-files an assigned container whose agent, memory, owner and action stay the same. */
  private reuse(old: AssignedContainer, c: AssignedContainer): void {
    const { agentId, containerId } = c;
    const was = isEvictable(old);
    const is = isEvictable(c);
    if (was) this.sortedOf(this.lru, agentId, byLastUse, old, -1);
    if (is) this.sortedOf(this.lru, agentId, byLastUse, c, 1);
    if (was !== is) bump(this.reclaimable, agentId, (is ? 1 : -1) * c.memoryMB);
    // Set on a key already present keeps its place in the idle order.
    if (is) this.idleOrder.set(containerId, c);
    else if (was) this.idleOrder.delete(containerId);
    if (old.evicting) bump(this.evictions, evictionKey(old.evicting.controllerId, old.evicting.requestId), -1);
    if (c.evicting) {
      bump(this.evictions, evictionKey(c.evicting.controllerId, c.evicting.requestId), 1);
      this.watched.add(containerId);
    } else if (old.evicting) this.watched.delete(containerId);
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

  /** Re-files the agent in the free-memory order (connected agents only). */
  private refreshFree(agentId: string): void {
    const old = this.freeEntry.get(agentId);
    const agent = this.agentTable.get(agentId);
    const free = agent ? agent.memoryMB - this.usedMemory(agentId) : 0;
    if (old && agent?.connected && old.free === free) return;
    if (old) {
      this.freeOrder.delete(old);
      this.freeEntry.delete(agentId);
    }
    if (agent?.connected) {
      const entry = { agentId, free };
      this.freeOrder.insert(entry);
      this.freeEntry.set(agentId, entry);
    }
  }
}
