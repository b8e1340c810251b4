/**
 * Direct access to a container's cgroup: the freezer (pause/resume without spawning a process: a
 * write and a read of one file, well under a millisecond once the kernel's freezer is warm), memory
 * usage and the OOM-kill counter.
 *
 * Handles both layouts: cgroup v1 (a hierarchy per controller, `/sys/fs/cgroup/freezer/<path>`;
 * also the "hybrid" layout with a cgroup2 mount beside it, which runc treats as v1) and cgroup v2
 * (one unified hierarchy, `/sys/fs/cgroup/<path>/cgroup.freeze`). `cgroupPath` is the path runc was
 * given as `linux.cgroupsPath` (cgroupfs driver).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { ContainerOperationError, messageOf } from '../errors.js';

export type CgroupLayout = 'v1' | 'v2';

export interface CgroupOptions {
  /** default /sys/fs/cgroup */
  root?: string;
  /** how long a freeze may take to be confirmed; default 2000 ms */
  freezeTimeoutMs?: number;
}

/** Which cgroup layout the host has (runc's view: v2 only when the root itself is cgroup2). */
export function detectLayout(root = '/sys/fs/cgroup'): CgroupLayout {
  return existsSync(path.join(root, 'cgroup.controllers')) ? 'v2' : 'v1';
}

export class Cgroups {
  readonly layout: CgroupLayout;
  readonly #root: string;
  readonly #freezeTimeoutMs: number;

  constructor(options: CgroupOptions = {}) {
    this.#root = options.root ?? '/sys/fs/cgroup';
    this.layout = detectLayout(this.#root);
    this.#freezeTimeoutMs = options.freezeTimeoutMs ?? 2000;
  }

  /** True when memory+swap can be limited (v1 memsw accounting, or v2 memory.swap.max). */
  swapAccounting(): boolean {
    return this.layout === 'v1' ? existsSync(path.join(this.#root, 'memory', 'memory.memsw.limit_in_bytes')) : true;
  }

  /** Freezes every process of the cgroup and resolves once the kernel says it is frozen. */
  async freeze(cgroupPath: string): Promise<void> {
    await this.#setFrozen(cgroupPath, true);
  }

  /** Thaws the cgroup and resolves once the kernel says it runs again. */
  async thaw(cgroupPath: string): Promise<void> {
    await this.#setFrozen(cgroupPath, false);
  }

  /** Bytes of memory the cgroup uses now (page cache of its /tmp included). */
  async memoryUsage(cgroupPath: string): Promise<number> {
    const file = this.layout === 'v1' ? this.#file('memory', cgroupPath, 'memory.usage_in_bytes') : this.#file('', cgroupPath, 'memory.current');
    return Number((await readFile(file, 'utf8')).trim());
  }

  /** How many processes of the cgroup the kernel's OOM killer has killed (0 when unknown). */
  async oomKills(cgroupPath: string): Promise<number> {
    const file = this.layout === 'v1' ? this.#file('memory', cgroupPath, 'memory.oom_control') : this.#file('', cgroupPath, 'memory.events');
    try {
      const match = /^oom_kill (\d+)$/m.exec(await readFile(file, 'utf8'));
      return match === null ? 0 : Number(match[1]);
    } catch {
      return 0;
    }
  }

  /** Removes the empty cgroup directories of `cgroupPath` in every hierarchy (runc leaves the parents). */
  async removeEmpty(cgroupPath: string): Promise<void> {
    const controllers = this.layout === 'v1' ? ['memory', 'pids', 'freezer', 'cpu', 'cpuacct', 'cpuset', 'devices', 'blkio', 'net_cls', 'net_prio', 'perf_event', 'hugetlb', 'systemd'] : [''];
    await Promise.all(controllers.map((c) => rmdir(this.#file(c, cgroupPath, '')).catch(() => undefined)));
  }

  /**
   * cgroup v1: keeps one empty cgroup (`/brisk/freezer-keeper`) frozen for as long as the host runs.
   * The kernel switches its freezer machinery on when the first cgroup freezes and off when the last
   * one thaws, and that switch costs tens of milliseconds (an RCU grace period); with one cgroup
   * always frozen it never switches, and each pause or resume is a write and a read of one file.
   * Harmless to repeat and shared by every agent of the host. A no-op on cgroup v2.
   */
  keepFreezerWarm(): void {
    if (this.layout !== 'v1') return;
    const dir = path.join(this.#root, 'freezer', 'brisk', 'freezer-keeper');
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'freezer.state'), 'FROZEN');
    } catch {
      // no freezer hierarchy or no permission: pauses still work, only the first one is slower
    }
  }

  /**
   * Synchronous file access on purpose: these are sysfs files answered by the kernel in microseconds,
   * and a trip through libuv's thread pool would cost more than the operation itself.
   */
  async #setFrozen(cgroupPath: string, frozen: boolean): Promise<void> {
    const [file, value, done] =
      this.layout === 'v1'
        ? [this.#file('freezer', cgroupPath, 'freezer.state'), frozen ? 'FROZEN' : 'THAWED', frozen ? 'FROZEN' : 'THAWED']
        : [this.#file('', cgroupPath, 'cgroup.freeze'), frozen ? '1' : '0', frozen ? 'frozen 1' : 'frozen 0'];
    const confirmFile = this.layout === 'v1' ? file : this.#file('', cgroupPath, 'cgroup.events');
    const confirmed = (): boolean => {
      const state = readFileSync(confirmFile, 'utf8');
      return this.layout === 'v1' ? state.trim() === done : state.split('\n').includes(done);
    };
    try {
      writeFileSync(file, value);
      if (confirmed()) return;
      const deadline = Date.now() + this.#freezeTimeoutMs;
      // v1 passes through FREEZING while tasks are stopped one by one; v2 reports in cgroup.events
      while (Date.now() <= deadline) {
        await new Promise((resolve) => setImmediate(resolve));
        // a freeze in progress: asking the kernel again (v1) makes it retry the stragglers
        if (this.layout === 'v1') writeFileSync(file, value);
        if (confirmed()) return;
      }
    } catch (err) {
      throw new ContainerOperationError(`cannot ${frozen ? 'freeze' : 'thaw'} cgroup ${cgroupPath}: ${messageOf(err)}`, { cause: err });
    }
    throw new ContainerOperationError(`cgroup ${cgroupPath} did not ${frozen ? 'freeze' : 'thaw'} within ${this.#freezeTimeoutMs} ms`);
  }

  #file(controller: string, cgroupPath: string, name: string): string {
    return path.join(this.#root, controller, cgroupPath, name);
  }
}
