/** The real probes on this machine: shape of the facts and the report, and two facts we can force. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDoctor } from '../../../src/doctor/index.js';

describe('brisk doctor on this host', () => {
  let dir: string;
  let server: Server | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'brisk-doctor-'));
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('probes everything and reports one result per check', async () => {
    const report = await runDoctor({ dataDir: join(dir, 'data'), port: 0 });
    expect(report.checks.map((c) => c.id)).toEqual(['platform', 'node', 'runc', 'cgroups', 'netns', 'nftables', 'docker', 'data-dir', 'port', 'clock']);
    for (const check of report.checks) {
      expect(['pass', 'warn', 'fail']).toContain(check.status);
      expect(check.message.length).toBeGreaterThan(0);
      expect(check.fix === undefined).toBe(check.status === 'pass');
    }
    expect(report.facts.nodeVersion).toBe(process.versions.node);
    expect(report.checks.find((c) => c.id === 'node')?.status).toBe('pass');
    expect(report.checks.find((c) => c.id === 'data-dir')).toMatchObject({ status: 'pass', message: `${join(dir, 'data')} is writable (will be created) and not locked by an agent` });
    expect(report.checks.find((c) => c.id === 'port')?.status).toBe('pass');
    expect(report.summary.pass + report.summary.warn + report.summary.fail).toBe(10);
  });

  it('fails a port in use and a data directory locked by a live agent', async () => {
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await mkdir(join(dir, 'agent'), { recursive: true });
    // the lock names a live process that is not this one: our parent
    await writeFile(join(dir, 'agent', 'agent.lock'), `${process.ppid}\n`);
    const report = await runDoctor({ dataDir: dir, port });
    expect(report.checks.find((c) => c.id === 'port')).toMatchObject({ status: 'fail' });
    expect(report.checks.find((c) => c.id === 'data-dir')).toMatchObject({ status: 'fail', message: `${dir} is in use by a running agent (pid ${process.ppid}, ${join(dir, 'agent', 'agent.lock')})` });
    expect(report.summary.ok).toBe(false);
  });
});
