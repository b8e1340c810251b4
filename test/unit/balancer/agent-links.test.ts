import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentLinks } from '../../../src/controller/balancer/agent-links.js';
import type { Message } from '../../../src/daemon/protocol.js';
import type { WsClient, WsClientOptions } from '../../../src/daemon/transport.js';
import { silentLog } from '../../../src/daemon/log.js';

/** A connected client whose requests wait until the test answers them. */
class FakeClient implements WsClient {
  connected = true;
  closed = false;
  readonly pending: Array<{ message: Message; timeoutMs: number; answer(reply: Message): void }> = [];
  readonly connectWaits: Array<number | undefined> = [];
  constructor(readonly url: string) {}
  send(): boolean {
    return true;
  }
  request<T extends Message = Message>(message: Message & { requestId: string }, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve) => this.pending.push({ message, timeoutMs, answer: (reply) => resolve(reply as T) }));
  }
  async whenConnected(timeoutMs?: number): Promise<void> {
    this.connectWaits.push(timeoutMs);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function links(options: { connected?: boolean; resumeTimeoutMs?: number } = {}) {
  const clients = new Map<string, FakeClient>();
  const agentLinks = new AgentLinks({
    token: 't',
    controllerId: 'ctl',
    log: silentLog,
    ...(options.resumeTimeoutMs === undefined ? {} : { resumeTimeoutMs: options.resumeTimeoutMs }),
    connect: (opts: WsClientOptions) => {
      const client = new FakeClient(opts.url);
      client.connected = options.connected ?? true;
      clients.set(opts.url, client);
      return client;
    },
  });
  return { agentLinks, clients };
}

describe('AgentLinks.prune', () => {
  it('closes links to agents no container uses, keeps the others', () => {
    const { agentLinks, clients } = links();
    agentLinks.warm('ws://a:1');
    agentLinks.warm('ws://b:1');
    expect(agentLinks.prune(new Set(['ws://a:1']))).toEqual(['ws://b:1']);
    expect(clients.get('ws://b:1')?.closed).toBe(true);
    expect(clients.get('ws://a:1')?.closed).toBe(false);
    expect(agentLinks.prune(new Set(['ws://a:1']))).toEqual([]);
  });

  it('keeps a link while a request on it is under way, and prunes it after', async () => {
    const { agentLinks, clients } = links();
    const destroyed = agentLinks.destroy('ws://a:1', 'c1', 'destroyed');
    await Promise.resolve();
    const client = clients.get('ws://a:1')!;
    expect(client.pending).toHaveLength(1);
    expect(agentLinks.prune(new Set())).toEqual([]);
    const request = client.pending[0]!;
    request.answer({ type: 'result', requestId: (request.message as { requestId: string }).requestId });
    await destroyed;
    expect(agentLinks.prune(new Set())).toEqual(['ws://a:1']);
    expect(client.closed).toBe(true);
  });
});

describe('AgentLinks request budgets', () => {
  // A frozen clock: the time spent connecting is deducted from the request's timeout.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function sent(agentLinks: AgentLinks, clients: Map<string, FakeClient>, op: 'resume' | 'pause') {
    const done = op === 'resume' ? agentLinks.resume('ws://a:1', 'c1') : agentLinks.pause('ws://a:1', 'c1');
    // one macrotask turn runs the microtasks of connecting and sending (vi.waitFor would advance the frozen clock)
    await new Promise((resolve) => setImmediate(resolve));
    expect(clients.get('ws://a:1')?.pending).toHaveLength(1);
    const client = clients.get('ws://a:1')!;
    const request = client.pending[0]!;
    request.answer({ type: 'result', requestId: (request.message as { requestId: string }).requestId });
    await done;
    return { client, request };
  }

  it('gives a resume 2000 ms by default, connecting included, and a pause the generic 5000 ms', async () => {
    const resume = links({ connected: false });
    const r = await sent(resume.agentLinks, resume.clients, 'resume');
    expect(r.client.connectWaits).toEqual([2_000]);
    expect(r.request.timeoutMs).toBe(2_000);
    const pause = links({ connected: false });
    const p = await sent(pause.agentLinks, pause.clients, 'pause');
    expect(p.client.connectWaits).toEqual([5_000]);
    expect(p.request.timeoutMs).toBe(5_000);
  });

  it('honours resumeTimeoutMs', async () => {
    const { agentLinks, clients } = links({ resumeTimeoutMs: 300 });
    const r = await sent(agentLinks, clients, 'resume');
    expect(r.client.connectWaits).toEqual([]);
    expect(r.request.timeoutMs).toBe(300);
  });
});
