import { expect, vi } from 'vitest';
import { connectWs, type WsClient } from '../../../src/daemon/transport.js';
import { startScheduler, type RunningScheduler, type SchedulerOptions } from '../../../src/scheduler/daemon.js';
import type { AgentContainer, Message, MessageOf, MessageType, OwnedContainer } from '../../../src/daemon/protocol.js';
import type { ActionRef } from '../../../src/model/action.js';

export const TOKEN = 'test-cluster-token';

/** What a test started, closed in reverse order by closeAll() (call it in afterEach). */
export const closers: (() => Promise<void>)[] = [];

export async function closeAll(): Promise<void> {
  while (closers.length > 0) await closers.pop()!();
}

export const quiet = (): void => undefined;

/** A real scheduler on an ephemeral port with a fast tick, closed by closeAll(). */
export async function scheduler(options: Partial<SchedulerOptions> = {}): Promise<RunningScheduler> {
  const s = await startScheduler({ token: TOKEN, log: quiet, tickMs: 50, ...options });
  closers.push(() => s.close());
  return s;
}

/** Registers a fake peer to be closed by closeAll(). */
export function track<T extends FakePeer>(peer: T): T {
  closers.push(() => peer.close());
  return peer;
}

/** Waits for the first message of `type` the peer received that matches, and returns it. */
export async function firstReceived<T extends MessageType>(peer: FakePeer, type: T, match: (message: MessageOf<T>) => boolean = () => true): Promise<MessageOf<T>> {
  return vi.waitFor(() => {
    const found = peer.of(type).find(match);
    expect(found).toBeDefined();
    return found!;
  });
}

/** The controller's grant of this acquire. */
export const granted = (c: FakePeer, requestId: string) => firstReceived(c, 'acquire.granted', (m) => m.requestId === requestId);

/** The controller's rejection of this acquire. */
export const rejected = (c: FakePeer, requestId: string) => firstReceived(c, 'acquire.rejected', (m) => m.requestId === requestId);

/** Waits until the scheduler has taken the agent's registration. */
export async function agentKnown(s: RunningScheduler, agentId = 'agent1'): Promise<void> {
  await vi.waitFor(() => expect(s.state().agents.find((a) => a.agentId === agentId)?.connected).toBe(true));
}

/** A peer built on the real client that records what it receives. */
export interface FakePeer {
  client: WsClient;
  received: Message[];
  of<T extends MessageType>(type: T): MessageOf<T>[];
  close(): Promise<void>;
}

function fakePeer(options: { url: string; role: 'agent' | 'controller'; id: string; register: () => Message; onMessage?: (m: Message, client: WsClient) => void }): FakePeer {
  const received: Message[] = [];
  const client = connectWs({
    url: options.url,
    token: TOKEN,
    role: options.role,
    id: options.id,
    backoff: { initialMs: 20, maxMs: 100 },
    onConnected: (c) => c.send(options.register()),
    onMessage: (m) => {
      received.push(m);
      options.onMessage?.(m, client);
    },
  });
  return {
    client,
    received,
    of: <T extends MessageType>(type: T) => received.filter((m): m is MessageOf<T> => m.type === type),
    close: () => client.close(),
  };
}

export interface FakeAgent extends FakePeer {
  /** what it reports on (re)registration */
  containers: AgentContainer[];
}

/** A fake agent; with `autoReady` it answers every container.create with container.ready at once. */
export function fakeAgent(url: string, options: { id?: string; memoryMB: number; containers?: AgentContainer[]; autoReady?: boolean }): FakeAgent {
  const id = options.id ?? 'agent1';
  const containers = options.containers ?? [];
  let port = 41000;
  const peer = fakePeer({
    url,
    role: 'agent',
    id,
    register: () => ({ type: 'agent.register', agentId: id, controlUrl: `ws://127.0.0.1:1/${id}`, memoryMB: options.memoryMB, backend: 'process', containers }),
    onMessage: (m, client) => {
      if (options.autoReady && m.type === 'container.create') {
        const address = { host: '127.0.0.1', port: port++ };
        containers.push({ containerId: m.containerId, kind: m.kind, memoryMB: m.memoryMB, address, state: m.prewarm ? 'prewarm' : 'assigned', paused: false });
        client.send({ type: 'container.ready', containerId: m.containerId, address });
      }
      if (m.type === 'container.destroy') {
        const at = containers.findIndex((c) => c.containerId === m.containerId);
        if (at !== -1) containers.splice(at, 1);
      }
    },
  });
  return Object.assign(peer, { containers });
}

export interface FakeController extends FakePeer {
  owned: OwnedContainer[];
}

export function fakeController(url: string, options: { id?: string; owned?: OwnedContainer[]; autoRelease?: boolean }): FakeController {
  const id = options.id ?? 'ctl1';
  const owned = options.owned ?? [];
  const peer = fakePeer({
    url,
    role: 'controller',
    id,
    register: () => ({ type: 'controller.register', controllerId: id, containers: owned }),
    onMessage: (m, client) => {
      if (options.autoRelease && m.type === 'evict') client.send({ type: 'release', containerIds: [m.containerId], reason: 'evicted' });
    },
  });
  return Object.assign(peer, { owned });
}

export function action(name: string, memoryMB = 256): ActionRef {
  return { namespace: 'guest', name, revision: '0.0.1@1', kind: 'nodejs:20', memoryMB };
}

export function acquire(requestId: string, ref: ActionRef, deadline = Date.now() + 60_000): Message {
  return { type: 'acquire', requestId, action: ref, deadline };
}
