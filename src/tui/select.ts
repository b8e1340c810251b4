/**
 * What each pane lists (pure): a snapshot's entries filtered by the operator's text and sorted by
 * the pane's sort key. Natural orders: names A→Z; numbers, sizes and times largest/newest first;
 * ties fall back to the name (or id), so rows do not jump between two snapshots with equal values.
 */
import type { ActionWatch, ActivationWatch, AgentWatch, DecisionWatch, WatchSnapshot } from '../watch/snapshot.js';
import type { SortState } from './state.js';

function matches(filter: string, ...fields: (string | undefined)[]): boolean {
  if (filter === '') return true;
  const needle = filter.toLowerCase();
  return fields.some((f) => f !== undefined && f.toLowerCase().includes(needle));
}

type Compare<T> = (a: T, b: T) => number;

const byText = <T>(get: (t: T) => string): Compare<T> => (a, b) => get(a).localeCompare(get(b));
/** largest first */
const byNumber = <T>(get: (t: T) => number): Compare<T> => (a, b) => get(b) - get(a);
const then = <T>(...compares: Compare<T>[]): Compare<T> => (a, b) => {
  for (const c of compares) {
    const r = c(a, b);
    if (r !== 0) return r;
  }
  return 0;
};

function sorted<T>(items: readonly T[], compares: Record<string, Compare<T>>, sort: SortState, fallback: string): T[] {
  const compare = compares[sort.key] ?? compares[fallback]!;
  const out = [...items].sort(compare);
  return sort.reversed ? out.reverse() : out;
}

const agentName = byText<AgentWatch>((a) => a.agentId);
export function selectAgents(snapshot: WatchSnapshot | undefined, options: { filter: string; sort: SortState }): AgentWatch[] {
  const agents = (snapshot?.cluster?.agents ?? []).filter((a) => matches(options.filter, a.agentId, a.backend));
  return sorted(
    agents,
    {
      agent: agentName,
      memory: then(byNumber((a) => a.usedMB), agentName),
      busy: then(byNumber((a) => a.containers.busy), agentName),
    },
    options.sort,
    'agent',
  );
}

const actionName = byText<ActionWatch>((a) => a.action);
export function selectActions(snapshot: WatchSnapshot | undefined, options: { filter: string; sort: SortState }): ActionWatch[] {
  const actions = (snapshot?.actions ?? []).filter((a) => matches(options.filter, a.action));
  return sorted(
    actions,
    {
      rps: then(byNumber((a) => a.requestsPerSecond), actionName),
      action: actionName,
      inflight: then(byNumber((a) => a.inFlight), actionName),
      p99: then(byNumber((a) => a.p99Ms ?? -1), actionName),
      cold: then(byNumber((a) => a.coldStarts), actionName),
    },
    options.sort,
    'rps',
  );
}

/** One row of the activations pane: in-flight ones first (as the stream lists them), then recent ones. */
export interface ActivationRow {
  readonly activation: ActivationWatch;
  readonly inFlight: boolean;
}

const activationId = byText<ActivationRow>((r) => r.activation.activationId);
/**
 * In-flight activations, then recent ones, each group sorted on its own (an operator looks for what
 * is running now first). Duration of a running one: its age at the snapshot.
 */
export function selectActivations(snapshot: WatchSnapshot | undefined, options: { filter: string; sort: SortState }): ActivationRow[] {
  if (snapshot === undefined) return [];
  const at = snapshot.at;
  const durationOf = (r: ActivationRow) => r.activation.durationMs ?? Math.max(0, at - r.activation.startedAt);
  const compares: Record<string, Compare<ActivationRow>> = {
    started: then(byNumber((r) => r.activation.startedAt), activationId),
    duration: then(byNumber(durationOf), activationId),
    action: then(byText((r) => r.activation.action), byNumber((r) => r.activation.startedAt)),
    status: then(byText((r) => r.activation.status), byNumber((r) => r.activation.startedAt)),
  };
  const keep = (a: ActivationWatch) => matches(options.filter, a.action, a.activationId, a.status);
  const running = snapshot.inFlight.filter(keep).map((activation) => ({ activation, inFlight: true }));
  const recent = snapshot.recent.filter(keep).map((activation) => ({ activation, inFlight: false }));
  return [...sorted(running, compares, options.sort, 'started'), ...sorted(recent, compares, options.sort, 'started')];
}

export function selectDecisions(snapshot: WatchSnapshot | undefined, options: { filter: string; sort: SortState }): DecisionWatch[] {
  const decisions = (snapshot?.cluster?.decisions ?? []).filter((d) => matches(options.filter, d.kind, d.action, d.agentId, d.reason));
  const newest = byNumber<DecisionWatch>((d) => d.at);
  return sorted(
    decisions,
    {
      time: newest,
      kind: then(byText((d) => d.kind), newest),
      action: then(byText((d) => d.action ?? ''), newest),
    },
    options.sort,
    'time',
  );
}
