/** Snapshots for the live view's tests: small, exact, built from the schema's types. */
import type { ActionWatch, ActivationWatch, AgentWatch, DecisionWatch, WatchSnapshot } from '../../../src/watch/snapshot.js';

export const AT = 1_700_000_000_000;

export function agent(overrides: Partial<AgentWatch> & { agentId: string }): AgentWatch {
  return {
    backend: 'process',
    connected: true,
    memoryMB: 2048,
    usedMB: 512,
    containers: { starting: 0, prewarm: 2, busy: 1, idle: 1, paused: 0 },
    ...overrides,
  };
}

export function action(overrides: Partial<ActionWatch> & { action: string }): ActionWatch {
  return { warm: 1, inFlight: 0, queued: 0, requestsPerSecond: 0, coldStarts: 0, ...overrides };
}

export function activation(overrides: Partial<ActivationWatch> & { activationId: string }): ActivationWatch {
  return { action: 'guest/hello', status: 'success', startedAt: AT - 1_000, durationMs: 12, phases: { runMs: 10 }, ...overrides };
}

export function decision(overrides: Partial<DecisionWatch> & { kind: string }): DecisionWatch {
  return { at: AT - 2_000, reason: 'a stem cell of nodejs:20 256 MB was free', ...overrides };
}

/** A small cluster: two agents, three actions, one running and two finished activations, three decisions. */
export function snapshot(overrides: Partial<WatchSnapshot> = {}): WatchSnapshot {
  return {
    at: AT,
    controllerId: 'ctl-1',
    namespace: 'guest',
    schedulerConnected: true,
    cluster: {
      schedulerId: 'sched-1',
      agents: [
        agent({ agentId: 'agent-b', usedMB: 1024, containers: { starting: 1, prewarm: 2, busy: 3, idle: 0, paused: 1 } }),
        agent({ agentId: 'agent-a', backend: 'runc', usedMB: 256, memoryMB: 4096 }),
      ],
      queue: { length: 2, capacity: 100 },
      decisions: [
        decision({ kind: 'assignStemCell', at: AT - 3_000, action: 'guest/hello', agentId: 'agent-a' }),
        decision({ kind: 'reject', at: AT - 1_500, action: 'guest/big', reason: 'no agent has 4096 MB free' }),
        decision({ kind: 'create', at: AT - 500, action: 'guest/slow', agentId: 'agent-b', reason: 'no warm container or stem cell; agent-b has room' }),
      ],
    },
    actions: [
      action({ action: 'guest/hello', warm: 2, inFlight: 1, requestsPerSecond: 12.34, p50Ms: 3, p99Ms: 45, coldStarts: 1 }),
      action({ action: 'guest/slow', warm: 1, inFlight: 3, queued: 2, requestsPerSecond: 120, p50Ms: 1_500, p99Ms: 2_250, coldStarts: 4 }),
      action({ action: 'guest/idle', warm: 0, requestsPerSecond: 0 }),
    ],
    inFlight: [activation({ activationId: 'run0000000000001', action: 'guest/slow', status: 'running', startedAt: AT - 700, durationMs: undefined, phases: { waitMs: 5, resumeMs: 1 } })],
    recent: [
      activation({ activationId: 'old0000000000001', action: 'guest/hello', startedAt: AT - 5_000, durationMs: 160, phases: { waitMs: 2, createMs: 110, initMs: 30, runMs: 18 } }),
      activation({ activationId: 'old0000000000002', action: 'guest/hello', status: 'application error', startedAt: AT - 2_000, durationMs: 4, phases: { runMs: 3 } }),
    ],
    ...overrides,
  };
}
