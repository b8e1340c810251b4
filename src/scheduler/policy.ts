/**
 * Placement policy: pure functions over a read-only pool snapshot that return decisions as values,
 * each with the reason the decision log shows. No I/O, no clock; the daemon applies the decision.
 *
 * Acquire order (design §3; step 1, reusing the controller's own warm idle container, happens in the
 * controller without a message):
 *   2. a stem cell of the action's kind and memory on a connected agent → assign it (and refill it
 *      on that agent when memory allows and nobody waits);
 *   3. a connected agent with room → create there, chosen by the placement strategy (placement.ts:
 *      `pack` or `spread`, locality first);
 *   4. evict idle containers on ONE agent, least recently used first, only as many as needed, then
 *      create. Only assigned containers with nothing in flight and not already being evicted are
 *      candidates, then stem cells (of any kind) as the last resort; never a starting or unclaimed
 *      one. The agent needing the fewest evictions wins, then the one freeing the least memory;
 *   5. otherwise wait in the queue (or reject when the queue is full).
 *
 * Cost of one decision, through the pool's indexes: O(1) for a stem cell, O(log agents + agents
 * holding the action) for a create, O(connected agents) only on the eviction path (each agent is
 * judged from two running sums before any of its containers is looked at). Never O(containers).
 */
import type { ActionRef } from '../model/action.js';
import { actionKey } from '../model/action.js';
import type { AgentView, PoolSnapshot } from './pool.js';
import { choosePlacement, type PlacementStrategy } from './placement.js';

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
  /** where new containers go; default 'pack' (see placement.ts) */
  readonly placement?: PlacementStrategy;
  /** prefer agents that already hold the action's code; default true */
  readonly locality?: boolean;
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

export type RejectLimit = 'noAgents' | 'tooLargeForAnyAgent' | 'noAgentForImage' | 'schedulerQueue';

/** Every decision carries `reason`: one sentence an operator reads in the decision log. */
export type Decision =
  | { readonly kind: 'assignStemCell'; readonly containerId: string; readonly agentId: string; readonly backfill?: StemCellCreate; readonly reason: string }
  | { readonly kind: 'create'; readonly agentId: string; readonly reason: string }
  | { readonly kind: 'evictThenCreate'; readonly agentId: string; readonly evict: readonly string[]; readonly reason: string }
  /**
   * `waitingFor`: `evictions` when this request's evictions are under way; `capacity` when no agent
   * can make room for its memory now (then no larger request without a ready stem cell can be
   * served either: see `cannotBeServed`)
   */
  | { readonly kind: 'queue'; readonly waitingFor: 'evictions' | 'capacity'; readonly reason: string }
  | { readonly kind: 'reject'; readonly limit: RejectLimit; readonly message: string; readonly reason: string };

function actionName(action: ActionRef): string {
  return `${action.namespace}/${action.name}`;
}

function reject(limit: RejectLimit, message: string): Decision {
  return { kind: 'reject', limit, message, reason: message };
}

