/**
 * Where a new container goes, when no stem cell serves the acquire. Pure: reads the pool's indexes,
 * returns a choice with the reason an operator reads in the decision log.
 *
 * Two strategies an operator chooses between (`brisk scheduler --placement`):
 * - `pack` (default): the connected agent with the LEAST free memory that still fits (best fit).
 *   Hosts fill one after another, so whole hosts stay free for large actions or can be drained.
 * - `spread`: the connected agent with the MOST free memory (worst fit). Load and containers are
 *   spread evenly, so losing one host loses the smallest share of the warm pool.
 *
 * Locality (on by default, `--no-locality` turns it off) comes first in both: when agents that
 * already hold a container of this action revision (its code is there, and with runc or docker its
 * image layers are hot) have room, the choice is made among them only. With `spread` this keeps an
 * action's containers together while spreading actions over hosts; without locality, `spread` also
 * spreads each action's own containers.
 *
 * Cost: O(log agents) for the cluster-wide choice (a binary search in the pool's free-memory order)
 * plus at most LOCALITY_SCAN agents for the locality tier (an action on more agents than that is
 * judged on the first LOCALITY_SCAN that took it); never a scan of containers.
 */
import type { PoolSnapshot } from './pool.js';

export type PlacementStrategy = 'pack' | 'spread';

export const PLACEMENT_STRATEGIES: readonly PlacementStrategy[] = ['pack', 'spread'];

/** Agents holding an action that the locality tier looks at, at most. */
export const LOCALITY_SCAN = 64;

export interface PlacementOptions {
  /** default 'pack' */
  readonly strategy?: PlacementStrategy;
  /** prefer agents that already hold the action's code; default true */
  readonly locality?: boolean;
}

export interface PlacementChoice {
  readonly agentId: string;
  /** the agent's free memory before the create */
  readonly free: number;
  /** chosen in the locality tier */
  readonly local: boolean;
  readonly reason: string;
}

/** True when agent `a` (with `aFree` MB free) is preferred over agent `b` by the strategy. */
function better(strategy: PlacementStrategy, aFree: number, a: string, bFree: number, b: string): boolean {
  const byFree = strategy === 'pack' ? aFree - bFree : bFree - aFree;
  return byFree < 0 || (byFree === 0 && a < b);
}

/**
 * The agent a new container of `actionKey` needing `memoryMB` should be created on, or undefined
 * when no connected agent has that much free memory.
 */
export function choosePlacement(
  snapshot: PoolSnapshot,
  want: {
    readonly actionKey: string;
    readonly memoryMB: number;
    /** only these agents may take it (blackbox actions: agents that run images); default all */
    readonly eligible?: (agentId: string) => boolean;
  },
  options: PlacementOptions = {},
): PlacementChoice | undefined {
  const strategy = options.strategy ?? 'pack';
  const m = want.memoryMB;
  const rule = strategy === 'pack' ? 'least free memory that fits' : 'most free memory';
  if (options.locality ?? true) {
    // Plain locals, no object per candidate: this loop runs for every create.
    let bestId: string | undefined;
    let bestFree = 0;
    let holders = 0;
    const holding = snapshot.actionAgents(want.actionKey);
    for (const agentId of holding.keys()) {
      if (++holders > LOCALITY_SCAN) break;
      if (want.eligible !== undefined && !want.eligible(agentId)) continue;
      const free = snapshot.connectedFree(agentId);
      if (free === undefined || free < m) continue;
      if (bestId === undefined || better(strategy, free, agentId, bestFree, bestId)) {
        bestId = agentId;
        bestFree = free;
      }
    }
    if (bestId !== undefined) {
      return {
        agentId: bestId,
        free: bestFree,
        local: true,
        reason: `${strategy}, locality: ${bestId} already holds this action (on ${holding.size} agent${holding.size === 1 ? '' : 's'}) and has the ${rule} among them (${bestFree} MB free, ${m} MB needed)`,
      };
    }
  }
  if (want.eligible !== undefined) {
    // Rare (blackbox actions only) and limited to the eligible agents: a scan instead of the index.
    let bestId: string | undefined;
    let bestFree = 0;
    for (const agent of snapshot.agents.values()) {
      if (!want.eligible(agent.agentId)) continue;
      const free = snapshot.connectedFree(agent.agentId);
      if (free === undefined || free < m) continue;
      if (bestId === undefined || better(strategy, free, agent.agentId, bestFree, bestId)) {
        bestId = agent.agentId;
        bestFree = free;
      }
    }
    if (bestId === undefined) return undefined;
    return { agentId: bestId, free: bestFree, local: false, reason: `${strategy} among agents that run images: ${bestId} has the ${rule} (${bestFree} MB free, ${m} MB needed)` };
  }
  const best = strategy === 'pack' ? snapshot.leastFreeFitting(m) : snapshot.mostFree();
  if (!best || best.free < m) return undefined;
  return { agentId: best.agentId, free: best.free, local: false, reason: `${strategy}: ${best.agentId} has the ${rule} (${best.free} MB free, ${m} MB needed)` };
}
