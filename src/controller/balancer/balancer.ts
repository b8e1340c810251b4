/**
 * The controller's load balancer: the Invoker port of src/controller/invoker.ts.
 *
 * A request for an action with a free warm container goes straight to that container's /run
 * (resuming it first if it was paused): no scheduler message, no await but the HTTP call.
 * Otherwise it waits in the action's overflow buffer while the balancer acquires containers from
 * the scheduler; grants and freed slots drain the buffer in arrival order. Every accepted
 * activation ends with exactly one record; `invoke` throws only ThrottledError (buffer full).
 *
 * Container lifecycle as seen from here: granted → (first activation runs /init) → warm, with
 * slots taken and freed per activation → paused after `pauseGraceMs` with nothing in flight →
 * resumed before its next run → released after `idleTimeoutMs` idle, on eviction or on close;
 * or discarded (destroyed via its agent and released as `failed`) after any developer error.
 *
 * Ordering contracts: pause and resume of one container are serialised (a resume waits for a
 * pause in flight); /init of a container runs once, concurrent first activations share it.
 *
 * A container that cannot be made ready before a run (its resume fails or times out, or its agent
 * cannot be reached) never saw the activations waiting on it: it is dropped and released as
 * `failed`, and they go back to the front of the overflow buffer for another container, each at
 * most `maxRequeues` times.
 */
import { messageOf, ThrottledError } from '../../errors.js';
import type { ExitReason, GrantedContainer, Message } from '../../daemon/protocol.js';
import type { WsClient, WsClientOptions } from '../../daemon/transport.js';
import { silentLog, type LogFn } from '../../daemon/log.js';
import type { ActivationRecord } from '../../model/activation.js';
import type { Invocation, InvokeRequest, Invoker, Unavailable } from '../invoker.js';
import { actionInfoOf, initParameters, type ActionInfo } from './action-info.js';
import { AgentLinks } from './agent-links.js';
import { classifyExit, classifyInitReply, classifyRunReply, classifyTimeout, internalError, runRefused, type Classified, type ExitKind } from './classify.js';
import { ContainerHttp, type ExchangeResult } from './container-http.js';
import { ContainerTable, toOwned, type TableEntry } from './container-table.js';
import { acquiresToSend, OverflowBuffer, waitersToFailOnReject, type Waiting } from './overflow-buffer.js';
import { buildRecord, finalLogs } from './record.js';
import { SchedulerLink, type AcquireAnswer } from './scheduler-link.js';

/**
 * When the connection to a container dies mid-request, the agent may not have seen the process exit
 * yet; it is given this long, so that an out-of-memory kill is told apart from a crash.
 */
const EXIT_WAIT_MS = 2_000;

export interface BalancerOptions {
  controllerId: string;
  /** the scheduler's ws:// URL */
  schedulerUrl: string;
  /** cluster token */
  token: string;
  /** pause a container after this long with nothing in flight; default 1000 ms */
  pauseGraceMs?: number;
  /** release a container to the scheduler after this long idle; default 600 000 ms (10 min) */
  idleTimeoutMs?: number;
  /** most requests waiting for a container per action; default 256 */
  overflowLimit?: number;
  /** most acquires outstanding per action; default 16 */
  maxOutstandingAcquires?: number;
  /**
   * How long a buffered request waits for a container, from its receipt; default 60 000 ms (the
   * longest a blocking invoke waits). It is the deadline its acquire carries to the scheduler.
   */
  acquireWaitMs?: number;
  /** period of usage batches, idle releases and waiter expiry; default 1000 ms */
  usageIntervalMs?: number;
  /** timeout of pause/destroy requests to agents; default 5000 ms */
  agentRequestTimeoutMs?: number;
  /**
   * How long a resume may take, connecting to the agent included, before the container is given up
   * and the requests waiting on it move to another one; default 2000 ms (a resume normally takes
   * well under a millisecond with the process backend, tens of ms with docker).
   */
  resumeTimeoutMs?: number;
  /**
   * How many times one activation is moved to another container because its container could not
   * be made ready before the run; past it the activation ends as a whisk internal error. Default 2.
   */
  maxRequeues?: number;
  /** how long log collection may take per activation; default 10 000 ms */
  logsTimeoutMs?: number;
  /** how long close() waits for activations in flight; default 10 000 ms */
  closeTimeoutMs?: number;
  log?: LogFn;
  /** test seam: the WebSocket client factory (default connectWs) */
  connect?: (options: WsClientOptions) => WsClient;
}

