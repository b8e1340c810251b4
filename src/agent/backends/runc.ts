/**
 * The `runc` backend: each container is an OCI bundle run by runc, isolated (spec.ts lists the
 * guarantees), in its own network namespace (network/addressing.ts gives the scheme). Needs root.
 *
 * Layout under the agent's data directory:
 *   runc/state/                 runc's `--root`: this agent's containers only, so `runc list` is ours
 *   runc/bundles/<id>/config.json, slot    one bundle per container; `slot` = its network slot
 * The root filesystem is the shared, read-only brisk image (src/image/rootfs.ts).
 *
 * Pause/resume write the container's cgroup freezer directly (no process spawned); `runc pause` /
 * `runc resume` remain available as the reference path (`pauseMethod: 'runc'`).
 *
 * Output: the container inherits the pipes of `runc create` (no terminal), so its stdout/stderr
 * arrive on them until it exits; their end is the container's exit. An exit nobody asked for is
 * reported as `oom` when the memory cgroup's OOM killer fired or node's heap ran out, else `crash`.
 *
 * Restart: containers cannot be re-attached (their pipes died with the earlier agent), so `list`
 * reports every container, bundle and network slot of an earlier run as a leftover and `destroy`
 * removes each completely.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ConfigError, ContainerOperationError, messageOf } from '../../errors.js';
import type { Address } from '../../daemon/protocol.js';
import { buildImage, type BuiltImage } from '../../image/rootfs.js';
import { OOM_MARKER, type BackendListener, type ContainerBackend, type CreateContainerRequest, type LeftoverContainer } from '../backend.js';
import { Cgroups } from '../cgroup.js';
import { ContainerNetwork, readSlotFile, writeSlotFile, type ContainerNetworkAttachment } from '../network/container-network.js';
import { runCommand, startDetached } from './runc/command.js';
import { containerSpec, RUNTIME_PORT } from './runc/spec.js';
import { waitForPort } from './port-probe.js';
import { createHash } from 'node:crypto';

export type PauseMethod = 'freezer' | 'runc';

export interface RuncBackendOptions {
  /** the agent's data directory (bundles and runc state go under `<dataDir>/runc`) */
  dataDir: string;
  /** where the image is built or found; default the image module's DEFAULT_IMAGES_DIR */
  imagesDir?: string;
  /** an image built already (skips the build check) */
  image?: BuiltImage;
  /** default `runc` on the PATH */
  runcPath?: string;
  /** container address range; default 10.213.0.0/16 */
  subnet?: string;
  /** host-wide network claims directory; default /run/brisk/net */
  claimsDir?: string;
  /** default 'freezer' */
  pauseMethod?: PauseMethod;
  /** processes and threads per container; default 256 */
  pidsLimit?: number;
  /** size of /tmp (counted in the memory limit); default 64 MB or the memory limit when smaller */
  tmpfsMB?: number;
  /** until the runtime's port answers; default 10 000 ms */
  startTimeoutMs?: number;
  /** default /sys/fs/cgroup */
  cgroupRoot?: string;
  /** network namespaces kept ready for the next creates; default 2 (0 sets each up on demand) */
  spareNetworks?: number;
}

interface Container {
  containerId: string;
  slot: number;
  cgroupPath: string;
  paused: boolean;
  /** destroy was requested: its exit is not reported */
  stopping: boolean;
  stderrTail: string;
  /** resolves once both output streams ended (every process of the container is gone) */
  gone: Promise<void>;
  isGone: boolean;
}

const CONTAINER_ID = /^[A-Za-z0-9_.-]{1,200}$/;
const STDERR_TAIL_CHARS = 4096;
/** The verbs' timeouts: runc itself is quick; these only bound a wedged runc. */
const TIMEOUTS = { create: 15_000, delete: 15_000, pause: 5000, list: 5000 } as const;

export class RuncBackend implements ContainerBackend {
  readonly name = 'runc' as const;
  readonly image: BuiltImage;
  readonly #runc: string;
  readonly #stateDir: string;
  readonly #bundlesDir: string;
  readonly #network: ContainerNetwork;
  readonly #cgroups: Cgroups;
  readonly #cgroupParent: string;
  readonly #pauseMethod: PauseMethod;
  readonly #pidsLimit: number;
  readonly #tmpfsMB: number | undefined;
  readonly #startTimeoutMs: number;
  readonly #containers = new Map<string, Container>();
  readonly #creating = new Set<string>();
  readonly #listeners = new Set<BackendListener>();
  /** network slots set up ahead of need, so a create does not wait for `ip` (bounded: #spareTarget) */
  readonly #spares: ContainerNetworkAttachment[] = [];
  readonly #spareTarget: number;
  #refilling: Promise<void> | undefined;
  #closed = false;

