/**
 * Placement policy: pure functions over a read-only pool snapshot that return decisions as values.
 * No I/O, no clock; the daemon applies the decision.
 *
 * Acquire order (design §3; step 1, reusing the controller's own warm idle container, happens in the
 * controller without a message):
 *   2. a stem cell of the action's kind and memory on a connected agent → assign it;
 *   3. a connected agent with room → create there. Placement packs: the agent with the LEAST free
 *      memory that still fits wins (ties by agentId), so large holes stay free for large actions;
 *   4. evict idle containers on ONE agent, least recently used first, only as many as needed, then
 *      create. Only assigned containers with nothing in flight and not already being evicted are
 *      candidates, then stem cells (of any kind) as the last resort; never a starting or unclaimed one;
 *   5. otherwise wait in the queue (or reject when the queue is full).
 */
import type { ActionRef } from '../model/action.js';
import { usedMemory, type AgentView, type AssignedContainer, type ContainerView, type PoolSnapshot } from './pool.js';

/** Keep `count` stem cells of `kind`/`memoryMB` on every agent where memory allows. */
export interface StemCellSpec {
  readonly kind: string;
  readonly memoryMB: number;
  readonly count: number;
}

export interface PolicyConfig {
  readonly stemCells: readonly StemCellSpec[];
  /** most acquires that may wait in the queue */
  readonly maxQueueSize: number;
}

/** One acquire; it is identified by (`controllerId`, `requestId`): request ids are only unique per controller. */
export interface AcquireRequest {
  readonly requestId: string;
  readonly controllerId: string;
  readonly action: ActionRef;
  /** true when the request already holds a queue slot (it is being re-decided from the queue) */
  readonly queued: boolean;
}

export interface StemCellCreate {
  readonly agentId: string;
  readonly kind: string;
  readonly memoryMB: number;
}

export type RejectLimit = 'noAgents' | 'tooLargeForAnyAgent' | 'schedulerQueue';

export type Decision =
  | { readonly kind: 'assignStemCell'; readonly containerId: string; readonly agentId: string; readonly backfill?: StemCellCreate }
  | { readonly kind: 'create'; readonly agentId: string }
  | { readonly kind: 'evictThenCreate'; readonly agentId: string; readonly evict: readonly string[] }
  | { readonly kind: 'queue' }
  | { readonly kind: 'reject'; readonly limit: RejectLimit; readonly message: string };

function actionName(action: ActionRef): string {
  return `${action.namespace}/${action.name}`;
}

function isStemCellOf(c: ContainerView, agentId: string, kind: string, memoryMB: number): boolean {
  if (c.agentId !== agentId || c.kind !== kind || c.memoryMB !== memoryMB) return false;
  return c.state === 'prewarm' || (c.state === 'starting' && c.purpose.type === 'stemCell');
}

function stemCellCount(snapshot: PoolSnapshot, agentId: string, kind: string, memoryMB: number): number {
  let n = 0;
  for (const c of snapshot.containers.values()) if (isStemCellOf(c, agentId, kind, memoryMB)) n++;
  return n;
}

function byId(a: { agentId: string }, b: { agentId: string }): number {
  return a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0;
}

function connectedAgents(snapshot: PoolSnapshot): AgentView[] {
  return [...snapshot.agents.values()].filter((a) => a.connected).sort(byId);
}

