/**
 * Controllers number their acquires independently (q1, q2, … each), so request ids collide across
 * controllers. The scheduler must identify an acquire by (controller, requestId): these tests use
 * two fake controllers that send the SAME request ids.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startScheduler, type RunningScheduler } from '../../../src/scheduler/daemon.js';
import type { GrantedContainer } from '../../../src/daemon/protocol.js';
import type { ActionRef } from '../../../src/model/action.js';
import { TOKEN, acquire, action, agentKnown, closeAll, fakeAgent, fakeController, granted, quiet, scheduler, track, type FakeController, type FakePeer } from './harness.js';

afterEach(closeAll);

async function controller(s: RunningScheduler, id: string, options: { autoRelease?: boolean } = {}): Promise<FakeController> {
  const c = track(fakeController(s.url, { id, ...options }));
  await c.client.whenConnected(5_000);
  return c;
}

/** Every reply (grant or rejection) a controller received for one request id. */
function answers(c: FakePeer, requestId: string): string[] {
  return c.received.filter((m) => (m.type === 'acquire.granted' || m.type === 'acquire.rejected') && m.requestId === requestId).map((m) => m.type);
}

const queued = (s: RunningScheduler) => s.state().queue.map((e) => `${e.controllerId}:${e.requestId}:${e.action.name}`);

function busy(c: FakeController, ref: ActionRef, ...containers: GrantedContainer[]): void {
  c.client.send({
    type: 'usage',
    containers: containers.map((g) => ({ containerId: g.containerId, agentId: g.agentId, action: ref, inFlight: 1, paused: false, lastUsedAt: Date.now() })),
  });
}

