/**
 * The `docker` backend: each container is a Docker container (through dockerode, on the daemon's
 * socket), with the limits of docker/config.ts, in its own network namespace addressed like runc's
 * (network/addressing.ts). Needs root (the network namespace is set up with `ip`) and a dockerd.
 *
 * Image: brisk's rootfs (src/image/rootfs.ts) imported as `brisk-runtime:<image id>`
 * (src/image/docker-image.ts), or, per container, any OpenWhisk-compatible runtime image
 * (`request.image`, blackbox actions): it must listen on 8080 and answer /init and /run. A missing
 * image is pulled when `pull` is on (the default); with `pull: false` it is a create failure.
 *
 * Network: created with network mode `none`; once started, the container's namespace is named
 * `brisk<slot>` after its process and given the slot's veth pair. Docker labels cannot change after
 * create, so the slot is kept in `<dataDir>/docker/<containerId>.slot`.
 *
 * Output: attached (stdout and stderr, multiplexed) BEFORE start, so nothing is missed; the attach
 * stream ends when the container's processes are gone. An exit nobody asked for is reported after
 * both the stream's end (its last output) and Docker's wait answer, as `oom` when Docker says the
 * OOM killer fired or node printed its heap marker, else `crash`; the container is then removed.
 *
 * Restart: attach streams die with the agent, so containers are never adopted: `list` finds an
 * earlier run's containers by label (`brisk.agent=<hash of dataDir>`) and slot files, and `destroy`
 * removes each completely.
 *
 * Do not hand this backend a Dockerode built with a request `timeout`: the attach and wait requests
 * stay open for the container's life. Every other Docker call is bounded here.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import Dockerode from 'dockerode';
import { ConfigError, ContainerOperationError, messageOf } from '../../errors.js';
import type { Address } from '../../daemon/protocol.js';
import { ensureDockerImage } from '../../image/docker-image.js';
import { buildImage, type BuiltImage } from '../../image/rootfs.js';
import { OOM_MARKER, type BackendListener, type ContainerBackend, type CreateContainerRequest, type LeftoverContainer } from '../backend.js';
import { Cgroups } from '../cgroup.js';
import { ContainerNetwork, readSlotFile, writeSlotFile } from '../network/container-network.js';
import { dockerContainerConfig, LABEL_AGENT, LABEL_CONTAINER } from './docker/config.js';
import { waitForPort } from './port-probe.js';
import { RUNTIME_PORT } from './runc/spec.js';

export interface DockerBackendOptions {
  /** the agent's data directory (slot files go under `<dataDir>/docker`; its hash labels the containers) */
  dataDir: string;
  /** where the rootfs is built or found; default the image module's DEFAULT_IMAGES_DIR */
  imagesDir?: string;
  /** a rootfs built already (skips the build check) */
  image?: BuiltImage;
  /** default: the daemon of `$DOCKER_HOST`, else /var/run/docker.sock; must have no request timeout */
  docker?: Dockerode;
  /** container address range; default 10.213.0.0/16 */
  subnet?: string;
  /** host-wide network claims directory; default /run/brisk/net */
  claimsDir?: string;
  /** processes and threads per container; default 256 */
  pidsLimit?: number;
  /** size of /tmp (counted in the memory limit); default 64 MB or the memory limit when smaller */
  tmpfsMB?: number;
  /** until the runtime's port answers; default 10 000 ms */
  startTimeoutMs?: number;
  /** pull a blackbox image that is not on the host; default true */
  pull?: boolean;
  /** bound on one pull; default 300 000 ms */
  pullTimeoutMs?: number;
  /**
   * `docker` (default): Docker's pause/unpause API, each confirmed in Docker's state; `freezer`: the
   * container's cgroup freezer written directly (faster; Docker then still reports it running)
   */
  pauseMethod?: DockerPauseMethod;
  /** default /sys/fs/cgroup (the `freezer` pause method and `memoryUsage`) */
  cgroupRoot?: string;
}

export type DockerPauseMethod = 'docker' | 'freezer';

