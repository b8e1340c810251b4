import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../../../src/errors.js';
import type { ActionDoc } from '../../../src/model/action.js';
import type { ActivationRecord } from '../../../src/model/activation.js';
import type { Invocation, InvokeRequest, Invoker } from '../../../src/controller/invoker.js';
import { ActionStatsWindow, percentile } from '../../../src/controller/watch/action-stats.js';
import { ActivationTracker, phasesOf } from '../../../src/controller/watch/activations.js';
import { instrumentForWatch } from '../../../src/controller/watch/instrument.js';
import { actionsFor, buildWatchSnapshot } from '../../../src/controller/watch/snapshot.js';
import { watchSnapshotSchema, WATCH_LIMITS } from '../../../src/watch/snapshot.js';

function record(fields: { id?: string; start: number; end: number; annotations?: Record<string, number>; statusCode?: 0 | 1 | 2 | 3 }): ActivationRecord {
  return {
    namespace: 'guest',
    name: 'hello',
    subject: 'guest',
    activationId: fields.id ?? 'a'.repeat(32),
    version: '0.0.1',
    publish: false,
    start: fields.start,
    end: fields.end,
    duration: fields.end - fields.start,
    response: { statusCode: fields.statusCode ?? 0, result: {} },
    logs: [],
    annotations: Object.entries(fields.annotations ?? {}).map(([key, value]) => ({ key, value })),
  };
}

describe('ActionStatsWindow', () => {
  it('counts requests per second, cold starts and percentiles over the window', () => {
    const w = new ActionStatsWindow({ windowMs: 10_000, bucketMs: 1_000 });
    for (let i = 1; i <= 20; i++) w.record('guest/a', { at: 100_000 + i * 100, latencyMs: i, coldStart: i === 1 });
    w.record('guest/b', { at: 101_500, latencyMs: 7, coldStart: false });
    const s = w.snapshot(102_000);
    expect(s.get('guest/a')).toEqual({ requestsPerSecond: 2, p50Ms: 10, p99Ms: 20, coldStarts: 1 });
    expect(s.get('guest/b')).toEqual({ requestsPerSecond: 0.1, p50Ms: 7, p99Ms: 7, coldStarts: 0 });
  });

  it('lets samples fall out of the window and forgets idle actions', () => {
    const w = new ActionStatsWindow({ windowMs: 2_000, bucketMs: 1_000 });
    w.record('guest/a', { at: 10_100, latencyMs: 5, coldStart: true });
    w.record('guest/a', { at: 11_100, latencyMs: 9, coldStart: false });
    expect(w.snapshot(11_500).get('guest/a')).toEqual({ requestsPerSecond: 1, p50Ms: 5, p99Ms: 9, coldStarts: 1 });
    // 12 500: the first bucket (10 s) has left the window, and so has the first latency
    expect(w.snapshot(12_500).get('guest/a')).toEqual({ requestsPerSecond: 0.5, p50Ms: 9, p99Ms: 9, coldStarts: 0 });
    expect(w.snapshot(13_200).has('guest/a')).toBe(false);
    expect(w.size).toBe(0);
  });

  it('reuses a bucket slot for a later second instead of adding to it', () => {
    const w = new ActionStatsWindow({ windowMs: 2_000, bucketMs: 1_000 });
    w.record('guest/a', { at: 10_000, latencyMs: 1, coldStart: false });
    w.record('guest/a', { at: 12_000, latencyMs: 1, coldStart: false }); // same slot, two windows later
    expect(w.snapshot(12_000).get('guest/a')?.requestsPerSecond).toBe(0.5);
  });

  it('keeps at most reservoirSize latencies and maxActions actions (the least recently active goes)', () => {
    const w = new ActionStatsWindow({ reservoirSize: 4, maxActions: 2 });
    for (const latencyMs of [100, 1, 2, 3, 4]) w.record('guest/a', { at: 1_000, latencyMs, coldStart: false });
    expect(w.snapshot(1_000).get('guest/a')).toMatchObject({ p50Ms: 2, p99Ms: 4 });
    w.record('guest/b', { at: 1_001, latencyMs: 1, coldStart: false });
    w.record('guest/c', { at: 1_002, latencyMs: 1, coldStart: false });
    expect([...w.snapshot(1_002).keys()].sort()).toEqual(['guest/b', 'guest/c']);
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 0.5)).toBeUndefined();
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.99)).toBe(4);
  });
});

