/**
 * The agent's Prometheus metrics, gathered by a decorator around its ContainerBackend: every
 * create, pause, resume and destroy passes through it, as do the containers' output and unrequested
 * exits, so the daemon only wraps its backend and serves the registry. Works the same for every
 * backend (process, runc, docker) because it sees only the port.
 *
 * The decorator keeps its own small table (container → state, memory) of the containers this agent
 * has started; it is bounded by the containers alive on the host (entries leave on destroy, failed
 * create and exit).
 */
import { performance } from 'node:perf_hooks';
import type { Address } from '../daemon/protocol.js';
import { createRegistry, LATENCY_BUCKETS_SECONDS, registerProcessMetrics, type MetricsRegistry } from '../daemon/metrics.js';
import type { BackendListener, BackendName, ContainerBackend, CreateContainerRequest, LeftoverContainer } from './backend.js';

/** Container states as the agent's metrics name them. */
export const AGENT_CONTAINER_STATES = ['starting', 'running', 'paused'] as const;
export type AgentContainerState = (typeof AGENT_CONTAINER_STATES)[number];

/** Buckets (seconds) of container creation: a stem cell or process start is ~0.1 s, docker ~0.4 s. */
const CREATE_BUCKETS_SECONDS: readonly number[] = [0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30];

export interface AgentMetricsOptions {
  /** capacity offered to the scheduler, reported as a gauge */
  memoryMB: number;
  /** default a new registry with the process metrics */
  registry?: MetricsRegistry;
  /** monotonic milliseconds for latencies; default performance.now */
  now?: () => number;
}

export interface AgentMetrics {
  readonly registry: MetricsRegistry;
  /** Wraps a backend so that its operations and events are counted; the wrapper forwards everything. */
  instrument(backend: ContainerBackend): ContainerBackend;
}

/**
 * Registers the agent's metrics:
 * `brisk_agent_memory_capacity_mb`, `brisk_agent_container_memory_mb`, `brisk_agent_containers{state}`,
 * `brisk_agent_container_creates_total{result}`, `brisk_agent_container_create_seconds`,
 * `brisk_agent_container_destroys_total`, `brisk_agent_container_exits_total{reason}`,
 * `brisk_agent_pause_resume_total{op,result}`, `brisk_agent_pause_resume_seconds{op}`,
 * `brisk_agent_log_bytes_total{stream}`.
 */
export function createAgentMetrics(options: AgentMetricsOptions): AgentMetrics {
  const registry = options.registry ?? withProcess(createRegistry());
  const now = options.now ?? (() => performance.now());
  const live = new Map<string, { state: AgentContainerState; memoryMB: number }>();

  registry.gauge({ name: 'brisk_agent_memory_capacity_mb', help: 'Container memory this agent offers, in MB.', collect: (g) => g.set(options.memoryMB) });
  registry.gauge({
    name: 'brisk_agent_container_memory_mb',
    help: 'Memory of the containers alive on this agent, in MB.',
    collect: (g) => g.set([...live.values()].reduce((sum, c) => sum + c.memoryMB, 0)),
  });
  registry.gauge({
    name: 'brisk_agent_containers',
    help: 'Containers alive on this agent, by state.',
    labelNames: ['state'],
    collect: (g) => {
      const counts = new Map<AgentContainerState, number>(AGENT_CONTAINER_STATES.map((s) => [s, 0]));
      for (const c of live.values()) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
      for (const [state, n] of counts) g.set({ state }, n);
    },
  });
  const creates = registry.counter({ name: 'brisk_agent_container_creates_total', help: 'Container creations, by result.', labelNames: ['result'] });
  const createSeconds = registry.histogram({ name: 'brisk_agent_container_create_seconds', help: 'Time from create request to a listening runtime, successful creates only.', buckets: CREATE_BUCKETS_SECONDS });
  const destroys = registry.counter({ name: 'brisk_agent_container_destroys_total', help: 'Container destroys carried out (requested ones, leftovers included).' });
  const exits = registry.counter({ name: 'brisk_agent_container_exits_total', help: 'Containers that exited without being asked, by reason.', labelNames: ['reason'] });
  const pauseResume = registry.counter({ name: 'brisk_agent_pause_resume_total', help: 'Pauses and resumes, by operation and result.', labelNames: ['op', 'result'] });
  const pauseResumeSeconds = registry.histogram({ name: 'brisk_agent_pause_resume_seconds', help: 'Latency of successful pauses and resumes.', labelNames: ['op'], buckets: LATENCY_BUCKETS_SECONDS });
  const logBytes = registry.counter({ name: 'brisk_agent_log_bytes_total', help: 'Bytes of container output received, by stream.', labelNames: ['stream'] });
  for (const result of ['ok', 'failed']) {
    creates.inc({ result }, 0);
    for (const op of ['pause', 'resume']) pauseResume.inc({ op, result }, 0);
  }
  for (const reason of ['crash', 'oom']) exits.inc({ reason }, 0);
  for (const stream of ['stdout', 'stderr']) logBytes.inc({ stream }, 0);

  /** Times `op` and counts its outcome; the state changes only on success. */
  async function timed(op: 'pause' | 'resume', containerId: string, work: () => Promise<void>): Promise<void> {
    const start = now();
    try {
      await work();
    } catch (error) {
      pauseResume.inc({ op, result: 'failed' });
      throw error;
    }
    pauseResumeSeconds.observe({ op }, (now() - start) / 1000);
    pauseResume.inc({ op, result: 'ok' });
    const entry = live.get(containerId);
    if (entry !== undefined) entry.state = op === 'pause' ? 'paused' : 'running';
  }

  function instrument(inner: ContainerBackend): ContainerBackend {
    // One subscription of its own, so the counts do not depend on how many listeners the agent has.
    const unsubscribe = inner.subscribe({
      output: (event) => logBytes.inc({ stream: event.stream }, event.chunk.length),
      exit: (event) => {
        live.delete(event.containerId);
        exits.inc({ reason: event.reason });
      },
    });
    return {
      get name(): BackendName {
        return inner.name;
      },
      async create(request: CreateContainerRequest): Promise<Address> {
        const start = now();
        live.set(request.containerId, { state: 'starting', memoryMB: request.memoryMB });
        let address: Address;
        try {
          address = await inner.create(request);
        } catch (error) {
          live.delete(request.containerId);
          creates.inc({ result: 'failed' });
          throw error;
        }
        createSeconds.observe((now() - start) / 1000);
        creates.inc({ result: 'ok' });
        const entry = live.get(request.containerId);
        if (entry !== undefined) entry.state = 'running';
        return address;
      },
      pause: (containerId) => timed('pause', containerId, () => inner.pause(containerId)),
      resume: (containerId) => timed('resume', containerId, () => inner.resume(containerId)),
      async destroy(containerId: string): Promise<void> {
        await inner.destroy(containerId);
        live.delete(containerId);
        destroys.inc();
      },
      list: (): Promise<LeftoverContainer[]> => inner.list(),
      subscribe: (listener: BackendListener): (() => void) => inner.subscribe(listener),
      async close(): Promise<void> {
        unsubscribe();
        await inner.close();
        live.clear();
      },
    };
  }

  return { registry, instrument };
}

function withProcess(registry: MetricsRegistry): MetricsRegistry {
  registerProcessMetrics(registry);
  return registry;
}
