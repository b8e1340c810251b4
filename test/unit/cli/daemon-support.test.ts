import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultAgentMemoryMB, resolveClusterToken, resolveDataDir, TOKEN_FILE } from '../../../src/cli/data-dir.js';
import { reachableUrl } from '../../../src/cli/platform.js';
import { waitForShutdown } from '../../../src/cli/shutdown.js';

describe('cluster token', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'brisk-token-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('flag wins over env, env over the file', async () => {
    await writeFile(join(dir, TOKEN_FILE), 'f'.repeat(32));
    const env = { BRISK_CLUSTER_TOKEN: 'e'.repeat(32) };
    expect(await resolveClusterToken({ flag: 'g'.repeat(32), env, dataDir: dir, create: false })).toEqual({ token: 'g'.repeat(32), source: 'flag' });
    expect(await resolveClusterToken({ env, dataDir: dir, create: false })).toEqual({ token: 'e'.repeat(32), source: 'env' });
    expect(await resolveClusterToken({ env: {}, dataDir: dir, create: false })).toEqual({ token: 'f'.repeat(32), source: 'file' });
  });

  it('creates a random token file (0600) once, and reuses it', async () => {
    const created = await resolveClusterToken({ env: {}, dataDir: join(dir, 'sub'), create: true });
    expect(created.source).toBe('created');
    expect(created.token).toMatch(/^[0-9a-f]{64}$/);
    expect((await readFile(join(dir, 'sub', TOKEN_FILE), 'utf8')).trim()).toBe(created.token);
    expect((await stat(join(dir, 'sub', TOKEN_FILE))).mode & 0o777).toBe(0o600);
    expect(await resolveClusterToken({ env: {}, dataDir: join(dir, 'sub'), create: true })).toEqual({ token: created.token, source: 'file' });
  });

  it('without a token and without create, says where to get one', async () => {
    await expect(resolveClusterToken({ env: {}, dataDir: dir, create: false })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(resolveClusterToken({ flag: 'short', env: {}, dataDir: dir, create: false })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('defaults', () => {
  it('data dir: flag, env, then ./.brisk-data', () => {
    expect(resolveDataDir('/x/y', {})).toBe('/x/y');
    expect(resolveDataDir(undefined, { BRISK_DATA_DIR: '/env' })).toBe('/env');
    expect(resolveDataDir(undefined, {})).toBe(resolve('.brisk-data'));
  });

  it('agent memory: half the host in 128 MB steps, within 256..2048', () => {
    const gib = 1024 ** 3;
    expect(defaultAgentMemoryMB(1 * gib)).toBe(512);
    expect(defaultAgentMemoryMB(3 * gib)).toBe(1536);
    expect(defaultAgentMemoryMB(64 * gib)).toBe(2048);
    expect(defaultAgentMemoryMB(256 * 1024 ** 2)).toBe(256);
  });

  it('wildcard listen addresses become loopback for clients', () => {
    expect(reachableUrl('http://0.0.0.0:3233')).toBe('http://127.0.0.1:3233');
    expect(reachableUrl('http://127.0.0.1:3233/')).toBe('http://127.0.0.1:3233');
  });
});

describe('waitForShutdown', () => {
  it('resolves on the first signal and forces on the second', async () => {
    const emitter = new EventEmitter();
    const onForce = vi.fn();
    const waiter = waitForShutdown({ emitter: emitter as unknown as NodeJS.Process, onForce });
    emitter.emit('SIGTERM', 'SIGTERM');
    await expect(waiter.signal).resolves.toBe('SIGTERM');
    emitter.emit('SIGINT', 'SIGINT');
    expect(onForce).toHaveBeenCalledWith('SIGINT');
    waiter.dispose();
    expect(emitter.listenerCount('SIGINT')).toBe(0);
    expect(emitter.listenerCount('SIGTERM')).toBe(0);
  });

  it('takes the signals over from earlier listeners (which may re-raise them) and gives them back', async () => {
    const earlier = vi.fn();
    process.on('SIGUSR2', earlier);
    const waiter = waitForShutdown({ signals: ['SIGUSR2'], onForce: () => undefined });
    expect(process.listeners('SIGUSR2')).not.toContain(earlier);
    process.emit('SIGUSR2', 'SIGUSR2');
    await expect(waiter.signal).resolves.toBe('SIGUSR2');
    expect(earlier).not.toHaveBeenCalled();
    waiter.dispose();
    expect(process.listeners('SIGUSR2')).toEqual([earlier]);
    process.off('SIGUSR2', earlier);
  });
});
