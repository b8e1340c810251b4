/**
 * Lifecycle figures of any ContainerBackend, measured through its own API on this machine:
 * create → listening, pause and resume latency, and idle memory per warm container.
 *
 * Containers are created one after another (the figure is one container's start, not a burst), each
 * gets a no-op action (/init and one /run, so "idle" means warm and ready), then is paused and resumed
 * `cycles` times. Memory is read once every container is idle, from the backend's `memoryUsage` when
 * it has one. Every container is destroyed before the function returns, also on failure.
 */
import { performance } from 'node:perf_hooks';
import type { ContainerBackend } from '../../src/agent/backend.js';
import type { Address } from '../../src/daemon/protocol.js';
import { percentile } from './load.js';

/** A backend that can report the memory a container uses (runc and docker can). */
export type MeasurableBackend = ContainerBackend & { memoryUsage?(containerId: string): Promise<number> };

export interface LifecycleOptions {
  backend: MeasurableBackend;
  /** containers to start; default 10 */
  containers?: number;
  /** pause/resume cycles per container; default 10 */
  cycles?: number;
  /** default 256 */
  memoryMB?: number;
  /** prefix of the container ids; default `bench-<pid>` */
  idPrefix?: string;
}

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  max: number;
  mean: number;
}

export interface LifecycleFigures {
  backend: string;
  containers: number;
  memoryMB: number;
  /** create() call until it resolved (the runtime's port answers), ms */
  createToListeningMs: Summary;
  /** /init and the first /run of a no-op action after create, ms */
  firstRunMs: Summary;
  pauseMs: Summary;
  resumeMs: Summary;
  /** bytes per warm, idle container (absent when the backend cannot tell) */
  idleMemoryBytes?: Summary;
}

/** p50/p90/max/mean of `values` (rounded to 0.01). Pure. */
export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 100) / 100;
  const mean = sorted.length === 0 ? 0 : sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return { n: sorted.length, p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)), max: round(sorted.at(-1) ?? 0), mean: round(mean) };
}

async function post(address: Address, path: string, body: unknown): Promise<void> {
  const res = await fetch(`http://${address.host}:${address.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${text}`);
}

/** Measures the lifecycle of `containers` containers on `backend` (see the module comment). */
export async function measureLifecycle(options: LifecycleOptions): Promise<LifecycleFigures> {
  const { backend } = options;
  const count = options.containers ?? 10;
  const cycles = options.cycles ?? 10;
  const memoryMB = options.memoryMB ?? 256;
  const prefix = options.idPrefix ?? `bench-${process.pid}`;
  const created: string[] = [];
  const createMs: number[] = [];
  const firstRunMs: number[] = [];
  const pauseMs: number[] = [];
  const resumeMs: number[] = [];
  const memory: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const containerId = `${prefix}-${i}`;
      let t = performance.now();
      const address = await backend.create({ containerId, kind: 'nodejs:20', memoryMB, env: {} });
      createMs.push(performance.now() - t);
      created.push(containerId);
      t = performance.now();
      await post(address, '/init', { value: { name: 'noop', main: 'main', code: 'function main() { return {}; }' } });
      await post(address, '/run', { value: {}, activation_id: '0'.repeat(32), namespace: 'guest', action_name: '/guest/noop', deadline: String(Date.now() + 60_000) });
      firstRunMs.push(performance.now() - t);
      for (let c = 0; c < cycles; c++) {
        t = performance.now();
        await backend.pause(containerId);
        pauseMs.push(performance.now() - t);
        t = performance.now();
        await backend.resume(containerId);
        resumeMs.push(performance.now() - t);
      }
    }
    if (backend.memoryUsage !== undefined) for (const id of created) memory.push(await backend.memoryUsage(id));
  } finally {
    for (const id of created) await backend.destroy(id).catch(() => undefined);
  }
  return {
    backend: backend.name,
    containers: count,
    memoryMB,
    createToListeningMs: summarize(createMs),
    firstRunMs: summarize(firstRunMs),
    pauseMs: summarize(pauseMs),
    resumeMs: summarize(resumeMs),
    ...(memory.length === 0 ? {} : { idleMemoryBytes: summarize(memory) }),
  };
}
