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

/** What the policy reads. `Pool` implements it; tests build plain objects. */
export interface PoolSnapshot {
  readonly agents: ReadonlyMap<string, AgentView>;
  readonly containers: ReadonlyMap<string, ContainerView>;
  /** acquires waiting in the scheduler's queue */
  readonly queuedRequests: number;
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
export function usedMemory(snapshot: Pick<PoolSnapshot, 'containers'>, agentId: string): number {
  let used = 0;
  for (const c of snapshot.containers.values()) if (c.agentId === agentId) used += c.memoryMB;
  return used;
}

/**
 * The mutable pool the daemon owns. It only stores; every decision is made by the policy over it
 * (it is a `PoolSnapshot`) and every container state change goes through `apply` → `transition`.
 */
export class Pool implements PoolSnapshot {
  readonly agents = new Map<string, AgentView>();
  readonly containers = new Map<string, ContainerView>();
  queuedRequests = 0;

  setAgent(agent: AgentView): void {
    this.agents.set(agent.agentId, agent);
  }

  /** Adds a container in any state (creation, re-registration). */
  put(container: ContainerView): void {
    this.containers.set(container.containerId, container);
  }

  /** Applies one lifecycle event; returns the transition so the daemon can carry out its effects. */
  apply(containerId: string, event: ContainerEvent): Transition | undefined {
    const container = this.containers.get(containerId);
    if (!container) return undefined;
    const result = transition(container, event);
    if (result.state) this.containers.set(containerId, result.state);
    else this.containers.delete(containerId);
    return result;
  }

  onAgent(agentId: string): ContainerView[] {
    return [...this.containers.values()].filter((c) => c.agentId === agentId);
  }

  ownedBy(controllerId: string): AssignedContainer[] {
    const owned: AssignedContainer[] = [];
    for (const c of this.containers.values()) if (c.state === 'assigned' && c.owner === controllerId) owned.push(c);
    return owned;
  }
}
