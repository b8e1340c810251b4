/**
 * The `process` backend: each container is the brisk runtime as a child process listening on its own
 * loopback port, `node --max-old-space-size=<memoryMB> dist/src/runtime/main.js`. No isolation:
 * for development and hosts without root. Pause and resume are SIGSTOP and SIGCONT.
 *
 * A pid file per container (`<dataDir>/process/<containerId>.pid`) lets a later agent find and kill
 * children left by one that died; such children cannot be re-attached (their pipes are gone), so
 * they are reported as not adoptable and removed.
 *
 * Each container also gets its own temp directory, `<dataDir>/process/<containerId>.tmp`, passed as
 * `TMPDIR` so that `os.tmpdir()` in the runtime (zip extraction) points there. The runtime removes
 * its extraction directory when it exits normally; the backend removes the whole directory when the
 * container is destroyed or exits, and at start for containers that are gone, so a SIGKILL, an OOM
 * abort or an agent crash leaks nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContainerOperationError } from '../../errors.js';
import type { Address } from '../../daemon/protocol.js';
import { OOM_MARKER, type BackendListener, type ContainerBackend, type CreateContainerRequest, type LeftoverContainer } from '../backend.js';
import { freePort, waitForPort } from './port-probe.js';

/**
 * The compiled runtime entry, next to this module in dist/ (src/agent/backends → src/runtime).
 * When this module is loaded from the TypeScript sources (the tests), the runtime still has to run
 * under plain node, so the build in dist/ is used.
 */
export const RUNTIME_ENTRY = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../../dist/src/runtime/main.js' : '../../runtime/main.js', import.meta.url),
);

export interface ProcessBackendOptions {
  /** pid files and per-container temp directories go to `<dataDir>/process/` */
  dataDir: string;
  /** how long a runtime may take until its port answers; default 10000 ms */
  startTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace on destroy; default 1000 ms */
  stopGraceMs?: number;
  /** runtime entry script; default RUNTIME_ENTRY */
  runtimeEntry?: string;
  /** node binary; default process.execPath */
  nodePath?: string;
  /**
   * Address the runtimes listen on and controllers dial; default 127.0.0.1. An agent whose
   * controllers run on other hosts passes its own reachable address.
   */
  host?: string;
}

const STDERR_TAIL_CHARS = 4096;
const CONTAINER_ID = /^[A-Za-z0-9_.-]{1,200}$/;

interface Child {
  containerId: string;
  process: ChildProcess;
  port: number;
  /** destroy was requested: the exit is not reported */
  stopping: boolean;
  paused: boolean;
  stderrTail: string;
  exited: Promise<void>;
}

export class ProcessBackend implements ContainerBackend {
  readonly name = 'process' as const;
  readonly #dir: string;
  readonly #startTimeoutMs: number;
  readonly #graceMs: number;
  readonly #entry: string;
  readonly #node: string;
  readonly #host: string;
  readonly #children = new Map<string, Child>();
  /** ids between the start of create() and their tracking: their temp directory is not a leftover */
  readonly #creating = new Set<string>();
  readonly #listeners = new Set<BackendListener>();

  constructor(options: ProcessBackendOptions) {
    this.#dir = path.join(options.dataDir, 'process');
    this.#startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.#graceMs = options.stopGraceMs ?? 1000;
    this.#entry = options.runtimeEntry ?? RUNTIME_ENTRY;
    this.#node = options.nodePath ?? process.execPath;
    this.#host = options.host ?? '127.0.0.1';
  }

