import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startAgent, type AgentLogsOptions, type RunningAgent } from '../../../src/agent/daemon.js';
import { LogBudget } from '../../../src/agent/logs.js';
import { FakeBackend } from '../../../src/agent/fake-backend.js';
import { ContainerOperationError } from '../../../src/errors.js';
import type { Message, MessageOf } from '../../../src/daemon/protocol.js';
import { formatLogLine, LOG_SENTINEL, LogText } from '../../../src/model/activation.js';
import { tagLine } from '../../../src/runtime/framing.js';
import { connectWs, startWsServer, type WsClient, type WsServer } from '../../../src/daemon/transport.js';

const TOKEN = 't';
let server: WsServer;
let received: Message[];
let agent: RunningAgent | undefined;
let controller: WsClient | undefined;
let dataDir: string;
let seq = 0;
const rid = () => `q${++seq}`;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'brisk-agent-unit-'));
  received = [];
  server = await startWsServer({ token: TOKEN, serverId: 's', roles: ['agent'], onConnection: () => ({ onMessage: (m) => received.push(m), onClose: () => undefined }) });
});

afterEach(async () => {
  await controller?.close();
  await agent?.close();
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
  agent = undefined;
  controller = undefined;
});

async function start(backend: FakeBackend, logs?: AgentLogsOptions): Promise<RunningAgent> {
  agent = await startAgent({ schedulerUrl: server.url, token: TOKEN, agentId: 'a1', memoryMB: 1024, backend, dataDir, ...(logs === undefined ? {} : { logs }) });
  controller = connectWs({ url: agent.controlUrl, token: TOKEN, role: 'controller', id: 'c', onMessage: () => undefined });
  await controller.whenConnected(5000);
  await vi.waitFor(() => expect(server.connections()).toHaveLength(1));
  return agent;
}

const send = (m: Message) => server.connections()[0]?.send(m);
const find = <T extends Message['type']>(type: T, containerId: string) =>
  vi.waitFor(() => {
    const m = received.find((x) => x.type === type && 'containerId' in x && x.containerId === containerId);
    if (m === undefined) throw new Error(`no ${type}`);
    return m as MessageOf<T>;
  });
const ask = <T extends Message>(m: Message & { requestId: string }) => (controller as WsClient).request<T>(m, 5000);

