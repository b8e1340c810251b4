import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type DecisionRecord, type Message } from '../../../src/daemon/protocol.js';
import type { AgentView, ContainerView } from '../../../src/scheduler/pool.js';
import { actionPathOfKey, buildClusterWatch, ClusterWatchPublisher, decisionView, type WatchPeer } from '../../../src/scheduler/watch.js';
import { clusterViewSchema, WATCH_LIMITS, type ClusterWatch } from '../../../src/watch/snapshot.js';

const action = { namespace: 'guest', name: 'hello', revision: '0.0.1@1700000000000', kind: 'nodejs:20', memoryMB: 256 };
const address = { host: '127.0.0.1', port: 9000 };

function assigned(containerId: string, agentId: string, usage: { inFlight: number; paused: boolean }): ContainerView {
  return { state: 'assigned', containerId, agentId, kind: 'nodejs:20', memoryMB: 256, address, action, actionKey: 'guest/hello@0.0.1@1700000000000', owner: 'c1', lastUsedAt: 1, ...usage };
}

function decision(seq: number, extra: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    seq,
    at: 1000 + seq,
    decision: 'create',
    reason: `reason ${seq}`,
    request: { controllerId: 'c1', requestId: `q${seq}`, action: 'guest/hello@0.0.1@1700000000000', kind: 'nodejs:20', memoryMB: 256, queued: false },
    agentId: 'a1',
    inputs: { connectedAgents: 1, containers: 0, queued: 0 },
    ...extra,
  };
}

describe('buildClusterWatch', () => {
  const agents: AgentView[] = [
    { agentId: 'b2', controlUrl: 'ws://127.0.0.1:2', memoryMB: 2048, connected: false, lostSince: 5 },
    { agentId: 'a1', controlUrl: 'ws://127.0.0.1:1', memoryMB: 1024, connected: true },
  ];
  const containers: ContainerView[] = [
    { state: 'starting', containerId: 's1', agentId: 'a1', kind: 'nodejs:20', memoryMB: 128, purpose: { type: 'stemCell' } },
    { state: 'prewarm', containerId: 'p1', agentId: 'a1', kind: 'nodejs:20', memoryMB: 256, address },
    { state: 'unclaimed', containerId: 'u1', agentId: 'b2', kind: 'nodejs:20', memoryMB: 512, address, since: 3 },
    assigned('busy', 'a1', { inFlight: 2, paused: false }),
    assigned('idle', 'a1', { inFlight: 0, paused: false }),
    assigned('paused', 'b2', { inFlight: 0, paused: true }),
    // a container of an agent the pool no longer lists is not counted anywhere
    assigned('orphan', 'zz', { inFlight: 0, paused: false }),
  ];

  it('counts containers by state and memory per agent, ordered by agent id', () => {
    const watch = buildClusterWatch({
      schedulerId: 'sched-1',
      agents,
      containers,
      queue: { length: 3 },
      queueCapacity: 1000,
      decisions: [],
      backends: new Map([['a1', 'runc']]),
    });
    expect(watch).toEqual({
      schedulerId: 'sched-1',
      agents: [
        { agentId: 'a1', backend: 'runc', connected: true, memoryMB: 1024, usedMB: 896, containers: { starting: 1, prewarm: 1, busy: 1, idle: 1, paused: 0 } },
        { agentId: 'b2', backend: 'unknown', connected: false, memoryMB: 2048, usedMB: 768, containers: { starting: 0, prewarm: 0, busy: 0, idle: 1, paused: 1 } },
      ],
      queue: { length: 3, capacity: 1000 },
      decisions: [],
    });
    expect(clusterViewSchema.safeParse(watch).success).toBe(true);
  });

  it('keeps the newest decisions within the limit, oldest first, as views', () => {
    const log = Array.from({ length: WATCH_LIMITS.decisions + 5 }, (_, i) => decision(i + 1));
    const watch = buildClusterWatch({ schedulerId: 's', agents: [], containers: [], queue: { length: 0 }, queueCapacity: 10, decisions: log, backends: new Map() });
    expect(watch.decisions).toHaveLength(WATCH_LIMITS.decisions);
    expect(watch.decisions[0]).toEqual({ at: 1006, kind: 'create', action: 'guest/hello', agentId: 'a1', reason: 'reason 6' });
    expect(watch.decisions.at(-1)?.at).toBe(1000 + WATCH_LIMITS.decisions + 5);
  });
});

