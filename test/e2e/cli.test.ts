/**
 * End-to-end: the built `brisk` binary against the real daemons, with a private config dir.
 * 1. `brisk up` (everything in one process) and every action/activation command with --json;
 * 2. the three daemons as separate processes, and one invoke through them.
 * Both assert a clean shutdown: exit code 0 and no child process left behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ActionSummary, ActionView, ActivationResultView, ActivationSummary, ActivationView } from '../../src/client/types.js';
import { findOnPath, isRoot } from '../support/require-system.js';
import { brisk, cliEnv, descendants, isAlive, requireBuild, runcContainerPids, startDaemon, type Daemon } from './support.js';

interface UpReport {
  apihost: string;
  namespace: string;
  auth: string;
  dataDir: string;
  schedulerUrl: string;
  pid: number;
  profile: string;
  backend: string;
  backendReason: string;
  metrics: { controller: string; scheduler: string; agent: string };
  sample: { action: string; activationId: string; params: Record<string, unknown>; result: unknown };
}

const ID = /^[0-9a-f]{32}$/;
const E2E_TIMEOUT = 180_000;

let dir: string;
let env: NodeJS.ProcessEnv;
const daemons: Daemon<unknown>[] = [];

beforeAll(() => {
  requireBuild();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'brisk-e2e-'));
  env = cliEnv(join(dir, 'config'));
  await writeFile(join(dir, 'echo.js'), "function main(params) { console.log('echo says hi'); return { echoed: params }; }\n");
  await writeFile(join(dir, 'fail.js'), "function main() { return { error: 'nope' }; }\n");
  await writeFile(join(dir, 'params.json'), JSON.stringify({ name: 'File', n: 1 }));
});

afterEach(async () => {
  // Reverse order, as the daemons were started; a test that already stopped them makes this a no-op.
  for (const daemon of daemons.reverse()) await daemon.stop('SIGTERM');
  daemons.length = 0;
  await rm(dir, { recursive: true, force: true });
});

describe('brisk up and the action/activation commands', () => {
  it(
    'brings the platform up, runs the sample, serves every command, and stops cleanly',
    async () => {
      const up = await startDaemon<UpReport>(['up', '--port', '0', '--data-dir', join(dir, 'data'), '--concurrent-invocations', '77'], env);
      daemons.push(up);
      expect(up.report.apihost).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const limits = await fetch(`${up.report.apihost}/api/v1/namespaces/_/limits`, { headers: { authorization: `Basic ${Buffer.from(up.report.auth).toString('base64')}` } });
      expect(await limits.json()).toMatchObject({ concurrentInvocations: 77, invocationsPerMinute: 60000 });
      expect(up.report.namespace).toBe('guest');
      // every daemon's Prometheus endpoint, as `up` reports it, answers
      for (const url of Object.values(up.report.metrics)) {
        const scraped = await fetch(url);
        expect({ url, status: scraped.status }).toEqual({ url, status: 200 });
        expect(await scraped.text()).toContain('# TYPE ');
      }
      expect(up.report.auth).toMatch(/^[^:]+:.{64}$/);
      expect(up.report.sample).toEqual({ action: 'hello', activationId: expect.stringMatching(ID), params: { name: 'brisk' }, result: { greeting: 'Hello, brisk!' } });

      // The CLI reads the saved profile: no --apihost/--auth from here on.
      const created = await brisk<ActionView>(['action', 'create', 'echo', join(dir, 'echo.js'), '-p', 'fixed', '1'], env);
      expect(created.exitCode).toBe(0);
      expect(created.json.result).toMatchObject({ namespace: 'guest', name: 'echo', exec: { kind: 'nodejs:20' }, parameters: [{ key: 'fixed', value: 1 }] });

      const again = await brisk(['action', 'create', 'echo', join(dir, 'echo.js')], env);
      expect(again).toMatchObject({ exitCode: 2, json: { status: 2, code: 'CONFLICT', exitCode: 2 } });

      const invoked = await brisk(['action', 'invoke', 'echo', '-P', join(dir, 'params.json'), '-p', 'name', 'Ada', '-p', 'list', '[1,2]', '--result'], env);
      expect(invoked.exitCode).toBe(0);
      expect(invoked.json).toEqual({ status: 0, result: { echoed: { fixed: 1, name: 'Ada', n: 1, list: [1, 2] } } });

      const updated = await brisk<ActionView>(['action', 'update', 'echo', '--memory', '128MB', '--timeout', '3s', '--logsize', '1', '--concurrency', '1'], env);
      expect(updated.exitCode).toBe(0);
      expect(updated.json.result?.limits).toEqual({ memory: 128, timeout: 3000, logs: 1, concurrency: 1 });

      const got = await brisk<ActionView>(['action', 'get', 'echo'], env);
      expect(got.json.result?.exec.code).toBe("function main(params) { console.log('echo says hi'); return { echoed: params }; }\n");

      const listed = await brisk<ActionSummary[]>(['action', 'list'], env);
      expect(listed.json.result?.map((a) => a.name).sort()).toEqual(['echo', 'hello']);

      const blocking = await brisk<ActivationView>(['action', 'invoke', 'echo', '--blocking'], env);
      expect(blocking.exitCode).toBe(0);
      expect(blocking.json.result).toMatchObject({ name: 'echo', activationId: expect.stringMatching(ID), response: { success: true, status: 'success', result: { echoed: { fixed: 1 } } } });

      const accepted = await brisk<{ activationId: string }>(['action', 'invoke', 'echo', '-p', 'name', 'later'], env);
      expect(accepted.exitCode).toBe(0);
      const id = accepted.json.result!.activationId;
      expect(id).toMatch(ID);

      // A non-blocking activation's record appears once it finished; its logs once they were collected.
      const record = await vi.waitFor(
        async () => {
          const run = await brisk<ActivationView>(['activation', 'get', id], env);
          expect(run.exitCode).toBe(0);
          return run.json.result!;
        },
        { timeout: 30_000, interval: 250 },
      );
      expect(record).toMatchObject({ activationId: id, name: 'echo', response: { success: true, result: { echoed: { fixed: 1, name: 'later' } } } });

      const logs = await vi.waitFor(
        async () => {
          const run = await brisk<{ logs: string[] }>(['activation', 'logs', id], env);
          expect(run.json.result?.logs.some((line) => line.includes('stdout: echo says hi'))).toBe(true);
          return run.json.result!.logs;
        },
        { timeout: 30_000, interval: 250 },
      );
      expect(logs).toHaveLength(1);

      const result = await brisk<ActivationResultView>(['activation', 'result', id], env);
      expect(result.json.result).toMatchObject({ success: true, status: 'success', result: { echoed: { fixed: 1, name: 'later' } } });

      const activations = await brisk<ActivationSummary[]>(['activation', 'list', 'echo', '--limit', '10'], env);
      expect(activations.exitCode).toBe(0);
      expect(activations.json.result?.map((a) => a.activationId)).toContain(id);
      expect(activations.json.result?.every((a) => a.name === 'echo')).toBe(true);

      // A failing activation: exit 1 with the result in the envelope.
      expect((await brisk(['action', 'create', 'fail', join(dir, 'fail.js')], env)).exitCode).toBe(0);
      const failed = await brisk(['action', 'invoke', 'fail', '--result'], env);
      expect(failed).toMatchObject({ exitCode: 1, json: { status: 1, code: 'ACTIVATION_FAILED', data: { status: 'application error', result: { error: 'nope' } } } });

      // Usage errors and missing things.
      expect(await brisk(['action', 'update', 'echo', '--memory', 'lots'], env)).toMatchObject({ exitCode: 2, json: { code: 'INVALID_INPUT' } });
      expect(await brisk(['action', 'invoke'], env)).toMatchObject({ exitCode: 2, json: { code: 'USAGE' } });
      expect(await brisk(['action', 'get', 'echo', '--auth', `${up.report.auth.split(':')[0]}:${'x'.repeat(64)}`], env)).toMatchObject({ exitCode: 4, json: { code: 'UNAUTHENTICATED' } });
      expect((await brisk(['action', 'delete', 'echo'], env)).json).toMatchObject({ status: 0, result: { name: 'echo' } });
      expect(await brisk(['action', 'get', 'echo'], env)).toMatchObject({ exitCode: 3, json: { code: 'NOT_FOUND' } });
      expect(await brisk(['activation', 'get', 'f'.repeat(32)], env)).toMatchObject({ exitCode: 3, json: { code: 'NOT_FOUND' } });

      // As root with runc installed (CI), `up` runs containers with runc; else as plain processes.
      expect(up.report.backend).toBe(isRoot() && ['runc', 'ip', 'nft'].every((tool) => findOnPath(tool) !== undefined) ? 'runc' : 'process');

      // Shutdown: exit 0, and every process `up` started (the action containers) is gone.
      const children = up.report.backend === 'runc' ? runcContainerPids(join(dir, 'data', 'agent')) : descendants(up.pid);
      expect(children.length).toBeGreaterThan(0);
      expect(await up.stop('SIGINT')).toBe(0);
      await vi.waitFor(() => expect(children.filter(isAlive)).toEqual([]), { timeout: 10_000 });

      expect(await brisk(['action', 'list'], env)).toMatchObject({ exitCode: 4, json: { code: 'API_UNREACHABLE', hint: expect.stringContaining('brisk up') } });
    },
    E2E_TIMEOUT,
  );
});

describe('separate daemons', () => {
  it(
    'scheduler, controller and agent as their own processes serve an invoke and stop cleanly',
    async () => {
      const token = randomBytes(24).toString('hex');
      const dataDir = join(dir, 'data');
      const common = ['--token', token, '--data-dir', dataDir, '--log-level', 'warn'];
      const scheduler = await startDaemon<{ url: string; port: number }>(['scheduler', '--port', '0', '--stem-cell', 'nodejs:20,128,2', ...common], env);
      daemons.push(scheduler);
      expect(scheduler.report.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+/);

      const controller = await startDaemon<{ apihost: string; auth: string; profile: string | null }>(['controller', '--scheduler', scheduler.report.url, '--port', '0', ...common], env);
      daemons.push(controller);
      expect(controller.report.profile).toBe('default');
      // A second controller does not repoint the saved profile unless told to.
      const second = await startDaemon<{ apihost: string; profile: string | null }>(['controller', '--scheduler', scheduler.report.url, '--port', '0', ...common], env);
      daemons.push(second);
      expect(second.report.profile).toBeNull();
      expect(await second.stop('SIGTERM')).toBe(0);
      const agent = await startDaemon<{ agentId: string; backend: string }>(['agent', '--scheduler', scheduler.report.url, '--memory', '1GB', '--apihost', controller.report.apihost, ...common], env);
      daemons.push(agent);
      expect(agent.report.backend).toBe(isRoot() && ['runc', 'ip', 'nft'].every((tool) => findOnPath(tool) !== undefined) ? 'runc' : 'process');
      // the agent's containers: its children (process backend) or the processes in its cgroups (runc)
      const containerPids = () => (agent.report.backend === 'runc' ? runcContainerPids(join(dataDir, 'agent')) : descendants(agent.pid));
      // --stem-cell took effect: the agent keeps two prewarmed containers before any invoke
      await vi.waitFor(() => expect(containerPids()).toHaveLength(2));

      // The controller saved its API host and key as the current profile.
      expect((await brisk(['action', 'create', 'echo', join(dir, 'echo.js')], env)).exitCode).toBe(0);
      const invoked = await brisk(['action', 'invoke', 'echo', '-p', 'name', 'Ada', '--result'], env);
      expect(invoked.json).toEqual({ status: 0, result: { echoed: { name: 'Ada' } } });

      const containers = containerPids();
      expect(containers.length).toBeGreaterThan(0);
      expect(await agent.stop('SIGTERM')).toBe(0);
      expect(await controller.stop('SIGTERM')).toBe(0);
      expect(await scheduler.stop('SIGINT')).toBe(0);
      await vi.waitFor(() => expect(containers.filter(isAlive)).toEqual([]), { timeout: 10_000 });
    },
    E2E_TIMEOUT,
  );

  it('a malformed stem-cell setting is a usage error naming the form', async () => {
    const run = await brisk(['scheduler', '--port', '0', '--data-dir', join(dir, 'sched'), '--stem-cell', 'python:3,256', '--json'], env);
    expect(run).toMatchObject({ exitCode: 2, json: { code: 'INVALID_INPUT', message: expect.stringContaining('KIND,MEMORY[,COUNT]') } });
  });

  it('an unknown command is a usage error, in the JSON envelope with --json', async () => {
    const run = await brisk(['nosuch', '--json'], env);
    expect(run).toMatchObject({ exitCode: 2, json: { status: 2, code: 'USAGE', message: expect.stringContaining('command nosuch not found') } });
  });

  it('an agent without any cluster token says where to get one', async () => {
    const run = await brisk(['agent', '--scheduler', 'ws://127.0.0.1:1', '--data-dir', join(dir, 'empty')], env);
    expect(run).toMatchObject({ exitCode: 2, json: { code: 'CONFIG_INVALID', hint: expect.stringContaining('--token') } });
  });
});