describe('agent daemon (fake backend)', () => {
  it('removes leftovers at start and registers', async () => {
    const backend = new FakeBackend({ leftovers: [{ containerId: 'old', adoptable: false }] });
    await start(backend);
    expect(backend.calls).toEqual(['destroy old']);
    await vi.waitFor(() => expect(received[0]).toMatchObject({ type: 'agent.register', agentId: 'a1', memoryMB: 1024, containers: [] }));
  });

  it('creates, reports ready or failed, and re-registers with prewarm/assigned state', async () => {
    const backend = new FakeBackend({ failCreate: (r) => (r.containerId === 'bad' ? new ContainerOperationError('no room') : undefined) });
    await start(backend);
    send({ type: 'container.create', containerId: 'stem', kind: 'nodejs:20', memoryMB: 256, prewarm: true });
    send({ type: 'container.create', containerId: 'bad', kind: 'nodejs:20', memoryMB: 256, prewarm: false });
    expect(await find('container.ready', 'stem')).toEqual({ type: 'container.ready', containerId: 'stem', address: { host: '127.0.0.1', port: 20000 } });
    expect(await find('container.failed', 'bad')).toEqual({
      type: 'container.failed',
      containerId: 'bad',
      error: { code: 'CONTAINER_OPERATION_FAILED', message: 'no room' },
    });
    // reconnect → register lists the stem cell as prewarm
    server.connections()[0]?.close();
    await vi.waitFor(() => expect(received.filter((m) => m.type === 'agent.register')).toHaveLength(2));
    expect((received.filter((m) => m.type === 'agent.register')[1] as MessageOf<'agent.register'>).containers).toEqual([
      { containerId: 'stem', kind: 'nodejs:20', memoryMB: 256, address: { host: '127.0.0.1', port: 20000 }, state: 'prewarm', paused: false },
    ]);
    // a controller touches it → assigned, paused
    expect(await ask({ type: 'pause', requestId: rid(), containerId: 'stem' })).toEqual({ type: 'result', requestId: `q${seq}` });
    server.connections()[0]?.close();
    await vi.waitFor(() => expect(received.filter((m) => m.type === 'agent.register')).toHaveLength(3));
    expect((received.filter((m) => m.type === 'agent.register')[2] as MessageOf<'agent.register'>).containers[0]).toMatchObject({ state: 'assigned', paused: true });
  });

  it('serialises pause/resume, treats repeats as no-ops, and answers unknown containers with an error code', async () => {
    const backend = new FakeBackend();
    await start(backend);
    send({ type: 'container.create', containerId: 'x', kind: 'nodejs:20', memoryMB: 256, prewarm: false });
    await find('container.ready', 'x');
    await Promise.all([
      ask({ type: 'pause', requestId: rid(), containerId: 'x' }),
      ask({ type: 'pause', requestId: rid(), containerId: 'x' }),
      ask({ type: 'resume', requestId: rid(), containerId: 'x' }),
      ask({ type: 'resume', requestId: rid(), containerId: 'x' }),
    ]);
    expect(backend.calls.filter((c) => c.endsWith(' x'))).toEqual(['create x', 'pause x', 'resume x']);
    const unknown = await ask<MessageOf<'result'>>({ type: 'pause', requestId: rid(), containerId: 'nope' });
    expect(unknown.error?.code).toBe('CONTAINER_NOT_FOUND');
    const logs = await ask<MessageOf<'logs.result'>>({ type: 'logs.collect', requestId: rid(), containerId: 'nope', activationId: 'a'.repeat(32), limitBytes: 10, waitForSentinels: true });
    expect(logs.error?.code).toBe('CONTAINER_NOT_FOUND');
  });

  it('reports an unrequested exit at once and carries it in logs.result', async () => {
    const backend = new FakeBackend();
    await start(backend);
    send({ type: 'container.create', containerId: 'y', kind: 'nodejs:20', memoryMB: 256, prewarm: false });
    await find('container.ready', 'y');
    backend.emitOutput('y', 'stdout', 'partial out');
    backend.crash('y', 'oom', 'killed by SIGABRT');
    expect(await find('container.exited', 'y')).toEqual({ type: 'container.exited', containerId: 'y', reason: 'oom', detail: 'killed by SIGABRT' });
    const logs = await ask<MessageOf<'logs.result'>>({ type: 'logs.collect', requestId: rid(), containerId: 'y', activationId: 'a'.repeat(32), limitBytes: 10_000, waitForSentinels: true });
    expect(logs.exit).toEqual({ reason: 'oom', detail: 'killed by SIGABRT' });
    expect(logs.logs.map((l) => l.slice(31))).toEqual(['stdout: partial out', 'stderr: The action did not initialize or run as expected. Log data might be missing.']);
  });

  it('destroys a container the scheduler destroys during its creation, without reporting it ready', async () => {
    const backend = new FakeBackend();
    let open: () => void = () => undefined;
    backend.createGates.set('z', new Promise((resolve) => (open = resolve)));
    await start(backend);
    send({ type: 'container.create', containerId: 'z', kind: 'nodejs:20', memoryMB: 256, prewarm: false });
    await vi.waitFor(() => expect(backend.calls).toContain('create z'));
    send({ type: 'container.destroy', containerId: 'z', reason: 'not needed' });
    // messages on one connection are handled in order: once the probe is ready, the destroy was seen
    send({ type: 'container.create', containerId: 'probe', kind: 'nodejs:20', memoryMB: 256, prewarm: false });
    await find('container.ready', 'probe');
    open();
    await vi.waitFor(() => expect(backend.calls).toContain('destroy z'));
    expect(received.some((m) => m.type === 'container.ready' && m.containerId === 'z')).toBe(false);
    expect([...backend.containers.keys()]).toEqual(['probe']);
  });

  it('destroys every container on close', async () => {
    const backend = new FakeBackend();
    await start(backend);
    send({ type: 'container.create', containerId: 'w', kind: 'nodejs:20', memoryMB: 256, prewarm: true });
    await find('container.ready', 'w');
    await agent?.close();
    agent = undefined;
    expect(backend.containers.size).toBe(0);
    expect(backend.calls).toContain('destroy w');
  });
});

