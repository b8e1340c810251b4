/**
 * One agent per data directory. The agent removes every container it finds recorded in its data
 * directory when it starts (they are left by an earlier run), so a second agent on the same
 * directory would kill the first one's containers: the lock file makes it refuse to start instead.
 */
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
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

/**
 * Takes the data directory for this process. A lock left by a process that no longer exists is
 * taken over; one held by a live process is a ConfigError naming it.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return {
        file,
        release: async () => {
          // Only our own lock: a takeover after a crash must not be undone by a late release.
          const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
          if (holder === process.pid) await unlink(file).catch(() => undefined);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processExists(holder)) {
        throw new ConfigError(`another agent (pid ${holder}) is using the data directory ${dataDir}`, {
          hint: `Stop that agent, or give this one its own --data-dir. If no agent runs there (the pid was reused), remove ${file}.`,
        });
      }
      // Stale (its process is gone) or unreadable: take it over.
      await unlink(file).catch(() => undefined);
    }
  }
  throw new ConfigError(`could not take the lock ${file}: another process keeps creating it`);
}
