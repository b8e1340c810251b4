/**
 * The backend contract against the docker backend (real Docker containers: needs root and a running
 * dockerd; nothing is ever pulled, every image is made here), plus what only docker has: blackbox
 * images, Docker-side limits, label-based leftovers and slot files.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ExitEvent } from '../../../src/agent/backend.js';
import { agentLabel, DockerBackend, type DockerPauseMethod } from '../../../src/agent/backends/docker.js';
import { LABEL_AGENT } from '../../../src/agent/backends/docker/config.js';
import type { Address } from '../../../src/daemon/protocol.js';
import { dockerImageRef, ensureDockerImage } from '../../../src/image/docker-image.js';
import { buildImage, type BuiltImage } from '../../../src/image/rootfs.js';
import { describeWithSystem, DOCKER, isRoot } from '../../support/require-system.js';
import { describeBackendContract } from './contract.js';
import { annotation, api, startPlatform, type Platform } from '../platform/harness.js';

/** Docker and root (the backend sets up network namespaces) */
const DOCKER_AS_ROOT = { ...DOCKER, available: () => isRoot() && DOCKER.available() };

/** One rootfs for every test of the run (shared with the runc tests: same directory, same id). */
const IMAGES_DIR = join(tmpdir(), 'brisk-test-images');
let image: Promise<BuiltImage> | undefined;
const sharedImage = () => (image ??= buildImage({ imagesDir: IMAGES_DIR }));
const docker = new Dockerode();

async function openDocker(dataDir: string, options: { pull?: boolean; pauseMethod?: DockerPauseMethod } = {}): Promise<DockerBackend> {
  return DockerBackend.open({ dataDir, image: await sharedImage(), docker, pull: options.pull ?? false, ...(options.pauseMethod === undefined ? {} : { pauseMethod: options.pauseMethod }) });
}

async function post(address: Address, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://${address.host}:${address.port}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: await res.json() };
}

async function initAndRun(address: Address, code: string, value: Record<string, unknown> = {}): Promise<{ status: number; body: any }> {
  expect(await post(address, '/init', { value: { name: 'docker', main: 'main', code } })).toEqual({ status: 200, body: { OK: true } });
  return post(address, '/run', { value, activation_id: 'd'.repeat(32), namespace: 'guest', action_name: '/guest/docker', deadline: String(Date.now() + 60_000) });
}

