import { expect } from 'vitest';
import type { AssignedContainer, ContainerView, Pool } from '../../../src/scheduler/pool.js';

const byId = (a: { containerId: string }, b: { containerId: string }) => (a.containerId < b.containerId ? -1 : a.containerId > b.containerId ? 1 : 0);

/** Asserts that every index of the pool equals what a full scan of its containers gives. */
export function expectIndexesConsistent(pool: Pool): void {
  const all = [...pool.containers.values()];
  const agents = [...pool.agents.values()];
  for (const agent of agents) {
    const mine = all.filter((c) => c.agentId === agent.agentId);
    const used = mine.reduce((s, c) => s + c.memoryMB, 0);
    expect(pool.usedMemory(agent.agentId)).toBe(used);
    expect(pool.freeMemory(agent.agentId)).toBe(agent.memoryMB - used);
    expect(pool.onAgent(agent.agentId).map((c) => c.containerId).sort()).toEqual(mine.map((c) => c.containerId).sort());
    const evictable = mine
      .filter((c): c is AssignedContainer => c.state === 'assigned' && c.inFlight === 0 && c.evicting === undefined)
      .sort((a, b) => a.lastUsedAt - b.lastUsedAt || byId(a, b));
    expect([...pool.evictable(agent.agentId)].map((c) => c.containerId)).toEqual(evictable.map((c) => c.containerId));
    const stems = mine.filter((c) => c.state === 'prewarm').sort(byId);
    expect([...pool.stemCellsOn(agent.agentId)].map((c) => c.containerId)).toEqual(stems.map((c) => c.containerId));
    expect(pool.reclaimableMB(agent.agentId)).toBe([...evictable, ...stems].reduce((s, c) => s + c.memoryMB, 0));
    for (const c of mine) {
      const stemCount = mine.filter((x) => x.kind === c.kind && x.memoryMB === c.memoryMB && (x.state === 'prewarm' || (x.state === 'starting' && x.purpose.type === 'stemCell'))).length;
      expect(pool.stemCellCount(agent.agentId, c.kind, c.memoryMB)).toBe(stemCount);
    }
  }
  const connected = agents.filter((a) => a.connected).sort((a, b) => (a.agentId < b.agentId ? -1 : 1));
  expect(pool.connectedAgents().map((a) => a.agentId)).toEqual(connected.map((a) => a.agentId));
  expect(pool.largestAgentMB()).toBe(Math.max(0, ...agents.map((a) => a.memoryMB)));
  const frees = connected.map((a) => ({ agentId: a.agentId, free: pool.freeMemory(a.agentId) }));
  for (const m of [0, 128, 256, 512, 1024]) {
    const fits = frees.filter((f) => f.free >= m).sort((a, b) => a.free - b.free || (a.agentId < b.agentId ? -1 : 1));
    expect(pool.leastFreeFitting(m)).toEqual(fits[0]);
  }
  const most = [...frees].sort((a, b) => b.free - a.free || (a.agentId < b.agentId ? -1 : 1))[0];
  expect(pool.mostFree()).toEqual(most);
  const shapes = new Set(all.map((c) => `${c.kind}|${c.memoryMB}`));
  for (const shape of shapes) {
    const [kind, mem] = shape.split('|') as [string, string];
    const want = all.filter((c) => c.state === 'prewarm' && c.kind === kind && c.memoryMB === Number(mem)).map((c) => c.containerId).sort();
    expect([...pool.prewarmOf(kind, Number(mem))].map((c) => c.containerId).sort()).toEqual(want);
  }
  const code = new Map<string, Map<string, number>>();
  for (const c of all) {
    const key = c.state === 'assigned' ? c.actionKey : c.state === 'starting' && c.purpose.type === 'acquire' ? `${c.purpose.action.namespace}/${c.purpose.action.name}@${c.purpose.action.revision}` : undefined;
    if (key === undefined) continue;
    const m = code.get(key) ?? new Map<string, number>();
    m.set(c.agentId, (m.get(c.agentId) ?? 0) + 1);
    code.set(key, m);
  }
  for (const [key, m] of code) expect(new Map(pool.actionAgents(key))).toEqual(m);
  const owners = new Set(all.flatMap((c) => (c.state === 'assigned' ? [c.owner] : [])));
  for (const owner of owners) {
    expect(pool.ownedBy(owner).map((c) => c.containerId).sort()).toEqual(all.filter((c) => c.state === 'assigned' && c.owner === owner).map((c) => c.containerId).sort());
  }
  const evicting = all.filter((c): c is AssignedContainer => c.state === 'assigned' && c.evicting !== undefined);
  for (const c of evicting) {
    const n = evicting.filter((x) => x.evicting!.controllerId === c.evicting!.controllerId && x.evicting!.requestId === c.evicting!.requestId).length;
    expect(pool.evictingFor(c.evicting!.controllerId, c.evicting!.requestId)).toBe(n);
  }
  const watched = all.filter((c: ContainerView) => c.state === 'unclaimed' || (c.state === 'assigned' && c.evicting !== undefined));
  expect(pool.watchedContainers().map((c) => c.containerId).sort()).toEqual(watched.map((c) => c.containerId).sort());
}
