/**
 * `brisk status`: the cluster at a glance, from one WatchSnapshot (`GET /api/v1/status`). Fetching
 * goes through the REST client; everything else here is pure formatting into sections the command
 * prints as tables (or returns whole with `--json`).
 */
import type { BriskClient } from '../client/client.js';
import type { AgentWatch, WatchSnapshot } from './snapshot.js';

/** Decisions shown by the human output (newest first). */
export const STATUS_DECISIONS = 5;

/** Fetches the snapshot of the client's namespace. Errors are the client's (ApiUnreachableError, ApiError). */
export function fetchStatus(client: Pick<BriskClient, 'watch'>): Promise<WatchSnapshot> {
  return client.watch.status();
}

export interface Table {
  headers: string[];
  rows: string[][];
}

/** Cluster totals over every agent. */
export interface PoolTotals {
  agents: number;
  connectedAgents: number;
  memoryMB: number;
  usedMB: number;
  containers: AgentWatch['containers'];
}

export interface StatusView {
  /** `label: value` lines: scheduler, controller, namespace, queue */
  summary: [string, string][];
  agents: Table;
  pools: PoolTotals | undefined;
  actions: Table;
  decisions: Table;
}

export function poolTotals(agents: readonly AgentWatch[]): PoolTotals {
  const totals: PoolTotals = { agents: agents.length, connectedAgents: 0, memoryMB: 0, usedMB: 0, containers: { starting: 0, prewarm: 0, busy: 0, idle: 0, paused: 0 } };
  for (const a of agents) {
    if (a.connected) totals.connectedAgents += 1;
    totals.memoryMB += a.memoryMB;
    totals.usedMB += a.usedMB;
    for (const key of Object.keys(totals.containers) as (keyof AgentWatch['containers'])[]) totals.containers[key] += a.containers[key];
  }
  return totals;
}

function ms(value: number | undefined): string {
  if (value === undefined) return '-';
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

function rate(value: number): string {
  return value >= 10 ? value.toFixed(0) : value.toFixed(1);
}

/** `HH:MM:SS` in UTC, so output does not depend on the machine's zone. */
function clockTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 19);
}

/** Everything `brisk status` prints, as plain strings. */
export function statusView(snapshot: WatchSnapshot): StatusView {
  const cluster = snapshot.cluster;
  const scheduler = !snapshot.schedulerConnected
    ? 'not connected (new containers cannot be placed; warm ones keep serving)'
    : cluster === undefined
      ? 'connected (no cluster data yet)'
      : `${cluster.schedulerId}, connected`;
  const summary: [string, string][] = [
    ['scheduler', scheduler],
    ['controller', snapshot.controllerId],
    ['namespace', snapshot.namespace],
  ];
  if (cluster !== undefined) summary.push(['queue', `${cluster.queue.length} of ${cluster.queue.capacity} acquires waiting`]);
  const agents: Table = {
    headers: ['agent', 'health', 'backend', 'memory MB', 'busy', 'idle', 'paused', 'prewarm', 'starting'],
    rows: (cluster?.agents ?? []).map((a) => [
      a.agentId,
      a.connected ? 'connected' : 'lost',
      a.backend,
      `${a.usedMB}/${a.memoryMB}`,
      String(a.containers.busy),
      String(a.containers.idle),
      String(a.containers.paused),
      String(a.containers.prewarm),
      String(a.containers.starting),
    ]),
  };
  const actions: Table = {
    headers: ['action', 'warm', 'in flight', 'queued', 'req/s', 'p50', 'p99', 'cold starts'],
    rows: snapshot.actions.map((a) => [a.action, String(a.warm), String(a.inFlight), String(a.queued), rate(a.requestsPerSecond), ms(a.p50Ms), ms(a.p99Ms), String(a.coldStarts)]),
  };
  const decisions: Table = {
    headers: ['time', 'decision', 'action', 'agent', 'reason'],
    rows: (cluster?.decisions ?? [])
      .slice(-STATUS_DECISIONS)
      .reverse()
      .map((d) => [clockTime(d.at), d.kind, d.action ?? '-', d.agentId ?? '-', d.reason]),
  };
  return { summary, agents, pools: cluster === undefined ? undefined : poolTotals(cluster.agents), actions, decisions };
}

/** One line of pool totals, e.g. `2 agents (2 connected), 512/2048 MB, containers: 1 busy, 3 idle, ...`. */
export function formatPools(p: PoolTotals): string {
  const c = p.containers;
  return `${p.agents} agent${p.agents === 1 ? '' : 's'} (${p.connectedAgents} connected), ${p.usedMB}/${p.memoryMB} MB used, containers: ${c.busy} busy, ${c.idle} idle, ${c.paused} paused, ${c.prewarm} prewarm, ${c.starting} starting`;
}
