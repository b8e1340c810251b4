/**
 * The backend contract against the runc backend (real OCI containers: needs root and runc), plus
 * what only runc has: the `runc pause` reference path, limits seen from the host, leftover cleanup
 * of network slots and cgroups.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RuncBackend, type PauseMethod } from '../../../src/agent/backends/runc.js';
import { buildImage, type BuiltImage } from '../../../src/image/rootfs.js';
import { describeWithSystem, RUNC } from '../../support/require-system.js';
import { describeBackendContract } from './contract.js';

/** One image for every test of the run (built from dist/ once; its id changes when the runtime does). */
const IMAGES_DIR = join(tmpdir(), 'brisk-test-images');
let image: Promise<BuiltImage> | undefined;
const sharedImage = () => (image ??= buildImage({ imagesDir: IMAGES_DIR }));

async function openRunc(dataDir: string, pauseMethod: PauseMethod = 'freezer'): Promise<RuncBackend> {
  return RuncBackend.open({ dataDir, image: await sharedImage(), pauseMethod });
}

async function post(address: { host: string; port: number }, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://${address.host}:${address.port}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: await res.json() };
}

describeWithSystem(RUNC, 'runc backend', () => {
  describeBackendContract('runc', (dataDir) => openRunc(dataDir), { isolated: true });

  describe('runc specifics', () => {
    let dataDir: string;
    let backend: RuncBackend | undefined;

    beforeEach(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'brisk-runc-'));
    });

    afterEach(async () => {
      await backend?.close();
      backend = undefined;
      await rm(dataDir, { recursive: true, force: true });
    });

    it('pauses and resumes through `runc pause`/`runc resume` too (the reference path)', async () => {
      backend = await openRunc(dataDir, 'runc');
      const address = await backend.create({ containerId: 'ref-1', kind: 'nodejs:20', memoryMB: 128, env: {} });
      expect((await post(address, '/init', { value: { main: 'main', code: 'function main() { return { ok: 1 } }' } })).status).toBe(200);
      await backend.pause('ref-1');
      let settled = false;
      const pending = post(address, '/run', { value: {} }).then((r) => ((settled = true), r));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false);
      await backend.resume('ref-1');
      expect(await pending).toEqual({ status: 200, body: { ok: 1 } });
    });

    it('limits memory and processes in the container\'s cgroup and reports its memory use', async () => {
      backend = await openRunc(dataDir);
      await backend.create({ containerId: 'limits-1', kind: 'nodejs:20', memoryMB: 192, env: {} });
      const usage = await backend.memoryUsage('limits-1');
      expect(usage).toBeGreaterThan(0);
      expect(usage).toBeLessThan(192 * 1024 * 1024);
    });

    it('removes a container\'s bundle, network namespace and address claim with it', async () => {
      backend = await openRunc(dataDir);
      const address = await backend.create({ containerId: 'net-1', kind: 'nodejs:20', memoryMB: 128, env: {} });
      const bundles = join(dataDir, 'runc', 'bundles');
      expect(await readdir(bundles)).toEqual(['net-1']);
      const claims = await readdir('/run/brisk/net');
      const namespaces = await readdir('/var/run/netns');
      expect(namespaces.length).toBeGreaterThan(0);
      await backend.destroy('net-1');
      expect(await readdir(bundles)).toEqual([]);
      // the claim of this container's slot is gone (others may belong to concurrent tests)
      const after = await readdir('/run/brisk/net');
      expect(after.length).toBeLessThanOrEqual(claims.length);
      const slot = claims.find((c) => !after.includes(c));
      expect(slot).toBeDefined();
      expect(existsSync(`/var/run/netns/brisk${slot}`)).toBe(false);
      expect(address.port).toBe(8080);
    });
  });
});