/** Counters for the live view and tests. */
export interface BalancerStats {
  containers: number;
  inFlight: number;
  waiting: number;
  outstandingAcquires: number;
}

/** One action revision's load, for the live view (see `Balancer.actionLoads`). */
export interface ActionLoad {
  /** actionKey: `namespace/name@revision` */
  key: string;
  containers: number;
  inFlight: number;
  waiting: number;
}

/** A container as the balancer tracks it: the table's fields plus its HTTP pool and lifecycle state. */
interface Slot extends TableEntry {
  readonly info: ActionInfo;
  readonly http: ContainerHttp;
  initialized: boolean;
  /** the shared /init of a fresh container */
  init: Promise<InitResult> | undefined;
  resuming: Promise<void> | undefined;
  pausing: Promise<void> | undefined;
  /** one timer per container, re-armed with refresh() so that going idle allocates nothing */
  readonly pauseTimer: NodeJS.Timeout;
}

type InitResult = { ok: true; start: number; end: number } | { ok: false; start: number; end: number; result: ExchangeResult };

/** One accepted activation: its request, its two promises and (while buffered) its deadline. It is the Invocation handed out. */
class Pending implements Waiting, Invocation {
  readonly response: Promise<ActivationRecord>;
  readonly record: Promise<ActivationRecord>;
  resolveResponse!: (record: ActivationRecord) => void;
  resolveRecord!: (record: ActivationRecord) => void;
  unavailable: Unavailable | undefined;
  /** how many times it was put back into the buffer because its container could not be made ready */
  requeues = 0;

  constructor(
    readonly request: InvokeRequest,
    readonly info: ActionInfo,
    readonly deadline: number,
  ) {
    this.response = new Promise((resolve) => {
      this.resolveResponse = resolve;
    });
    this.record = new Promise((resolve) => {
      this.resolveRecord = resolve;
    });
  }

  get activationId(): string {
    return this.request.activationId;
  }
}

const SHUTTING_DOWN: Unavailable = { limit: 'shuttingDown', message: 'The controller is shutting down; the activation was not run.' };

