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

describe('lockDataDir under contention', () => {
  it('lets exactly one of many concurrent takers have a stale lock', async () => {
    dir = await mkdtemp(join(tmpdir(), 'brisk-lock-'));
    const takers = 12;
    // Separate processes, as real agents are: each tries once and says whether it got the lock.
    const script = `import('${new URL('../../../dist/src/agent/data-dir-lock.js', import.meta.url).href}').then(async ({ lockDataDir }) => {
      try { await lockDataDir(process.argv[1]); process.stdout.write('got'); setTimeout(() => {}, 2000); } catch (e) { process.stdout.write(e.code ?? 'error'); }
    });`;
    for (let round = 0; round < 3; round += 1) {
      await writeFile(join(dir, LOCK_FILE), '999999\n'); // a pid that does not exist: stale
      const children = Array.from({ length: takers }, () => spawn(process.execPath, ['--input-type=module', '-e', script, dir!], { stdio: ['ignore', 'pipe', 'ignore'] }));
      const answers = await Promise.all(
        children.map(
          (child) =>
            new Promise<string>((resolve) => {
              let out = '';
              child.stdout!.on('data', (d: Buffer) => {
                out += d.toString();
                if (out.length > 0) resolve(out);
              });
              child.once('exit', () => resolve(out));
            }),
        ),
      );
      for (const child of children) child.kill('SIGKILL');
      await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
      expect(answers.filter((a) => a === 'got')).toHaveLength(1);
      expect(answers.filter((a) => a !== 'got').every((a) => a === 'CONFIG_INVALID')).toBe(true);
    }
  });
});
