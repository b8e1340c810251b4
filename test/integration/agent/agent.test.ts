import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProcessBackend } from '../../../src/agent/backends/process.js';
import { startAgent, type RunningAgent } from '../../../src/agent/daemon.js';
import { formatLogLine } from '../../../src/model/activation.js';
import type { Address, Message, MessageOf } from '../../../src/daemon/protocol.js';
import { connectWs, startWsServer, type Connection, type WsClient, type WsServer } from '../../../src/daemon/transport.js';

const ENTRY = fileURLToPath(new URL('../../../dist/src/runtime/main.js', import.meta.url));
const TOKEN = 'test-token';
const ID1 = '1'.repeat(32);
const ID2 = '2'.repeat(32);

beforeAll(() => {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run \`npm run build\` first (npm test does).`);
});

/** A scheduler stand-in on the real transport that records what agents send. */
interface TestScheduler {
  server: WsServer;
  received: Message[];
  agent(): Connection;
}

let scheduler: TestScheduler;
let agent: RunningAgent | undefined;
let controller: WsClient | undefined;
let backend: ProcessBackend;
let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'brisk-agent-'));
  const received: Message[] = [];
  const server = await startWsServer({
    token: TOKEN,
    serverId: 'scheduler',
    roles: ['agent'],
    onConnection: () => ({ onMessage: (m) => received.push(m), onClose: () => undefined }),
  });
  scheduler = {
    server,
    received,
    agent: () => {
      const conn = server.connections()[0];
      if (conn === undefined) throw new Error('no agent connected');
      return conn;
    },
  };
  backend = new ProcessBackend({ dataDir, runtimeEntry: ENTRY });
});

afterEach(async () => {
  await controller?.close();
  await agent?.close();
  await backend.close();
  await scheduler.server.close();
  await rm(dataDir, { recursive: true, force: true });
  controller = undefined;
  agent = undefined;
});

async function start(): Promise<RunningAgent> {
  agent = await startAgent({ schedulerUrl: scheduler.server.url, token: TOKEN, agentId: 'agent-1', memoryMB: 2048, backend, dataDir, apiHost: 'http://api.test' });
  controller = connectWs({ url: agent.controlUrl, token: TOKEN, role: 'controller', id: 'ctl-1', onMessage: () => undefined });
  await controller.whenConnected(5000);
  await vi.waitFor(() => expect(scheduler.received.some((m) => m.type === 'agent.register')).toBe(true));
  return agent;
}

async function create(containerId: string, memoryMB = 256): Promise<Address> {
  scheduler.agent().send({ type: 'container.create', containerId, kind: 'nodejs:20', memoryMB, prewarm: false });
  const ready = await vi.waitFor(
    () => {
      const m = scheduler.received.find((x) => (x.type === 'container.ready' || x.type === 'container.failed') && x.containerId === containerId);
      if (m === undefined) throw new Error('not yet');
      return m;
    },
    { timeout: 15_000, interval: 20 },
  );
  expect(ready.type).toBe('container.ready');
  return (ready as MessageOf<'container.ready'>).address;
}

async function post(address: Address, route: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://${address.host}:${address.port}${route}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: await res.json() };
}

function ask<T extends Message>(message: Message & { requestId: string }): Promise<T> {
  if (controller === undefined) throw new Error('no controller');
  return controller.request<T>(message, 10_000);
}

let seq = 0;
const rid = () => `r${++seq}`;

function exitedOf(containerId: string): MessageOf<'container.exited'> {
  const m = scheduler.received.find((x) => x.type === 'container.exited' && x.containerId === containerId);
  if (m === undefined) throw new Error('not exited yet');
  return m as MessageOf<'container.exited'>;
}