describe('agent daemon, log memory', () => {
  const T = new Date('2024-05-01T10:00:00.000Z');
  const now = () => T;
  const A = 'a'.repeat(32);
  const forged = (i: number) => i.toString(16).padStart(32, 'f');
  const LINE = Buffer.byteLength(formatLogLine(T, 'stdout', 'flood 0123'));

  async function running(backend: FakeBackend, containerId: string): Promise<void> {
    send({ type: 'container.create', containerId, kind: 'nodejs:20', memoryMB: 256, prewarm: false });
    await find('container.ready', containerId);
  }
  const collectA = (containerId: string) =>
    ask<MessageOf<'logs.result'>>({ type: 'logs.collect', requestId: rid(), containerId, activationId: A, limitBytes: 10_000, waitForSentinels: true });

  it('answers a collect right after a crash with the lines, and keeps the rest only for the retention', async () => {
    const budget = new LogBudget();
    const backend = new FakeBackend();
    await start(backend, { now, budget });
    await running(backend, 'k');
    for (let i = 0; i < 10; i++) backend.emitOutput('k', 'stdout', `${tagLine(forged(i), 'flood 0123')}\n`);
    backend.emitOutput('k', 'stdout', `${tagLine(A, 'result 012')}\n${tagLine(A, LOG_SENTINEL)}\n`);
    backend.emitOutput('k', 'stderr', `${tagLine(A, LOG_SENTINEL)}\n`);
    backend.crash('k', 'crash', 'exit code 1');
    await find('container.exited', 'k');
    const logs = await collectA('k');
    expect(logs).toEqual({
      type: 'logs.result',
      requestId: `q${seq}`,
      logs: [formatLogLine(T, 'stdout', 'result 012')],
      truncated: false,
      exit: { reason: 'crash', detail: 'exit code 1' },
    });
    // the forged activations stay only until the exit retention (default 30 s) is over
    expect(budget.usedBytes).toBe(10 * LINE);
  });

  it('frees an exited container\'s lines after the retention; a later collect gets the exit and the notice', async () => {
    const budget = new LogBudget();
    const backend = new FakeBackend();
    await start(backend, { now, budget, exitRetentionMs: 0 });
    await running(backend, 'k');
    for (let i = 0; i < 10; i++) backend.emitOutput('k', 'stdout', `${tagLine(forged(i), 'flood 0123')}\n`);
    expect(budget.usedBytes).toBe(10 * LINE);
    backend.crash('k', 'crash', 'exit code 1');
    await find('container.exited', 'k');
    await vi.waitFor(() => expect(budget.usedBytes).toBe(0));
    const logs = await collectA('k');
    expect(logs.exit).toEqual({ reason: 'crash', detail: 'exit code 1' });
    expect(logs.logs).toEqual([formatLogLine(T, 'stderr', LogText.collectionIssue)]);
  });

  it('frees the lines of an exit it stops remembering, and caps all containers with one budget', async () => {
    const budget = new LogBudget({ maxBytes: 100 * LINE });
    const backend = new FakeBackend();
    await start(backend, { now, budget });
    const ids = Array.from({ length: 65 }, (_, c) => `e${c}`);
    for (const id of ids) send({ type: 'container.create', containerId: id, kind: 'nodejs:20', memoryMB: 256, prewarm: false });
    await vi.waitFor(() => expect(received.filter((m) => m.type === 'container.ready')).toHaveLength(65));
    // in order: e0 exits first
    ids.forEach((id, c) => {
      backend.emitOutput(id, 'stdout', `${tagLine(forged(c), 'flood 0123')}\n`);
      backend.crash(id, 'crash', 'exit code 1');
    });
    // 64 exits are remembered; the 65th-oldest was forgotten and its line freed
    expect(budget.usedBytes).toBe(64 * LINE);
    const forgotten = await collectA('e0');
    expect(forgotten.error?.code).toBe('CONTAINER_NOT_FOUND');
    await running(backend, 'live');
    for (let i = 100; i < 300; i++) backend.emitOutput('live', 'stdout', `${tagLine(forged(i), 'flood 0123')}\n`);
    expect(budget.usedBytes).toBe(100 * LINE);
  });
});