  private constructor(options: RuncBackendOptions, image: BuiltImage, network: ContainerNetwork) {
    const dataDir = path.resolve(options.dataDir);
    this.image = image;
    this.#runc = options.runcPath ?? 'runc';
    this.#stateDir = path.join(dataDir, 'runc', 'state');
    this.#bundlesDir = path.join(dataDir, 'runc', 'bundles');
    this.#network = network;
    this.#cgroups = new Cgroups(options.cgroupRoot === undefined ? {} : { root: options.cgroupRoot });
    this.#cgroupParent = runcCgroupParent(dataDir);
    this.#pauseMethod = options.pauseMethod ?? 'freezer';
    this.#pidsLimit = options.pidsLimit ?? 256;
    this.#tmpfsMB = options.tmpfsMB;
    this.#startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.#spareTarget = options.spareNetworks ?? 2;
  }

  /** Checks runc, builds (or finds) the image and installs the container network. */
  static async open(options: RuncBackendOptions): Promise<RuncBackend> {
    if (process.getuid?.() !== 0) throw new ConfigError('the runc backend needs root', { hint: 'run the agent as root, or use --backend process' });
    try {
      await runCommand(options.runcPath ?? 'runc', ['--version'], { timeoutMs: 5000 });
    } catch (err) {
      throw new ConfigError(`runc cannot be run: ${messageOf(err)}`, { cause: err, hint: 'apt-get install runc, or use --backend process' });
    }
    const image = options.image ?? (await buildImage(options.imagesDir === undefined ? {} : { imagesDir: options.imagesDir }));
    const network = await ContainerNetwork.open({
      owner: path.resolve(options.dataDir),
      ...(options.subnet === undefined ? {} : { subnet: options.subnet }),
      ...(options.claimsDir === undefined ? {} : { claimsDir: options.claimsDir }),
    });
    const backend = new RuncBackend(options, image, network);
    backend.#cgroups.keepFreezerWarm();
    await mkdir(backend.#stateDir, { recursive: true });
    await mkdir(backend.#bundlesDir, { recursive: true });
    return backend;
  }

  async create(request: CreateContainerRequest): Promise<Address> {
    const { containerId } = request;
    if (!CONTAINER_ID.test(containerId)) throw new ContainerOperationError(`invalid container id '${containerId}'`);
    if (request.image !== undefined) throw new ContainerOperationError(`the runc backend runs brisk's own runtime only: image '${request.image}' needs an agent with --backend docker`);
    if (this.#containers.has(containerId) || this.#creating.has(containerId)) throw new ContainerOperationError(`container ${containerId} exists already`);
    this.#creating.add(containerId);
    try {
      return await this.#create(request);
    } finally {
      this.#creating.delete(containerId);
    }
  }

  async #create(request: CreateContainerRequest): Promise<Address> {
    const { containerId } = request;
    const bundle = this.#bundle(containerId);
    const net = this.#spares.shift() ?? (await this.#network.attach());
    this.#refillSpares();
    let container: Container | undefined;
    try {
      await mkdir(bundle, { recursive: true });
      // the slot first: whatever happens next, a later destroy knows which network to remove
      await writeSlotFile(path.join(bundle, 'slot'), net.slot);
      const cgroupPath = `${this.#cgroupParent}/${containerId}`;
      const spec = containerSpec({
        containerId,
        rootfs: this.image.rootfs,
        memoryMB: request.memoryMB,
        pidsLimit: this.#pidsLimit,
        tmpfsMB: Math.max(1, Math.min(this.#tmpfsMB ?? 64, request.memoryMB)),
        netnsPath: net.namespacePath,
        cgroupsPath: cgroupPath,
        env: request.env,
        swapAccounting: this.#cgroups.swapAccounting(),
      });
      await writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
      // `run --detach` = create + start in one exec; runc returns once the process started
      const started = await startDetached(this.#runc, this.#args('run', '--detach', '--bundle', bundle, containerId), { timeoutMs: TIMEOUTS.create });
      container = this.#track(containerId, net.slot, cgroupPath, started.stdout, started.stderr);
      const tracked = container;
      await waitForPort({
        host: net.containerAddress,
        port: RUNTIME_PORT,
        timeoutMs: this.#startTimeoutMs,
        failure: () => (tracked.isGone ? new ContainerOperationError(`container ${containerId} exited during start: ${tracked.stderrTail.trim().slice(-500)}`) : undefined),
        timeout: () => new ContainerOperationError(`container ${containerId} did not listen within ${this.#startTimeoutMs} ms`),
      });
      return { host: net.containerAddress, port: RUNTIME_PORT };
    } catch (err) {
      await this.destroy(containerId).catch(() => undefined);
      if (container === undefined) await this.#network.release(net.slot);
      throw err instanceof ContainerOperationError ? err : new ContainerOperationError(`container ${containerId} did not start: ${messageOf(err)}`, { cause: err });
    }
  }

  async pause(containerId: string): Promise<void> {
    const container = this.#get(containerId);
    if (this.#pauseMethod === 'freezer') await this.#cgroups.freeze(container.cgroupPath);
    else await runCommand(this.#runc, this.#args('pause', containerId), { timeoutMs: TIMEOUTS.pause });
    container.paused = true;
  }

  async resume(containerId: string): Promise<void> {
    const container = this.#get(containerId);
    if (this.#pauseMethod === 'freezer') await this.#cgroups.thaw(container.cgroupPath);
    else await runCommand(this.#runc, this.#args('resume', containerId), { timeoutMs: TIMEOUTS.pause });
    container.paused = false;
  }

  /** Kills every process of the container, then removes its runc state, cgroups, network and bundle. */
  async destroy(containerId: string): Promise<void> {
    if (!CONTAINER_ID.test(containerId)) return;
    const container = this.#containers.get(containerId);
    if (container !== undefined) {
      container.stopping = true;
      // a frozen task keeps a pending SIGKILL until thawed
      if (container.paused) await this.#cgroups.thaw(container.cgroupPath).catch(() => undefined);
    }
    await runCommand(this.#runc, this.#args('delete', '--force', containerId), { timeoutMs: TIMEOUTS.delete }).catch((err: unknown) => {
      // "container does not exist" is the idempotent case; anything else is worth an error
      if (!/does not exist|not exist|no such/i.test(messageOf(err))) throw err;
    });
    if (container !== undefined) {
      // the kill reaches every process of the pid namespace, so the pipes close; bound it anyway
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([container.gone, new Promise((resolve) => (timer = setTimeout(resolve, TIMEOUTS.delete)))]);
      clearTimeout(timer);
      this.#containers.delete(containerId);
    }
    await this.#removeRemains(containerId, container?.slot);
  }

  /**
   * Everything an earlier run left: containers in runc's state, bundles without a live container,
   * and network slots claimed by this data directory that belong to no bundle (each removed here).
   */
  async list(): Promise<LeftoverContainer[]> {
    const ids = new Set<string>();
    try {
      const { stdout } = await runCommand(this.#runc, this.#args('list', '--format', 'json'), { timeoutMs: TIMEOUTS.list });
      for (const entry of (JSON.parse(stdout || 'null') as { id: string }[] | null) ?? []) ids.add(entry.id);
    } catch {
      // no state directory yet: nothing there
    }
    for (const name of await readdir(this.#bundlesDir).catch(() => [] as string[])) ids.add(name);
    for (const id of [...ids]) if (this.#containers.has(id) || this.#creating.has(id)) ids.delete(id);
    const slotsInUse = new Set<number>();
    for (const c of this.#containers.values()) slotsInUse.add(c.slot);
    for (const spare of this.#spares) slotsInUse.add(spare.slot);
    for (const id of ids) {
      const slot = await this.#readSlot(id);
      if (slot !== undefined) slotsInUse.add(slot);
    }
    if (this.#creating.size === 0 && this.#refilling === undefined) {
      await this.#network.releaseUnused(slotsInUse);
    }
    return [...ids].map((containerId) => ({ containerId, adoptable: false }));
  }

  subscribe(listener: BackendListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#refilling;
    await Promise.all([...this.#containers.keys()].map((id) => this.destroy(id).catch(() => undefined)));
    for (const spare of this.#spares.splice(0)) await this.#network.release(spare.slot);
  }

  /** Sets up spare network slots in the background, one refill at a time; failures only cost speed. */
  #refillSpares(): void {
    if (this.#refilling !== undefined || this.#closed || this.#spares.length >= this.#spareTarget) return;
    this.#refilling = (async () => {
      try {
        while (!this.#closed && this.#spares.length < this.#spareTarget) this.#spares.push(await this.#network.attach());
      } catch {
        // e.g. the address range is full: creates set up their own network and report the error
      } finally {
        this.#refilling = undefined;
      }
    })();
  }

  /** Bytes of memory the container's cgroup uses (for the idle-memory benchmark and status). */
  async memoryUsage(containerId: string): Promise<number> {
    return this.#cgroups.memoryUsage(this.#get(containerId).cgroupPath);
  }

  // ------------------------------------------------------------------ internals

  #track(containerId: string, slot: number, cgroupPath: string, stdout: Readable, stderr: Readable): Container {
    let markGone: () => void = () => undefined;
    const container: Container = {
      containerId,
      slot,
      cgroupPath,
      paused: false,
      stopping: false,
      stderrTail: '',
      gone: new Promise((resolve) => (markGone = resolve)),
      isGone: false,
    };
    this.#containers.set(containerId, container);
    stdout.on('data', (chunk: Buffer) => this.#emitOutput(containerId, 'stdout', chunk));
    stderr.on('data', (chunk: Buffer) => {
      container.stderrTail = (container.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
      this.#emitOutput(containerId, 'stderr', chunk);
    });
    let open = 2;
    const ended = (): void => {
      if (--open > 0) return;
      void this.#onGone(container).finally(markGone);
    };
    for (const stream of [stdout, stderr]) {
      stream.once('close', ended);
      stream.on('error', () => undefined);
    }
    return container;
  }

  /** Both pipes closed: every process of the container is gone. Report it unless it was asked for. */
  async #onGone(container: Container): Promise<void> {
    container.isGone = true;
    if (container.stopping) {
      this.#containers.delete(container.containerId);
      return;
    }
    // read the OOM counter before the cgroup is removed
    const oom = (await this.#cgroups.oomKills(container.cgroupPath)) > 0 || container.stderrTail.includes(OOM_MARKER);
    this.#containers.delete(container.containerId);
    const detail = oom ? 'killed for exceeding its memory limit' : `exited: ${lastLine(container.stderrTail) || 'no output'}`;
    for (const l of this.#listeners) l.exit({ containerId: container.containerId, reason: oom ? 'oom' : 'crash', detail });
    // the container is gone: its runc state, cgroups, network and bundle go too
    await runCommand(this.#runc, this.#args('delete', '--force', container.containerId), { timeoutMs: TIMEOUTS.delete }).catch(() => undefined);
    await this.#removeRemains(container.containerId, container.slot);
  }

  async #removeRemains(containerId: string, knownSlot: number | undefined): Promise<void> {
    const slot = knownSlot ?? (await this.#readSlot(containerId));
    if (slot !== undefined) await this.#network.release(slot);
    await this.#cgroups.removeEmpty(`${this.#cgroupParent}/${containerId}`);
    await rm(this.#bundle(containerId), { recursive: true, force: true });
  }

  #readSlot(containerId: string): Promise<number | undefined> {
    return readSlotFile(path.join(this.#bundle(containerId), 'slot'));
  }

  #emitOutput(containerId: string, stream: 'stdout' | 'stderr', chunk: Buffer): void {
    for (const l of this.#listeners) l.output({ containerId, stream, chunk });
  }

  #get(containerId: string): Container {
    const container = this.#containers.get(containerId);
    if (container === undefined || container.isGone) throw new ContainerOperationError(`no running container ${containerId}`);
    return container;
  }

  #bundle(containerId: string): string {
    return path.join(this.#bundlesDir, containerId);
  }

  #args(...verb: string[]): string[] {
    return ['--root', this.#stateDir, ...verb];
  }
}

/** The cgroup under which the runc backend of the agent with `dataDir` puts its containers: one per data directory, so two agents of a host never mix theirs. */
export function runcCgroupParent(dataDir: string): string {
  return `/brisk/${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12)}`;
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
