import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actionKey, type ActionRef } from '../../../src/model/action.js';
import { Pool, usedMemory, type AgentView, type ContainerView } from '../../../src/scheduler/pool.js';
import { decideAcquire, decideStemCells, type PolicyConfig } from '../../../src/scheduler/policy.js';
import { AcquireQueue } from '../../../src/scheduler/queue.js';
import { snapshot } from './fixtures.js';
import { expectIndexesConsistent } from './index-check.js';

const KINDS = ['nodejs:20', 'nodejs:18'];
const MEMORY = [128, 256, 512];
const addr = { host: '127.0.0.1', port: 1 };
const config: PolicyConfig = { stemCells: [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }], maxQueueSize: 5 };
/** the policy under every placement setting an operator can choose */
const configArb: fc.Arbitrary<PolicyConfig> = fc.record({ placement: fc.constantFrom('pack' as const, 'spread' as const), locality: fc.boolean() }).map((p) => ({ ...config, ...p }));

const actionArb: fc.Arbitrary<ActionRef> = fc.record({
  namespace: fc.constantFrom('ns1', 'ns2'),
  name: fc.constantFrom('a', 'b', 'c'),
  revision: fc.constantFrom('1@1', '2@2'),
  kind: fc.constantFrom(...KINDS),
  memoryMB: fc.constantFrom(...MEMORY),
});

type Spec =
  | { t: 'stem'; kind: string; memoryMB: number }
  | { t: 'starting'; memoryMB: number }
  | { t: 'assigned'; action: ActionRef; inFlight: number; lastUsedAt: number; evicting: boolean };

const specArb: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({ t: fc.constant('stem' as const), kind: fc.constantFrom(...KINDS), memoryMB: fc.constantFrom(...MEMORY) }),
  fc.record({ t: fc.constant('starting' as const), memoryMB: fc.constantFrom(...MEMORY) }),
  fc.record({ t: fc.constant('assigned' as const), action: actionArb, inFlight: fc.nat(3), lastUsedAt: fc.nat(10_000), evicting: fc.boolean() }),
);

/** A consistent snapshot: every agent within its capacity. */
const snapshotArb = fc
  .array(fc.record({ memoryMB: fc.constantFrom(256, 512, 1024, 2048), connected: fc.boolean(), containers: fc.array(specArb, { maxLength: 8 }) }), { maxLength: 4 })
  .map((agents) => {
    const views: AgentView[] = [];
    const containers: ContainerView[] = [];
    agents.forEach((a, i) => {
      const agentId = `n${i}`;
      views.push({ agentId, controlUrl: 'ws://x', memoryMB: a.memoryMB, connected: a.connected, ...(a.connected ? {} : { lostSince: 1 }) });
      let used = 0;
      a.containers.forEach((s, j) => {
        const memoryMB = s.t === 'assigned' ? s.action.memoryMB : s.memoryMB;
        if (used + memoryMB > a.memoryMB) return;
        used += memoryMB;
        const base = { containerId: `c${i}-${j}`, agentId, memoryMB };
        if (s.t === 'stem') containers.push({ ...base, state: 'prewarm', kind: s.kind, address: addr });
        else if (s.t === 'starting') containers.push({ ...base, state: 'starting', kind: 'nodejs:20', purpose: { type: 'stemCell' } });
        else
          containers.push({
            ...base,
            state: 'assigned',
            kind: s.action.kind,
            address: addr,
            action: s.action,
            actionKey: actionKey(s.action),
            owner: 'ctl',
            inFlight: s.evicting ? 0 : s.inFlight,
            paused: false,
            lastUsedAt: s.lastUsedAt,
            ...(s.evicting ? { evicting: { controllerId: 'other', requestId: 'other', since: 0 } } : {}),
          });
      });
    });
    return { agents: views, containers };
  });