interface Container {
  containerId: string;
  /** Docker's id of the container */
  dockerId: string;
  /** undefined until the network is attached */
  slot: number | undefined;
  /** the container's cgroup (freezer hierarchy on v1), read from its process once started */
  cgroupPath: string | undefined;
  paused: boolean;
  /** create resolved: from now on an unrequested exit is reported (before, create rejects instead) */
  started: boolean;
  /** destroy was requested: its exit is not reported */
  stopping: boolean;
  stderrTail: string;
  /** resolves once the container is gone and its exit handled */
  gone: Promise<void>;
  isGone: boolean;
}

const CONTAINER_ID = /^[A-Za-z0-9_.-]{1,200}$/;
const STDERR_TAIL_CHARS = 4096;
/** Bounds on Docker calls: the daemon answers these in milliseconds; they only catch a wedged one. */
const TIMEOUTS = { create: 15_000, start: 15_000, inspect: 5000, pause: 5000, remove: 15_000, list: 5000, ping: 5000 } as const;
/** After a kill, how long the attach stream and wait may take to report the end. */
const GONE_TIMEOUT_MS = 15_000;

export class DockerBackend implements ContainerBackend {
  readonly name = 'docker' as const;
  readonly image: BuiltImage;
  /** the reference of brisk's runtime image in Docker */
  readonly imageRef: string;
  readonly #docker: Dockerode;
  readonly #network: ContainerNetwork;
  readonly #cgroups: Cgroups;
  readonly #slotsDir: string;
  readonly #agentLabel: string;
  readonly #namePrefix: string;
  readonly #pidsLimit: number;
  readonly #tmpfsMB: number | undefined;
  readonly #startTimeoutMs: number;
  readonly #pull: boolean;
  readonly #pullTimeoutMs: number;
  readonly #pauseMethod: DockerPauseMethod;
  readonly #containers = new Map<string, Container>();
  readonly #creating = new Set<string>();
  readonly #listeners = new Set<BackendListener>();
  /** removals after unrequested exits, still running: `close` waits for them */
  readonly #cleanups = new Set<Promise<void>>();

  private constructor(options: DockerBackendOptions, docker: Dockerode, image: BuiltImage, imageRef: string, network: ContainerNetwork) {
    const dataDir = path.resolve(options.dataDir);
    this.image = image;
    this.imageRef = imageRef;
    this.#docker = docker;
    this.#network = network;
    this.#cgroups = new Cgroups(options.cgroupRoot === undefined ? {} : { root: options.cgroupRoot });
    this.#slotsDir = path.join(dataDir, 'docker');
    // one label per data directory: two agents on one daemon never see each other's containers
    this.#agentLabel = agentLabel(dataDir);
    this.#namePrefix = `brisk-${this.#agentLabel.slice(0, 8)}-`;
    this.#pidsLimit = options.pidsLimit ?? 256;
    this.#tmpfsMB = options.tmpfsMB;
    this.#startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.#pull = options.pull ?? true;
    this.#pullTimeoutMs = options.pullTimeoutMs ?? 300_000;
    this.#pauseMethod = options.pauseMethod ?? 'docker';
  }

