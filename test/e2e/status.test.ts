/**
 * End-to-end: `brisk status --json` of the built CLI against `brisk up`, with the saved profile and
 * with --apihost/--auth.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { watchSnapshotSchema } from '../../src/watch/snapshot.js';
import { brisk, cliEnv, requireBuild, startDaemon, type Daemon } from './support.js';

let dir: string;
let env: NodeJS.ProcessEnv;
let up: Daemon<{ backend: string }> | undefined;

beforeAll(() => {
  requireBuild();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'brisk-e2e-status-'));
  env = cliEnv(join(dir, 'config'));
});

afterEach(async () => {
  await up?.stop('SIGTERM');
  up = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('brisk status', () => {
  it(
    'returns the cluster snapshot with the saved profile, and refuses wrong credentials given on the command line',
    async () => {
      up = await startDaemon(['up', '--port', '0', '--data-dir', join(dir, 'data'), '--no-sample'], env);
      await writeFile(join(dir, 'hi.js'), 'function main() { return { hi: true }; }\n');
      expect((await brisk(['action', 'create', 'e2e-hi', join(dir, 'hi.js')], env)).exitCode).toBe(0);
      expect((await brisk(['action', 'invoke', 'e2e-hi', '--blocking'], env)).exitCode).toBe(0);

      const run = await brisk(['status'], env);
      expect(run.exitCode).toBe(0);
      expect(run.stderr).toBe('');
      const snapshot = watchSnapshotSchema.parse(run.json.result);
      expect(snapshot).toMatchObject({ namespace: 'guest', schedulerConnected: true });
      expect(snapshot.actions.find((a) => a.action === 'guest/e2e-hi')).toMatchObject({ warm: 1, coldStarts: 1 });
      expect(snapshot.cluster?.agents).toHaveLength(1);
      expect(snapshot.cluster?.agents[0]).toMatchObject({ connected: true, backend: up.report.backend });
      expect(snapshot.recent.map((r) => r.action)).toEqual(['guest/e2e-hi']);

      const apihost = (await brisk<{ value: string }>(['config', 'get', 'apihost'], env)).json.result!.value;
      const wrong = await brisk(['status', '--apihost', apihost, '--auth', 'nobody:nothing'], env);
      expect(wrong).toMatchObject({ exitCode: 4, json: { status: 4, code: 'UNAUTHENTICATED' } });
    },
    180_000,
  );
});
