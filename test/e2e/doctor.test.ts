/** `brisk doctor` as an operator runs it: the built CLI, --json parsed as its report. */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/doctor/index.js';
import { brisk, cliEnv, requireBuild } from './support.js';

describe('brisk doctor (built CLI)', () => {
  let dir: string;
  let server: Server | undefined;
  beforeAll(() => requireBuild());
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'brisk-e2e-doctor-'));
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('prints one result per check, and exits 5 with the same status when a check fails', async () => {
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const run = await brisk<DoctorReport>(['doctor', '--data-dir', join(dir, 'data'), '--port', String(port)], cliEnv(dir));
    expect(run.exitCode).toBe(5);
    expect(run.json.status).toBe(5);
    const report = run.json.result!;
    expect(report.checks.map((c) => c.id)).toEqual(['platform', 'node', 'runc', 'cgroups', 'netns', 'nftables', 'docker', 'data-dir', 'port', 'clock']);
    expect(report.checks.find((c) => c.id === 'port')).toMatchObject({ status: 'fail', title: `port ${port}` });
    expect(report.summary.ok).toBe(false);
  });
});
