import { afterEach, describe, expect, it, vi } from 'vitest';
import { startScheduler } from '../../../src/scheduler/daemon.js';
import { TOKEN, acquire, action, agentKnown, closeAll, closers, fakeAgent, fakeController, firstReceived, granted, quiet, rejected, scheduler, track, type FakePeer } from './harness.js';

afterEach(closeAll);

async function controllerReady(c: FakePeer): Promise<void> {
  await c.client.whenConnected(5_000);
}

describe('scheduler daemon', () => {
  it('creates a container on an agent and grants it when the agent reports it ready', async () => {
    const s = await scheduler();
    const agent = track(fakeAgent(s.url, { memoryMB: 1024 }));
    await agentKnown(s);
    const ctl = track(fakeController(s.url, {}));
    await controllerReady(ctl);
    ctl.client.send(acquire('r1', action('hello')));
    const create = await firstReceived(agent, 'container.create');
    expect(create).toMatchObject({ kind: 'nodejs:20', memoryMB: 256, prewarm: false });
    agent.client.send({ type: 'container.ready', containerId: create.containerId, address: { host: '127.0.0.1', port: 45000 } });
    expect(await granted(ctl, 'r1')).toEqual({
      type: 'acquire.granted',
      requestId: 'r1',
      container: { containerId: create.containerId, agentId: 'agent1', agentUrl: 'ws://127.0.0.1:1/agent1', address: { host: '127.0.0.1', port: 45000 }, fromStemCell: false },
    });
    expect(s.state().containers).toMatchObject([{ containerId: create.containerId, state: 'assigned', owner: 'ctl1', actionKey: 'guest/hello@0.0.1@1' }]);
  });

  it('rejects with containerCreateFailed and the agent message when the create fails', async () => {
    const s = await scheduler();
    const agent = track(fakeAgent(s.url, { memoryMB: 1024 }));
    await agentKnown(s);
    const ctl = track(fakeController(s.url, {}));
    await controllerReady(ctl);
    ctl.client.send(acquire('r1', action('hello')));
    const create = await firstReceived(agent, 'container.create');
    agent.client.send({ type: 'container.failed', containerId: create.containerId, error: { code: 'CONTAINER_OPERATION_FAILED', message: 'node not found' } });
    expect(await rejected(ctl, 'r1')).toEqual({ type: 'acquire.rejected', requestId: 'r1', limit: 'containerCreateFailed', message: 'node not found' });
    expect(s.state().containers).toEqual([]);
  });

  it('rejects at once with noAgents and tooLargeForAnyAgent', async () => {
    const s = await scheduler();
    const ctl = track(fakeController(s.url, {}));
    await controllerReady(ctl);
    ctl.client.send(acquire('r1', action('hello')));
    expect((await rejected(ctl, 'r1')).limit).toBe('noAgents');
    track(fakeAgent(s.url, { memoryMB: 256 }));
    await agentKnown(s);
    ctl.client.send(acquire('r2', action('big', 512)));
    expect(await rejected(ctl, 'r2')).toMatchObject({ limit: 'tooLargeForAnyAgent', message: 'Action guest/big needs 512 MB of memory but the largest agent has 256 MB.' });
  });

  it('grants a stem cell at once and asks the same agent for a backfill', async () => {
    const s = await scheduler({ stemCells: [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }] });
    const agent = track(fakeAgent(s.url, { memoryMB: 1024, autoReady: true }));
    const stemCell = await vi.waitFor(() => {
      const c = s.state().containers.find((x) => x.state === 'prewarm');
      expect(c).toBeDefined();
      return c!;
    });
    const ctl = track(fakeController(s.url, {}));
    await controllerReady(ctl);
    ctl.client.send(acquire('r1', action('hello')));
    expect((await granted(ctl, 'r1')).container).toMatchObject({ containerId: stemCell.containerId, fromStemCell: true });
    await vi.waitFor(() => expect(agent.of('container.create').map((c) => c.prewarm)).toEqual([true, true]));
    await vi.waitFor(() => expect(s.state().containers.map((c) => c.state).sort()).toEqual(['assigned', 'prewarm']));
  });

  it('queues when nothing fits, rejects when the queue is full, and serves the queue after a release', async () => {
    const s = await scheduler({ queue: { maxSize: 1 } });
    const agent = track(fakeAgent(s.url, { memoryMB: 256, autoReady: true }));
    await agentKnown(s);
    const ctl = track(fakeController(s.url, {}));
    await controllerReady(ctl);
    const a = action('a');
    ctl.client.send(acquire('r1', a));
    const first = (await granted(ctl, 'r1')).container;
    // busy: it may not be evicted
    ctl.client.send({ type: 'usage', containers: [{ containerId: first.containerId, agentId: 'agent1', action: a, inFlight: 1, paused: false, lastUsedAt: Date.now() }] });
    await vi.waitFor(() => expect(s.state().containers).toMatchObject([{ inFlight: 1 }]));
    ctl.client.send(acquire('r2', action('b')));
    await vi.waitFor(() => expect(s.state().queue.map((e) => e.requestId)).toEqual(['r2']));
    ctl.client.send(acquire('r3', action('c')));
    expect(await rejected(ctl, 'r3')).toMatchObject({ limit: 'schedulerQueue' });
    ctl.client.send({ type: 'release', containerIds: [first.containerId], reason: 'idle' });
    const second = (await granted(ctl, 'r2')).container;
    expect(agent.of('container.destroy')).toEqual([{ type: 'container.destroy', containerId: first.containerId, reason: 'released (idle)' }]);
    expect(s.state().containers).toMatchObject([{ containerId: second.containerId, actionKey: 'guest/b@0.0.1@1' }]);
  });

  it('rejects a queued acquire with queueDeadline once its deadline passes', async () => {
    const s = await scheduler();
    track(fakeAgent(s.url, { memoryMB: 256, autoReady: true }));
    await agentKnown(s);
    const ctl = track(fakeController(s.url, {}));
    await controllerReady(ctl);
    const a = action('a');
    ctl.client.send(acquire('r1', a));
    const first = (await granted(ctl, 'r1')).container;
    ctl.client.send({ type: 'usage', containers: [{ containerId: first.containerId, agentId: 'agent1', action: a, inFlight: 1, paused: false, lastUsedAt: Date.now() }] });
    await vi.waitFor(() => expect(s.state().containers).toMatchObject([{ inFlight: 1 }]));
    ctl.client.send(acquire('r2', action('b'), Date.now() + 150));
    const r = await rejected(ctl, 'r2');
    expect(r.limit).toBe('queueDeadline');
    expect(r.message).toMatch(/^Waited \d+ ms in the scheduler queue for a container of 256 MB for action guest\/b; no capacity became free before the deadline\.$/);
    expect(s.state().queue).toEqual([]);
  });

  it('evicts the least recently used idle container of another owner, then creates', async () => {
    const s = await scheduler();
    const agent = track(fakeAgent(s.url, { memoryMB: 512, autoReady: true }));
    await agentKnown(s);
    const owner = track(fakeController(s.url, { id: 'ctl2', autoRelease: true }));
    await controllerReady(owner);
    const b = action('b');
    owner.client.send(acquire('b1', b));
    const older = (await granted(owner, 'b1')).container;
    owner.client.send(acquire('b2', b));
    const newer = (await granted(owner, 'b2')).container;
    owner.client.send({
      type: 'usage',
      containers: [
        { containerId: older.containerId, agentId: 'agent1', action: b, inFlight: 0, paused: true, lastUsedAt: 1000 },
        { containerId: newer.containerId, agentId: 'agent1', action: b, inFlight: 0, paused: false, lastUsedAt: 2000 },
      ],
    });
    await vi.waitFor(() => expect(s.state().containers.map((c) => (c.state === 'assigned' ? c.lastUsedAt : 0)).sort()).toEqual([1000, 2000]));
    const ctl = track(fakeController(s.url, {}));
    await controllerReady(ctl);
    ctl.client.send(acquire('a1', action('a')));
    const grant = (await granted(ctl, 'a1')).container;
    expect(owner.of('evict')).toEqual([{ type: 'evict', containerId: older.containerId }]);
    expect(agent.of('container.destroy')).toEqual([{ type: 'container.destroy', containerId: older.containerId, reason: 'released (evicted)' }]);
    expect(s.state().containers.map((c) => c.containerId).sort()).toEqual([newer.containerId, grant.containerId].sort());
  });

  it('keeps an evicted container whose owner does not release it (a run started) and the acquire waits', async () => {
    const s = await scheduler({ evictTimeoutMs: 100 });
    const agent = track(fakeAgent(s.url, { memoryMB: 256, autoReady: true }));
    await agentKnown(s);
    const owner = track(fakeController(s.url, { id: 'ctl2' }));
    await controllerReady(owner);
    const b = action('b');
    owner.client.send(acquire('b1', b));
    const busy = (await granted(owner, 'b1')).container;
    const ctl = track(fakeController(s.url, {}));
    await controllerReady(ctl);
    ctl.client.send(acquire('a1', action('a')));
    await vi.waitFor(() => expect(owner.of('evict')).toEqual([{ type: 'evict', containerId: busy.containerId }]));
    owner.client.send({ type: 'usage', containers: [{ containerId: busy.containerId, agentId: 'agent1', action: b, inFlight: 1, paused: false, lastUsedAt: Date.now() }] });
    await vi.waitFor(() => expect(s.state().containers).toMatchObject([{ containerId: busy.containerId, inFlight: 1 }]));
    // The pool keeps `evicting` as a key of every assigned record (updated in place): undefined once refused.
    expect(s.state().containers[0]).toMatchObject({ state: 'assigned', evicting: undefined });
    expect(s.state().queue.map((e) => e.requestId)).toEqual(['a1']);
    expect(agent.of('container.destroy')).toEqual([]);
    // once the run is over it is evicted again and released
    owner.client.send({ type: 'usage', containers: [{ containerId: busy.containerId, agentId: 'agent1', action: b, inFlight: 0, paused: false, lastUsedAt: Date.now() }] });
    await vi.waitFor(() => expect(owner.of('evict').length).toBe(2));
    owner.client.send({ type: 'release', containerIds: [busy.containerId], reason: 'evicted' });
    expect((await granted(ctl, 'a1')).container.agentId).toBe('agent1');
  });

  it('keeps the containers of a controller that reconnects within the grace, and destroys them after it', async () => {
    const s = await scheduler({ peerGraceMs: 300 });
    const agent = track(fakeAgent(s.url, { memoryMB: 1024, autoReady: true }));
    await agentKnown(s);
    const a = action('a');
    const first = track(fakeController(s.url, {}));
    await controllerReady(first);
    first.client.send(acquire('r1', a));
    const c = (await granted(first, 'r1')).container;
    await first.close();
    await vi.waitFor(() => expect(s.state().containers).toHaveLength(1));
    const again = track(fakeController(s.url, { owned: [{ containerId: c.containerId, agentId: 'agent1', action: a, inFlight: 0, paused: false, lastUsedAt: 5 }] }));
    await controllerReady(again);
    await vi.waitFor(() => expect(s.state().containers).toMatchObject([{ containerId: c.containerId, state: 'assigned', owner: 'ctl1', lastUsedAt: 5 }]));
    expect(agent.of('container.destroy')).toEqual([]);
    await again.close();
    await vi.waitFor(() => expect(agent.of('container.destroy')).toEqual([{ type: 'container.destroy', containerId: c.containerId, reason: 'owner controller lost' }]));
    expect(s.state().containers).toEqual([]);
  });

  it('tells the owner container.gone when a container exits, and frees its memory', async () => {
    const s = await scheduler();
    const agent = track(fakeAgent(s.url, { memoryMB: 256, autoReady: true }));
    await agentKnown(s);
    const ctl = track(fakeController(s.url, {}));
    await controllerReady(ctl);
    ctl.client.send(acquire('r1', action('a')));
    const c = (await granted(ctl, 'r1')).container;
    agent.client.send({ type: 'container.exited', containerId: c.containerId, reason: 'oom' });
    await vi.waitFor(() => expect(ctl.of('container.gone')).toEqual([{ type: 'container.gone', containerId: c.containerId, reason: 'oom' }]));
    expect(s.state().containers).toEqual([]);
  });

  it('rebuilds the pool after a restart from the re-registrations of agents and controllers', async () => {
    const stemCells = [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }];
    const first = await startScheduler({ token: TOKEN, log: quiet, tickMs: 50, stemCells });
    let closed = false;
    closers.push(async () => {
      if (!closed) await first.close();
    });
    const agent = track(fakeAgent(first.url, { memoryMB: 1024, autoReady: true }));
    const ctl = track(fakeController(first.url, {}));
    await controllerReady(ctl);
    const a = action('a');
    ctl.client.send(acquire('r1', a));
    const owned = (await granted(ctl, 'r1')).container;
    ctl.owned.push({ containerId: owned.containerId, agentId: 'agent1', action: a, inFlight: 0, paused: false, lastUsedAt: 7 });
    const stemCell = await vi.waitFor(() => {
      const c = agent.containers.find((x) => x.state === 'prewarm');
      expect(c).toBeDefined();
      return c!;
    });
    const createsBefore = agent.of('container.create').length;

    await first.close();
    closed = true;
    const second = await scheduler({ port: first.port, stemCells });
    await vi.waitFor(() =>
      expect(second.state().containers.map((c) => [c.containerId, c.state]).sort()).toEqual(
        [
          [owned.containerId, 'assigned'],
          [stemCell.containerId, 'prewarm'],
        ].sort(),
      ),
    );
    expect(second.state().containers.find((c) => c.containerId === owned.containerId)).toMatchObject({ owner: 'ctl1', lastUsedAt: 7 });
    ctl.client.send(acquire('r2', action('b')));
    expect((await granted(ctl, 'r2')).container).toMatchObject({ containerId: stemCell.containerId, fromStemCell: true });
    expect(agent.of('container.create').slice(createsBefore).every((c) => c.prewarm)).toBe(true);
  });
});

describe('startScheduler options', () => {
  it('refuses invalid options with CONFIG_INVALID', async () => {
    await expect(startScheduler({ token: TOKEN, log: quiet, queue: { maxSize: 0 } })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(startScheduler({ token: '', log: quiet })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
