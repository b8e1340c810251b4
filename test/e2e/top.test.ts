/**
 * End-to-end: `brisk top` of the built CLI in a real 80×24 terminal (tmux) against `brisk up` under
 * load. The screen must show the agent, the action's pool and in-flight / recent activations; `q`
 * must end the program (the pane's shell then prints its exit code).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { createClient, type BriskClient } from '../../src/client/client.js';
import { watchSnapshotSchema } from '../../src/watch/snapshot.js';
import { describeWithSystem, TMUX } from '../support/require-system.js';
import { BIN, brisk, cliEnv, requireBuild, startDaemon, type Daemon } from './support.js';

interface UpReport {
  apihost: string;
  auth: string;
}

/** Sleeps, so that activations are in flight while the screen is read. */
const SLOW_ACTION = 'function main() { return new Promise((resolve) => setTimeout(() => resolve({ ok: true }), 1500)); }\n';
/** Workers of the background load; each runs blocking invokes one after another. */
const WORKERS = 3;
/** Bound on each worker's invokes, so the load stops by itself even if the test hangs. */
const MAX_INVOKES_PER_WORKER = 60;

let dir: string;
let env: NodeJS.ProcessEnv;
let up: Daemon<UpReport> | undefined;
let socket: string;
let load: { stop: () => Promise<void> } | undefined;

beforeAll(() => {
  requireBuild();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'brisk-e2e-top-'));
  env = cliEnv(join(dir, 'config'));
  socket = join(dir, 'tmux.sock');
});

afterEach(async () => {
  await load?.stop();
  load = undefined;
  await execa('tmux', ['-S', socket, 'kill-server'], { reject: false });
  await up?.stop('SIGTERM');
  up = undefined;
  await rm(dir, { recursive: true, force: true });
});

function startLoad(client: BriskClient, action: string): { stop: () => Promise<void> } {
  let stopped = false;
  const worker = async () => {
    for (let i = 0; i < MAX_INVOKES_PER_WORKER && !stopped; i++) {
      await client.actions.invoke(action, { blocking: true }).catch(() => undefined);
    }
  };
  const workers = Array.from({ length: WORKERS }, worker);
  return {
    async stop() {
      stopped = true;
      await Promise.all(workers);
    },
  };
}

async function screen(): Promise<string> {
  const run = await execa('tmux', ['-S', socket, 'capture-pane', '-p', '-t', 'top'], { reject: false });
  return run.stdout;
}

describeWithSystem(TMUX, 'brisk top in a terminal', () => {
  it(
    'shows the pools and in-flight activations of a loaded platform, and q quits',
    async () => {
      up = await startDaemon<UpReport>(['up', '--port', '0', '--data-dir', join(dir, 'data'), '--backend', 'process', '--no-sample'], env);
      const { apihost, auth } = up.report;
      await writeFile(join(dir, 'slow.js'), SLOW_ACTION);
      expect((await brisk(['action', 'create', 'e2e-slow', join(dir, 'slow.js')], env)).exitCode).toBe(0);

      const client = createClient({ apihost, auth });
      load = startLoad(client, 'e2e-slow');

      // the agent's id, as the platform itself reports it
      const status = await fetch(`${apihost}/api/v1/status`, { headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } });
      expect(status.status).toBe(200);
      const snapshot = watchSnapshotSchema.parse(await status.json());
      const agentId = snapshot.cluster?.agents[0]?.agentId;
      expect(agentId).toBeTypeOf('string');

      const command = `node ${BIN} top --apihost ${apihost} --auth ${auth}; echo "TOP-EXITED=$?"; sleep 600`;
      await execa('tmux', ['-S', socket, 'new-session', '-d', '-x', '80', '-y', '24', '-s', 'top', command], { env });

      await vi.waitFor(
        async () => {
          const text = await screen();
          expect(text).toContain('● connected');
          expect(text).toContain('AGENTS 1');
          expect(text).toContain(agentId!);
          expect(text).toContain('process');
          expect(text).toMatch(/guest\/e2e-slow +\d+ +[1-9]\d* /); // the action's row, with activations in flight
          expect(text).toMatch(/ guest\/e2e-slow +running /);
          expect(text).toMatch(/ guest\/e2e-slow +success /);
        },
        { timeout: 60_000, interval: 500 },
      );
      const lines = (await screen()).split('\n');
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);

      // one pane alone: the activations, with where the time went
      await execa('tmux', ['-S', socket, 'send-keys', '-t', 'top', '4']);
      await vi.waitFor(async () => expect(await screen()).toContain('ID       ACTION              STATUS     TOTAL   WAIT CREATE RESUME   INIT    RUN'), { timeout: 10_000 });

      await execa('tmux', ['-S', socket, 'send-keys', '-t', 'top', 'q']);
      await vi.waitFor(
        async () => {
          const text = await screen();
          expect(text).toContain('TOP-EXITED=0');
          // the alternate screen is gone: the shell's screen is back
          expect(text).not.toContain('AGENTS');
        },
        { timeout: 10_000 },
      );
    },
    180_000,
  );
});