describe('policy properties', () => {
  it('every acquire decision respects memory, never evicts busy or starting containers, never hands out an owned one, and prefers stem cells', () => {
    fc.assert(
      fc.property(snapshotArb, actionArb, fc.nat(6), configArb, (s, ref, queued, config) => {
        const snap = snapshot(s.agents, s.containers, queued);
        expectIndexesConsistent(snap);
        const d = decideAcquire(snap, { requestId: 'r', controllerId: 'me', action: ref, queued: false }, config);
        const stemAvailable = s.containers.some(
          (c) => c.state === 'prewarm' && c.kind === ref.kind && c.memoryMB === ref.memoryMB && snap.agents.get(c.agentId)?.connected,
        );
        const roomAnywhere = s.agents.some((a) => a.connected && a.memoryMB - usedMemory(snap, a.agentId) >= ref.memoryMB);
        // stem cell before create before evict
        if (stemAvailable) expect(d.kind).toBe('assignStemCell');
        else if (roomAnywhere && ref.memoryMB <= Math.max(...s.agents.map((a) => a.memoryMB))) expect(d.kind).toBe('create');
        expect(d.reason.length).toBeGreaterThan(0);
        switch (d.kind) {
          case 'assignStemCell': {
            const c = snap.containers.get(d.containerId)!;
            expect(c.state).toBe('prewarm');
            expect([c.kind, c.memoryMB, c.agentId]).toEqual([ref.kind, ref.memoryMB, d.agentId]);
            expect(snap.agents.get(d.agentId)!.connected).toBe(true);
            if (d.backfill) expect(snap.agents.get(d.agentId)!.memoryMB - usedMemory(snap, d.agentId)).toBeGreaterThanOrEqual(d.backfill.memoryMB);
            break;
          }
          case 'create': {
            const agent = snap.agents.get(d.agentId)!;
            expect(agent.connected).toBe(true);
            expect(usedMemory(snap, d.agentId) + ref.memoryMB).toBeLessThanOrEqual(agent.memoryMB);
            break;
          }
          case 'evictThenCreate': {
            const agent = snap.agents.get(d.agentId)!;
            expect(agent.connected).toBe(true);
            let freed = 0;
            for (const id of d.evict) {
              const c = snap.containers.get(id)!;
              expect(c.agentId).toBe(d.agentId);
              expect(c.state === 'prewarm' || (c.state === 'assigned' && c.inFlight === 0 && c.evicting === undefined)).toBe(true);
              freed += c.memoryMB;
            }
            const after = usedMemory(snap, d.agentId) - freed + ref.memoryMB;
            expect(after).toBeLessThanOrEqual(agent.memoryMB);
            // only as many as needed: without the last one it would not fit
            const last = snap.containers.get(d.evict[d.evict.length - 1]!)!;
            expect(after + last.memoryMB).toBeGreaterThan(agent.memoryMB);
            break;
          }
          case 'queue':
            expect(queued).toBeLessThan(config.maxQueueSize);
            break;
          case 'reject':
            expect(['noAgents', 'tooLargeForAnyAgent', 'schedulerQueue']).toContain(d.limit);
            break;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('places by the chosen strategy: pack takes the least free agent that fits, spread the most free, locality first', () => {
    fc.assert(
      fc.property(snapshotArb, actionArb, configArb, (s, ref, config) => {
        const snap = snapshot(s.agents, s.containers);
        const d = decideAcquire(snap, { requestId: 'r', controllerId: 'me', action: ref, queued: false }, config);
        if (d.kind !== 'create') return;
        const free = (id: string) => snap.agents.get(id)!.memoryMB - usedMemory(snap, id);
        const fits = s.agents.filter((a) => a.connected && free(a.agentId) >= ref.memoryMB).map((a) => a.agentId);
        const local = fits.filter((id) => s.containers.some((c) => c.agentId === id && c.state === 'assigned' && c.actionKey === actionKey(ref)));
        const tier = config.locality && local.length > 0 ? local : fits;
        const target = config.placement === 'spread' ? Math.max(...tier.map(free)) : Math.min(...tier.map(free));
        expect(tier).toContain(d.agentId);
        expect(free(d.agentId)).toBe(target);
      }),
      { numRuns: 500 },
    );
  });

  it('stem cell decisions never exceed an agent memory, and looking only at some agents gives their part of the full answer', () => {
    fc.assert(
      fc.property(snapshotArb, fc.array(fc.constantFrom('n0', 'n1', 'n2', 'n3'), { maxLength: 4 }), (s, some) => {
        const snap = snapshot(s.agents, s.containers);
        const creates = decideStemCells(snap, config);
        const wanted = new Set<string>(some);
        expect(decideStemCells(snap, config, { agents: some })).toEqual(creates.filter((c) => wanted.has(c.agentId)));
        const added = new Map<string, number>();
        for (const c of creates) added.set(c.agentId, (added.get(c.agentId) ?? 0) + c.memoryMB);
        for (const [agentId, mem] of added) {
          expect(snap.agents.get(agentId)!.connected).toBe(true);
          expect(usedMemory(snap, agentId) + mem).toBeLessThanOrEqual(snap.agents.get(agentId)!.memoryMB);
        }
      }),
      { numRuns: 300 },
    );
  });

  type Op = { t: 'acquire'; action: ActionRef } | { t: 'release'; pick: number } | { t: 'run'; pick: number; inFlight: number } | { t: 'serve' };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ t: fc.constant('acquire' as const), action: actionArb }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('release' as const), pick: fc.nat(50) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('run' as const), pick: fc.nat(50), inFlight: fc.nat(2) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('serve' as const) }) },
  );

  it('a simulated pool over random sequences never overcommits, never changes a container owner or action, serves each action in order, and answers each acquire once although two controllers use the same request ids', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(512, 1024), { minLength: 1, maxLength: 3 }), fc.array(opArb, { maxLength: 60 }), configArb, (capacities, ops, config) => {
        const pool = new Pool();
        capacities.forEach((memoryMB, i) => pool.setAgent({ agentId: `n${i}`, controlUrl: 'ws://x', memoryMB, connected: true }));
        const queue = new AcquireQueue({ maxSize: config.maxQueueSize });
        const identity = new Map<string, string>(); // containerId → owner|actionKey, fixed once assigned
        const servedOrder = new Map<string, number[]>(); // actionKey → arrival numbers (seq) in serving order
        const answered = new Map<string, number>(); // `${controllerId}:${requestId}` → times served or rejected
        const sent: string[] = [];
        const nextId = new Map<string, number>(); // per controller: both number q1, q2, …, so ids collide
        let now = 1;
        let n = 0;
        let ids = 0;

        const handedOut = new Set<string>(); // containers granted to a requester: never granted twice
        const warmHits: string[] = [];
        const grantOnce = (containerId: string) => {
          expect(handedOut.has(containerId)).toBe(false);
          handedOut.add(containerId);
        };
        const check = () => {
          expectIndexesConsistent(pool);
          for (const agent of pool.agents.values()) expect(usedMemory(pool, agent.agentId)).toBeLessThanOrEqual(agent.memoryMB);
          for (const c of pool.containers.values()) {
            if (c.state !== 'assigned') continue;
            const id = `${c.owner}|${c.actionKey}`;
            expect(identity.get(c.containerId) ?? id).toBe(id);
            identity.set(c.containerId, id);
          }
        };
        const answer = (entry: ReturnType<AcquireQueue['make']>) => {
          const id = `${entry.controllerId}:${entry.requestId}`;
          answered.set(id, (answered.get(id) ?? 0) + 1);
        };
        const served = (entry: ReturnType<AcquireQueue['make']>) => {
          answer(entry);
          const list = servedOrder.get(entry.key) ?? [];
          list.push(entry.seq);
          servedOrder.set(entry.key, list);
        };
        const handle = (entry: ReturnType<AcquireQueue['make']>, queued: boolean): boolean => {
          pool.queuedRequests = queue.size;
          const d = decideAcquire(pool, { ...entry, queued }, config);
          switch (d.kind) {
            case 'assignStemCell':
              if (queued) queue.remove(entry);
              pool.apply(d.containerId, { type: 'assign', owner: entry.controllerId, action: entry.action, now });
              grantOnce(d.containerId);
              served(entry);
              return true;
            case 'create': {
              if (queued) queue.remove(entry);
              const containerId = `x${ids++}`;
              pool.put({ state: 'starting', containerId, agentId: d.agentId, kind: entry.action.kind, memoryMB: entry.action.memoryMB, purpose: { type: 'acquire', requestId: entry.requestId, controllerId: entry.controllerId, action: entry.action, deadline: 1e12 } });
              check();
              pool.apply(containerId, { type: 'ready', address: addr, now });
              grantOnce(containerId);
              served(entry);
              return true;
            }
            case 'evictThenCreate':
              // owners release at once (the evicted containers are idle by construction)
              for (const id of d.evict) pool.apply(id, { type: 'destroy', reason: 'evicted' });
              return handle(entry, queued);
            case 'queue':
              if (!queued) queue.insert(entry);
              return false;
            case 'reject':
              if (queued) queue.remove(entry);
              answer(entry);
              return true;
          }
        };
        const serve = () => {
          const skip = new Set<string>();
          for (let e = queue.nextServable(skip); e; e = queue.nextServable(skip)) if (!handle(e, true)) skip.add(e.key);
          pool.queuedRequests = queue.size;
          for (const s of decideStemCells(pool, config)) {
            const containerId = `s${ids++}`;
            pool.put({ state: 'prewarm', containerId, agentId: s.agentId, kind: s.kind, memoryMB: s.memoryMB, address: addr });
          }
        };
        const assigned = () => [...pool.containers.values()].filter((c) => c.state === 'assigned');

        for (const op of ops) {
          now++;
          if (op.t === 'acquire') {
            const controllerId = `ctl${n++ % 2}`;
            const k = (nextId.get(controllerId) ?? 0) + 1;
            nextId.set(controllerId, k);
            // 1. warm first: the controller reuses its own idle container of the action without asking
            const warm = assigned().find((c) => c.state === 'assigned' && c.owner === controllerId && c.actionKey === actionKey(op.action) && c.inFlight === 0 && !c.evicting);
            if (warm && !queue.hasAction(actionKey(op.action))) {
              pool.apply(warm.containerId, { type: 'usage', inFlight: 1, paused: false, lastUsedAt: now });
              warmHits.push(warm.containerId);
              serve();
              check();
              continue;
            }
            const entry = queue.make({ requestId: `q${k}`, controllerId, action: op.action, deadline: 1e12 }, now);
            sent.push(`${controllerId}:${entry.requestId}`);
            if (queue.hasAction(entry.key)) {
              if (!queue.insert(entry)) answer(entry); // rejected: queue full
            } else handle(entry, false);
          } else if (op.t === 'release') {
            const list = assigned();
            const c = list[op.pick % Math.max(1, list.length)];
            if (c && c.state === 'assigned' && c.inFlight === 0) pool.apply(c.containerId, { type: 'destroy', reason: 'idle' });
          } else if (op.t === 'run') {
            const list = assigned();
            const c = list[op.pick % Math.max(1, list.length)];
            if (c) pool.apply(c.containerId, { type: 'usage', inFlight: op.inFlight, paused: false, lastUsedAt: now });
          }
          serve();
          check();
        }
        for (const order of servedOrder.values()) expect(order).toEqual([...order].sort((x, y) => x - y));
        // Every acquire is answered exactly once, or is still waiting (exactly once) in the queue.
        const waiting = queue.list().map((e) => `${e.controllerId}:${e.requestId}`);
        expect(new Set(waiting).size).toBe(waiting.length);
        for (const id of sent) expect((answered.get(id) ?? 0) + (waiting.includes(id) ? 1 : 0), id).toBe(1);
      }),
      { numRuns: 300 },
    );
  });
});