/** The configured stem cell of this shape (a loop, not `find`: no closure per decision). */
function specOf(specs: readonly StemCellSpec[], kind: string, memoryMB: number): StemCellSpec | undefined {
  for (const s of specs) if (s.kind === kind && s.memoryMB === memoryMB) return s;
  return undefined;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Decides how to serve one acquire. See the module comment for the order. */
export function decideAcquire(snapshot: PoolSnapshot, request: AcquireRequest, config: PolicyConfig): Decision {
  const { action } = request;
  const m = action.memoryMB;
  // Agents within their reconnect grace count as known: they may be back before the deadline.
  if (snapshot.agents.size === 0) {
    return reject('noAgents', `No agent is registered with the scheduler, so no container can be placed for action ${actionName(action)}.`);
  }
  // A blackbox action (its own image) runs only on agents that run images (the docker backend).
  const eligible = action.image === undefined ? undefined : (agentId: string) => snapshot.agents.get(agentId)?.runsImages === true;
  if (eligible !== undefined) {
    let anyImageAgent = false;
    let largestImageAgent = 0;
    for (const agent of snapshot.agents.values()) {
      if (agent.runsImages !== true) continue;
      anyImageAgent = true;
      largestImageAgent = Math.max(largestImageAgent, agent.memoryMB);
    }
    if (!anyImageAgent) {
      return reject('noAgentForImage', `Action ${actionName(action)} runs the image ${action.image}, which needs an agent with the docker backend, and none is registered.`);
    }
    if (m > largestImageAgent) {
      return reject('tooLargeForAnyAgent', `Action ${actionName(action)} needs ${m} MB of memory but the largest agent with the docker backend has ${largestImageAgent} MB.`);
    }
  }
  const largest = snapshot.largestAgentMB();
  if (m > largest) {
    return reject('tooLargeForAnyAgent', `Action ${actionName(action)} needs ${m} MB of memory but the largest agent has ${largest} MB.`);
  }
  const waitingOthers = snapshot.queuedRequests - (request.queued ? 1 : 0);

  // 2. a stem cell of the same kind and memory (never for an image: stem cells run brisk's runtime)
  for (const c of eligible === undefined ? snapshot.prewarmOf(action.kind, m) : []) {
    const agent = snapshot.agents.get(c.agentId);
    if (!agent?.connected) continue;
    const spec = specOf(config.stemCells, c.kind, c.memoryMB);
    const free = snapshot.freeMemory(agent.agentId);
    // After the assignment this agent holds one stem cell fewer of the kind; refill it unless
    // memory is short or other acquires are waiting for memory.
    const wantsMore = spec !== undefined && snapshot.stemCellCount(agent.agentId, c.kind, c.memoryMB) - 1 < spec.count;
    const backfill = wantsMore && waitingOthers === 0 && free >= c.memoryMB ? { agentId: agent.agentId, kind: c.kind, memoryMB: c.memoryMB } : undefined;
    const refill = backfill
      ? '; refilled there'
      : !wantsMore
        ? ''
        : waitingOthers > 0
          ? `; not refilled while ${plural(waitingOthers, 'acquire')} ${waitingOthers === 1 ? 'waits' : 'wait'}`
          : `; not refilled, ${free} MB free`;
    return {
      kind: 'assignStemCell',
      containerId: c.containerId,
      agentId: c.agentId,
      ...(backfill ? { backfill } : {}),
      reason: `stem cell ${c.kind}/${c.memoryMB} MB ready on ${c.agentId}${refill}`,
    };
  }

  // Evictions already under way for this request: wait for the owners' releases (or their refusal).
  // Matched on controller AND request id: another controller's acquire may carry the same id.
  const underWay = snapshot.evictingFor(request.controllerId, request.requestId);
  if (underWay > 0) return { kind: 'queue', waitingFor: 'evictions', reason: `waiting for the owners to release ${plural(underWay, 'evicted container')}` };

  // 3. an agent with room
  const noStem = `no stem cell of ${action.kind}/${m} MB`;
  const placed = choosePlacement(
    snapshot,
    { actionKey: actionKey(action), memoryMB: m, ...(eligible === undefined ? {} : { eligible }) },
    { strategy: config.placement ?? 'pack', locality: config.locality ?? true },
  );
  if (placed) return { kind: 'create', agentId: placed.agentId, reason: `${noStem}; ${placed.reason}` };

  // 4. evict idle containers on one agent, LRU first, stem cells last
  const plan = planEviction(snapshot, m, eligible);
  if (plan) {
    return {
      kind: 'evictThenCreate',
      agentId: plan.agentId,
      evict: plan.evict,
      reason: `${noStem} and no agent has ${m} MB free; evicting ${plural(plan.evict.length, 'idle container')} (least recently used first) frees ${plan.freed} MB on ${plan.agentId}, the fewest evictions of any agent`,
    };
  }

  // 5. wait
  if (!request.queued && snapshot.queuedRequests >= config.maxQueueSize) {
    return reject(
      'schedulerQueue',
      `The scheduler queue is full (${config.maxQueueSize} acquires waiting); no container for action ${actionName(action)} can be placed now. Try again later.`,
    );
  }
  return { kind: 'queue', waitingFor: 'capacity', reason: `no agent has ${m} MB free or idle containers to evict; waiting in the queue (${plural(waitingOthers, 'other acquire')} waiting)` };
}

/** Candidate agents taken from the front of the cluster's idle order before settling. */
export const EVICTION_CANDIDATES = 8;
/** Idle containers looked at, at most, to find those candidates. */
const EVICTION_SCAN = 256;

interface EvictionPlan {
  agentId: string;
  evict: string[];
  freed: number;
}

/**
 * The eviction plan on one agent: its idle containers least recently used first, then its stem
 * cells, only as many as needed; undefined when they cannot make room, or need more evictions
 * than `bound` (a plan that long cannot win).
 */
function planOn(snapshot: PoolSnapshot, agent: AgentView, m: number, bound: number): EvictionPlan | undefined {
  if (agent.memoryMB < m) return undefined;
  let free = snapshot.freeMemory(agent.agentId);
  if (free + snapshot.reclaimableMB(agent.agentId) < m) return undefined;
  const evict: string[] = [];
  let freed = 0;
  // Idle containers least recently used first, then stem cells (plain loops: no closure per plan).
  for (const c of snapshot.evictable(agent.agentId)) {
    if (free >= m || evict.length >= bound) break;
    evict.push(c.containerId);
    free += c.memoryMB;
    freed += c.memoryMB;
  }
  for (const c of snapshot.stemCellsOn(agent.agentId)) {
    if (free >= m || evict.length >= bound) break;
    evict.push(c.containerId);
    free += c.memoryMB;
    freed += c.memoryMB;
  }
  return free >= m ? { agentId: agent.agentId, evict, freed } : undefined;
}

/**
 * Where to evict for `m` MB. The candidates are the agents of the containers idle longest in the
 * cluster (the first EVICTION_CANDIDATES distinct agents that can make room, found within the first
 * EVICTION_SCAN idle containers), so that what is evicted is what has been unused longest; among
 * them the plan with the fewest evictions wins, then the one freeing the least memory, then the
 * earlier candidate. Only when no candidate is found that way (e.g. only stem cells can make room)
 * are all agents with anything to evict considered. Cost: O(candidates × evictions), not O(agents).
 */
function planEviction(snapshot: PoolSnapshot, m: number, eligible: ((agentId: string) => boolean) | undefined): EvictionPlan | undefined {
  let plan: EvictionPlan | undefined;
  const seen = new Set<string>();
  let candidates = 0;
  let scanned = 0;
  for (const c of snapshot.idleLongest()) {
    if (++scanned > EVICTION_SCAN || candidates >= EVICTION_CANDIDATES) break;
    if (seen.has(c.agentId)) continue;
    seen.add(c.agentId);
    if (eligible !== undefined && !eligible(c.agentId)) continue;
    // A candidate whose plan loses still counts: it could make room.
    const agent = snapshot.agents.get(c.agentId);
    if (agent?.connected && agent.memoryMB >= m && snapshot.freeMemory(c.agentId) + snapshot.reclaimableMB(c.agentId) >= m) candidates++;
    plan = betterPlan(snapshot, agent, m, plan);
  }
  if (candidates > 0) return plan;
  const rest = [...snapshot.reclaimableAgents()].filter((id) => !seen.has(id) && (eligible === undefined || eligible(id))).sort();
  for (const agentId of rest) plan = betterPlan(snapshot, snapshot.agents.get(agentId), m, plan);
  return plan;
}

/** The better of `plan` and the agent's plan: fewer evictions, then less memory freed, then `plan`. */
function betterPlan(snapshot: PoolSnapshot, agent: AgentView | undefined, m: number, plan: EvictionPlan | undefined): EvictionPlan | undefined {
  if (!agent?.connected) return plan;
  const p = planOn(snapshot, agent, m, plan ? plan.evict.length : Number.POSITIVE_INFINITY);
  if (p === undefined) return plan;
  if (plan === undefined || p.evict.length < plan.evict.length || (p.evict.length === plan.evict.length && p.freed < plan.freed)) return p;
  return plan;
}

/**
 * True when an acquire of `action` cannot be served now because a request for `noRoomForMB` or
 * less was just answered `queue` with `waitingFor: 'capacity'` in the same pool: no agent can
 * make room for that much, so none can for more, and only a ready stem cell of its exact kind and
 * memory could serve it. Lets the daemon skip hopeless queue heads without a full decision each.
 */
export function cannotBeServed(snapshot: PoolSnapshot, action: ActionRef, noRoomForMB: number): boolean {
  if (action.memoryMB < noRoomForMB) return false;
  for (const c of snapshot.prewarmOf(action.kind, action.memoryMB)) if (snapshot.agents.get(c.agentId)?.connected) return false;
  return true;
}

export interface StemCellOptions {
  /** agents not to create stem cells on now (e.g. backing off after a failed stem cell) */
  readonly exclude?: ReadonlySet<string>;
  /**
   * only these agents (those whose pool changed since the last refill: nothing else can have
   * become short of stem cells); default every connected agent
   */
  readonly agents?: Iterable<string>;
}

/**
 * Which stem cells to create so that every connected agent holds `count` of each configured
 * (kind, memoryMB), where its free memory allows. Nothing while acquires wait in the queue:
 * free memory then belongs to them. Agents are visited by agentId.
 */
export function decideStemCells(snapshot: PoolSnapshot, config: PolicyConfig, options: StemCellOptions = {}): StemCellCreate[] {
  if (snapshot.queuedRequests > 0 || config.stemCells.length === 0) return [];
  let agents: readonly AgentView[];
  if (options.agents === undefined) agents = snapshot.connectedAgents();
  else {
    agents = [...new Set(options.agents)]
      .map((id) => snapshot.agents.get(id))
      .filter((a): a is AgentView => a?.connected === true)
      .sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
  }
  const creates: StemCellCreate[] = [];
  for (const agent of agents) {
    if (options.exclude?.has(agent.agentId)) continue;
    let free = snapshot.freeMemory(agent.agentId);
    for (const spec of config.stemCells) {
      let have = snapshot.stemCellCount(agent.agentId, spec.kind, spec.memoryMB);
      while (have < spec.count && free >= spec.memoryMB) {
        creates.push({ agentId: agent.agentId, kind: spec.kind, memoryMB: spec.memoryMB });
        free -= spec.memoryMB;
        have++;
      }
    }
  }
  return creates;
}