  /** Checks the daemon, builds (or finds) the rootfs, imports it into Docker, installs the network. */
  static async open(options: DockerBackendOptions): Promise<DockerBackend> {
    if (process.getuid?.() !== 0) throw new ConfigError('the docker backend needs root (it sets up container networks)', { hint: 'run the agent as root, or use --backend process' });
    const docker = options.docker ?? new Dockerode();
    try {
      await bounded(docker.ping(), TIMEOUTS.ping, 'ping');
    } catch (err) {
      throw new ConfigError(`the Docker daemon does not answer: ${messageOf(err)}`, {
        cause: err,
        hint: 'start dockerd (systemctl start docker), or point DOCKER_HOST at it; or use --backend process',
      });
    }
    const image = options.image ?? (await buildImage(options.imagesDir === undefined ? {} : { imagesDir: options.imagesDir }));
    const imageRef = await ensureDockerImage(docker, image);
    const network = await ContainerNetwork.open({
      owner: path.resolve(options.dataDir),
      ...(options.subnet === undefined ? {} : { subnet: options.subnet }),
      ...(options.claimsDir === undefined ? {} : { claimsDir: options.claimsDir }),
    });
    const backend = new DockerBackend(options, docker, image, imageRef, network);
    if (backend.#pauseMethod === 'freezer') backend.#cgroups.keepFreezerWarm();
    await mkdir(backend.#slotsDir, { recursive: true });
    return backend;
  }

  async create(request: CreateContainerRequest): Promise<Address> {
    const { containerId } = request;
    if (!CONTAINER_ID.test(containerId)) throw new ContainerOperationError(`invalid container id '${containerId}'`);
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
    const image = request.image ?? this.imageRef;
    const config = dockerContainerConfig({
      containerId,
      name: this.#dockerName(containerId),
      agentLabel: this.#agentLabel,
      image,
      briskRuntime: request.image === undefined,
      memoryMB: request.memoryMB,
      pidsLimit: this.#pidsLimit,
      tmpfsMB: Math.max(1, Math.min(this.#tmpfsMB ?? 64, request.memoryMB)),
      env: request.env,
    });
    let container: Container | undefined;
    try {
      const handle = await this.#createContainer(config, image);
      container = await this.#track(containerId, handle);
      await bounded(handle.start(), TIMEOUTS.start, 'start');
      const info = await bounded(handle.inspect(), TIMEOUTS.inspect, 'inspect');
      const pid = info.State.Pid;
      if (!info.State.Running || pid <= 0) throw await this.#exitedDuringStart(container);
      const started = container;
      // The runtime may exit at any moment after inspect (its /proc entry and namespace go with it):
      // a failure then is reported as that exit, with its output, not as the step that tripped on it.
      // (Docker's own state lags behind the kernel's, so the process itself is asked first.)
      const orExited = async (err: unknown): Promise<never> => {
        if (!existsSync(`/proc/${pid}`)) throw await this.#exitedDuringStart(started);
        const now = await bounded(handle.inspect(), TIMEOUTS.inspect, 'inspect').catch(() => undefined);
        throw now?.State.Running === true ? err : await this.#exitedDuringStart(started);
      };
      container.cgroupPath = await cgroupOf(pid).catch(orExited);
      const net = await this.#network.attach({ pid }).catch(orExited);
      container.slot = net.slot;
      await writeSlotFile(this.#slotFile(containerId), net.slot);
      const tracked = container;
      await waitForPort({
        host: net.containerAddress,
        port: RUNTIME_PORT,
        timeoutMs: this.#startTimeoutMs,
        failure: () => (tracked.isGone ? exitedError(tracked) : undefined),
        timeout: () => new ContainerOperationError(`container ${containerId} did not listen within ${this.#startTimeoutMs} ms`),
      });
      container.started = true;
      return { host: net.containerAddress, port: RUNTIME_PORT };
    } catch (err) {
      await this.destroy(containerId).catch(() => undefined);
      throw err instanceof ContainerOperationError ? err : new ContainerOperationError(`container ${containerId} did not start: ${messageOf(err)}`, { cause: err });
    }
  }

  /** Creates the Docker container; a missing image is pulled once (when allowed) and the create retried. */
  async #createContainer(config: Dockerode.ContainerCreateOptions, image: string): Promise<Dockerode.Container> {
    try {
      return await bounded(this.#docker.createContainer(config), TIMEOUTS.create, 'create');
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      if (!this.#pull) throw new ContainerOperationError(`image ${image} is not on this host (pulling is off)`, { cause: err, hint: `docker pull ${image} on the host, or build it there` });
      await this.#pullImage(image);
      return bounded(this.#docker.createContainer(config), TIMEOUTS.create, 'create');
    }
  }

  async #pullImage(image: string): Promise<void> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.#pullTimeoutMs);
    try {
      const stream = (await this.#docker.pull(image, { abortSignal: abort.signal })) as NodeJS.ReadableStream;
      await new Promise<void>((resolve, reject) => {
        this.#docker.modem.followProgress(stream, (err: Error | null, output: unknown[]) => {
          const failed = output.find((line): line is { error: unknown } => typeof line === 'object' && line !== null && 'error' in line);
          if (err !== null) reject(err);
          else if (failed !== undefined) reject(new Error(String(failed.error)));
          else resolve();
        });
      });
    } catch (err) {
      const why = abort.signal.aborted ? `did not finish within ${this.#pullTimeoutMs} ms` : messageOf(err);
      throw new ContainerOperationError(`cannot pull image ${image}: ${why}`, { cause: err, hint: 'check the image name and that the host reaches its registry' });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Freezes the container. With the `docker` method, resolves once Docker's own state says paused:
   * Docker records a pause when containerd's event arrives, after the API call answered, and refuses
   * an unpause until then ("is not paused"), so the state is confirmed before the next verb can come.
   */
  async pause(containerId: string): Promise<void> {
    const container = this.#get(containerId);
    if (this.#pauseMethod === 'freezer') await this.#cgroups.freeze(this.#cgroupPath(container));
    else {
      await this.#call(`pause ${containerId}`, TIMEOUTS.pause, () => this.#docker.getContainer(container.dockerId).pause());
      await this.#confirmPaused(container, true);
    }
    container.paused = true;
  }

  /** Thaws the container (with the `docker` method, once Docker's state says running again). */
  async resume(containerId: string): Promise<void> {
    const container = this.#get(containerId);
    if (this.#pauseMethod === 'freezer') await this.#cgroups.thaw(this.#cgroupPath(container));
    else {
      await this.#call(`resume ${containerId}`, TIMEOUTS.pause, () => this.#docker.getContainer(container.dockerId).unpause());
      await this.#confirmPaused(container, false);
    }
    container.paused = false;
  }

  async #confirmPaused(container: Container, paused: boolean): Promise<void> {
    const deadline = Date.now() + TIMEOUTS.pause;
    const handle = this.#docker.getContainer(container.dockerId);
    for (;;) {
      const info = await this.#call(`inspect ${container.containerId}`, TIMEOUTS.inspect, () => handle.inspect());
      if (info.State.Paused === paused) return;
      if (!info.State.Running) throw new ContainerOperationError(`container ${container.containerId} is not running`);
      if (Date.now() > deadline) throw new ContainerOperationError(`Docker did not record container ${container.containerId} as ${paused ? 'paused' : 'running'} within ${TIMEOUTS.pause} ms`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** Kills and removes the Docker container (also a paused one), then its network slot and slot file. */
  async destroy(containerId: string): Promise<void> {
    if (!CONTAINER_ID.test(containerId)) return;
    const container = this.#containers.get(containerId);
    if (container !== undefined) container.stopping = true;
    const target = this.#docker.getContainer(container?.dockerId ?? this.#dockerName(containerId));
    // Docker's forced removal handles a container it paused, but not one frozen behind its back (the
    // `freezer` method, maybe by an earlier run): a frozen task keeps a pending SIGKILL until thawed
    if (container === undefined) {
      const pid = (await bounded(target.inspect(), TIMEOUTS.inspect, 'inspect').catch(() => undefined))?.State.Pid ?? 0;
      const cgroupPath = pid > 0 ? await cgroupOf(pid).catch(() => undefined) : undefined;
      if (cgroupPath !== undefined) await this.#cgroups.thaw(cgroupPath).catch(() => undefined);
    } else if (container.paused && this.#pauseMethod === 'freezer') {
      await this.#cgroups.thaw(this.#cgroupPath(container)).catch(() => undefined);
    }
    await this.#call(`remove ${containerId}`, TIMEOUTS.remove, () => target.remove({ force: true, v: true })).catch((err: unknown) => {
      // gone already (404), or being removed by an earlier call (409): the idempotent cases
      const status = statusOf((err as { cause?: unknown }).cause);
      if (status !== 404 && status !== 409) throw err;
    });
    if (container !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([container.gone, new Promise((resolve) => (timer = setTimeout(resolve, GONE_TIMEOUT_MS)))]);
      clearTimeout(timer);
      this.#containers.delete(containerId);
    }
    await this.#removeRemains(containerId, container?.slot);
  }

  /**
   * Everything an earlier run left: containers with this agent's label, slot files without a live
   * container, and network slots claimed by this data directory that belong to neither (released here).
   */
  async list(): Promise<LeftoverContainer[]> {
    const ids = new Set<string>();
    const found = await this.#call('list', TIMEOUTS.list, () => this.#docker.listContainers({ all: true, filters: { label: [`${LABEL_AGENT}=${this.#agentLabel}`] } }));
    for (const info of found) {
      const id = info.Labels[LABEL_CONTAINER];
      if (id !== undefined && CONTAINER_ID.test(id)) ids.add(id);
    }
    for (const name of await readdir(this.#slotsDir).catch(() => [] as string[])) {
      const id = name.endsWith('.slot') ? name.slice(0, -'.slot'.length) : '';
      if (CONTAINER_ID.test(id)) ids.add(id);
    }
    for (const id of [...ids]) if (this.#containers.has(id) || this.#creating.has(id)) ids.delete(id);
    const slotsInUse = new Set<number>();
    for (const c of this.#containers.values()) if (c.slot !== undefined) slotsInUse.add(c.slot);
    for (const id of ids) {
      const slot = await this.#readSlot(id);
      if (slot !== undefined) slotsInUse.add(slot);
    }
    // a create in flight may hold a claim not yet written to its slot file
    if (this.#creating.size === 0) {
      await this.#network.releaseUnused(slotsInUse);
    }
    return [...ids].map((containerId) => ({ containerId, adoptable: false }));
  }

  subscribe(listener: BackendListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Destroys every container of this instance and waits for the removal of those that exited. */
  async close(): Promise<void> {
    await Promise.all([...this.#containers.keys()].map((id) => this.destroy(id).catch(() => undefined)));
    await Promise.all([...this.#cleanups]);
  }

  /**
   * Bytes of memory the container uses: its memory cgroup (Docker's cgroupfs driver puts every
   * controller at the same path), else Docker's stats API (slower: it samples for about a second).
   */
  async memoryUsage(containerId: string): Promise<number> {
    const container = this.#get(containerId);
    const { dockerId } = container;
    try {
      return await this.#cgroups.memoryUsage(this.#cgroupPath(container));
    } catch {
      const stats = await this.#call(`stats ${containerId}`, TIMEOUTS.inspect, () => this.#docker.getContainer(dockerId).stats({ stream: false }));
      return stats.memory_stats.usage;
    }
  }

  /** Docker's id of a running container of this backend (for operators and measurements). */
  dockerId(containerId: string): string {
    return this.#get(containerId).dockerId;
  }

  // ------------------------------------------------------------------ internals

  /** Attaches to the created container's output and exit, before it starts. */
  async #track(containerId: string, handle: Dockerode.Container): Promise<Container> {
    let markGone: () => void = () => undefined;
    const container: Container = {
      containerId,
      dockerId: handle.id,
      slot: undefined,
      cgroupPath: undefined,
      paused: false,
      started: false,
      stopping: false,
      stderrTail: '',
      gone: new Promise((resolve) => (markGone = resolve)),
      isGone: false,
    };
    const stream = await bounded(handle.attach({ stream: true, stdout: true, stderr: true }), TIMEOUTS.start, 'attach');
    this.#containers.set(containerId, container);
    // before start: `next-exit` (the default `not-running` would answer at once for a created container)
    const exited = handle.wait({ condition: 'next-exit' }).then(
      (result: { StatusCode?: number }) => `exit code ${result.StatusCode ?? 'unknown'}`,
      (err: unknown) => `wait failed: ${messageOf(err)}`,
    );
    const streamEnded = new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    this.#docker.modem.demuxStream(stream, this.#sink(container, 'stdout'), this.#sink(container, 'stderr'));
    const cleanup = Promise.all([exited, streamEnded])
      .then(([exit]) => this.#onGone(container, exit))
      .catch(() => undefined)
      .finally(() => {
        this.#cleanups.delete(cleanup);
        markGone();
      });
    this.#cleanups.add(cleanup);
    return container;
  }

  #sink(container: Container, stream: 'stdout' | 'stderr'): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        if (stream === 'stderr') container.stderrTail = (container.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
        for (const l of this.#listeners) l.output({ containerId: container.containerId, stream, chunk });
        callback();
      },
    });
  }

  /** The container's output ended and Docker saw it exit. Report it unless it was asked for. */
  async #onGone(container: Container, exit: string): Promise<void> {
    container.isGone = true;
    if (container.stopping || !container.started) return;
    const info = await bounded(this.#docker.getContainer(container.dockerId).inspect(), TIMEOUTS.inspect, 'inspect').catch(() => undefined);
    const oom = info?.State.OOMKilled === true || container.stderrTail.includes(OOM_MARKER);
    this.#containers.delete(container.containerId);
    const detail = oom ? 'killed for exceeding its memory limit' : `${exit}: ${lastLine(container.stderrTail) || 'no output'}`;
    for (const l of this.#listeners) l.exit({ containerId: container.containerId, reason: oom ? 'oom' : 'crash', detail });
    // the container is gone: its Docker container, network and slot file go too
    await bounded(this.#docker.getContainer(container.dockerId).remove({ force: true, v: true }), TIMEOUTS.remove, 'remove').catch(() => undefined);
    await this.#removeRemains(container.containerId, container.slot);
  }

  /** The error of a runtime that exited during start, once its last output is in (bounded wait). */
  async #exitedDuringStart(container: Container): Promise<ContainerOperationError> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([container.gone, new Promise((resolve) => (timer = setTimeout(resolve, GONE_TIMEOUT_MS)))]);
    clearTimeout(timer);
    return exitedError(container);
  }

  async #removeRemains(containerId: string, knownSlot: number | undefined): Promise<void> {
    const slot = knownSlot ?? (await this.#readSlot(containerId));
    if (slot !== undefined) await this.#network.release(slot);
    await rm(this.#slotFile(containerId), { force: true });
  }

  #readSlot(containerId: string): Promise<number | undefined> {
    return readSlotFile(this.#slotFile(containerId));
  }

  /** One bounded Docker call; every failure becomes a ContainerOperationError (the Docker error as cause). */
  async #call<T>(what: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
    try {
      return await bounded(fn(), timeoutMs, what);
    } catch (err) {
      throw new ContainerOperationError(`docker ${what} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  #get(containerId: string): Container {
    const container = this.#containers.get(containerId);
    if (container === undefined || container.isGone) throw new ContainerOperationError(`no running container ${containerId}`);
    return container;
  }

  #cgroupPath(container: Container): string {
    if (container.cgroupPath === undefined) throw new ContainerOperationError(`container ${container.containerId} has no cgroup yet`);
    return container.cgroupPath;
  }

  #dockerName(containerId: string): string {
    return `${this.#namePrefix}${containerId}`;
  }

  #slotFile(containerId: string): string {
    return path.join(this.#slotsDir, `${containerId}.slot`);
  }
}

/** The label value naming the agent of `dataDir` (a hash of its absolute path). Pure. */
export function agentLabel(dataDir: string): string {
  return createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12);
}

/** Rejects after `timeoutMs` (the Docker request itself is left to finish or fail on its own). */
function bounded<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`docker ${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The cgroup of process `pid` as /proc says: the freezer hierarchy's path on cgroup v1, the unified
 * one on v2 (Docker's cgroupfs driver: `/docker/<id>` in every hierarchy).
 */
async function cgroupOf(pid: number): Promise<string> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).trim().split('\n');
  const fields = lines.map((l) => l.split(':'));
  const freezer = fields.find((f) => f[1]?.split(',').includes('freezer')) ?? fields.find((f) => f[0] === '0' && f[1] === '');
  const found = freezer?.slice(2).join(':');
  if (found === undefined || found === '') throw new ContainerOperationError(`no cgroup found for process ${pid}`);
  return found;
}

function exitedError(container: Container): ContainerOperationError {
  return new ContainerOperationError(`container ${container.containerId} exited during start: ${container.stderrTail.trim().slice(-500)}`);
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
