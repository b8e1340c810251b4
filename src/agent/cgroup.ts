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
import { existsSync } from 'node:fs';
import { readFile, rmdir, writeFile } from 'node:fs/promises';
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

  async #setFrozen(cgroupPath: string, frozen: boolean): Promise<void> {
    const [file, value, done] =
      this.layout === 'v1'
        ? [this.#file('freezer', cgroupPath, 'freezer.state'), frozen ? 'FROZEN' : 'THAWED', frozen ? 'FROZEN' : 'THAWED']
        : [this.#file('', cgroupPath, 'cgroup.freeze'), frozen ? '1' : '0', frozen ? 'frozen 1' : 'frozen 0'];
    const confirmFile = this.layout === 'v1' ? file : this.#file('', cgroupPath, 'cgroup.events');
    try {
      await writeFile(file, value);
      const deadline = Date.now() + this.#freezeTimeoutMs;
      // v1 passes through FREEZING while tasks are stopped one by one; v2 reports in cgroup.events
      for (;;) {
        const state = await readFile(confirmFile, 'utf8');
        if (this.layout === 'v1' ? state.trim() === done : state.split('\n').includes(done)) return;
        if (Date.now() > deadline) break;
        // a frozen-in-progress cgroup: asking the kernel again (v1) makes it retry the stragglers
        if (this.layout === 'v1') await writeFile(file, value);
        await new Promise((resolve) => setImmediate(resolve));
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
