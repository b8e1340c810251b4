/**
 * Races between peers, through the real scheduler daemon over real WebSockets: an eviction crossing
 * a run that starts, an agent dying with containers in flight, a controller disconnecting while it
 * owns containers, and a scheduler restart with agents and controllers re-registering in either order.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startScheduler } from '../../../src/scheduler/daemon.js';
import { TOKEN, acquire, action, agentKnown, closeAll, closers, fakeAgent, fakeController, granted, quiet, scheduler, track } from './harness.js';

afterEach(closeAll);

const usage = (containerId: string, ref: ReturnType<typeof action>, inFlight: number, lastUsedAt: number, agentId = 'agent1') => ({
  containerId,
  agentId,
  action: ref,
  inFlight,
  paused: false,
  lastUsedAt,
});

describe('scheduler races', () => {
  it('an eviction crossing a run that starts: the busy container survives, the next idle one is evicted instead', async () => {
    const s = await scheduler({ evictTimeoutMs: 60_000 });
    const agent = track(fakeAgent(s.url, { memoryMB: 512, autoReady: true }));
    await agentKnown(s);
    const owner = track(fakeController(s.url, { id: 'ctl1' }));
    await owner.client.whenConnected();
    const b = action('b');
    owner.client.send(acquire('b1', b));
    const older = (await granted(owner, 'b1')).container;
    owner.client.send(acquire('b2', b));
    const newer = (await granted(owner, 'b2')).container;
    owner.client.send({ type: 'usage', containers: [usage(older.containerId, b, 0, 1000), usage(newer.containerId, b, 0, 2000)] });
    await vi.waitFor(() => expect(s.state().containers.map((c) => (c.state === 'assigned' ? c.lastUsedAt : 0)).sort()).toEqual([1000, 2000]));

    const other = track(fakeController(s.url, { id: 'ctl2' }));
    await other.client.whenConnected();
    other.client.send(acquire('a1', action('a')));
    await vi.waitFor(() => expect(owner.of('evict')).toEqual([{ type: 'evict', containerId: older.containerId }]));
    // The owner had just started a run on it: its usage batch crosses the evict; it does not release.
    owner.client.send({ type: 'usage', containers: [usage(older.containerId, b, 1, 3000)] });
    await vi.waitFor(() => expect(owner.of('evict')).toEqual([{ type: 'evict', containerId: older.containerId }, { type: 'evict', containerId: newer.containerId }]));
    owner.client.send({ type: 'release', containerIds: [newer.containerId], reason: 'evicted' });
    const grant = (await granted(other, 'a1')).container;
    expect(agent.of('container.destroy')).toEqual([{ type: 'container.destroy', containerId: newer.containerId, reason: 'released (evicted)' }]);
    expect(s.state().containers.map((c) => [c.containerId, c.state === 'assigned' ? c.owner : c.state]).sort()).toEqual(
      [
        [older.containerId, 'ctl1'],
        [grant.containerId, 'ctl2'],
      ].sort(),
    );
    // The decision log tells the story: evict, then the create once the release came.
    expect(s.decisions().filter((d) => d.request?.requestId === 'a1').map((d) => d.decision)).toEqual(['evictThenCreate', 'evictThenCreate', 'create']);
  });

  it('an agent dying with containers in flight: owners are told after the grace, a pending create is placed on another agent', async () => {
    const s = await scheduler({ peerGraceMs: 300 });
    const dying = track(fakeAgent(s.url, { id: 'agent1', memoryMB: 256, autoReady: true }));
    await agentKnown(s, 'agent1');
    const ctl = track(fakeController(s.url, {}));
    await ctl.client.whenConnected();
    const a = action('a');
    ctl.client.send(acquire('r1', a));
    const busy = (await granted(ctl, 'r1')).container;
    ctl.client.send({ type: 'usage', containers: [usage(busy.containerId, a, 1, 10)] });
    await vi.waitFor(() => expect(s.state().containers).toMatchObject([{ containerId: busy.containerId, inFlight: 1 }]));
    // A second agent that does not answer creates yet: the acquire's container is starting there.
    const slow = track(fakeAgent(s.url, { id: 'agent2', memoryMB: 256 }));
    await agentKnown(s, 'agent2');
    ctl.client.send(acquire('r2', action('b')));
    await vi.waitFor(() => expect(slow.of('container.create')).toHaveLength(1));
    await dying.close();
    await vi.waitFor(() => expect(s.state().agents.find((x) => x.agentId === 'agent1')?.connected).toBe(false));
    // Still held within the grace: the agent may come back with it.
    expect(ctl.of('container.gone')).toEqual([]);
    await vi.waitFor(() => expect(ctl.of('container.gone')).toEqual([{ type: 'container.gone', containerId: busy.containerId, reason: 'destroyed' }]));
    expect(s.state().agents.map((x) => x.agentId)).toEqual(['agent2']);
    // The create in flight on the live agent is unaffected and is granted when it reports ready.
    const create = slow.of('container.create')[0]!;
    slow.client.send({ type: 'container.ready', containerId: create.containerId, address: { host: '127.0.0.1', port: 45001 } });
    expect((await granted(ctl, 'r2')).container).toMatchObject({ containerId: create.containerId, agentId: 'agent2' });
  });

  it('a controller disconnecting while it owns containers: held within the grace (not evictable through it), destroyed after, and the waiting acquire is served', async () => {
    const s = await scheduler({ peerGraceMs: 400, evictTimeoutMs: 60_000 });
    const agent = track(fakeAgent(s.url, { memoryMB: 512, autoReady: true }));
    await agentKnown(s);
    const gone = track(fakeController(s.url, { id: 'ctl1' }));
    await gone.client.whenConnected();
    const b = action('b');
    gone.client.send(acquire('b1', b));
    const c1 = (await granted(gone, 'b1')).container;
    gone.client.send(acquire('b2', b));
    const c2 = (await granted(gone, 'b2')).container;
    await gone.close();

    const ctl = track(fakeController(s.url, { id: 'ctl2' }));
    await ctl.client.whenConnected();
    ctl.client.send(acquire('a1', action('a')));
    const grant = (await granted(ctl, 'a1')).container;
    // Served only once the lost owner's containers were written off, never by handing one over.
    expect(agent.of('container.destroy').map((m) => [m.containerId, m.reason]).sort()).toEqual(
      [
        [c1.containerId, 'owner controller lost'],
        [c2.containerId, 'owner controller lost'],
      ].sort(),
    );
    expect(grant.containerId).not.toBe(c1.containerId);
    expect(grant.containerId).not.toBe(c2.containerId);
    expect(s.state().containers).toMatchObject([{ containerId: grant.containerId, owner: 'ctl2' }]);
  });

  it('a scheduler restart where the agent re-registers before the owner: the owner\'s container is never handed to another controller', async () => {
    const first = await startScheduler({ token: TOKEN, log: quiet, tickMs: 50, peerGraceMs: 60_000 });
    let closed = false;
    closers.push(async () => {
      if (!closed) await first.close();
    });
    const agent = track(fakeAgent(first.url, { memoryMB: 512, autoReady: true }));
    await agentKnown(first);
    const a = action('a');
    const owner = track(fakeController(first.url, { id: 'ctl1' }));
    await owner.client.whenConnected();
    owner.client.send(acquire('r1', a));
    const mine = (await granted(owner, 'r1')).container;
    owner.owned.push(usage(mine.containerId, a, 0, 7));
    // The owner stays away while the scheduler restarts: it re-registers last.
    await owner.close();

    await first.close();
    closed = true;
    const second = await scheduler({ port: first.port, peerGraceMs: 60_000 });
    await vi.waitFor(() => expect(second.state().containers).toMatchObject([{ containerId: mine.containerId, state: 'unclaimed' }]));

    const other = track(fakeController(second.url, { id: 'ctl2' }));
    await other.client.whenConnected();
    other.client.send(acquire('r1', a)); // same action, same request id as the owner's
    const theirs = (await granted(other, 'r1')).container;
    expect(theirs.containerId).not.toBe(mine.containerId);

    const back = track(fakeController(second.url, { id: 'ctl1', owned: [usage(mine.containerId, a, 0, 7)] }));
    await back.client.whenConnected();
    await vi.waitFor(() =>
      expect(second.state().containers.map((c) => [c.containerId, c.state === 'assigned' ? c.owner : c.state]).sort()).toEqual(
        [
          [mine.containerId, 'ctl1'],
          [theirs.containerId, 'ctl2'],
        ].sort(),
      ),
    );
    expect(agent.of('container.destroy')).toEqual([]);
  });
});
