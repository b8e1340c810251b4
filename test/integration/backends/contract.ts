/**
 * The contract every ContainerBackend keeps (src/agent/backend.ts), as one suite that each backend's
 * test file runs against real containers: process, runc and docker.
 *
 * Two layers:
 * - the backend alone: create, /init and /run, concurrent runs, pause and resume, destroy, crash and
 *   out-of-memory detection, output delivery, restart recovery;
 * - the whole platform on that backend (test/integration/platform/harness.ts): the activation record
 *   of an out-of-memory action, the time limit, log capture and truncation, and, for isolated
 *   backends, the security tests: an action that reads host files, reaches the daemons or another
 *   container, forks without bound or exceeds its memory gets an error and harms nothing else.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackendListener, ContainerBackend, ExitEvent, OutputEvent } from '../../../src/agent/backend.js';
import type { Address } from '../../../src/daemon/protocol.js';
import { annotation, api, putAction, startPlatform, type Platform } from '../platform/harness.js';

export interface ContractOptions {
  /** the backend isolates containers (filesystem, network, pids): the security tests run */
  isolated: boolean;
}

/** A backend opened over `dataDir`; the suite closes it. */
export type OpenBackend = (dataDir: string) => Promise<ContainerBackend>;

const ACTIVATION = 'a'.repeat(32);

async function post(address: Address, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://${address.host}:${address.port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

async function init(address: Address, code: string): Promise<void> {
  const reply = await post(address, '/init', { value: { name: 'contract', main: 'main', code } });
  expect(reply).toEqual({ status: 200, body: { OK: true } });
}

function run(address: Address, value: Record<string, unknown> = {}, activationId = ACTIVATION): Promise<{ status: number; body: any }> {
  return post(address, '/run', { value, activation_id: activationId, namespace: 'guest', action_name: '/guest/contract', deadline: String(Date.now() + 60_000) });
}

function connects(address: Address): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address.host, port: address.port });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Everything a backend reported, per container. */
function recorder(backend: ContainerBackend): { output: OutputEvent[]; exits: ExitEvent[]; text(containerId: string, stream: 'stdout' | 'stderr'): string; stop(): void } {
  const output: OutputEvent[] = [];
  const exits: ExitEvent[] = [];
  const listener: BackendListener = { output: (e) => output.push(e), exit: (e) => exits.push(e) };
  const stop = backend.subscribe(listener);
  return {
    output,
    exits,
    stop,
    text: (containerId, stream) =>
      Buffer.concat(output.filter((e) => e.containerId === containerId && e.stream === stream).map((e) => e.chunk)).toString('utf8'),
  };
}

let sequence = 0;
function newId(): string {
  sequence += 1;
  return `contract-${process.pid}-${sequence}`;
}

