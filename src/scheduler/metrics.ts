/**
 * The scheduler's Prometheus metrics. Pool gauges are read from the daemon's `state()` at scrape
 * time (one pass over the pool per scrape, nothing on the acquire path); the daemon only counts
 * acquires by the decision taken on arrival and rejections by limit.
 *
 * Label values are bounded: decision kinds and container states are closed sets; limits are the
 * policy's and the daemon's few reasons (and the registry bounds the series anyway).
 */
import { createRegistry, registerProcessMetrics, type MetricsRegistry } from '../daemon/metrics.js';
import type { ContainerView } from './pool.js';
import type { Decision } from './policy.js';
import type { QueueEntry } from './queue.js';

/** The part of the scheduler's state the gauges read. */
export interface SchedulerMetricsState {
  agents: ReadonlyArray<{ connected: boolean; memoryMB: number }>;
  containers: readonly ContainerView[];
  queue: readonly QueueEntry[];
}

/** Container states as the metrics name them: the pool's states, with `assigned` split by use. */
export const CONTAINER_METRIC_STATES = ['starting', 'prewarm', 'unclaimed', 'idle', 'busy', 'paused'] as const;
export type ContainerMetricState = (typeof CONTAINER_METRIC_STATES)[number];

const DECISIONS: readonly Decision['kind'][] = ['assignStemCell', 'create', 'evictThenCreate', 'queue', 'reject'];

/** The metric state of one pool container (pure). */
export function containerMetricState(c: ContainerView): ContainerMetricState {
  if (c.state !== 'assigned') return c.state;
  if (c.paused) return 'paused';
  return c.inFlight > 0 ? 'busy' : 'idle';
}

export interface SchedulerMetrics {
  readonly registry: MetricsRegistry;
  /** an acquire arrived and this decision was taken at once (`queue` also for one that waits behind its action's line) */
  acquired(decision: Decision['kind']): void;
  /** an acquire was answered `acquire.rejected` with this limit */
  rejected(limit: string): void;
}

export interface SchedulerMetricsOptions {
  /** read at every scrape */
  state: () => SchedulerMetricsState;
  /** the queue bound, reported as a gauge */
  queueCapacity: number;
  /** default a new registry with the process metrics */
  registry?: MetricsRegistry;
}

/**
 * Registers the scheduler's metrics:
 * `brisk_scheduler_agents{state}`, `brisk_scheduler_agent_memory_mb`, `brisk_scheduler_containers{state}`,
 * `brisk_scheduler_container_memory_mb`, `brisk_scheduler_queue_length`, `brisk_scheduler_queue_capacity`,
 * `brisk_scheduler_acquires_total{decision}`, `brisk_scheduler_rejections_total{limit}`.
 */
export function createSchedulerMetrics(options: SchedulerMetricsOptions): SchedulerMetrics {
  const registry = options.registry ?? withProcess(createRegistry());
  let snapshot: SchedulerMetricsState | undefined;
  // One state() per scrape, shared by the gauges below (the first gauge's collect takes it).
  const current = (): SchedulerMetricsState => (snapshot ??= options.state());
  registry.gauge({
    name: 'brisk_scheduler_agents',
    help: 'Agents known to the scheduler, by connection state.',
    labelNames: ['state'],
    collect: (g) => {
      snapshot = undefined;
      const agents = current().agents;
      const connected = agents.filter((a) => a.connected).length;
      g.set({ state: 'connected' }, connected);
      g.set({ state: 'lost' }, agents.length - connected);
    },
  });
  registry.gauge({
    name: 'brisk_scheduler_agent_memory_mb',
    help: 'Container memory offered by connected agents, in MB.',
    collect: (g) => g.set(current().agents.reduce((sum, a) => sum + (a.connected ? a.memoryMB : 0), 0)),
  });
  registry.gauge({
    name: 'brisk_scheduler_containers',
    help: 'Containers in the pool, by state (assigned ones as idle, busy or paused).',
    labelNames: ['state'],
    collect: (g) => {
      const counts = new Map<ContainerMetricState, number>(CONTAINER_METRIC_STATES.map((s) => [s, 0]));
      for (const c of current().containers) {
        const state = containerMetricState(c);
        counts.set(state, (counts.get(state) ?? 0) + 1);
      }
      for (const [state, n] of counts) g.set({ state }, n);
    },
  });
  registry.gauge({
    name: 'brisk_scheduler_container_memory_mb',
    help: 'Memory held by every container in the pool, in MB.',
    collect: (g) => g.set(current().containers.reduce((sum, c) => sum + c.memoryMB, 0)),
  });
  registry.gauge({
    name: 'brisk_scheduler_queue_length',
    help: 'Acquires waiting in the scheduler queue.',
    collect: (g) => g.set(current().queue.length),
  });
  registry.gauge({
    name: 'brisk_scheduler_queue_capacity',
    help: 'Most acquires the scheduler queue holds.',
    collect: (g) => g.set(options.queueCapacity),
  });
  const acquires = registry.counter({
    name: 'brisk_scheduler_acquires_total',
    help: 'Acquires received, by the decision taken on arrival.',
    labelNames: ['decision'],
  });
  for (const decision of DECISIONS) acquires.inc({ decision }, 0);
  const rejections = registry.counter({
    name: 'brisk_scheduler_rejections_total',
    help: 'Acquires answered acquire.rejected, by limit.',
    labelNames: ['limit'],
    maxSeries: 16,
  });
  return {
    registry,
    acquired: (decision) => acquires.inc({ decision }),
    rejected: (limit) => rejections.inc({ limit }),
  };
}

function withProcess(registry: MetricsRegistry): MetricsRegistry {
  registerProcessMetrics(registry);
  return registry;
}