describe('decisionView and actionPathOfKey', () => {
  it('names the action without its revision', () => {
    expect(actionPathOfKey('guest/hello@0.0.1@1700000000000')).toBe('guest/hello');
    expect(actionPathOfKey('guest/pkg/hello@0.0.2@17')).toBe('guest/pkg/hello');
  });

  it('adds the limit of a rejection to its reason unless the reason names it', () => {
    const { request: _request, agentId: _agentId, ...bare } = decision(1);
    expect(decisionView({ ...bare, decision: 'reject', reason: 'no agent fits', limit: 'tooLargeForAnyAgent' })).toEqual({
      at: 1001,
      kind: 'reject',
      reason: 'no agent fits (tooLargeForAnyAgent)',
    });
    expect(decisionView({ ...bare, decision: 'reject', reason: 'queueDeadline: waited', limit: 'queueDeadline' }).reason).toBe('queueDeadline: waited');
  });
});

describe('watch.* protocol messages', () => {
  it('round-trips subscribe, unsubscribe and a cluster message; refuses an invalid cluster', () => {
    const cluster: ClusterWatch = { schedulerId: 's', agents: [], queue: { length: 0, capacity: 1 }, decisions: [] };
    for (const message of [{ type: 'watch.subscribe' }, { type: 'watch.unsubscribe' }, { type: 'watch.cluster', cluster }] as Message[]) {
      expect(decodeMessage(encodeMessage(message))).toEqual(message);
    }
    expect(() => decodeMessage(JSON.stringify({ type: 'watch.cluster', cluster: { ...cluster, queue: { length: -1, capacity: 1 } } }))).toThrow(/watch.cluster/);
  });
});

class FakePeer implements WatchPeer {
  sent: Message[] = [];
  bufferedAmount = 0;
  send(message: Message): boolean {
    this.sent.push(message);
    return true;
  }
}

function fakeTimers() {
  const handles = new Set<number>();
  let next = 0;
  return {
    handles,
    timers: {
      setInterval: () => {
        handles.add(++next);
        return next;
      },
      clearInterval: (handle: unknown) => {
        handles.delete(handle as number);
      },
    },
  };
}

describe('ClusterWatchPublisher', () => {
  function publisher(options: { maxBufferedBytes?: number } = {}) {
    let builds = 0;
    const fake = fakeTimers();
    const p = new ClusterWatchPublisher({
      build: () => ({ schedulerId: `build-${++builds}`, agents: [], queue: { length: 0, capacity: 1 }, decisions: [] }),
      timers: fake.timers,
      ...options,
    });
    return { p, fake, builds: () => builds };
  }
  const ids = (peer: FakePeer) => peer.sent.map((m) => (m.type === 'watch.cluster' ? m.cluster.schedulerId : m.type));

  it('builds nothing and runs no timer while nobody is subscribed', () => {
    const { p, fake, builds } = publisher();
    p.tick();
    expect(builds()).toBe(0);
    expect(fake.handles.size).toBe(0);
  });

  it('sends at once on subscribe, then one build per tick shared by every peer, and stops with the last peer', () => {
    const { p, fake, builds } = publisher();
    const a = new FakePeer();
    const b = new FakePeer();
    p.subscribe(a);
    p.subscribe(a); // idempotent
    expect(fake.handles.size).toBe(1);
    p.subscribe(b);
    p.tick();
    expect(ids(a)).toEqual(['build-1', 'build-3']);
    expect(ids(b)).toEqual(['build-2', 'build-3']);
    expect(builds()).toBe(3);
    p.unsubscribe(a);
    expect(fake.handles.size).toBe(1);
    p.unsubscribe(b);
    expect(fake.handles.size).toBe(0);
    expect(p.subscribers).toBe(0);
  });

  it('skips a peer whose socket has not drained (latest only: it gets the next state, not a backlog)', () => {
    const { p } = publisher({ maxBufferedBytes: 100 });
    const slow = new FakePeer();
    const fast = new FakePeer();
    p.subscribe(slow);
    p.subscribe(fast);
    slow.bufferedAmount = 101;
    p.tick();
    p.tick();
    slow.bufferedAmount = 100;
    p.tick();
    expect(ids(slow)).toEqual(['build-1', 'build-5']);
    expect(ids(fast)).toEqual(['build-2', 'build-3', 'build-4', 'build-5']);
  });

  it('sends nothing after close', () => {
    const { p, fake } = publisher();
    const a = new FakePeer();
    p.subscribe(a);
    p.close();
    p.tick();
    p.subscribe(a);
    expect(ids(a)).toEqual(['build-1']);
    expect(fake.handles.size).toBe(0);
  });
});
