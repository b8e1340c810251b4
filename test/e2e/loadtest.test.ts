/**
 * End-to-end: `brisk loadtest --json` of the built CLI against `brisk up`, its result checked against
 * the activation records that `brisk activation list` shows.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ActivationSummary } from '../../src/client/types.js';
import type { LoadtestReport } from '../../src/loadtest/report.js';
import { brisk, cliEnv, requireBuild, startDaemon, type Daemon } from './support.js';

let dir: string;
let env: NodeJS.ProcessEnv;
let up: Daemon<unknown> | undefined;

beforeAll(() => {
  requireBuild();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'brisk-e2e-loadtest-'));
  env = cliEnv(join(dir, 'config'));
});

afterEach(async () => {
  await up?.stop('SIGTERM');
  up = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('brisk loadtest', () => {
  it(
    'runs a closed loop over two actions and reports what the activation records show',
    async () => {
      up = await startDaemon(['up', '--port', '0', '--data-dir', join(dir, 'data'), '--no-sample'], env);
      await writeFile(join(dir, 'echo.js'), 'function main(params) { return { who: params.who }; }\n');
      await writeFile(join(dir, 'payload.json'), JSON.stringify({ who: 'load' }));
      for (const name of ['e2e-a', 'e2e-b']) expect((await brisk(['action', 'create', name, join(dir, 'echo.js')], env)).exitCode).toBe(0);

      const run = await brisk<LoadtestReport>(['loadtest', 'e2e-a', 'e2e-b:3', '--count', '16', '--concurrency', '2', '-P', join(dir, 'payload.json')], env);
      expect(run.exitCode).toBe(0);
      // --json: nothing but the envelope on stdout, no progress on stderr
      expect(run.stderr).toBe('');
      const report = run.json.result!;
      expect(report).toMatchObject({ mode: 'closed', concurrency: 2, count: 16, sent: 16, completed: 16, ok: 16, errors: 0, statuses: { '200': 16 } });
      expect(report.actions).toEqual([
        { name: 'e2e-a', weight: 1, sent: 4, errors: 0 },
        { name: 'e2e-b', weight: 3, sent: 12, errors: 0 },
      ]);

      const listed = await brisk<ActivationSummary[]>(['activation', 'list', '--limit', '200'], env);
      const records = listed.json.result!;
      expect(records.length).toBe(16);
      const cold = records.filter((r) => r.annotations.some((a) => a.key === 'initTime')).length;
      expect(report.classification).toEqual({ withActivationId: 16, sampled: 16, cold, warm: 16 - cold, resumed: 0, unclassified: 0 });
      expect(report.latencyMs.all.count).toBe(16);

      const bad = await brisk(['loadtest', 'e2e-a', '--count', '5', '--rate', '10', '--concurrency', '2'], env);
      expect(bad).toMatchObject({ exitCode: 2, json: { status: 2, code: 'INVALID_INPUT' } });
      const missing = await brisk(['loadtest', 'nope', '--count', '1'], env);
      expect(missing).toMatchObject({ exitCode: 3, json: { code: 'NOT_FOUND' } });
    },
    180_000,
  );
});
