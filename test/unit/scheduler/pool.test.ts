import { describe, expect, it } from 'vitest';
import { Pool, transition, usedMemory } from '../../../src/scheduler/pool.js';
import { action, addr, assignedTo, snapshot, starting, stem, agent } from './fixtures.js';
import { expectIndexesConsistent } from './index-check.js';

const a = action('a');

describe('transition', () => {
  it('starting stem cell becomes prewarm when ready', () => {
    expect(transition(starting('c1', 'n1'), { type: 'ready', address: addr, now: 5 })).toEqual({
      state: { state: 'prewarm', containerId: 'c1', agentId: 'n1', kind: 'nodejs:20', memoryMB: 256, address: addr },
      effects: [],
    });
  });

  it('starting for an acquire becomes assigned to the requester when ready', () => {
    const c = { ...starting('c1', 'n1'), purpose: { type: 'acquire' as const, requestId: 'r', controllerId: 'ctl9', action: a, deadline: 99 } };
    expect(transition(c, { type: 'ready', address: addr, now: 7 }).state).toEqual(assignedTo('c1', 'n1', a, { owner: 'ctl9', lastUsedAt: 7 }));
  });

  it('prewarm and unclaimed become assigned; assigned cannot be assigned again', () => {
    expect(transition(stem('s1', 'n1'), { type: 'assign', owner: 'ctl1', action: a, now: 1000 }).state).toEqual(assignedTo('s1', 'n1', a));
    const taken = assignedTo('s1', 'n1', a);
    const again = transition(taken, { type: 'assign', owner: 'ctl2', action: action('b'), now: 1 });
    expect(again).toEqual({ state: taken, effects: [], ignored: 'assign does not apply to a assigned container' });
  });

  it('usage with a run on an evicting container refuses the eviction', () => {
    const c = assignedTo('c1', 'n1', a, { evicting: { controllerId: 'ctl2', requestId: 'r', since: 1 } });
    expect(transition(c, { type: 'usage', inFlight: 0, paused: true, lastUsedAt: 2000 }).state).toEqual({ ...c, paused: true, lastUsedAt: 2000 });
    expect(transition(c, { type: 'usage', inFlight: 1, paused: false, lastUsedAt: 2000 }).state).toEqual(assignedTo('c1', 'n1', a, { inFlight: 1, lastUsedAt: 2000 }));
  });

  it('never marks a busy container as evicting', () => {
    const busy = assignedTo('c1', 'n1', a, { inFlight: 1 });
    expect(transition(busy, { type: 'evict', controllerId: 'ctl2', requestId: 'r', now: 1 }).ignored).toBe('evict does not apply to a assigned container');
  });

  it('marks an idle container as evicting for one controller\'s request', () => {
    const idle = assignedTo('c1', 'n1', a);
    expect(transition(idle, { type: 'evict', controllerId: 'ctl2', requestId: 'q1', now: 7 }).state).toEqual({ ...idle, evicting: { controllerId: 'ctl2', requestId: 'q1', since: 7 } });
  });

  it('destroy sends container.destroy and aborts a waiting create; exit tells the owner', () => {
    const purpose = { type: 'acquire' as const, requestId: 'r', controllerId: 'ctl9', action: a, deadline: 99 };
    expect(transition({ ...starting('c1', 'n1'), purpose }, { type: 'destroy', reason: 'x' })).toEqual({
      state: undefined,
      effects: [
        { type: 'destroy', agentId: 'n1', containerId: 'c1', reason: 'x' },
        { type: 'createAborted', purpose },
      ],
    });
    expect(transition(assignedTo('c1', 'n1', a), { type: 'exited', reason: 'oom' })).toEqual({
      state: undefined,
      effects: [{ type: 'gone', controllerId: 'ctl1', containerId: 'c1', reason: 'oom' }],
    });
  });
});

describe('Pool', () => {
  it('counts every container against its agent and forgets destroyed ones', () => {
    const pool = new Pool();
    pool.setAgent(agent('n1', 1024));
    pool.put(stem('s1', 'n1'));
    pool.put(starting('s2', 'n1', 128));
    expect(usedMemory(pool, 'n1')).toBe(384);
    pool.apply('s1', { type: 'destroy', reason: 'r' });
    expect(usedMemory(pool, 'n1')).toBe(128);
    expect(pool.apply('missing', { type: 'destroy', reason: 'r' })).toBeUndefined();
    expect(usedMemory(snapshot([], []), 'n1')).toBe(0);
  });

  it('keeps its own copy of a put container and updates it in place, keeping every index in step', () => {
    const pool = snapshot([agent('n1', 1024)], []);
    const mine = assignedTo('c1', 'n1', a, { lastUsedAt: 10 });
    pool.put(mine);
    pool.put(assignedTo('c2', 'n1', a, { lastUsedAt: 20 }));
    const rec = pool.containers.get('c1')!;
    expect(rec).not.toBe(mine);
    // A run starts: same record, no longer evictable.
    const started = pool.apply('c1', { type: 'usage', inFlight: 1, paused: false, lastUsedAt: 30 });
    expect(started?.state).toBe(rec);
    expect(pool.containers.get('c1')).toBe(rec);
    expect(rec).toMatchObject({ inFlight: 1, lastUsedAt: 30 });
    expect(mine).toMatchObject({ inFlight: 0, lastUsedAt: 10 });
    expect([...pool.evictable('n1')].map((c) => c.containerId)).toEqual(['c2']);
    expectIndexesConsistent(pool);
    // It ends: evictable again, after c2 in LRU order and in the idle order.
    pool.apply('c1', { type: 'usage', inFlight: 0, paused: false, lastUsedAt: 40 });
    expect([...pool.evictable('n1')].map((c) => c.containerId)).toEqual(['c2', 'c1']);
    expect([...pool.idleLongest()].map((c) => c.containerId)).toEqual(['c2', 'c1']);
    expect(pool.reclaimableMB('n1')).toBe(512);
    // Evicted, then refused: the evictions under way follow.
    pool.apply('c1', { type: 'evict', controllerId: 'ctl2', requestId: 'q1', now: 50 });
    expect([pool.evictingFor('ctl2', 'q1'), pool.reclaimableMB('n1'), pool.watchedContainers().map((c) => c.containerId)]).toEqual([1, 256, ['c1']]);
    expectIndexesConsistent(pool);
    pool.apply('c1', { type: 'evictRefused' });
    expect([pool.evictingFor('ctl2', 'q1'), pool.reclaimableMB('n1'), pool.watchedContainers()]).toEqual([0, 512, []]);
    expect(pool.containers.get('c1')).toBe(rec);
    expectIndexesConsistent(pool);
  });

  it('answers the free memory of connected agents only, with one lookup', () => {
    const pool = snapshot([agent('n1', 1024), agent('n2', 512, { connected: false, lostSince: 1 })], [stem('s1', 'n1')]);
    expect([pool.connectedFree('n1'), pool.connectedFree('n2'), pool.connectedFree('nope')]).toEqual([768, undefined, undefined]);
  });
});

