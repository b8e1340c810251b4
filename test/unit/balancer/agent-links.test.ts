import { describe, expect, it } from 'vitest';
import { AgentLinks } from '../../../src/controller/balancer/agent-links.js';
import type { Message } from '../../../src/daemon/protocol.js';
import type { WsClient, WsClientOptions } from '../../../src/daemon/transport.js';
import { silentLog } from '../../../src/daemon/log.js';

/** A connected client whose requests wait until the test answers them. */
class FakeClient implements WsClient {
  connected = true;
  closed = false;
  readonly pending: Array<{ message: Message; answer(reply: Message): void }> = [];
  constructor(readonly url: string) {}
  send(): boolean {
    return true;
  }
  request<T extends Message = Message>(message: Message & { requestId: string }): Promise<T> {
    return new Promise<T>((resolve) => this.pending.push({ message, answer: (reply) => resolve(reply as T) }));
  }
  async whenConnected(): Promise<void> {}
  async close(): Promise<void> {
    this.closed = true;
  }
}

function links() {
  const clients = new Map<string, FakeClient>();
  const agentLinks = new AgentLinks({
    token: 't',
    controllerId: 'ctl',
    log: silentLog,
    connect: (options: WsClientOptions) => {
      const client = new FakeClient(options.url);
      clients.set(options.url, client);
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
