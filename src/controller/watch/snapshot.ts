/**
 * Builds the WatchSnapshot one viewer receives (pure). This is where namespace filtering happens:
 * the actions and activations of other namespaces are dropped here, so they never leave the
 * controller; the cluster part (agents, pools, queue, decisions) is cluster-wide and passed as is.
 */
import { actionPathOfKey } from '../../scheduler/watch.js';
import { WATCH_LIMITS, type ActionWatch, type ActivationWatch, type ClusterWatch, type WatchSnapshot } from '../../watch/snapshot.js';
import type { WindowStats } from './action-stats.js';

/** One action revision's load as the balancer reports it (see `Balancer.actionLoads`). */
export interface ActionLoadInput {
  /** actionKey: `namespace/name@revision` */
  key: string;
  containers: number;
  inFlight: number;
  waiting: number;
}

export interface SnapshotInput {
  at: number;
  controllerId: string;
  /** the viewer's namespace */
  namespace: string;
  schedulerConnected: boolean;
  cluster: ClusterWatch | undefined;
  /** every action revision the balancer holds, all namespaces */
  loads: readonly ActionLoadInput[];
  /** window statistics by `namespace/name`, all namespaces */
  stats: ReadonlyMap<string, WindowStats>;
  /** the viewer namespace's activations (the tracker already filters by namespace) */
  inFlight: readonly ActivationWatch[];
  recent: readonly ActivationWatch[];
}

/** The namespace of an action path `namespace/name` (namespaces hold no `/`). */
export function namespaceOf(actionPath: string): string {
  const slash = actionPath.indexOf('/');
  return slash < 0 ? actionPath : actionPath.slice(0, slash);
}

/**
 * The namespace's actions: those the balancer holds containers or waiting requests for, and those
 * with activations in the window; revisions of one action are summed. Ordered by requests per
 * second (busiest first), then name; at most WATCH_LIMITS.actions.
 */
export function actionsFor(namespace: string, loads: readonly ActionLoadInput[], stats: ReadonlyMap<string, WindowStats>): ActionWatch[] {
  const byPath = new Map<string, ActionWatch>();
  const entry = (path: string): ActionWatch => {
    let a = byPath.get(path);
    if (a === undefined) byPath.set(path, (a = { action: path, warm: 0, inFlight: 0, queued: 0, requestsPerSecond: 0, coldStarts: 0 }));
    return a;
  };
  for (const load of loads) {
    const path = actionPathOfKey(load.key);
    if (namespaceOf(path) !== namespace) continue;
    const a = entry(path);
    a.warm += load.containers;
    a.inFlight += load.inFlight;
    a.queued += load.waiting;
  }
  for (const [path, s] of stats) {
    if (namespaceOf(path) !== namespace) continue;
    const a = entry(path);
    a.requestsPerSecond = s.requestsPerSecond;
    a.coldStarts = s.coldStarts;
    if (s.p50Ms !== undefined) a.p50Ms = s.p50Ms;
    if (s.p99Ms !== undefined) a.p99Ms = s.p99Ms;
  }
  return [...byPath.values()]
    .sort((x, y) => y.requestsPerSecond - x.requestsPerSecond || (x.action < y.action ? -1 : x.action > y.action ? 1 : 0))
    .slice(0, WATCH_LIMITS.actions);
}

/** The snapshot for one viewer; every list within WATCH_LIMITS. */
export function buildWatchSnapshot(input: SnapshotInput): WatchSnapshot {
  return {
    at: input.at,
    controllerId: input.controllerId,
    namespace: input.namespace,
    ...(input.cluster === undefined ? {} : { cluster: input.cluster }),
    schedulerConnected: input.schedulerConnected,
    actions: actionsFor(input.namespace, input.loads, input.stats),
    inFlight: input.inFlight.slice(0, WATCH_LIMITS.activations),
    recent: input.recent.slice(0, WATCH_LIMITS.activations),
  };
}