export function describeBackendContract(title: string, open: OpenBackend, options: ContractOptions): void {
  describe(`${title}: backend contract`, () => {
    let dataDir: string;
    const opened: ContainerBackend[] = [];
    let backend: ContainerBackend;

    beforeEach(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'brisk-contract-'));
      backend = await open(dataDir);
      opened.push(backend);
    });

    afterEach(async () => {
      for (const b of opened.splice(0)) await b.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('creates a container whose runtime answers /init and /run', async () => {
      const id = newId();
      const address = await backend.create({ containerId: id, kind: 'nodejs:20', memoryMB: 128, env: {} });
      await init(address, 'function main(p) { return { doubled: p.x * 2, user: process.getuid() } }');
      const reply = await run(address, { x: 21 });
      expect(reply.status).toBe(200);
      expect(reply.body.doubled).toBe(42);
      // isolated backends run actions as nobody; the process backend as whoever runs the agent
      if (options.isolated) expect(reply.body.user).toBe(65534);
    });

    it('runs concurrent activations in one container', async () => {
      const address = await backend.create({ containerId: newId(), kind: 'nodejs:20', memoryMB: 128, env: {} });
      await init(address, 'async function main(p) { await new Promise((r) => setTimeout(r, 20)); return { i: p.i } }');
      const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => run(address, { i }, String(i).repeat(32).slice(0, 32))));
      expect(replies.map((r) => r.body.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    });

    it('holds a run while paused and completes it after resume', async () => {
      const id = newId();
      const address = await backend.create({ containerId: id, kind: 'nodejs:20', memoryMB: 128, env: {} });
      await init(address, 'function main() { return { ok: true } }');
      await backend.pause(id);
      let settled = false;
      const pending = run(address).then((r) => {
        settled = true;
        return r;
      });
      // a frozen runtime cannot answer: give it ample time to prove it does not
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false);
      await backend.resume(id);
      expect(await pending).toEqual({ status: 200, body: { ok: true } });
      // pause and resume again: the container keeps working
      await backend.pause(id);
      await backend.resume(id);
      expect((await run(address)).body).toEqual({ ok: true });
    });

    it('destroys a container (paused or not), idempotently, and reports no exit for it', async () => {
      const events = recorder(backend);
      const a = newId();
      const b = newId();
      const addressA = await backend.create({ containerId: a, kind: 'nodejs:20', memoryMB: 128, env: {} });
      const addressB = await backend.create({ containerId: b, kind: 'nodejs:20', memoryMB: 128, env: {} });
      await backend.pause(b);
      await backend.destroy(a);
      await backend.destroy(b);
      await backend.destroy(a);
      await backend.destroy('never-created');
      expect(await connects(addressA)).toBe(false);
      expect(await connects(addressB)).toBe(false);
      await expect(backend.pause(a)).rejects.toMatchObject({ code: 'CONTAINER_OPERATION_FAILED' });
      expect(events.exits).toEqual([]);
      expect(await backend.list()).toEqual([]);
      events.stop();
    });

    it('delivers output in order per stream, and reports a crash once, after the last output', async () => {
      const events = recorder(backend);
      const id = newId();
      const address = await backend.create({ containerId: id, kind: 'nodejs:20', memoryMB: 128, env: {} });
      await init(address, `function main() {
        for (let i = 0; i < 200; i++) console.log('line ' + i);
        console.error('about to exit');
        setTimeout(() => process.exit(3), 10);
        return { ok: true };
      }`);
      expect((await run(address)).body).toEqual({ ok: true });
      await vi.waitFor(() => expect(events.exits).toHaveLength(1));
      expect(events.exits[0]).toMatchObject({ containerId: id, reason: 'crash' });
      const lines = events
        .text(id, 'stdout')
        .split('\n')
        .map((l) => /line (\d+)/.exec(l)?.[1])
        .filter((n) => n !== undefined)
        .map(Number);
      expect(lines).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expect(events.text(id, 'stderr')).toContain('about to exit');
      // the exit came after every output event of the container
      const lastOutput = Math.max(...events.output.map((e, i) => (e.containerId === id ? i : -1)));
      expect(lastOutput).toBeLessThan(events.output.length);
      await expect(backend.pause(id)).rejects.toMatchObject({ code: 'CONTAINER_OPERATION_FAILED' });
      events.stop();
    });

    it('reports an action that exhausts its memory as oom', async () => {
      const events = recorder(backend);
      const id = newId();
      const address = await backend.create({ containerId: id, kind: 'nodejs:20', memoryMB: 128, env: {} });
      await init(address, 'function main() { const keep = []; for (;;) keep.push(new Array(1e6).fill(Math.random())); }');
      await run(address).catch(() => undefined);
      await vi.waitFor(() => expect(events.exits).toHaveLength(1), { timeout: 30_000 });
      expect(events.exits[0]).toMatchObject({ containerId: id, reason: 'oom' });
      events.stop();
    });

    it('rejects an invalid or duplicate container id and leaves nothing behind', async () => {
      await expect(backend.create({ containerId: '../escape', kind: 'nodejs:20', memoryMB: 128, env: {} })).rejects.toMatchObject({ code: 'CONTAINER_OPERATION_FAILED' });
      const id = newId();
      await backend.create({ containerId: id, kind: 'nodejs:20', memoryMB: 128, env: {} });
      await expect(backend.create({ containerId: id, kind: 'nodejs:20', memoryMB: 128, env: {} })).rejects.toMatchObject({ code: 'CONTAINER_OPERATION_FAILED' });
      await backend.destroy(id);
      expect(await backend.list()).toEqual([]);
    });

    it('after an agent restart, lists what the earlier run left and removes it completely', async () => {
      const id = newId();
      const address = await backend.create({ containerId: id, kind: 'nodejs:20', memoryMB: 128, env: {} });
      await backend.pause(id);
      // the earlier agent "died": a new backend over the same data directory takes over
      const next = await open(dataDir);
      opened.push(next);
      expect(await next.list()).toEqual([{ containerId: id, adoptable: false }]);
      await next.destroy(id);
      expect(await connects(address)).toBe(false);
      expect(await next.list()).toEqual([]);
    });
  });

  describe(`${title}: the platform on this backend`, () => {
    let platform: Platform<ContainerBackend> | undefined;

    afterEach(async () => {
      await platform?.close();
      platform = undefined;
    });

    async function invoke(name: string, params: Record<string, unknown> = {}): Promise<{ status: number; body: any }> {
      return api(platform!, 'POST', `/namespaces/_/actions/${name}?blocking=true`, params);
    }

    it('records an out-of-memory action with OpenWhisk\'s message, and keeps serving others', async () => {
      platform = await startPlatform({ openBackend: open });
      await putAction(platform, 'hog', 'function main() { const keep = []; for (;;) keep.push(new Array(1e6).fill(Math.random())); }', { memory: 128 });
      await putAction(platform, 'ok', 'function main() { return { fine: true } }', { memory: 128 });
      const reply = await invoke('hog');
      expect(reply.status).toBe(502);
      expect(reply.body.response).toMatchObject({ status: 'action developer error', success: false, result: { error: 'The action exhausted its memory and was aborted.' } });
      expect((await invoke('ok')).body.response.result).toEqual({ fine: true });
    });

    it('ends a run over its time limit as a developer error with timeout:true', async () => {
      platform = await startPlatform({ openBackend: open });
      await putAction(platform, 'slow', 'async function main() { await new Promise((r) => setTimeout(r, 60000)); return {} }', { timeout: 300 });
      const reply = await invoke('slow');
      expect(reply.status).toBe(502);
      expect(reply.body.response.status).toBe('action developer error');
      expect(annotation(reply.body, 'timeout')).toBe(true);
    });

    it('captures the logs of an activation and truncates them at the log limit', async () => {
      platform = await startPlatform({ openBackend: open });
      await putAction(platform, 'chatty', 'function main({ n }) { for (let i = 0; i < n; i++) console.log("x".repeat(100) + i); console.error("done"); return {} }', { logs: 1 });
      // logs are collected after the reply: poll until the record has them
      const logsOf = async (activationId: string) => (await api(platform!, 'GET', `/namespaces/_/activations/${activationId}/logs`)).body.logs as string[];
      const small = await invoke('chatty', { n: 3 });
      await expect.poll(async () => (await logsOf(small.body.activationId)).length).toBe(4);
      const logs = (await logsOf(small.body.activationId)).map((l) => l.replace(/^\S+\s+/, ''));
      // in order within each stream; stdout and stderr are separate pipes, so not ordered between them
      expect(logs.filter((l) => l.startsWith('stdout:'))).toEqual([`stdout: ${'x'.repeat(100)}0`, `stdout: ${'x'.repeat(100)}1`, `stdout: ${'x'.repeat(100)}2`]);
      expect(logs.filter((l) => l.startsWith('stderr:'))).toEqual(['stderr: done']);
      const big = await invoke('chatty', { n: 50_000 });
      expect(big.status).toBe(200);
      await expect.poll(async () => (await logsOf(big.body.activationId)).length).toBeGreaterThan(0);
      const bigLogs = await logsOf(big.body.activationId);
      expect(bigLogs.at(-1)).toContain('Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes.');
      expect(bigLogs.join('\n').length).toBeLessThan(1_100_000);
    });

    // not registered at all for the process backend, which isolates nothing (see docs/containers.md)
    if (options.isolated) describe('isolation', () => {
      it('keeps host files out of reach and the root filesystem read-only', async () => {
        platform = await startPlatform({ openBackend: open });
        const secret = join(platform.dataDir, 'host-secret.txt');
        await writeFile(secret, 'do not read');
        await putAction(
          platform,
          'snoop',
          `function main({ secret }) {
            const fs = require('fs');
            const attempt = (f) => { try { return f(); } catch (e) { return e.code; } };
            return {
              secret: attempt(() => fs.readFileSync(secret, 'utf8')),
              passwd: attempt(() => fs.readFileSync('/etc/passwd', 'utf8')),
              shadow: attempt(() => fs.readFileSync('/etc/shadow', 'utf8')),
              writeRoot: attempt(() => { fs.writeFileSync('/pwned', 'x'); return 'written'; }),
              writeTmp: attempt(() => { fs.writeFileSync('/tmp/scratch', 'x'); return 'written'; }),
              root: fs.readdirSync('/').sort(),
              cgroups: attempt(() => fs.readdirSync('/sys/fs/cgroup')),
              status: Object.fromEntries(fs.readFileSync('/proc/self/status', 'utf8').split('\\n').map((l) => l.split(':\\t')).filter((kv) => ['Seccomp', 'NoNewPrivs', 'CapEff', 'CapPrm', 'CapBnd'].includes(kv[0]))),
            };
          }`,
        );
        const reply = await invoke('snoop', { secret });
        expect(reply.status).toBe(200);
        const result = reply.body.response.result;
        expect(result.secret).toBe('ENOENT');
        expect(result.shadow).toBe('ENOENT');
        expect(result.passwd).not.toContain('root:');
        expect(result.writeRoot).toBe('EROFS');
        expect(result.writeTmp).toBe('written');
        expect(result.root).not.toContain('home');
        expect(result.root).not.toContain('root');
        expect(result.root).not.toContain('var');
        // no capabilities at all, no way to gain any, and a seccomp filter in force
        expect(result.status).toEqual({ Seccomp: '2', NoNewPrivs: '1', CapEff: '0000000000000000', CapPrm: '0000000000000000', CapBnd: '0000000000000000' });
      });

      it('lets no action reach the controller, the scheduler, the agent or another container', async () => {
        platform = await startPlatform({ openBackend: open });
        const ports = {
          controller: Number(new URL(platform.controller.url).port),
          scheduler: platform.scheduler.port,
          agent: Number(new URL(platform.agent.controlUrl).port),
        };
        await putAction(platform, 'target', 'function main() { return { here: true } }');
        expect((await invoke('target')).status).toBe(200);
        const target = platform.scheduler.state().containers.find((c) => c.state === 'assigned' && c.action.name === 'target');
        const targetAddress = target?.state === 'assigned' ? target.address : undefined;
        expect(targetAddress).toBeDefined();
        await putAction(
          platform,
          'probe',
          `async function main({ targets }) {
            const net = require('net');
            const os = require('os');
            const mine = Object.values(os.networkInterfaces()).flat().find((i) => i.family === 'IPv4' && !i.internal);
            const parts = mine.address.split('.').map(Number);
            const hostSide = [parts[0], parts[1], parts[2], parts[3] - 1].join('.');
            const attempt = (host, port) => new Promise((resolve) => {
              const s = net.connect({ host, port });
              s.setTimeout(1500, () => { s.destroy(); resolve('timeout'); });
              s.once('connect', () => { s.destroy(); resolve('connected'); });
              s.once('error', (e) => resolve(e.code));
            });
            const out = {};
            for (const [name, t] of Object.entries(targets)) out[name] = await attempt(t.host === 'HOST_SIDE' ? hostSide : t.host, t.port);
            return out;
          }`,
        );
        const targets: Record<string, { host: string; port: number }> = {
          controllerLoopback: { host: '127.0.0.1', port: ports.controller },
          controllerHostSide: { host: 'HOST_SIDE', port: ports.controller },
          schedulerHostSide: { host: 'HOST_SIDE', port: ports.scheduler },
          agentHostSide: { host: 'HOST_SIDE', port: ports.agent },
          otherContainer: { host: targetAddress!.host, port: targetAddress!.port },
        };
        const reply = await invoke('probe', { targets });
        expect(reply.status).toBe(200);
        const outcome = reply.body.response.result as Record<string, string>;
        expect(Object.keys(outcome).sort()).toEqual(Object.keys(targets).sort());
        for (const [name, result] of Object.entries(outcome)) expect({ name, result }).not.toEqual({ name, result: 'connected' });
        // the target still serves, from the controller
        expect((await invoke('target')).body.response.result).toEqual({ here: true });
      });

      it('stops a fork bomb at the pids limit without harming other actions', async () => {
        platform = await startPlatform({ openBackend: open });
        await putAction(
          platform,
          'bomb',
          `function main() {
            const { spawn } = require('child_process');
            let started = 0, refused = null;
            for (let i = 0; i < 2000; i++) {
              try {
                const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
                if (child.pid === undefined) { refused = 'no pid'; break; }
                child.on('error', () => {});
                started++;
              } catch (e) { refused = e.code || String(e); break; }
            }
            return { started, refused };
          }`,
          { memory: 512 },
        );
        await putAction(platform, 'ok', 'function main() { return { fine: true } }');
        const reply = await invoke('bomb');
        // it either returned its count or was killed by the limits: never did it get 2000 processes
        if (reply.status === 200) expect(reply.body.response.result.started).toBeLessThan(2000);
        expect((await invoke('ok')).body.response.result).toEqual({ fine: true });
      });
    });
  });
}
