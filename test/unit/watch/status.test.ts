import { describe, expect, it } from 'vitest';
import { fetchStatus, formatPools, statusView } from '../../../src/watch/status.js';
import type { WatchSnapshot } from '../../../src/watch/snapshot.js';

const snapshot: WatchSnapshot = {
  at: 0,
  controllerId: 'ctl-1',
  namespace: 'guest',
  schedulerConnected: true,
  cluster: {
    schedulerId: 'sched-1',
    agents: [
      { agentId: 'a1', backend: 'process', connected: true, memoryMB: 1024, usedMB: 512, containers: { starting: 0, prewarm: 1, busy: 1, idle: 0, paused: 0 } },
      { agentId: 'a2', backend: 'runc', connected: false, memoryMB: 2048, usedMB: 256, containers: { starting: 1, prewarm: 0, busy: 0, idle: 0, paused: 2 } },
    ],
    queue: { length: 2, capacity: 1000 },
    decisions: Array.from({ length: 7 }, (_, i) => ({ at: Date.UTC(2024, 0, 1, 12, 0, i), kind: 'create', action: 'guest/a', agentId: 'a1', reason: `r${i}` })),
  },
  actions: [{ action: 'guest/a', warm: 2, inFlight: 1, queued: 0, requestsPerSecond: 12.34, p50Ms: 3.4, p99Ms: 1500, coldStarts: 1 }],
  inFlight: [],
  recent: [],
};

describe('statusView', () => {
  it('lays out scheduler, agents, pools, actions and the newest decisions', () => {
    const view = statusView(snapshot);
    expect(view.summary).toEqual([
      ['scheduler', 'sched-1, connected'],
      ['controller', 'ctl-1'],
      ['namespace', 'guest'],
      ['queue', '2 of 1000 acquires waiting'],
    ]);
    expect(view.agents.rows).toEqual([
      ['a1', 'connected', 'process', '512/1024', '1', '0', '0', '1', '0'],
      ['a2', 'lost', 'runc', '256/2048', '0', '0', '2', '0', '1'],
    ]);
    expect(formatPools(view.pools!)).toBe('2 agents (1 connected), 768/3072 MB used, containers: 1 busy, 0 idle, 2 paused, 1 prewarm, 1 starting');
    expect(view.actions.rows).toEqual([['guest/a', '2', '1', '0', '12', '3 ms', '1.50 s', '1']]);
    expect(view.decisions.rows.map((r) => r[4])).toEqual(['r6', 'r5', 'r4', 'r3', 'r2']);
    expect(view.decisions.rows[0]?.[0]).toBe('12:00:06');
  });

  it('says when the scheduler is not connected, with no cluster sections', () => {
    const { cluster: _cluster, ...rest } = snapshot;
    const view = statusView({ ...rest, schedulerConnected: false });
    expect(view.summary[0]).toEqual(['scheduler', 'not connected (new containers cannot be placed; warm ones keep serving)']);
    expect(view.pools).toBeUndefined();
    expect(view.agents.rows).toEqual([]);
    expect(view.decisions.rows).toEqual([]);
  });
});

describe('fetchStatus', () => {
  it('reads the snapshot through the client', async () => {
    await expect(fetchStatus({ watch: { url: () => ({ url: 'ws://x', headers: { authorization: 'a' } }), status: async () => snapshot } })).resolves.toBe(snapshot);
  });
});
