import { afterEach, describe, expect, it } from 'vitest';
import { connectWs } from '../../../src/daemon/transport.js';
import type { MessageOf } from '../../../src/daemon/protocol.js';
import { TOKEN, acquire, action, agentKnown, closeAll, closers, fakeAgent, fakeController, granted, rejected, scheduler, track } from './harness.js';

afterEach(closeAll);

describe('the decision log over the daemon protocol', () => {
  it('answers an observer with the newest decisions, their inputs and reasons, bounded by limit and afterSeq', async () => {
    const s = await scheduler({ stemCells: [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }], decisionLogSize: 50, placement: 'spread' });
    track(fakeAgent(s.url, { memoryMB: 512, autoReady: true }));
    await agentKnown(s);
    const ctl = track(fakeController(s.url, {}));
    await ctl.client.whenConnected();
    ctl.client.send(acquire('r1', action('a')));
    await granted(ctl, 'r1');
    ctl.client.send(acquire('r2', action('big', 1024)));
    await rejected(ctl, 'r2');

    const observer = connectWs({ url: s.url, token: TOKEN, role: 'observer', id: 'status-1', onMessage: () => undefined });
    closers.push(() => observer.close());
    await observer.whenConnected();
    const reply = await observer.request<MessageOf<'decisions'>>({ type: 'decisions.request', requestId: 'd1', limit: 2 }, 5_000);
    expect(reply.capacity).toBe(50);
    expect(reply.entries.map((e) => [e.seq, e.decision, e.request?.requestId ?? null, e.limit ?? null])).toEqual([
      [reply.lastSeq - 1, 'assignStemCell', 'r1', null],
      [reply.lastSeq, 'reject', 'r2', 'tooLargeForAnyAgent'],
    ]);
    expect(reply.entries[0]).toMatchObject({
      reason: 'stem cell nodejs:20/256 MB ready on agent1; refilled there',
      agentId: 'agent1',
      inputs: { connectedAgents: 1, containers: 1, queued: 0, agentFreeMB: 256 },
    });
    expect(reply.entries[1]!.reason).toBe('Action guest/big needs 1024 MB of memory but the largest agent has 512 MB.');
    const all = await observer.request<MessageOf<'decisions'>>({ type: 'decisions.request', requestId: 'd2' }, 5_000);
    expect(all.entries.map((e) => e.decision)).toEqual(['stemCells', 'assignStemCell', 'reject']);
    const after = await observer.request<MessageOf<'decisions'>>({ type: 'decisions.request', requestId: 'd3', afterSeq: reply.lastSeq }, 5_000);
    expect(after.entries).toEqual([]);
  });

  it('refuses acquires from an observer (it may only read)', async () => {
    const s = await scheduler();
    track(fakeAgent(s.url, { memoryMB: 512, autoReady: true }));
    await agentKnown(s);
    const seen: string[] = [];
    const observer = connectWs({ url: s.url, token: TOKEN, role: 'observer', id: 'status-2', onMessage: (m) => seen.push(m.type) });
    closers.push(() => observer.close());
    await observer.whenConnected();
    observer.send(acquire('r1', action('a')));
    const reply = await observer.request<MessageOf<'decisions'>>({ type: 'decisions.request', requestId: 'd1' }, 5_000);
    expect(reply.entries).toEqual([]);
    expect(s.state().containers).toEqual([]);
    expect(seen).toEqual([]);
  });
});
