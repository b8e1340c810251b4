import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockDataDir } from '../../../src/agent/data-dir-lock.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('lockDataDir', () => {
  it('takes a free directory, and frees it on release', async () => {
    dir = await mkdtemp(join(tmpdir(), 'brisk-lock-'));
    const lock = await lockDataDir(dir);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
    const again = await lockDataDir(dir);
    await again.release();
  });

  it('refuses a directory held by a live process, naming it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'brisk-lock-'));
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await writeFile(join(dir, LOCK_FILE), `${holder.pid}\n`);
      await expect(lockDataDir(dir)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: `another agent (pid ${holder.pid}) is using the data directory ${dir}` });
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('takes over a lock whose process is gone', async () => {
    dir = await mkdtemp(join(tmpdir(), 'brisk-lock-'));
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => gone.once('exit', resolve));
    await writeFile(join(dir, LOCK_FILE), `${gone.pid}\n`);
    const lock = await lockDataDir(dir);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
  });
});
