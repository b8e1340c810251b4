import type { ActionRef } from '../../../src/model/action.js';
import { actionKey } from '../../../src/model/action.js';
import { Pool, type AgentView, type AssignedContainer, type ContainerView, type PrewarmContainer, type StartingContainer } from '../../../src/scheduler/pool.js';

export const addr = { host: '127.0.0.1', port: 40000 };

export function action(name: string, memoryMB = 256, over: Partial<ActionRef> = {}): ActionRef {
  return { namespace: 'guest', name, revision: '1@1', kind: 'nodejs:20', memoryMB, ...over };
}

export function agent(agentId: string, memoryMB: number, over: Partial<AgentView> = {}): AgentView {
  return { agentId, controlUrl: `ws://127.0.0.1:1/${agentId}`, memoryMB, connected: true, ...over };
}

export function stem(containerId: string, agentId: string, memoryMB = 256, kind = 'nodejs:20'): PrewarmContainer {
  return { state: 'prewarm', containerId, agentId, kind, memoryMB, address: addr };
}

export function assignedTo(containerId: string, agentId: string, ref: ActionRef, over: Partial<AssignedContainer> = {}): AssignedContainer {
  return {
    state: 'assigned',
    containerId,
    agentId,
    kind: ref.kind,
    memoryMB: ref.memoryMB,
    address: addr,
    action: ref,
    actionKey: actionKey(ref),
    owner: 'ctl1',
    inFlight: 0,
    paused: false,
    lastUsedAt: 1000,
    ...over,
  };
}

export function starting(containerId: string, agentId: string, memoryMB = 256): StartingContainer {
  return { state: 'starting', containerId, agentId, kind: 'nodejs:20', memoryMB, purpose: { type: 'stemCell' } };
}

/** A pool holding exactly these agents and containers (the policy reads it through its indexes). */
export function snapshot(agents: AgentView[], containers: ContainerView[], queuedRequests = 0): Pool {
  const pool = new Pool();
  for (const a of agents) pool.setAgent(a);
  for (const c of containers) pool.put(c);
  pool.queuedRequests = queuedRequests;
  return pool;
}