/** Decides how to serve one acquire. See the module comment for the order. */
export function decideAcquire(snapshot: PoolSnapshot, request: AcquireRequest, config: PolicyConfig): Decision {
  const { action } = request;
  const m = action.memoryMB;
  // Agents within their reconnect grace count as known: they may be back before the deadline.
  const known = [...snapshot.agents.values()];
  if (known.length === 0) {
    return { kind: 'reject', limit: 'noAgents', message: `No agent is registered with the scheduler, so no container can be placed for action ${actionName(action)}.` };
  }
  const largest = Math.max(...known.map((a) => a.memoryMB));
  if (m > largest) {
    return {
      kind: 'reject',
      limit: 'tooLargeForAnyAgent',
      message: `Action ${actionName(action)} needs ${m} MB of memory but the largest agent has ${largest} MB.`,
    };
  }
  const agents = connectedAgents(snapshot);
  const waitingOthers = snapshot.queuedRequests - (request.queued ? 1 : 0);

  // 2. a stem cell of the same kind and memory
  for (const c of snapshot.containers.values()) {
    if (c.state !== 'prewarm' || c.kind !== action.kind || c.memoryMB !== m) continue;
    const agent = snapshot.agents.get(c.agentId);
    if (!agent?.connected) continue;
    const spec = config.stemCells.find((s) => s.kind === c.kind && s.memoryMB === c.memoryMB);
    const free = agent.memoryMB - usedMemory(snapshot, agent.agentId);
    // After the assignment this agent holds one stem cell fewer of the kind; refill it unless
    // memory is short or other acquires are waiting for memory.
    const backfill =
      spec !== undefined && waitingOthers === 0 && free >= c.memoryMB && stemCellCount(snapshot, agent.agentId, c.kind, c.memoryMB) - 1 < spec.count
        ? { agentId: agent.agentId, kind: c.kind, memoryMB: c.memoryMB }
        : undefined;
    return { kind: 'assignStemCell', containerId: c.containerId, agentId: c.agentId, ...(backfill ? { backfill } : {}) };
  }

  // Evictions already under way for this request: wait for the owners' releases (or their refusal).
  // Matched on controller AND request id: another controller's acquire may carry the same id.
  for (const c of snapshot.containers.values()) {
    if (c.state === 'assigned' && c.evicting?.controllerId === request.controllerId && c.evicting.requestId === request.requestId) return { kind: 'queue' };
  }

  // 3. an agent with room: pack onto the one with the least free memory that fits
  let best: { agentId: string; free: number } | undefined;
  for (const agent of agents) {
    const free = agent.memoryMB - usedMemory(snapshot, agent.agentId);
    if (free >= m && (best === undefined || free < best.free)) best = { agentId: agent.agentId, free };
  }
  if (best) return { kind: 'create', agentId: best.agentId };

  // 4. evict idle containers on one agent, LRU first, stem cells last
  let plan: { agentId: string; evict: string[]; freed: number } | undefined;
  for (const agent of agents) {
    if (agent.memoryMB < m) continue;
    const onAgent = [...snapshot.containers.values()].filter((c) => c.agentId === agent.agentId);
    const idle = onAgent
      .filter((c): c is AssignedContainer => c.state === 'assigned' && c.inFlight === 0 && c.evicting === undefined)
      .sort((a, b) => a.lastUsedAt - b.lastUsedAt || (a.containerId < b.containerId ? -1 : 1));
    const stems = onAgent.filter((c) => c.state === 'prewarm').sort((a, b) => (a.containerId < b.containerId ? -1 : 1));
    let free = agent.memoryMB - onAgent.reduce((sum, c) => sum + c.memoryMB, 0);
    const evict: string[] = [];
    let freed = 0;
    for (const c of [...idle, ...stems]) {
      if (free >= m) break;
      evict.push(c.containerId);
      free += c.memoryMB;
      freed += c.memoryMB;
    }
    if (free < m) continue;
    if (plan === undefined || evict.length < plan.evict.length || (evict.length === plan.evict.length && freed < plan.freed)) {
      plan = { agentId: agent.agentId, evict, freed };
    }
  }
  if (plan) return { kind: 'evictThenCreate', agentId: plan.agentId, evict: plan.evict };

  // 5. wait
  if (!request.queued && snapshot.queuedRequests >= config.maxQueueSize) {
    return {
      kind: 'reject',
      limit: 'schedulerQueue',
      message: `The scheduler queue is full (${config.maxQueueSize} acquires waiting); no container for action ${actionName(action)} can be placed now. Try again later.`,
    };
  }
  return { kind: 'queue' };
}

export interface StemCellOptions {
  /** agents not to create stem cells on now (e.g. backing off after a failed stem cell) */
  readonly exclude?: ReadonlySet<string>;
}

/**
 * Which stem cells to create so that every connected agent holds `count` of each configured
 * (kind, memoryMB), where its free memory allows. Nothing while acquires wait in the queue:
 * free memory then belongs to them.
 */
export function decideStemCells(snapshot: PoolSnapshot, config: PolicyConfig, options: StemCellOptions = {}): StemCellCreate[] {
  if (snapshot.queuedRequests > 0) return [];
  const creates: StemCellCreate[] = [];
  for (const agent of connectedAgents(snapshot)) {
    if (options.exclude?.has(agent.agentId)) continue;
    let free = agent.memoryMB - usedMemory(snapshot, agent.agentId);
    for (const spec of config.stemCells) {
      let have = stemCellCount(snapshot, agent.agentId, spec.kind, spec.memoryMB);
      while (have < spec.count && free >= spec.memoryMB) {
        creates.push({ agentId: agent.agentId, kind: spec.kind, memoryMB: spec.memoryMB });
        free -= spec.memoryMB;
        have++;
      }
    }
  }
  return creates;
}