describe('phasesOf', () => {
  it('splits a cold start into create, init and run', () => {
    expect(phasesOf(record({ start: 1_000, end: 1_300, annotations: { initTime: 100, waitTime: 250 } }), true)).toEqual({ createMs: 250, initMs: 100, runMs: 200 });
  });
  it('takes the resume out of the wait of a warm run', () => {
    expect(phasesOf(record({ start: 1_000, end: 1_010, annotations: { waitTime: 5, resumeTime: 3 } }), true)).toEqual({ waitMs: 2, resumeMs: 3, runMs: 10 });
    expect(phasesOf(record({ start: 1_000, end: 1_010, annotations: { waitTime: 0 } }), true)).toEqual({ waitMs: 0, runMs: 10 });
  });
  it('has only a wait for an activation that never reached a container', () => {
    expect(phasesOf(record({ start: 1_000, end: 1_000, annotations: { waitTime: 60_000 } }), false)).toEqual({ waitMs: 60_000 });
  });
});

describe('namespace filtering', () => {
  const loads = [
    { key: 'guest/a@0.0.1@1', containers: 2, inFlight: 1, waiting: 0 },
    { key: 'guest/a@0.0.2@2', containers: 1, inFlight: 0, waiting: 3 },
    { key: 'other/secret@0.0.1@1', containers: 5, inFlight: 5, waiting: 5 },
  ];
  const stats = new Map([
    ['guest/b', { requestsPerSecond: 4, p50Ms: 3, p99Ms: 9, coldStarts: 1 }],
    ['guest/a', { requestsPerSecond: 1, coldStarts: 0 }],
    ['other/secret', { requestsPerSecond: 100, p50Ms: 1, p99Ms: 1, coldStarts: 0 }],
  ]);

  it('lists only the namespace\'s actions, revisions summed, busiest first', () => {
    expect(actionsFor('guest', loads, stats)).toEqual([
      { action: 'guest/b', warm: 0, inFlight: 0, queued: 0, requestsPerSecond: 4, p50Ms: 3, p99Ms: 9, coldStarts: 1 },
      { action: 'guest/a', warm: 3, inFlight: 1, queued: 3, requestsPerSecond: 1, coldStarts: 0 },
    ]);
    expect(actionsFor('nobody', loads, stats)).toEqual([]);
  });

  it('keeps in-flight and recent activations per namespace', () => {
    const t = new ActivationTracker({ recentPerNamespace: 2 });
    t.started('g1', 'guest', 'guest/a', 1);
    t.started('o1', 'other', 'other/secret', 2);
    t.started('g2', 'guest', 'guest/a', 3);
    expect(t.inFlightOf('guest', 10).map((a) => a.activationId)).toEqual(['g1', 'g2']);
    expect(t.inFlightOf('other', 10)).toEqual([{ activationId: 'o1', action: 'other/secret', status: 'running', startedAt: 2, phases: {} }]);
    for (const id of ['g1', 'g2', 'g3']) t.finished('guest', { activationId: id, action: 'guest/a', status: 'success', startedAt: 1, durationMs: 1, phases: {} });
    expect(t.inFlightOf('guest', 10)).toEqual([]);
    expect(t.recentOf('guest', 10).map((a) => a.activationId)).toEqual(['g3', 'g2']);
    expect(t.recentOf('other', 10)).toEqual([]);
  });

  it('forgets the least recently active namespace beyond maxNamespaces, and lists at most maxInFlight', () => {
    const t = new ActivationTracker({ maxNamespaces: 2, maxInFlight: 1 });
    const view = (id: string) => ({ activationId: id, action: 'x/a', status: 'success', startedAt: 1, phases: {} });
    t.finished('n1', view('1'));
    t.finished('n2', view('2'));
    t.finished('n1', view('3'));
    t.finished('n3', view('4'));
    expect([t.recentOf('n1', 5).length, t.recentOf('n2', 5).length, t.recentOf('n3', 5).length]).toEqual([2, 0, 1]);
    t.started('x', 'n1', 'n1/a', 1);
    t.started('y', 'n1', 'n1/a', 1);
    expect(t.inFlightCount).toBe(1);
  });

  it('builds a valid snapshot within the limits', () => {
    const many = Array.from({ length: WATCH_LIMITS.actions + 10 }, (_, i) => ({ key: `guest/a${i}@1@1`, containers: 1, inFlight: 0, waiting: 0 }));
    const s = buildWatchSnapshot({ at: 5, controllerId: 'c1', namespace: 'guest', schedulerConnected: false, cluster: undefined, loads: many, stats: new Map(), inFlight: [], recent: [] });
    expect(s.actions).toHaveLength(WATCH_LIMITS.actions);
    expect(s.actions[0]?.action).toBe('guest/a0');
    expect('cluster' in s).toBe(false);
    expect(watchSnapshotSchema.safeParse(s).success).toBe(true);
  });
});