/** The Docker containers of the agent of `dataDir`, by label. */
async function labelled(dataDir: string): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${LABEL_AGENT}=${agentLabel(dataDir)}`] } });
}

/** Builds a local image FROM brisk's runtime image (never pulls: the base is local). */
async function buildFrom(base: string, tag: string, lines: readonly string[]): Promise<string> {
  const context = await mkdtemp(join(tmpdir(), 'brisk-docker-ctx-'));
  try {
    await writeFile(join(context, 'Dockerfile'), [`FROM ${base}`, ...lines, ''].join('\n'));
    const stream = await docker.buildImage({ context, src: ['Dockerfile'] }, { t: tag, pull: false, rm: true });
    const output = await new Promise<unknown[]>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, out: unknown[]) => (err ? reject(err) : resolve(out))));
    const failed = output.find((l) => typeof l === 'object' && l !== null && 'error' in l);
    if (failed !== undefined) throw new Error(`docker build of ${tag} failed: ${JSON.stringify(failed)}`);
    return tag;
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

describeWithSystem(DOCKER_AS_ROOT, 'docker backend', () => {
  describeBackendContract('docker', (dataDir) => openDocker(dataDir), { isolated: true });

  describe('docker specifics', () => {
    let dataDir: string;
    let backend: DockerBackend | undefined;
    const extraTags: string[] = [];

    beforeEach(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'brisk-docker-'));
    });

    afterEach(async () => {
      await backend?.close();
      backend = undefined;
      expect(await labelled(dataDir)).toEqual([]);
      await rm(dataDir, { recursive: true, force: true });
    });

    afterAll(async () => {
      for (const tag of extraTags.splice(0)) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
    });

    it('imports the rootfs once as brisk-runtime:<image id>', async () => {
      const built = await sharedImage();
      const ref = await ensureDockerImage(docker, built);
      expect(ref).toBe(`brisk-runtime:${built.manifest.id}`);
      expect(ref).toBe(dockerImageRef(built));
      const info = await docker.getImage(ref).inspect();
      expect(info.Config.Cmd).toEqual(['/usr/bin/node', '/opt/brisk/src/runtime/main.js']);
      // a second call finds the tag and imports nothing
      expect(await ensureDockerImage(docker, built)).toBe(ref);
      expect((await docker.getImage(ref).inspect()).Id).toBe(info.Id);
    });

    it('applies the limits: memory, pids, capabilities, no new privileges, seccomp, read-only root, user', async () => {
      backend = await openDocker(dataDir);
      const address = await backend.create({ containerId: 'limits-1', kind: 'nodejs:20', memoryMB: 192, env: {} });
      const info = await docker.getContainer(backend.dockerId('limits-1')).inspect();
      expect(info.Name).toBe(`/brisk-${agentLabel(dataDir).slice(0, 8)}-limits-1`);
      expect(info.Config.Labels).toEqual({ 'brisk.agent': agentLabel(dataDir), 'brisk.container': 'limits-1' });
      expect(info.HostConfig).toMatchObject({
        Memory: 192 * 1024 * 1024,
        PidsLimit: 256,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        ReadonlyRootfs: true,
        NetworkMode: 'none',
        Tmpfs: { '/tmp': 'rw,noexec,nosuid,nodev,mode=1777,size=64m' },
      });
      const reply = await initAndRun(
        address,
        `function main() {
          const fs = require('fs');
          const status = Object.fromEntries(fs.readFileSync('/proc/self/status', 'utf8').trim().split('\\n').map((l) => l.split(':\\t')));
          const attempt = (f) => { try { return f(); } catch (e) { return e.code; } };
          return {
            uid: status.Uid.split('\\t')[0], capEff: status.CapEff, capBnd: status.CapBnd, noNewPrivs: status.NoNewPrivs, seccomp: status.Seccomp,
            writeRoot: attempt(() => { fs.writeFileSync('/pwned', 'x'); return 'written'; }),
            writeTmp: attempt(() => { fs.writeFileSync('/tmp/x', 'x'); return 'written'; }),
            interfaces: Object.keys(require('os').networkInterfaces()).sort(),
            cgroups: attempt(() => fs.readdirSync('/sys/fs/cgroup')),
            keys: attempt(() => fs.readFileSync('/proc/keys', 'utf8')),
            mounts: fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').filter((l) => / \\/(tmp|dev\\/shm) /.test(l)).map((l) => [...l.split(' ').slice(4, 6), l.split(' - ')[1]].join(' ')),
          };
        }`,
      );
      expect(reply).toEqual({
        status: 200,
        body: {
          uid: '65534',
          capEff: '0000000000000000',
          capBnd: '0000000000000000',
          noNewPrivs: '1',
          seccomp: '2',
          writeRoot: 'EROFS',
          writeTmp: 'written',
          interfaces: ['eth0', 'lo'],
          cgroups: [],
          keys: '',
          // mount point, mount options, then filesystem, source, superblock options
          mounts: ['/dev/shm rw,nosuid,nodev,noexec,relatime tmpfs shm rw,size=1024k', '/tmp rw,nosuid,nodev,noexec,relatime tmpfs tmpfs rw,size=65536k'],
        },
      });
      const usage = await backend.memoryUsage('limits-1');
      expect(usage).toBeGreaterThan(0);
      expect(usage).toBeLessThan(192 * 1024 * 1024);
    });

    it('keeps the network slot in a file and removes container, slot file, namespace and claim on destroy', async () => {
      backend = await openDocker(dataDir);
      const address = await backend.create({ containerId: 'net-1', kind: 'nodejs:20', memoryMB: 128, env: {} });
      const slotText = await readFile(join(dataDir, 'docker', 'net-1.slot'), 'utf8');
      const slot = Number(slotText.trim());
      expect(existsSync(`/var/run/netns/brisk${slot}`)).toBe(true);
      expect(existsSync(`/run/brisk/net/${slot}`)).toBe(true);
      expect(address.port).toBe(8080);
      await backend.destroy('net-1');
      expect(await readdir(join(dataDir, 'docker'))).toEqual([]);
      expect(existsSync(`/var/run/netns/brisk${slot}`)).toBe(false);
      expect(await labelled(dataDir)).toEqual([]);
    });

    it('removes leftovers found by label only (no slot file) and slots claimed by no container', async () => {
      const first = await openDocker(dataDir);
      await first.create({ containerId: 'left-1', kind: 'nodejs:20', memoryMB: 128, env: {} });
      // a crash before the slot file was written: only the label tells
      await rm(join(dataDir, 'docker', 'left-1.slot'));
      backend = await openDocker(dataDir);
      expect(await backend.list()).toEqual([{ containerId: 'left-1', adoptable: false }]);
      await backend.destroy('left-1');
      expect(await labelled(dataDir)).toEqual([]);
      // the slot that no file named was released by list: this data directory claims nothing now
      expect(await backend.list()).toEqual([]);
      const claims = await readdir('/run/brisk/net');
      const mine = await Promise.all(claims.map(async (c) => ((await readlink(join('/run/brisk/net', c)).catch(() => '')) === dataDir ? c : undefined)));
      expect(mine.filter((c) => c !== undefined)).toEqual([]);
      await first.close();
    });

    it('runs an OpenWhisk-compatible image of its own (blackbox) with its command and environment', async () => {
      const built = await sharedImage();
      backend = await openDocker(dataDir);
      const tag = `brisk-test-blackbox:${built.manifest.id}`;
      extraTags.push(await buildFrom(backend.imageRef, tag, ['ENV BLACKBOX_MARK=from-image', 'CMD ["/usr/bin/node", "/opt/brisk/src/runtime/main.js", "--blackbox"]']));
      const address = await backend.create({ containerId: 'bb-1', kind: 'blackbox', memoryMB: 128, env: { __OW_API_HOST: 'http://api.test' }, image: tag });
      expect(address.port).toBe(8080);
      const reply = await initAndRun(address, 'function main() { return { mark: process.env.BLACKBOX_MARK, api: process.env.__OW_API_HOST, argv: process.argv.slice(2), uid: process.getuid() } }');
      expect(reply).toEqual({ status: 200, body: { mark: 'from-image', api: 'http://api.test', argv: ['--blackbox'], uid: 65534 } });
    });

    it('rejects a blackbox image that is not on the host when pulling is off, leaving nothing', async () => {
      backend = await openDocker(dataDir, { pull: false });
      await expect(backend.create({ containerId: 'missing-1', kind: 'blackbox', memoryMB: 128, env: {}, image: 'brisk-test-never-built:none' })).rejects.toMatchObject({
        code: 'CONTAINER_OPERATION_FAILED',
      });
      expect(await labelled(dataDir)).toEqual([]);
      expect(await backend.list()).toEqual([]);
    });

    it('rejects a container whose runtime exits during start, with its output, and reports no exit', async () => {
      const built = await sharedImage();
      backend = await openDocker(dataDir);
      const exits: ExitEvent[] = [];
      backend.subscribe({ output: () => undefined, exit: (e) => exits.push(e) });
      const tag = `brisk-test-exits:${built.manifest.id}`;
      extraTags.push(await buildFrom(backend.imageRef, tag, ['CMD ["/usr/bin/node", "-e", "console.error(\'no runtime here\'); process.exit(7)"]']));
      const failed = backend.create({ containerId: 'exits-1', kind: 'blackbox', memoryMB: 128, env: {}, image: tag });
      await expect(failed).rejects.toMatchObject({ code: 'CONTAINER_OPERATION_FAILED' });
      await expect(failed).rejects.toThrow(/no runtime here/);
      expect(await labelled(dataDir)).toEqual([]);
      expect(await readdir(join(dataDir, 'docker'))).toEqual([]);
      expect(exits).toEqual([]);
    });

    it('pauses and resumes back to back through the Docker API (each confirmed in Docker\'s state)', async () => {
      backend = await openDocker(dataDir);
      const address = await backend.create({ containerId: 'cycle-1', kind: 'nodejs:20', memoryMB: 128, env: {} });
      for (let i = 0; i < 15; i++) {
        await backend.pause('cycle-1');
        expect((await docker.getContainer(backend.dockerId('cycle-1')).inspect()).State.Paused).toBe(true);
        await backend.resume('cycle-1');
      }
      expect((await initAndRun(address, 'function main() { return { alive: true } }')).body).toEqual({ alive: true });
    });

    it('pauses through the cgroup freezer too, and destroys a frozen container, tracked or left over', async () => {
      backend = await openDocker(dataDir, { pauseMethod: 'freezer' });
      const address = await backend.create({ containerId: 'frozen-1', kind: 'nodejs:20', memoryMB: 128, env: {} });
      await post(address, '/init', { value: { main: 'main', code: 'function main() { return { ok: 1 } }' } });
      await backend.pause('frozen-1');
      let settled = false;
      const pending = post(address, '/run', { value: {} }).then((r) => ((settled = true), r));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false);
      await backend.resume('frozen-1');
      expect(await pending).toEqual({ status: 200, body: { ok: 1 } });
      await backend.pause('frozen-1');
      await backend.destroy('frozen-1');
      expect(await labelled(dataDir)).toEqual([]);
      // frozen by an earlier run: the next one thaws it to remove it
      await backend.create({ containerId: 'frozen-2', kind: 'nodejs:20', memoryMB: 128, env: {} });
      await backend.pause('frozen-2');
      const next = await openDocker(dataDir);
      expect(await next.list()).toEqual([{ containerId: 'frozen-2', adoptable: false }]);
      await next.destroy('frozen-2');
      expect(await labelled(dataDir)).toEqual([]);
      await next.close();
    });

    it('reports a crash with the exit code and removes the container', async () => {
      backend = await openDocker(dataDir);
      const exits: ExitEvent[] = [];
      backend.subscribe({ output: () => undefined, exit: (e) => exits.push(e) });
      const address = await backend.create({ containerId: 'crash-1', kind: 'nodejs:20', memoryMB: 128, env: {} });
      await initAndRun(address, 'function main() { setTimeout(() => { console.error("bye"); process.exit(5); }, 10); return {}; }');
      await vi.waitFor(() => expect(exits).toHaveLength(1));
      expect(exits[0]).toMatchObject({ containerId: 'crash-1', reason: 'crash' });
      // (the runtime frames the line with the activation id it belongs to)
      expect(exits[0]?.detail).toMatch(/^exit code 5: .*bye$/);
      await vi.waitFor(async () => expect(await labelled(dataDir)).toEqual([]));
    });
  });

  describe('blackbox actions through the platform', () => {
    let platform: Platform<DockerBackend> | undefined;
    const tags: string[] = [];

    afterEach(async () => {
      await platform?.close();
      platform = undefined;
      for (const tag of tags.splice(0)) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
    });

    it('runs an action of kind blackbox in its image, created and invoked through the REST API', async () => {
      platform = await startPlatform({ openBackend: (dataDir) => openDocker(dataDir, { pull: false }) });
      const built = await sharedImage();
      const tag = `brisk-test-skeleton:${built.manifest.id}`;
      tags.push(await buildFrom(platform.backend.imageRef, tag, ['ENV SKELETON=yes']));
      const put = await api(platform, 'PUT', '/namespaces/_/actions/skeleton?overwrite=true', {
        exec: { kind: 'blackbox', image: tag, code: 'function main(p) { return { skeleton: process.env.SKELETON, name: p.name } }' },
      });
      expect(put.status).toBe(200);
      expect(put.body.exec).toMatchObject({ kind: 'blackbox', image: tag });
      const reply = await api(platform, 'POST', '/namespaces/_/actions/skeleton?blocking=true', { name: 'Ada' });
      expect(reply.status).toBe(200);
      expect(reply.body.response.result).toEqual({ skeleton: 'yes', name: 'Ada' });
      expect(annotation(reply.body, 'kind')).toBe('blackbox');
    });
  });
});