export class Balancer implements Invoker {
  private readonly table = new ContainerTable<Slot>();
  private readonly buffer: OverflowBuffer<Pending>;
  private readonly scheduler: SchedulerLink;
  private readonly agents: AgentLinks;
  private readonly log: LogFn;
  private readonly pauseGraceMs: number;
  private readonly idleTimeoutMs: number;
  private readonly acquireWaitMs: number;
  private readonly logsTimeoutMs: number;
  private readonly closeTimeoutMs: number;
  private readonly maxRequeues: number;
  private readonly ticker: NodeJS.Timeout;
  /** activations between acceptance and their final record */
  private active = 0;
  private onIdle: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: BalancerOptions) {
    this.log = options.log ?? silentLog;
    this.pauseGraceMs = options.pauseGraceMs ?? 1_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 600_000;
    this.acquireWaitMs = options.acquireWaitMs ?? 60_000;
    this.logsTimeoutMs = options.logsTimeoutMs ?? 10_000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.maxRequeues = options.maxRequeues ?? 2;
    this.buffer = new OverflowBuffer<Pending>({ limit: options.overflowLimit, maxOutstanding: options.maxOutstandingAcquires });
    this.agents = new AgentLinks({
      token: options.token,
      controllerId: options.controllerId,
      requestTimeoutMs: options.agentRequestTimeoutMs,
      resumeTimeoutMs: options.resumeTimeoutMs,
      log: this.log,
      connect: options.connect,
    });
    this.scheduler = new SchedulerLink({
      url: options.schedulerUrl,
      token: options.token,
      controllerId: options.controllerId,
      owned: () => this.table.snapshot(),
      onMessage: (message) => this.onSchedulerMessage(message),
      onDisconnected: () => this.log('warn', 'scheduler connection lost; new containers cannot be acquired until it is back'),
      onRefused: (error) => this.log('error', error.message, { code: error.code }),
      connect: options.connect,
    });
    this.ticker = setInterval(() => this.tick(), options.usageIntervalMs ?? 1_000);
    this.ticker.unref();
  }

  /** Resolves once the scheduler connection is up (the daemon waits for it before serving). */
  whenSchedulerConnected(timeoutMs?: number): Promise<void> {
    return this.scheduler.whenConnected(timeoutMs);
  }

  /** Whether the scheduler connection is up (when down, requests without a warm container fail fast). */
  get schedulerConnected(): boolean {
    return this.scheduler.connected;
  }

  stats(): BalancerStats {
    let inFlight = 0;
    for (const entry of this.table.all()) inFlight += entry.inFlight;
    let waiting = 0;
    let outstanding = 0;
    for (const key of this.buffer.keys()) {
      waiting += this.buffer.waiting(key);
      outstanding += this.buffer.outstanding(key);
    }
    return { containers: this.table.size, inFlight, waiting, outstandingAcquires: outstanding };
  }

  /**
   * Per action revision (by `actionKey`): containers owned, activations running on them and requests
   * waiting in the overflow buffer. For the live view: O(containers + buffered actions) per call.
   */
  actionLoads(): ActionLoad[] {
    const loads = new Map<string, ActionLoad>();
    const of = (key: string): ActionLoad => {
      let load = loads.get(key);
      if (load === undefined) loads.set(key, (load = { key, containers: 0, inFlight: 0, waiting: 0 }));
      return load;
    };
    for (const entry of this.table.all()) {
      const load = of(entry.key);
      load.containers += 1;
      load.inFlight += entry.inFlight;
    }
    for (const key of this.buffer.keys()) {
      const waiting = this.buffer.waiting(key);
      if (waiting > 0) of(key).waiting += waiting;
    }
    return [...loads.values()];
  }

  invoke(request: InvokeRequest): Invocation {
    const info = actionInfoOf(request.action);
    const pending = new Pending(request, info, request.receivedAt + this.acquireWaitMs);
    if (this.closing !== undefined) {
      this.fail(pending, SHUTTING_DOWN);
      return pending;
    }
    // The hot path: a warm container with a free slot.
    const entry = this.table.pick(info.key);
    if (entry !== undefined) {
      this.start(entry, pending);
      return pending;
    }
    if (!this.scheduler.connected) {
      this.fail(pending, noCapacity('schedulerUnavailable', 'The scheduler is not reachable; no new containers can be placed.'));
      return pending;
    }
    if (!this.buffer.enqueue(info.key, pending)) {
      throw new ThrottledError(
        'overflowBuffer',
        `Too many requests waiting for a container of action ${info.path} (limit: ${this.buffer.limit}).`,
        { hint: 'Retry later, or raise the controller overflow limit.' },
      );
    }
    this.active += 1;
    this.pump(info);
    return pending;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ---------------------------------------------------------------- acquiring containers

  /** Sends as many acquires as the action's waiters need (see acquiresToSend). */
  private pump(info: ActionInfo): void {
    const count = acquiresToSend({
      waiting: this.buffer.waiting(info.key),
      outstanding: this.buffer.outstanding(info.key),
      concurrency: info.concurrency,
      maxOutstanding: this.buffer.maxOutstanding,
    });
    if (count === 0) return;
    for (const deadline of this.buffer.beginAcquires(info.key, count, info.concurrency)) {
      void this.scheduler.acquire(info.ref, deadline, Date.now()).then((answer) => this.onAcquireAnswer(info, answer));
    }
  }

  private onAcquireAnswer(info: ActionInfo, answer: AcquireAnswer): void {
    this.buffer.endAcquire(info.key);
    if (answer.kind === 'granted') {
      if (this.closing !== undefined) {
        this.scheduler.release([answer.container.containerId], 'shutdown');
        return;
      }
      this.adopt(info, answer.container);
      this.drain(info.key);
      this.pump(info);
      return;
    }
    this.log('info', 'acquire rejected', { action: info.path, limit: answer.limit, message: answer.message });
    const count = waitersToFailOnReject({
      waiting: this.buffer.waiting(info.key),
      outstanding: this.buffer.outstanding(info.key),
      concurrency: info.concurrency,
    });
    const message = noCapacity(answer.limit, answer.message);
    for (const pending of this.buffer.takeOldest(info.key, count)) this.failAccepted(pending, message);
  }

  /** Adds a granted container to the table (it needs /init before its first run). */
  private adopt(info: ActionInfo, granted: GrantedContainer): Slot | undefined {
    if (this.table.get(granted.containerId) !== undefined) return undefined;
    const entry = this.table.add(
      {
        containerId: granted.containerId,
        agentId: granted.agentId,
        agentUrl: granted.agentUrl,
        address: granted.address,
        action: info.ref,
        key: info.key,
        concurrency: info.concurrency,
        info,
        http: new ContainerHttp({ address: granted.address, connections: info.concurrency }),
        initialized: false,
        init: undefined,
        resuming: undefined,
        pausing: undefined,
        pauseTimer: undefined as unknown as NodeJS.Timeout,
      },
      Date.now(),
    );
    (entry as { pauseTimer: NodeJS.Timeout }).pauseTimer = setTimeout(() => this.onPauseTimer(entry), this.pauseGraceMs).unref();
    // Open the agent connection now, so pause/resume/logs never wait for a handshake.
    this.agents.warm(granted.agentUrl);
    return entry;
  }

  /** Starts buffered requests of the action on free slots, oldest first. */
  private drain(key: string): void {
    while (this.buffer.waiting(key) > 0) {
      const entry = this.table.pick(key);
      if (entry === undefined) return;
      const pending = this.buffer.shift(key);
      if (pending === undefined) return;
      this.active -= 1; // start() counts it again
      this.start(entry, pending);
    }
  }

  // ---------------------------------------------------------------- running an activation

  private start(entry: Slot, pending: Pending): void {
    this.table.take(entry);
    this.active += 1;
    void this.execute(entry, pending);
  }

  private async execute(entry: Slot, pending: Pending): Promise<void> {
    const { info, request } = pending;
    let phase: 'init' | 'run' = 'run';
    let start = 0;
    let initTime: number | undefined;
    let result: ExchangeResult | undefined;
    let failure: string | undefined;
    /** set only when this run waited for its container's resume (the record's `resumeTime`) */
    let resumeTime: number | undefined;
    if (entry.paused || entry.resuming !== undefined) {
      const resumeStart = Date.now();
      try {
        await this.ensureRunning(entry);
      } catch (error) {
        // Nothing reached the container: move the activation to another one.
        this.notReady(entry, pending, error);
        return;
      }
      resumeTime = Date.now() - resumeStart;
    }
    // From here on the activation reached the container (init or run was sent), so its logs are
    // collected; one that never did ends in notReady() or fail(), whose records have no logs.
    try {
      if (!entry.initialized) {
        const own = entry.init === undefined;
        if (own) entry.init = this.runInit(entry, pending);
        const init = await (entry.init as Promise<InitResult>);
        if (own) {
          start = init.start;
          initTime = init.end - init.start;
        }
        if (!init.ok) {
          phase = 'init';
          result = init.result;
          if (!own) start = Date.now();
        }
      }
      if (result === undefined) {
        const runStart = Date.now();
        if (start === 0) start = runStart;
        result = await entry.http.run(this.runBody(pending, runStart + info.timeoutMs), info.timeoutMs);
        if (result.kind === 'unreachable') {
          // The container went away after its last activation (it crashed, or was killed) and the
          // news has not arrived yet: this activation never reached it, so it runs elsewhere.
          this.notReady(entry, pending, result.error);
          return;
        }
        if (result.kind === 'reply' && runRefused(result.reply)) {
          // The runtime did not start it (e.g. stopped after another activation's fatal error).
          this.notReady(entry, pending, new Error(`the container refused the run (${result.reply.status}): ${result.reply.text.slice(0, 200)}`));
          return;
        }
      }
    } catch (error) {
      failure = `The container of the action could not be used: ${messageOf(error)}`;
    }
    const end = Date.now();
    if (start === 0) start = end;

    let classified: Classified;
    let exitLogs: Awaited<ReturnType<AgentLinks['collectLogs']>> | undefined | null;
    if (failure !== undefined || result === undefined) {
      classified = { response: internalError(failure ?? 'The activation ended without a result.'), developerError: false, timedOut: false };
    } else if (result.kind === 'reply') {
      classified = phase === 'init' ? (classifyInitReply(result.reply) ?? classifyRunReply(result.reply)) : classifyRunReply(result.reply);
    } else if (result.kind === 'timeout') {
      classified = classifyTimeout(phase, info.timeoutMs);
    } else if (result.kind === 'died') {
      // Ask the agent why: its answer (and the logs up to the exit) decide between OOM and exit.
      exitLogs = await this.collect(entry, pending, false, EXIT_WAIT_MS);
      const exit: ExitKind = exitLogs?.exit === undefined ? undefined : exitLogs.exit.reason === 'oom' ? 'oom' : 'other';
      classified = classifyExit(phase, exit);
    } else {
      failure = `The controller lost its connection to the container: ${messageOf(result.error)}`;
      classified = { response: internalError(failure), developerError: false, timedOut: false };
    }

    const record = buildRecord({
      info,
      subject: request.subject,
      activationId: request.activationId,
      receivedAt: request.receivedAt,
      start,
      end,
      initTime,
      resumeTime,
      timedOut: classified.timedOut,
      response: classified.response,
    });
    pending.resolveResponse(record);

    const discard = classified.developerError || failure !== undefined;
    let discarded = false;
    if (discard) {
      // Nothing new may start on it; destroy follows log collection (the logs live in the container's output).
      discarded = this.table.remove(entry);
      this.table.give(entry, end);
      this.forget(entry);
      this.pump(info);
    } else {
      this.table.give(entry, end);
      if (!entry.present) {
        if (entry.inFlight === 0) void entry.http.close();
      } else if (this.buffer.waiting(info.key) > 0) {
        this.drain(info.key);
      } else if (entry.inFlight === 0) {
        entry.pauseTimer.refresh();
      }
    }

    let logs: string[];
    try {
      logs = await this.logsFor(entry, pending, classified.developerError, exitLogs);
    } catch {
      logs = [];
    }
    pending.resolveRecord({ ...record, logs });

    if (discarded) {
      const reason: ExitReason = classified.timedOut ? 'timeout' : exitLogs?.exit?.reason === 'oom' ? 'oom' : 'destroyed';
      await this.agents.destroy(entry.agentUrl, entry.containerId, reason).catch((error: unknown) => {
        this.log('warn', 'destroy of a failed container did not succeed', { containerId: entry.containerId, error: messageOf(error) });
      });
      this.scheduler.release([entry.containerId], 'failed');
    }
    if (discard && entry.inFlight === 0) void entry.http.close();
    this.settled();
  }

  /**
   * The container of a started activation could not be made ready before the run (resume failed
   * or timed out, agent unreachable). Every activation waiting on that resume comes here: the first
   * drops the container (timers stopped, released as `failed`: the scheduler destroys it through
   * its agent, or writes it off with the agent); each puts its activation back at the front of the
   * buffer (same receipt time and deadline) unless it was moved too often already, then drains and
   * pumps so that a free or new container takes it.
   */
  private notReady(entry: Slot, pending: Pending, error: unknown): void {
    const reason = messageOf(error);
    const removed = this.table.remove(entry);
    // Its slot is freed after the removal, so the container never goes back into a free list.
    this.table.give(entry, Date.now());
    if (removed) {
      this.forget(entry);
      this.scheduler.release([entry.containerId], 'failed');
      this.log('warn', 'container could not be made ready; moving its requests to another container', {
        containerId: entry.containerId,
        agentUrl: entry.agentUrl,
        error: reason,
      });
    }
    if (entry.inFlight === 0) void entry.http.close();

    // start() counted it in `active`: it stays counted while buffered again (as invoke() counts a
    // buffered request; drain() hands it back to start()), and settled() ends it.
    if (this.closing !== undefined) {
      this.failAccepted(pending, SHUTTING_DOWN);
      return;
    }
    if (pending.requeues >= this.maxRequeues) {
      // A platform failure, not a want of capacity: a record like any other (no `unavailable`, so a
      // blocking invoke answers with the record, as for other whisk internal errors).
      this.endUnrun(pending, `The container of the action could not be used: ${reason} (gave up after ${pending.requeues + 1} containers).`);
      this.settled();
      return;
    }
    pending.requeues += 1;
    this.buffer.requeue(pending.info.key, pending);
    this.drain(pending.info.key);
    this.pump(pending.info);
  }

  /** The /init of a fresh container; never rejects. */
  private async runInit(entry: Slot, pending: Pending): Promise<InitResult> {
    const { info, request } = pending;
    const doc = info.doc;
    const start = Date.now();
    const env: Record<string, string> = {
      __OW_NAMESPACE: request.subject,
      __OW_ACTION_NAME: info.qualifiedName,
      __OW_ACTION_VERSION: doc.version,
      __OW_ACTIVATION_ID: request.activationId,
      __OW_TRANSACTION_ID: request.activationId,
      __OW_DEADLINE: String(start + info.timeoutMs),
    };
    if (info.provideApiKey) env.__OW_API_KEY = request.apiKey;
    Object.assign(env, initParameters(doc));
    const body = JSON.stringify({
      value: { name: doc.name, main: doc.exec.main ?? 'main', binary: doc.exec.binary, code: doc.exec.code, env },
    });
    let result: ExchangeResult;
    try {
      result = await entry.http.init(body, info.timeoutMs);
    } catch (error) {
      result = { kind: 'error', error };
    }
    const end = Date.now();
    if (result.kind === 'reply' && result.reply.status === 200) {
      entry.initialized = true;
      entry.init = undefined;
      return { ok: true, start, end };
    }
    return { ok: false, start, end, result };
  }

  private runBody(pending: Pending, deadline: number): string {
    const { request, info } = pending;
    return JSON.stringify({
      value: request.params,
      namespace: request.subject,
      action_name: info.qualifiedName,
      action_version: info.doc.version,
      activation_id: request.activationId,
      transaction_id: request.activationId,
      deadline: String(deadline),
      api_key: info.provideApiKey ? request.apiKey : undefined,
    });
  }

  /** The record's logs: collected by the agent (or already collected after an exit), with notices appended. */
  private async logsFor(
    entry: Slot,
    pending: Pending,
    developerError: boolean,
    already: Awaited<ReturnType<AgentLinks['collectLogs']>> | undefined | null,
  ): Promise<string[]> {
    const limitBytes = pending.info.logLimitBytes;
    if (limitBytes === 0) return [];
    const collected = already === undefined ? await this.collect(entry, pending, !developerError) : already;
    return finalLogs(
      {
        lines: collected?.logs ?? [],
        truncated: collected?.truncated ?? false,
        limitBytes,
        issue: collected === null || collected.error !== undefined,
        developerError,
      },
      new Date(),
    );
  }

  /** logs.collect; null when the agent could not be asked or did not answer. */
  private async collect(entry: Slot, pending: Pending, waitForSentinels: boolean, awaitExitMs = 0) {
    try {
      return await this.agents.collectLogs(entry.agentUrl, {
        containerId: entry.containerId,
        activationId: pending.request.activationId,
        limitBytes: pending.info.logLimitBytes,
        waitForSentinels,
        awaitExitMs,
        timeoutMs: this.logsTimeoutMs + awaitExitMs,
      });
    } catch (error) {
      this.log('warn', 'log collection failed', { containerId: entry.containerId, error: messageOf(error) });
      return null;
    }
  }

  /** Ends an activation that never reached a container (accepted or not) with a whisk internal error. */
  private fail(pending: Pending, unavailable: Unavailable): void {
    pending.unavailable = unavailable;
    this.endUnrun(pending, unavailable.message);
  }

  /** Resolves both promises of an activation that never reached a container: a whisk internal error, no logs. */
  private endUnrun(pending: Pending, message: string): void {
    const now = Date.now();
    const record = buildRecord({
      info: pending.info,
      subject: pending.request.subject,
      activationId: pending.request.activationId,
      receivedAt: pending.request.receivedAt,
      start: now,
      end: now,
      timedOut: false,
      response: internalError(message),
    });
    pending.resolveResponse(record);
    pending.resolveRecord(record);
  }

  /** fail() for a buffered activation (counted in `active`). */
  private failAccepted(pending: Pending, unavailable: Unavailable): void {
    this.fail(pending, unavailable);
    this.settled();
  }

  private settled(): void {
    this.active -= 1;
    if (this.active === 0 && this.onIdle !== undefined) this.onIdle();
  }

  // ---------------------------------------------------------------- pause and resume

  private ensureRunning(entry: Slot): Promise<void> {
    if (entry.resuming === undefined) {
      const resuming = this.resume(entry).finally(() => {
        entry.resuming = undefined;
      });
      entry.resuming = resuming;
    }
    return entry.resuming;
  }

  private async resume(entry: Slot): Promise<void> {
    if (entry.pausing !== undefined) await entry.pausing;
    if (!entry.paused) return;
    await this.agents.resume(entry.agentUrl, entry.containerId);
    this.table.setPaused(entry, false);
  }

  private onPauseTimer(entry: Slot): void {
    if (!entry.present || entry.inFlight > 0 || entry.paused || entry.resuming !== undefined || this.closing !== undefined) return;
    this.table.setPaused(entry, true);
    entry.pausing = this.agents.pause(entry.agentUrl, entry.containerId).then(
      () => {
        entry.pausing = undefined;
      },
      (error: unknown) => {
        entry.pausing = undefined;
        // Still running: keep using it as a running container.
        this.table.setPaused(entry, false);
        this.log('warn', 'pause failed', { containerId: entry.containerId, error: messageOf(error) });
      },
    );
  }

  // ---------------------------------------------------------------- scheduler messages, periodic work

  private onSchedulerMessage(message: Message): void {
    switch (message.type) {
      case 'evict': {
        const entry = this.table.get(message.containerId);
        // Busy, or needed by waiters: ignore; the scheduler asks again or looks elsewhere.
        if (entry === undefined || entry.inFlight > 0 || this.buffer.waiting(entry.key) > 0 || entry.resuming !== undefined) return;
        this.table.remove(entry);
        this.forget(entry);
        void entry.http.close();
        this.scheduler.release([entry.containerId], 'evicted');
        return;
      }
      case 'container.gone': {
        const entry = this.table.get(message.containerId);
        if (entry === undefined) return;
        this.table.remove(entry);
        this.forget(entry);
        // Runs in flight fail on their own (and are classified); close the pool when none is.
        if (entry.inFlight === 0) void entry.http.close();
        this.pump(entry.info);
        return;
      }
      case 'acquire.granted':
        // A grant that arrived after its acquire gave up: not wanted, hand it back.
        this.scheduler.release([message.container.containerId], 'idle');
        return;
      default:
        this.log('debug', 'unexpected message from scheduler', { type: message.type });
    }
  }

  /** Usage batch, idle releases, expiry of buffered requests past their deadline. */
  private tick(): void {
    const now = Date.now();
    for (const { item } of this.buffer.expire(now)) {
      this.failAccepted(item, noCapacity('acquireWait', `No container became available within ${this.acquireWaitMs} ms.`));
    }
    const idle: string[] = [];
    for (const entry of this.table.idleSince(now, this.idleTimeoutMs)) {
      if (this.buffer.waiting(entry.key) > 0 || entry.pausing !== undefined || entry.resuming !== undefined) continue;
      this.table.remove(entry);
      this.forget(entry);
      void entry.http.close();
      idle.push(entry.containerId);
    }
    this.scheduler.release(idle, 'idle');
    this.scheduler.usage(this.table.takeChanged().map(toOwned));
    const inUse = new Set<string>();
    for (const entry of this.table.all()) inUse.add(entry.agentUrl);
    for (const url of this.agents.prune(inUse)) this.log('debug', 'closed the link to an agent no container uses', { agentUrl: url });
  }

  /** Stops a removed container's timers. */
  private forget(entry: Slot): void {
    clearTimeout(entry.pauseTimer);
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.ticker);
    for (const { item } of this.buffer.drainAll()) this.failAccepted(item, SHUTTING_DOWN);
    if (this.active > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.closeTimeoutMs);
        timer.unref();
        this.onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const owned = [...this.table.all()];
    for (const entry of owned) {
      this.table.remove(entry);
      this.forget(entry);
    }
    this.scheduler.release(
      owned.map((e) => e.containerId),
      'shutdown',
    );
    await Promise.all(owned.map((e) => e.http.close()));
    await this.agents.close();
    await this.scheduler.close();
  }
}

/** The whisk-internal-error text of an activation that could not get a container. */
export function noCapacity(limit: string, message: string): Unavailable {
  return { limit, message: `No capacity to run this action (${limit}): ${message}` };
}

/** Builds the balancer (the controller's Invoker). It connects to the scheduler at once and reconnects by itself. */
export function createBalancer(options: BalancerOptions): Balancer {
  return new Balancer(options);
}