describe('instrumentForWatch', () => {
  const doc = { namespace: 'guest', name: 'hello' } as ActionDoc;
  const request = (id: string): InvokeRequest => ({ action: doc, params: {}, activationId: id, subject: 'guest', apiKey: 'k', receivedAt: 1_000 });

  function fakeInvoker() {
    const resolvers = new Map<string, (r: ActivationRecord) => void>();
    const unavailable = new Set<string>();
    const invoker: Invoker = {
      invoke(req) {
        if (req.activationId === 'throttled') throw new ThrottledError('overflowBuffer', 'full');
        let resolve!: (r: ActivationRecord) => void;
        const response = new Promise<ActivationRecord>((r) => (resolve = r));
        resolvers.set(req.activationId, resolve);
        const invocation: Invocation = { activationId: req.activationId, response, record: response, ...(unavailable.has(req.activationId) ? { unavailable: { limit: 'queueDeadline', message: 'm' } } : {}) };
        return invocation;
      },
      close: async () => undefined,
    };
    return { invoker, resolvers, unavailable };
  }

  it('lists an activation in flight, then as recent with its phases, and counts it', async () => {
    const stats = new ActionStatsWindow();
    const activations = new ActivationTracker();
    const fake = fakeInvoker();
    const wrapped = instrumentForWatch(fake.invoker, { stats, activations, clock: () => 1_400 });
    const invocation = wrapped.invoke(request('x1'));
    expect(activations.inFlightOf('guest', 5)).toEqual([{ activationId: 'x1', action: 'guest/hello', status: 'running', startedAt: 1_000, phases: {} }]);
    fake.resolvers.get('x1')!(record({ id: 'x1', start: 1_100, end: 1_400, annotations: { initTime: 50, waitTime: 100 } }));
    await invocation.response;
    await expect.poll(() => activations.recentOf('guest', 5)).toEqual([
      { activationId: 'x1', action: 'guest/hello', status: 'success', startedAt: 1_000, durationMs: 400, phases: { createMs: 100, initMs: 50, runMs: 250 } },
    ]);
    expect(activations.inFlightOf('guest', 5)).toEqual([]);
    expect(stats.snapshot(1_400).get('guest/hello')).toEqual({ requestsPerSecond: 0.1, p50Ms: 400, p99Ms: 400, coldStarts: 1 });
  });

  it('shows an activation that got no container as a wait only, and passes a throttle through untracked', async () => {
    const activations = new ActivationTracker();
    const fake = fakeInvoker();
    fake.unavailable.add('x2');
    const wrapped = instrumentForWatch(fake.invoker, { stats: new ActionStatsWindow(), activations, clock: () => 2_000 });
    expect(() => wrapped.invoke(request('throttled'))).toThrow(ThrottledError);
    wrapped.invoke(request('x2'));
    fake.resolvers.get('x2')!(record({ id: 'x2', start: 2_000, end: 2_000, annotations: { waitTime: 1_000 }, statusCode: 3 }));
    await expect.poll(() => activations.recentOf('guest', 5)[0]).toEqual({
      activationId: 'x2', action: 'guest/hello', status: 'whisk internal error', startedAt: 1_000, durationMs: 1_000, phases: { waitMs: 1_000 },
    });
    expect(activations.inFlightCount).toBe(0);
  });
});
