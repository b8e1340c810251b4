/**
 * One agent per data directory. The agent removes every container it finds recorded in its data
 * directory when it starts (they are left by an earlier run), so a second agent on the same
 * directory would kill the first one's containers: the lock file makes it refuse to start instead.
 *
 * The lock is created atomically with its content: the pid is written to a private file first,
 * which is then hard-linked to the lock name (link fails if the name exists), so nobody ever sees
 * an empty lock. A lock whose process is gone is moved aside by rename (only one taker wins) and
 * the creation is tried again.
 */
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.js';

export const LOCK_FILE = 'agent.lock';

export interface DataDirLock {
  readonly file: string;
  release(): Promise<void>;
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function holderOf(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Takes the data directory for this process. A lock left by a process that no longer exists is
 * taken over; one held by a live process is a ConfigError naming it.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  const mine = `${file}.${process.pid}`;
  await writeFile(mine, `${process.pid}\n`);
  try {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        await link(mine, file);
        return {
          file,
          release: async () => {
            // Only our own lock: a takeover after a crash must not be undone by a late release.
            if ((await holderOf(file)) === process.pid) await unlink(file).catch(() => undefined);
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await holderOf(file);
      if (holder !== undefined && holder !== process.pid && processExists(holder)) {
        throw new ConfigError(`another agent (pid ${holder}) is using the data directory ${dataDir}`, {
          hint: `Stop that agent, or give this one its own --data-dir. If no agent runs there (the pid was reused), remove ${file}.`,
        });
      }
      // Stale: move it aside. Another taker may have replaced it with its own lock since we read it:
      // what was moved is checked, and a lock that is not the stale one is put back.
      const aside = `${file}.stale.${process.pid}.${attempt}`;
      if (await rename(file, aside).then(() => true, () => false)) {
        if ((await holderOf(aside)) !== holder) await link(aside, file).catch(() => undefined);
        await unlink(aside).catch(() => undefined);
      }
    }
    throw new ConfigError(`could not take the lock ${file}: other processes keep taking it`);
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}