describe('scheduler with colliding request ids across controllers', () => {
  it('serves a queued acquire of one controller without dropping the same-id acquire of another', async () => {
    const s = await scheduler();
    const agent = track(fakeAgent(s.url, { memoryMB: 512, autoReady: true }));
    await agentKnown(s);
    const ctlA = await controller(s, 'ctlA');
    const ctlB = await controller(s, 'ctlB');
    const filler = action('filler');
    ctlA.client.send(acquire('q1', filler));
    const first = (await granted(ctlA, 'q1')).container;
    ctlA.client.send(acquire('q2', filler));
    const second = (await granted(ctlA, 'q2')).container;
    busy(ctlA, filler, first, second); // not evictable
    await vi.waitFor(() => expect(s.state().containers.map((c) => (c.state === 'assigned' ? c.inFlight : -1))).toEqual([1, 1]));

    ctlB.client.send(acquire('q5', action('big', 512)));
    await vi.waitFor(() => expect(queued(s)).toEqual(['ctlB:q5:big']));
    ctlA.client.send(acquire('q5', action('small', 256)));
    await vi.waitFor(() => expect(queued(s)).toEqual(['ctlB:q5:big', 'ctlA:q5:small']));

    // The agent loses A's q1 container: 256 MB free, enough for A's small but not B's big.
    agent.client.send({ type: 'container.exited', containerId: first.containerId, reason: 'crash' });
    const small = (await granted(ctlA, 'q5')).container;
    expect(queued(s)).toEqual(['ctlB:q5:big']);
    expect(answers(ctlB, 'q5')).toEqual([]);

    // Free the agent: B's big acquire is served, A's is not served a second time.
    ctlA.client.send({ type: 'release', containerIds: [second.containerId, small.containerId], reason: 'idle' });
    const big = (await granted(ctlB, 'q5')).container;
    await vi.waitFor(() => expect(s.state().containers.map((c) => [c.containerId, c.state, c.state === 'assigned' ? c.owner : ''])).toEqual([[big.containerId, 'assigned', 'ctlB']]));
    expect(s.state().queue).toEqual([]);
    expect(answers(ctlA, 'q5')).toEqual(['acquire.granted']);
    expect(answers(ctlB, 'q5')).toEqual(['acquire.granted']);
    expect(agent.of('container.create').map((c) => c.memoryMB)).toEqual([256, 256, 256, 512]);
  });

  it('does not let an eviction made for one controller hold back the same-id acquire of another', async () => {
    // A long evict timeout: a wrongly matched eviction would hold A's acquire for the whole test.
    const s = await scheduler({ evictTimeoutMs: 600_000 });
    track(fakeAgent(s.url, { id: 'agent1', memoryMB: 256, autoReady: true }));
    await agentKnown(s, 'agent1');
    const owner = await controller(s, 'ctlC');
    owner.client.send(acquire('q1', action('x')));
    const idle = (await granted(owner, 'q1')).container;

    const ctlB = await controller(s, 'ctlB');
    ctlB.client.send(acquire('q1', action('b')));
    await vi.waitFor(() => expect(owner.of('evict')).toEqual([{ type: 'evict', containerId: idle.containerId }]));
    expect(queued(s)).toEqual(['ctlB:q1:b']);

    // Room appears on a second agent; B keeps waiting for its own eviction.
    track(fakeAgent(s.url, { id: 'agent2', memoryMB: 256, autoReady: true }));
    await agentKnown(s, 'agent2');

    const ctlA = await controller(s, 'ctlA');
    ctlA.client.send(acquire('q1', action('a')));
    expect((await granted(ctlA, 'q1')).container.agentId).toBe('agent2');
    expect(queued(s)).toEqual(['ctlB:q1:b']);

    owner.client.send({ type: 'release', containerIds: [idle.containerId], reason: 'evicted' });
    expect((await granted(ctlB, 'q1')).container.agentId).toBe('agent1');
    expect(s.state().queue).toEqual([]);
    expect(answers(ctlA, 'q1')).toEqual(['acquire.granted']);
    expect(answers(ctlB, 'q1')).toEqual(['acquire.granted']);
    expect(answers(owner, 'q1')).toEqual(['acquire.granted']);
  });

  it('property: with two controllers using the same request ids, every acquire is answered exactly once', async () => {
    const opArb = fc.record({ ctl: fc.constantFrom('ctlA', 'ctlB'), name: fc.constantFrom('a', 'b', 'c'), memoryMB: fc.constantFrom(256, 512) });
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 2, maxLength: 10 }), fc.array(fc.nat(20), { minLength: 1, maxLength: 10 }), async (ops, picks) => {
        // Owners never answer an eviction and it never times out: acquires pile up in the queue and
        // are served in rounds, as the test releases containers one by one.
        const s = await startScheduler({ token: TOKEN, log: quiet, tickMs: 50, evictTimeoutMs: 600_000 });
        const agent = fakeAgent(s.url, { memoryMB: 512, autoReady: true });
        const ctls = new Map([
          ['ctlA', fakeController(s.url, { id: 'ctlA' })],
          ['ctlB', fakeController(s.url, { id: 'ctlB' })],
        ]);
        try {
          await vi.waitFor(() => expect(s.state().agents.map((a) => a.connected)).toEqual([true]));
          for (const c of ctls.values()) await c.client.whenConnected(5_000);
          const sent: { ctl: string; requestId: string }[] = [];
          const next = new Map<string, number>();
          for (const op of ops) {
            const n = (next.get(op.ctl) ?? 0) + 1;
            next.set(op.ctl, n);
            const requestId = `q${n}`;
            sent.push({ ctl: op.ctl, requestId });
            // Both controllers draw from the same actions, so one action's line mixes both controllers
            // (the name carries the memory: one action has one memory size).
            ctls.get(op.ctl)!.client.send(acquire(requestId, { ...action(op.name, op.memoryMB), name: `${op.name}${op.memoryMB}` }));
          }
          // Each round frees ONE container (the one picked from those held): partial frees are what
          // let a small acquire be served while an older, larger one keeps waiting.
          const released = new Set<string>();
          for (let round = 0; round < 2 * ops.length + 2; round++) {
            // Settled: every acquire is answered or waiting in the queue, and no create is under way.
            await vi.waitFor(() => {
              const st = s.state();
              const waiting = new Set(st.queue.map((e) => `${e.controllerId}:${e.requestId}`));
              for (const { ctl, requestId } of sent) {
                expect(answers(ctls.get(ctl)!, requestId).length > 0 || waiting.has(`${ctl}:${requestId}`), `${ctl}:${requestId}`).toBe(true);
              }
              expect(st.containers.filter((c) => c.state === 'starting')).toEqual([]);
            });
            if (s.state().queue.length === 0) break;
            const held = [...ctls.values()].flatMap((c) => c.of('acquire.granted').map((g) => ({ c, id: g.container.containerId }))).filter((h) => !released.has(h.id));
            const pick = held[picks[round % picks.length]! % Math.max(1, held.length)];
            if (!pick) break;
            released.add(pick.id);
            pick.c.client.send({ type: 'release', containerIds: [pick.id], reason: 'idle' });
            // The release is handled (and the queue served, in the same handler) once it is gone.
            await vi.waitFor(() => expect(s.state().containers.some((c) => c.containerId === pick.id)).toBe(false));
          }
          expect(s.state().queue).toEqual([]);
          for (const { ctl, requestId } of sent) expect(answers(ctls.get(ctl)!, requestId), `${ctl}:${requestId}`).toHaveLength(1);
          // No reply for a request id a controller never sent.
          for (const [id, c] of ctls) {
            const mine = new Set(sent.filter((x) => x.ctl === id).map((x) => x.requestId));
            expect(c.received.filter((m) => m.type === 'acquire.granted' || m.type === 'acquire.rejected').every((m) => mine.has(m.requestId))).toBe(true);
          }
        } finally {
          for (const c of ctls.values()) await c.close();
          await agent.close();
          await s.close();
        }
      }),
      // A failing run costs a waitFor timeout; report the first counterexample rather than shrink for minutes.
      { numRuns: 20, endOnFailure: true },
    );
  });
});