describe('agent with the process backend', () => {
  it('registers, creates a container that runs an action, and collects the logs of two concurrent activations', async () => {
    await start();
    expect(scheduler.received[0]).toEqual({
      type: 'agent.register',
      agentId: 'agent-1',
      controlUrl: agent?.controlUrl,
      memoryMB: 2048,
      backend: 'process',
      containers: [],
    });
    const address = await create('c1');
    const code = `let release; const second = new Promise((r) => (release = r));
      async function main(p) {
        console.log('hello ' + p.n);
        if (p.n === 1) await second; else release();
        console.error('bye ' + p.n + ' ' + process.env.__OW_API_HOST);
        return { n: p.n };
      }`;
    expect(await post(address, '/init', { value: { name: 'a', main: 'main', code } })).toEqual({ status: 200, body: { OK: true } });
    const first = post(address, '/run', { value: { n: 1 }, activation_id: ID1 });
    // the first has printed before the second starts, so the two truly overlap
    const logs1 = ask<MessageOf<'logs.result'>>({ type: 'logs.collect', requestId: rid(), containerId: 'c1', activationId: ID1, limitBytes: 10_000, waitForSentinels: true });
    const second = await post(address, '/run', { value: { n: 2 }, activation_id: ID2 });
    expect(second).toEqual({ status: 200, body: { n: 2 } });
    expect(await first).toEqual({ status: 200, body: { n: 1 } });
    const logs2 = await ask<MessageOf<'logs.result'>>({ type: 'logs.collect', requestId: rid(), containerId: 'c1', activationId: ID2, limitBytes: 10_000, waitForSentinels: true });
    const text = (lines: string[]) => lines.map((l) => l.slice(31));
    const r1 = await logs1;
    expect(text(r1.logs)).toEqual(['stdout: hello 1', 'stderr: bye 1 http://api.test']);
    expect(r1.truncated).toBe(false);
    expect(text(logs2.logs)).toEqual(['stdout: hello 2', 'stderr: bye 2 http://api.test']);
    expect(r1.logs[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z {7}stdout: hello 1$/);
    expect(formatLogLine(new Date(0), 'stdout', 'x').length).toBe(31 + 'stdout: x'.length);
  });

  it('pauses and resumes: a run sent while paused completes only after resume', async () => {
    await start();
    const address = await create('c2');
    await post(address, '/init', { value: { main: 'main', code: 'function main(p) { return { ok: p.k } }' } });
    expect(await ask({ type: 'pause', requestId: rid(), containerId: 'c2' })).toMatchObject({ type: 'result' });
    expect(await ask({ type: 'pause', requestId: rid(), containerId: 'c2' })).not.toHaveProperty('error');
    const events: string[] = [];
    const run = post(address, '/run', { value: { k: 1 } }).then((r) => {
      events.push('run answered');
      return r;
    });
    // the runtime is really stopped (state T), and stays unanswered across a full agent round trip
    const [pid] = backend.pids();
    expect((await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.[0]).toBe('T');
    expect(await ask({ type: 'pause', requestId: rid(), containerId: 'c2' })).toEqual({ type: 'result', requestId: `r${seq}` });
    events.push('resume asked');
    expect(await ask({ type: 'resume', requestId: rid(), containerId: 'c2' })).toEqual({ type: 'result', requestId: `r${seq}` });
    expect(await run).toEqual({ status: 200, body: { ok: 1 } });
    expect(events).toEqual(['resume asked', 'run answered']);
    const reg = await ask<MessageOf<'result'>>({ type: 'resume', requestId: rid(), containerId: 'nope' });
    expect(reg.error?.code).toBe('CONTAINER_NOT_FOUND');
  });

  it('reports a crash, and carries the exit in a later logs.collect', async () => {
    await start();
    const address = await create('c3');
    await post(address, '/init', { value: { main: 'main', code: 'function main() { setTimeout(() => process.exit(3), 1); return {} }' } });
    await post(address, '/run', { value: {}, activation_id: ID1 });
    const exited = await vi.waitFor(() => exitedOf('c3'), { timeout: 10_000 });
    expect(exited).toEqual({ type: 'container.exited', containerId: 'c3', reason: 'crash', detail: 'exit code 3' });
    const logs = await ask<MessageOf<'logs.result'>>({ type: 'logs.collect', requestId: rid(), containerId: 'c3', activationId: ID1, limitBytes: 10_000, waitForSentinels: true });
    expect(logs.exit).toEqual({ reason: 'crash', detail: 'exit code 3' });
    expect(logs.logs).toEqual([]);
  });

  it('reports a memory hog as oom', async () => {
    await start();
    const address = await create('c4', 128);
    const code = 'function main() { const keep = []; for (;;) keep.push(new Array(1e6).fill(Math.random())); }';
    await post(address, '/init', { value: { main: 'main', code } });
    await post(address, '/run', { value: {}, activation_id: ID1 }).catch(() => undefined);
    const exited = await vi.waitFor(() => exitedOf('c4'), { timeout: 20_000, interval: 50 });
    expect(exited.reason).toBe('oom');
  });

  it('destroys on request and leaves no child process on close', async () => {
    await start();
    await create('c5');
    await create('c6');
    const pids = backend.pids();
    expect(pids).toHaveLength(2);
    expect(await ask({ type: 'destroy', requestId: rid(), containerId: 'c5', reason: 'timeout' })).toEqual({ type: 'result', requestId: `r${seq}` });
    await vi.waitFor(() => expect(exitedOf('c5').reason).toBe('timeout'));
    await agent?.close();
    agent = undefined;
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(backend.pids()).toEqual([]);
  });

  it('removes containers left by an earlier agent', async () => {
    await start();
    await create('c7');
    const [pid] = backend.pids();
    // simulate an agent that died: a new backend instance over the same data dir finds the pid file
    const next = new ProcessBackend({ dataDir, runtimeEntry: ENTRY });
    expect(await next.list()).toEqual([{ containerId: 'c7', adoptable: false }]);
    await next.destroy('c7');
    // it is still this test process's child, so wait until the first backend has reaped it
    await vi.waitFor(() => expect(isAlive(pid as number)).toBe(false));
    await vi.waitFor(() => expect(exitedOf('c7').reason).toBe('crash'));
    expect(await next.list()).toEqual([]);
    expect(existsSync(path.join(dataDir, 'process', 'c7.tmp'))).toBe(false);
  });
});

describe('process backend temp directories', () => {
  const request = (containerId: string) => ({ containerId, kind: 'nodejs:20', memoryMB: 128, env: {} });
  const tmpOf = (containerId: string) => path.join(dataDir, 'process', `${containerId}.tmp`);

  it('gives each container its own TMPDIR under the data dir and removes it on destroy', async () => {
    const address = await backend.create(request('t1'));
    expect(existsSync(tmpOf('t1'))).toBe(true);
    const code = `function main() { const os = require('os'); return { tmp: os.tmpdir(), env: process.env.TMPDIR } }`;
    expect(await post(address, '/init', { value: { main: 'main', code } })).toEqual({ status: 200, body: { OK: true } });
    expect(await post(address, '/run', { value: {}, activation_id: ID1 })).toEqual({ status: 200, body: { tmp: tmpOf('t1'), env: tmpOf('t1') } });
    await backend.destroy('t1');
    expect(existsSync(tmpOf('t1'))).toBe(false);
  });

  it('removes the directory of a container killed with SIGKILL, and all of them on close', async () => {
    const exits: string[] = [];
    backend.subscribe({ exit: (e) => exits.push(e.containerId), output: () => undefined });
    await backend.create(request('t2'));
    await backend.create(request('t3'));
    await writeFile(path.join(tmpOf('t2'), 'brisk-zip-leftover'), 'x');
    const [pid] = backend.pids();
    process.kill(pid as number, 'SIGKILL');
    await vi.waitFor(() => expect(exits).toEqual(['t2']));
    await vi.waitFor(() => expect(existsSync(tmpOf('t2'))).toBe(false));
    expect(existsSync(tmpOf('t3'))).toBe(true);
    await backend.close();
    expect(existsSync(tmpOf('t3'))).toBe(false);
  });

  it('removes a leftover temp directory without a pid file at the next start, and keeps live ones', async () => {
    await backend.create(request('t4'));
    await mkdir(path.join(tmpOf('gone'), 'brisk-zip-abc'), { recursive: true });
    const next = new ProcessBackend({ dataDir, runtimeEntry: ENTRY });
    // t4 has a pid file: it is a leftover container for `next`, whose destroy removes its directory
    expect(await next.list()).toEqual([{ containerId: 't4', adoptable: false }]);
    expect(existsSync(tmpOf('gone'))).toBe(false);
    expect(existsSync(tmpOf('t4'))).toBe(true);
    // a destroy of a container without pid file still removes its directory
    await mkdir(tmpOf('gone2'));
    await next.destroy('gone2');
    expect(existsSync(tmpOf('gone2'))).toBe(false);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