  /** Pids of the running children, for tests and diagnostics. */
  pids(): number[] {
    return [...this.#children.values()].flatMap((c) => (c.process.pid === undefined ? [] : [c.process.pid]));
  }

  /** The pid of a running container's runtime, for diagnostics and benchmarks. */
  pidOf(containerId: string): number | undefined {
    return this.#children.get(containerId)?.process.pid;
  }

  async create(request: CreateContainerRequest): Promise<Address> {
    if (!CONTAINER_ID.test(request.containerId)) throw new ContainerOperationError(`invalid container id '${request.containerId}'`);
    if (request.image !== undefined) throw new ContainerOperationError(`the process backend runs brisk's own runtime only: image '${request.image}' needs an agent with --backend docker`);
    if (this.#children.has(request.containerId) || this.#creating.has(request.containerId)) throw new ContainerOperationError(`container ${request.containerId} exists already`);
    this.#creating.add(request.containerId);
    try {
      return await this.#create(request);
    } finally {
      this.#creating.delete(request.containerId);
    }
  }

  async #create(request: CreateContainerRequest): Promise<Address> {
    const tmpDir = this.#tmpDir(request.containerId);
    await mkdir(tmpDir, { recursive: true });
    let port: number;
    try {
      port = await freePort(this.#host);
    } catch (err) {
      await rm(tmpDir, { recursive: true, force: true });
      throw new ContainerOperationError(`container ${request.containerId} did not start: ${String(err)}`, { cause: err });
    }
    const child = spawn(
      this.#node,
      [`--max-old-space-size=${request.memoryMB}`, this.#entry, `--brisk-container=${request.containerId}`],
      {
        env: {
          ...request.env,
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          __OW_PORT: String(port),
          __OW_HOST: this.#host,
          __OW_ALLOW_CONCURRENT: 'true',
          TMPDIR: tmpDir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group: a Ctrl-C in the agent's terminal reaches the agent only, which
        // then removes its containers itself (and reports no crash for them).
        detached: true,
      },
    );
    const entry = this.#track(request.containerId, child, port);
    try {
      if (child.pid === undefined) throw new ContainerOperationError(`cannot start node for container ${request.containerId}`);
      await writeFile(this.#pidFile(request.containerId), `${child.pid}\n`);
      await this.#waitForPort(entry);
    } catch (err) {
      await this.destroy(request.containerId);
      throw err instanceof ContainerOperationError
        ? err
        : new ContainerOperationError(`container ${request.containerId} did not start: ${String(err)}`, { cause: err });
    }
    return { host: this.#host, port };
  }

  /** Resolves once the kernel reports the runtime stopped: SIGSTOP is delivered asynchronously. */
  async pause(containerId: string): Promise<void> {
    const child = this.#get(containerId);
    child.process.kill('SIGSTOP');
    child.paused = true;
    const pid = child.process.pid;
    if (pid === undefined || process.platform !== 'linux') return;
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && child.process.exitCode === null && child.process.signalCode === null) {
      // field 3 of /proc/<pid>/stat: T (stopped) or t (traced); synchronous: a few microseconds
      const stat = readProcStat(pid);
      if (stat === undefined || /^[Tt]$/.test(stat)) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async resume(containerId: string): Promise<void> {
    const child = this.#get(containerId);
    child.process.kill('SIGCONT');
    child.paused = false;
  }

  async destroy(containerId: string): Promise<void> {
    const child = this.#children.get(containerId);
    if (child === undefined) {
      await this.#killLeftover(containerId);
      return;
    }
    child.stopping = true;
    if (child.process.exitCode === null && child.process.signalCode === null) {
      // a stopped process would keep SIGTERM pending; let it run so it can exit
      if (child.paused) child.process.kill('SIGCONT');
      child.process.kill('SIGTERM');
      const timer = setTimeout(() => child.process.kill('SIGKILL'), this.#graceMs);
      await child.exited;
      clearTimeout(timer);
    }
    await child.exited;
    await rm(this.#pidFile(containerId), { force: true });
    await rm(this.#tmpDir(containerId), { recursive: true, force: true });
  }

  /**
   * The containers left by an earlier agent (a pid file but no child of ours). Also removes the
   * temp directories that belong to no container at all (no pid file, not ours): those of a
   * container whose pid file is there go when it is destroyed.
   */
  async list(): Promise<LeftoverContainer[]> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch {
      return [];
    }
    const ids = (suffix: string) => names.filter((n) => n.endsWith(suffix)).map((n) => n.slice(0, -suffix.length));
    const withPid = new Set(ids('.pid'));
    const orphans = ids('.tmp').filter((id) => !withPid.has(id) && !this.#children.has(id) && !this.#creating.has(id));
    await Promise.all(orphans.map((id) => rm(this.#tmpDir(id), { recursive: true, force: true })));
    return [...withPid].filter((id) => !this.#children.has(id)).map((containerId) => ({ containerId, adoptable: false }));
  }

  subscribe(listener: BackendListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#children.keys()].map((id) => this.destroy(id)));
  }

  // ------------------------------------------------------------------ internals

  #track(containerId: string, child: ChildProcess, port: number): Child {
    let markExited: () => void = () => undefined;
    const entry: Child = {
      containerId,
      process: child,
      port,
      stopping: false,
      paused: false,
      stderrTail: '',
      exited: new Promise((resolve) => (markExited = resolve)),
    };
    this.#children.set(containerId, entry);
    child.stdout?.on('data', (chunk: Buffer) => this.#emitOutput(containerId, 'stdout', chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      entry.stderrTail = (entry.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
      this.#emitOutput(containerId, 'stderr', chunk);
    });
    child.on('error', () => undefined);
    let reported = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (reported) return;
      reported = true;
      this.#children.delete(containerId);
      markExited();
      if (entry.stopping) return;
      void rm(this.#pidFile(containerId), { force: true });
      void rm(this.#tmpDir(containerId), { recursive: true, force: true });
      const oom = entry.stderrTail.includes(OOM_MARKER) || signal === 'SIGABRT' || code === 134;
      const detail = signal !== null ? `killed by ${signal}` : `exit code ${code ?? 'unknown'}`;
      for (const l of this.#listeners) l.exit({ containerId, reason: oom ? 'oom' : 'crash', detail });
    };
    // 'close' comes after the last output; a grandchild holding the pipes must not delay the report forever.
    child.on('close', finish);
    child.on('exit', (code, signal) => setTimeout(() => finish(code, signal), 500).unref());
    return entry;
  }

  #emitOutput(containerId: string, stream: 'stdout' | 'stderr', chunk: Buffer): void {
    for (const l of this.#listeners) l.output({ containerId, stream, chunk });
  }

  async #waitForPort(child: Child): Promise<void> {
    let exited = false;
    void child.exited.then(() => (exited = true));
    await waitForPort({
      host: this.#host,
      port: child.port,
      timeoutMs: this.#startTimeoutMs,
      failure: () => (exited ? new ContainerOperationError(`container ${child.containerId} exited during start: ${child.stderrTail.trim().slice(-500)}`) : undefined),
      timeout: () => new ContainerOperationError(`container ${child.containerId} did not listen within ${this.#startTimeoutMs} ms`),
    });
  }

  async #killLeftover(containerId: string): Promise<void> {
    if (!CONTAINER_ID.test(containerId)) return;
    const file = this.#pidFile(containerId);
    let pid: number;
    try {
      pid = Number((await readFile(file, 'utf8')).trim());
    } catch {
      // no pid file: nothing to kill, but its temp directory may be there
      if (!this.#creating.has(containerId)) await rm(this.#tmpDir(containerId), { recursive: true, force: true });
      return;
    }
    // Only kill the pid if it still is that container's runtime (pids get reused).
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (Number.isInteger(pid) && pid > 0 && cmdline.split('\0').includes(`--brisk-container=${containerId}`)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      // Wait until it is gone (it is not our child, so poll /proc). Not its cmdline, which empties
      // when the kernel releases its memory, before its files (the listening socket) are closed; and
      // not the leader's Z alone: node's other threads still hold the files until they have exited.
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && !exitedCompletely(pid)) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    await rm(file, { force: true });
    await rm(this.#tmpDir(containerId), { recursive: true, force: true });
  }

  #get(containerId: string): Child {
    const child = this.#children.get(containerId);
    if (child === undefined) throw new ContainerOperationError(`no running container ${containerId}`);
    return child;
  }

  #pidFile(containerId: string): string {
    return path.join(this.#dir, `${containerId}.pid`);
  }

  /** The container's TMPDIR; removed with the container. */
  #tmpDir(containerId: string): string {
    return path.join(this.#dir, `${containerId}.tmp`);
  }
}

/** True when the process is gone, or a zombie with no thread left (every file of it closed). */
function exitedCompletely(pid: number): boolean {
  const state = readProcStat(pid);
  if (state === undefined) return true;
  // a zombie leader counts itself only once its other threads are gone
  return (state === 'Z' || state === 'X') && threadsOf(pid) <= 1;
}

/** The Threads: count of /proc/<pid>/status (0 when gone). */
function threadsOf(pid: number): number {
  try {
    return Number(/^Threads:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The state letter of /proc/<pid>/stat, or undefined when the process is gone. */
function readProcStat(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}
