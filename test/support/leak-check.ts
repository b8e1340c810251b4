/**
 * Every action container a test starts must be gone when the run ends. The runtime processes carry
 * `--brisk-container=<id>` on their command line; any that appeared during the run and outlive it
 * fail the run (see summary-reporter.ts) and are killed, so one leak does not pile onto the next run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MARK = '--brisk-container=';
/** the checkout these tests run in (the runtime entry lives under its dist/) */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * The runtime inside runc and docker containers (the brisk image's path, see src/image/rootfs.ts).
 * Such a container is this run's when it appeared during the run and its parent is init (runc's
 * detached containers are), since image paths do not name a checkout.
 */
const IMAGE_ENTRY = '/opt/brisk/src/runtime/main.js';

function parentOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * Whether a container process is this test run's: a descendant of this process (the vitest main
 * process, whose workers start the daemons), or an orphan (its daemon died without removing it).
 * A container of another brisk on the machine (a benchmark, say) has a living parent elsewhere.
 */
function ofThisRun(pid: number): boolean {
  let current: number | undefined = parentOf(pid);
  if (current === 1) return true;
  for (let hops = 0; current !== undefined && current > 1 && hops < 32; hops += 1) {
    if (current === process.pid) return true;
    current = parentOf(current);
  }
  return false;
}

function containerProcesses(): Map<number, string> {
  const found = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const mark = cmdline.find((arg) => arg.startsWith(MARK));
      // Only this checkout's runtimes: other brisk processes on the machine are not this run's business.
      if (mark !== undefined && cmdline.some((arg) => arg.startsWith(ROOT) || arg === IMAGE_ENTRY)) found.set(pid, mark.slice(MARK.length));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Starts watching: returns the check to run when the tests are done. */
export function watchContainers(): () => Promise<string[]> {
  const before = new Set(containerProcesses().keys());
  return async () => {
    const leaked = () => [...containerProcesses()].filter(([pid]) => !before.has(pid) && ofThisRun(pid));
    // Closing daemons destroy their containers asynchronously: give them a moment.
    for (let i = 0; i < 50 && leaked().length > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    const left = leaked();
    for (const [pid] of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    return left.map(([pid, id]) => `${id} (pid ${pid})`);
  };
}
