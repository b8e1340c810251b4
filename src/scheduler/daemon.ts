/**
 * The scheduler daemon: a thin shell around the pure pool policy. It accepts agents and controllers
 * on one WebSocket server, feeds their messages to the pool and the policy, and carries out each
 * decision by sending messages. All state is soft: agents and controllers report theirs again when
 * they (re)connect, so a restarted scheduler rebuilds the pool without a store.
 *
 * Concurrency: every handler runs to completion on the event loop, so decisions always see one
 * consistent pool; nothing here awaits between reading the pool and changing it.
 *
 * Identity: request ids are only unique per controller (each numbers its acquires q1, q2, …), so an
 * acquire is tracked as its `QueueEntry` object (queue removal, `creating`, `entryConn`, replies go
 * to the entry's own connection) and, in the pool, as (`controllerId`, `requestId`); never by
 * `requestId` alone.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { createLogger, type LogFn } from '../daemon/log.js';
import { ConfigError } from '../errors.js';
import { CloseCode, MAX_DECISIONS_PER_REPLY, type ExitReason, type Message, type MessageOf, type MessageType, type Role } from '../daemon/protocol.js';
import { startWsServer, type Connection } from '../daemon/transport.js';
import { actionKey, type ActionRef } from '../model/action.js';
import { Pool, type AgentView, type AssignedContainer, type ContainerEffect, type ContainerView } from './pool.js';
import { cannotBeServed, decideAcquire, decideStemCells, type Decision, type PolicyConfig, type StemCellCreate, type StemCellSpec } from './policy.js';
import { DecisionLog, DEFAULT_DECISION_LOG_SIZE, inputsOf, type DecisionRecord } from './decision-log.js';
import { PLACEMENT_STRATEGIES, type PlacementStrategy } from './placement.js';
import { AcquireQueue, DEFAULT_QUEUE_SIZE, type QueueEntry } from './queue.js';
import { metricsHttpHandler } from '../daemon/metrics.js';
import { createSchedulerMetrics } from './metrics.js';
import { buildClusterWatch, ClusterWatchPublisher } from './watch.js';
import { WATCH_LIMITS } from '../watch/snapshot.js';


export interface SchedulerOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 (ephemeral) */
  port?: number;
  /** cluster token */
  token: string;
  /** default `scheduler-<random>` */
  schedulerId?: string;
  /** stem cells kept on every agent where memory allows; default none (the embedded setup passes 1 × nodejs:20/256) */
  stemCells?: StemCellSpec[];
  /** `maxSize` default 1000 */
  queue?: { maxSize?: number };
  /** where new containers go: `pack` (default) or `spread`; see placement.ts */
  placement?: PlacementStrategy;
  /** prefer agents that already hold an action's code, default true */
  locality?: boolean;
  /** decisions kept in the decision log (read with `decisions.request`), default 1000 */
  decisionLogSize?: number;
  /** how long containers of a disconnected controller/agent (and unclaimed ones) are kept before being written off, default 30 s */
  peerGraceMs?: number;
  /** how long an owner may take to release an evicted container before the eviction counts as refused, default 5 s */
  evictTimeoutMs?: number;
  /** after a stem cell fails to start on an agent, no new stem cells there for this long, default 5 s */
  stemCellRetryMs?: number;
  /** period of the housekeeping tick (queue deadlines, grace expiry, eviction timeouts), default 200 ms */
  tickMs?: number;
  /** WebSocket heartbeat, default 10 s */
  heartbeatMs?: number;
  /** default Date.now */
  clock?: () => number;
  /** default: warn and error as JSON lines on stderr */
  log?: LogFn;
  /** bearer token `GET /metrics` on the scheduler's port requires; default none (open) */
  metricsToken?: string;
}

/** A copy of the scheduler's state, for status views and tests. */
export interface SchedulerState {
  agents: AgentView[];
  containers: ContainerView[];
  queue: QueueEntry[];
}

export interface RunningScheduler {
  url: string;
  port: number;
  /** the current pool and queue (a copy; cheap enough for a status view, not for a hot loop) */
  state(): SchedulerState;
  /** the newest entries of the decision log, oldest first (as `decisions.request` answers) */
  decisions(options?: { limit?: number; afterSeq?: number }): DecisionRecord[];
  close(): Promise<void>;
}

/** The default stem cells of the embedded setup: one nodejs:20 / 256 MB per agent. */
export const EMBEDDED_STEM_CELLS: readonly StemCellSpec[] = [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }];

const defaultLog: LogFn = createLogger({ component: 'scheduler', level: 'warn', format: 'json' });

/** One accepted connection and who it registered as. */
interface Peer {
  readonly conn: Connection;
  /** agentId / controllerId: from the registration, else the hello id */
  id: string;
}

interface ControllerState {
  conn: Connection | undefined;
  lostSince: number | undefined;
}

type Handler<T extends MessageType> = (peer: Peer, message: MessageOf<T>) => void;
type HandlerTable = { [T in MessageType]?: { roles: readonly Role[]; handle: Handler<T> } };

function describe(action: ActionRef): string {
  return `${action.namespace}/${action.name}`;
}

const positiveMs = z.number().int().positive().max(24 * 3600_000);
const optionsSchema = z.object({
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  token: z.string().min(1),
  schedulerId: z.string().min(1).max(200).optional(),
  stemCells: z
    .array(z.object({ kind: z.string().min(1).max(64), memoryMB: z.number().int().positive(), count: z.number().int().nonnegative().max(1000) }))
    .max(100)
    .optional(),
  queue: z.object({ maxSize: z.number().int().positive().max(1_000_000).optional() }).optional(),
  placement: z.enum(PLACEMENT_STRATEGIES as [PlacementStrategy, ...PlacementStrategy[]]).optional(),
  locality: z.boolean().optional(),
  decisionLogSize: z.number().int().nonnegative().max(100_000).optional(),
  peerGraceMs: positiveMs.optional(),
  evictTimeoutMs: positiveMs.optional(),
  stemCellRetryMs: positiveMs.optional(),
  tickMs: positiveMs.optional(),
  heartbeatMs: positiveMs.optional(),
});

/**
 * Starts the scheduler; resolves once it listens. Throws ConfigError for invalid options.
 * `close()` stops the tick and the server (peers are disconnected and will reconnect elsewhere).
 */
export async function startScheduler(options: SchedulerOptions): Promise<RunningScheduler> {
  const checked = optionsSchema.safeParse({ ...options, clock: undefined, log: undefined });
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new ConfigError(`invalid scheduler options: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'schema mismatch'}`);
  }
  const clock = options.clock ?? Date.now;
  const log = options.log ?? defaultLog;
  const peerGraceMs = options.peerGraceMs ?? 30_000;
  const evictTimeoutMs = options.evictTimeoutMs ?? 5_000;
  const stemCellRetryMs = options.stemCellRetryMs ?? 5_000;
  const config: PolicyConfig = {
    stemCells: options.stemCells ?? [],
    maxQueueSize: options.queue?.maxSize ?? DEFAULT_QUEUE_SIZE,
    placement: options.placement ?? 'pack',
    locality: options.locality ?? true,
  };
  const decisionLog = new DecisionLog({ capacity: options.decisionLogSize ?? DEFAULT_DECISION_LOG_SIZE });

  const pool = new Pool();
  const queue = new AcquireQueue({ maxSize: config.maxQueueSize });
  const agentConns = new Map<string, Connection>();
  const controllers = new Map<string, ControllerState>();
  /** the connection each acquire arrived on: a reply goes only there (a reconnected controller has forgotten it) */
  const entryConn = new WeakMap<QueueEntry, Connection>();
  /** containers being created for an acquire → that acquire */
  const creating = new Map<string, QueueEntry>();
  const stemCellBackoff = new Map<string, number>();
  const metrics = createSchedulerMetrics({
    state: () => ({ agents: [...pool.agents.values()], containers: [...pool.containers.values()], queue: queue.list() }),
    queueCapacity: config.maxQueueSize,
  });

  const newContainerId = (): string => `c${randomBytes(8).toString('hex')}`;

  // ---------------------------------------------------------------- sending

  function sendToAgent(agentId: string, message: Message): boolean {
    const sent = agentConns.get(agentId)?.send(message) ?? false;
    if (!sent) log('debug', 'agent not reachable, message dropped', { agentId, type: message.type });
    return sent;
  }

  function sendToController(controllerId: string, message: Message): boolean {
    return controllers.get(controllerId)?.conn?.send(message) ?? false;
  }

  /** An acquire is still wanted when its connection is the controller's current one and its deadline has not passed. */
  function wanted(entry: QueueEntry, now: number): boolean {
    const conn = entryConn.get(entry);
    return conn !== undefined && controllers.get(entry.controllerId)?.conn === conn && now <= entry.deadline;
  }

  function replyTo(entry: QueueEntry, message: Message): boolean {
    const conn = entryConn.get(entry);
    return conn !== undefined && controllers.get(entry.controllerId)?.conn === conn && conn.send(message);
  }

  function reject(entry: QueueEntry, limit: string, message: string): void {
    log('info', 'acquire rejected', { requestId: entry.requestId, controllerId: entry.controllerId, limit });
    metrics.rejected(limit);
    replyTo(entry, { type: 'acquire.rejected', requestId: entry.requestId, limit, message });
  }

  /** A rejection the daemon decides itself (queue full, deadline passed, create failed): logged, then sent. */
  function rejectLogged(entry: QueueEntry, limit: string, message: string, now: number): void {
    decisionLog.record({
      at: now,
      decision: 'reject',
      reason: message,
      request: { controllerId: entry.controllerId, requestId: entry.requestId, action: entry.key, kind: entry.action.kind, memoryMB: entry.action.memoryMB, queued: true },
      limit,
      inputs: inputsOf(pool),
    });
    reject(entry, limit, message);
  }

  /**
   * The policy's decision for an acquire, recorded in the decision log. A queued acquire that stays
   * queued is not recorded again (the queue is re-offered on every tick).
   */
  function decide(entry: QueueEntry, queued: boolean, now: number): Decision {
    pool.queuedRequests = queue.size;
    const request = { ...entry, queued };
    const decision = decideAcquire(pool, request, config);
    if (!(queued && decision.kind === 'queue')) decisionLog.recordAcquire(pool, request, decision, now);
    return decision;
  }

  /** Sends the grant; false when the requester can no longer take it (the caller destroys the container). */
  function grant(entry: QueueEntry, container: AssignedContainer, fromStemCell: boolean): boolean {
    const agent = pool.agents.get(container.agentId);
    if (!agent || !container.address) return false;
    return replyTo(entry, {
      type: 'acquire.granted',
      requestId: entry.requestId,
      container: { containerId: container.containerId, agentId: container.agentId, agentUrl: agent.controlUrl, address: container.address, fromStemCell },
    });
  }

  function markAgentLost(agentId: string, now: number): void {
    const agent = pool.agents.get(agentId);
    if (agent?.connected) pool.setAgent({ ...agent, connected: false, lostSince: now });
  }

  // ---------------------------------------------------------------- applying transitions

  /** Puts an acquire whose container will not come back in its old queue place, if still wanted. */
  function requeue(entry: QueueEntry, now: number): void {
    if (!wanted(entry, now)) return;
    if (!queue.insert(entry)) rejectLogged(entry, 'schedulerQueue', `The scheduler queue is full (${config.maxQueueSize} acquires waiting); try again later.`, now);
  }

  function carry(effects: readonly ContainerEffect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'destroy':
          sendToAgent(effect.agentId, { type: 'container.destroy', containerId: effect.containerId, reason: effect.reason });
          break;
        case 'gone':
          sendToController(effect.controllerId, { type: 'container.gone', containerId: effect.containerId, reason: effect.reason });
          break;
        case 'createAborted':
          // The caller handles it through `creating`, which holds the entry with its connection.
          break;
        default: {
          const unreachable: never = effect;
          void unreachable;
        }
      }
    }
  }

  function destroy(containerId: string, reason: string, now: number): void {
    const entry = creating.get(containerId);
    creating.delete(containerId);
    const t = pool.apply(containerId, { type: 'destroy', reason });
    if (!t) return;
    carry(t.effects);
    if (entry) requeue(entry, now);
  }

  /** The container is gone on its agent (exited, failed, lost with its agent). */
  function gone(containerId: string, reason: ExitReason, now: number, createFailure?: string): void {
    const entry = creating.get(containerId);
    creating.delete(containerId);
    const t = pool.apply(containerId, { type: 'exited', reason });
    if (!t) return;
    carry(t.effects);
    if (!entry) return;
    if (createFailure !== undefined) {
      if (wanted(entry, now)) rejectLogged(entry, 'containerCreateFailed', createFailure, now);
    } else requeue(entry, now);
  }

  function startCreate(agentId: string, entry: QueueEntry, now: number): void {
    const containerId = newContainerId();
    const { action } = entry;
    pool.put({
      state: 'starting',
      containerId,
      agentId,
      kind: action.kind,
      memoryMB: action.memoryMB,
      purpose: { type: 'acquire', requestId: entry.requestId, controllerId: entry.controllerId, action, deadline: entry.deadline },
    });
    creating.set(containerId, entry);
    log('debug', 'creating container for acquire', { containerId, agentId, controllerId: entry.controllerId, requestId: entry.requestId });
    if (!sendToAgent(agentId, { type: 'container.create', containerId, kind: action.kind, memoryMB: action.memoryMB, prewarm: false, ...(action.image === undefined ? {} : { image: action.image }) })) {
      pool.remove(containerId);
      creating.delete(containerId);
      markAgentLost(agentId, now);
      requeue(entry, now);
    }
  }

  function startStemCell(create: StemCellCreate, now: number): void {
    const containerId = newContainerId();
    pool.put({ state: 'starting', containerId, agentId: create.agentId, kind: create.kind, memoryMB: create.memoryMB, purpose: { type: 'stemCell' } });
    log('debug', 'creating stem cell', { containerId, ...create });
    if (!sendToAgent(create.agentId, { type: 'container.create', containerId, kind: create.kind, memoryMB: create.memoryMB, prewarm: true })) {
      pool.remove(containerId);
      markAgentLost(create.agentId, now);
    }
  }

  // ---------------------------------------------------------------- decisions

  /**
   * Carries out one decision for `entry`. Returns true when the entry is finished (granted, being
   * created, or rejected) and false when it waits (in the queue; it is put there if it was not).
   */
  function apply(entry: QueueEntry, decision: Decision, queued: boolean, now: number): boolean {
    switch (decision.kind) {
      case 'assignStemCell': {
        if (queued) queue.remove(entry);
        const t = pool.apply(decision.containerId, { type: 'assign', owner: entry.controllerId, action: entry.action, now });
        if (t?.state?.state !== 'assigned' || !grant(entry, t.state, true)) {
          destroy(decision.containerId, 'not taken by its requester', now);
          return true;
        }
        log('debug', 'stem cell assigned', { containerId: decision.containerId, controllerId: entry.controllerId, requestId: entry.requestId });
        if (decision.backfill) startStemCell(decision.backfill, now);
        return true;
      }
      case 'create':
        if (queued) queue.remove(entry);
        startCreate(decision.agentId, entry, now);
        return true;
      case 'evictThenCreate': {
        if (!queued && queue.full) {
          rejectLogged(entry, 'schedulerQueue', `The scheduler queue is full (${config.maxQueueSize} acquires waiting); try again later.`, now);
          return true;
        }
        let waiting = false;
        for (const containerId of decision.evict) {
          const c = pool.containers.get(containerId);
          if (c?.state === 'prewarm') destroy(containerId, 'evicted for a create', now);
          else if (c?.state === 'assigned') {
            pool.apply(containerId, { type: 'evict', controllerId: entry.controllerId, requestId: entry.requestId, now });
            log('debug', 'asking owner to release', { containerId, owner: c.owner, controllerId: entry.controllerId, requestId: entry.requestId });
            sendToController(c.owner, { type: 'evict', containerId });
            waiting = true;
          }
        }
        if (!waiting) {
          // Only stem cells stood in the way and they are gone: decide again (a create now fits).
          return apply(entry, decide(entry, queued, now), queued, now);
        }
        if (!queued) queue.insert(entry);
        return false;
      }
      case 'queue':
        if (!queued) queue.insert(entry);
        return false;
      case 'reject':
        if (queued) queue.remove(entry);
        reject(entry, decision.limit, decision.message);
        return true;
      default: {
        const unreachable: never = decision;
        return unreachable;
      }
    }
  }

  /** Offers the queue's servable heads to the policy until none can be served, then refills stem cells. */
  function serve(): void {
    const now = clock();
    const skip = new Set<string>();
    // Smallest memory found impossible to place in this pass: larger heads are skipped without a
    // decision (unless a stem cell fits them), so a long queue costs one decision per pass, not one per head.
    let noRoomFor = Number.POSITIVE_INFINITY;
    for (let guard = queue.size * 2 + 2; guard > 0; guard--) {
      const entry = queue.nextServable(skip);
      if (!entry) break;
      if (!wanted(entry, now)) {
        queue.remove(entry);
        continue;
      }
      if (cannotBeServed(pool, entry.action, noRoomFor)) {
        skip.add(entry.key);
        continue;
      }
      const decision = decide(entry, true, now);
      // an image action waits for image-capable agents only: that says nothing about the others
      if (decision.kind === 'queue' && decision.waitingFor === 'capacity' && entry.action.image === undefined) noRoomFor = Math.min(noRoomFor, entry.action.memoryMB);
      if (!apply(entry, decision, true, now)) skip.add(entry.key);
    }
    pool.queuedRequests = queue.size;
    refillStemCells(now);
  }

  /**
   * Stem cells for the agents whose pool changed since the last refill (no other agent can have
   * fallen short), so a refill costs O(changed agents), not O(agents). While acquires wait, free
   * memory is theirs: the changes are kept for later.
   */
  function refillStemCells(now: number): void {
    if (config.stemCells.length === 0 || queue.size > 0) return;
    const changed = pool.takeChangedAgents();
    if (changed.length === 0) return;
    const exclude = new Set<string>();
    for (const [agentId, until] of stemCellBackoff) {
      if (until > now) exclude.add(agentId);
      else {
        stemCellBackoff.delete(agentId);
        changed.push(agentId);
      }
    }
    for (const agentId of exclude) pool.markChanged(agentId);
    const creates = decideStemCells(pool, config, { exclude, agents: new Set(changed) });
    if (creates.length === 0) return;
    decisionLog.recordStemCells(pool, creates, now);
    for (const create of creates) startStemCell(create, now);
  }

  // ---------------------------------------------------------------- handlers

  function onReady(containerId: string, address: { host: string; port: number }, now: number): void {
    const t = pool.apply(containerId, { type: 'ready', address, now });
    if (!t || t.ignored) return;
    const entry = creating.get(containerId);
    creating.delete(containerId);
    if (!entry) return;
    if (t.state?.state !== 'assigned' || !wanted(entry, now) || !grant(entry, t.state, false)) {
      log('info', 'created container no longer wanted, destroying it', { containerId, controllerId: entry.controllerId, requestId: entry.requestId });
      destroy(containerId, 'requester gone or deadline passed', now);
    }
  }

  const agentRegister: Handler<'agent.register'> = (peer, msg) => {
    const now = clock();
    peer.id = msg.agentId;
    agentConns.set(msg.agentId, peer.conn);
    pool.setAgent({ agentId: msg.agentId, controlUrl: msg.controlUrl, memoryMB: msg.memoryMB, connected: true, runsImages: msg.backend === 'docker' });
    backends.set(msg.agentId, msg.backend);
    const reported = new Map(msg.containers.map((c) => [c.containerId, c]));
    for (const c of pool.onAgent(msg.agentId)) {
      const r = reported.get(c.containerId);
      reported.delete(c.containerId);
      if (!r) {
        // The agent no longer has it (it restarted, or the container died while it was away).
        if (c.state === 'prewarm' || c.state === 'unclaimed') pool.remove(c.containerId);
        else gone(c.containerId, 'destroyed', now);
      } else if (c.state === 'starting') onReady(c.containerId, r.address, now);
      else if (c.state === 'assigned' && !c.address) pool.put({ ...c, address: r.address });
    }
    for (const r of reported.values()) {
      const base = { containerId: r.containerId, agentId: msg.agentId, kind: r.kind, memoryMB: r.memoryMB, address: r.address };
      // Assigned ones wait for their owner's controller.register; written off after the peer grace.
      pool.put(r.state === 'prewarm' ? { state: 'prewarm', ...base } : { state: 'unclaimed', ...base, since: now });
    }
    log('info', 'agent registered', { agentId: msg.agentId, memoryMB: msg.memoryMB, containers: msg.containers.length });
    serve();
  };

  const containerReady: Handler<'container.ready'> = (peer, msg) => {
    const c = pool.containers.get(msg.containerId);
    if (!c || c.agentId !== peer.id) {
      // Created for a request we have since given up on (e.g. the agent re-registered without it).
      peer.conn.send({ type: 'container.destroy', containerId: msg.containerId, reason: 'unknown to the scheduler' });
      return;
    }
    onReady(msg.containerId, msg.address, clock());
    serve();
  };

  const containerFailed: Handler<'container.failed'> = (peer, msg) => {
    const now = clock();
    const c = pool.containers.get(msg.containerId);
    if (!c || c.agentId !== peer.id) return;
    log('warn', 'container failed to start', { containerId: msg.containerId, agentId: peer.id, code: msg.error.code, message: msg.error.message });
    if (c.state === 'starting' && c.purpose.type === 'stemCell') stemCellBackoff.set(peer.id, now + stemCellRetryMs);
    gone(msg.containerId, 'crash', now, msg.error.message);
    serve();
  };

  const containerExited: Handler<'container.exited'> = (peer, msg) => {
    const now = clock();
    const c = pool.containers.get(msg.containerId);
    if (!c || c.agentId !== peer.id) return;
    log('info', 'container exited', { containerId: msg.containerId, reason: msg.reason });
    gone(msg.containerId, msg.reason, now, c.state === 'starting' ? `The container exited before it was ready (${msg.reason}${msg.detail ? `: ${msg.detail}` : ''}).` : undefined);
    serve();
  };

  const controllerRegister: Handler<'controller.register'> = (peer, msg) => {
    const now = clock();
    const controllerId = msg.controllerId;
    peer.id = controllerId;
    controllers.set(controllerId, { conn: peer.conn, lostSince: undefined });
    const claimed = new Set<string>();
    for (const o of msg.containers) {
      claimed.add(o.containerId);
      const c = pool.containers.get(o.containerId);
      const usage = { inFlight: o.inFlight, paused: o.paused, lastUsedAt: o.lastUsedAt };
      if (c === undefined) {
        const agent = pool.agents.get(o.agentId);
        if (agent?.connected) {
          // Its agent registered without it: it is gone.
          peer.conn.send({ type: 'container.gone', containerId: o.containerId, reason: 'destroyed' });
          continue;
        }
        // Its agent has not (re)registered yet: hold it, counted against that agent.
        if (!agent) pool.setAgent({ agentId: o.agentId, controlUrl: '', memoryMB: 0, connected: false, lostSince: now });
        pool.put({
          state: 'assigned',
          containerId: o.containerId,
          agentId: o.agentId,
          kind: o.action.kind,
          memoryMB: o.action.memoryMB,
          action: o.action,
          actionKey: actionKey(o.action),
          owner: controllerId,
          ...usage,
        });
      } else if (c.state === 'prewarm' || c.state === 'unclaimed') {
        pool.apply(o.containerId, { type: 'assign', owner: controllerId, action: o.action, now, ...usage });
      } else if (c.state === 'assigned' && c.owner === controllerId) {
        pool.apply(o.containerId, { type: 'usage', ...usage });
      } else {
        log('warn', 'controller claims a container it does not own; ignored', { controllerId, containerId: o.containerId, state: c.state });
      }
    }
    // What the scheduler holds for it but it no longer knows: nobody would ever release it.
    for (const c of pool.ownedBy(controllerId)) if (!claimed.has(c.containerId)) destroy(c.containerId, 'forgotten by its owner', now);
    log('info', 'controller registered', { controllerId, containers: msg.containers.length });
    serve();
  };

  const acquire: Handler<'acquire'> = (peer, msg) => {
    const now = clock();
    if (!controllers.has(peer.id)) controllers.set(peer.id, { conn: peer.conn, lostSince: undefined });
    const entry = queue.make({ requestId: msg.requestId, controllerId: peer.id, action: msg.action, deadline: msg.deadline }, now);
    entryConn.set(entry, peer.conn);
    // One line per action: a newcomer never overtakes an older acquire of the same action.
    if (queue.hasAction(entry.key)) {
      metrics.acquired('queue');
      if (!queue.insert(entry)) rejectLogged(entry, 'schedulerQueue', `The scheduler queue is full (${config.maxQueueSize} acquires waiting); try again later.`, now);
      else {
        decisionLog.record({
          at: now,
          decision: 'queue',
          reason: `behind ${queue.countOf(entry.key) - 1} older acquire(s) of this action: one line per action, served in arrival order`,
          request: { controllerId: entry.controllerId, requestId: entry.requestId, action: entry.key, kind: entry.action.kind, memoryMB: entry.action.memoryMB, queued: false },
          inputs: inputsOf(pool),
        });
      }
      return;
    }
    const decision = decide(entry, false, now);
    metrics.acquired(decision.kind);
    log('debug', 'acquire', { controllerId: peer.id, requestId: msg.requestId, action: describe(msg.action), decision: decision.kind });
    apply(entry, decision, false, now);
    if (decision.kind !== 'queue') serve();
  };

  const release: Handler<'release'> = (peer, msg) => {
    const now = clock();
    for (const containerId of msg.containerIds) {
      const c = pool.containers.get(containerId);
      if (c?.state === 'assigned' && c.owner === peer.id) destroy(containerId, `released (${msg.reason})`, now);
    }
    serve();
  };

  const usage: Handler<'usage'> = (peer, msg) => {
    let refused = false;
    for (const o of msg.containers) {
      const c = pool.containers.get(o.containerId);
      if (c?.state !== 'assigned' || c.owner !== peer.id) continue;
      // Read before the update: the pool updates its record in place.
      const wasEvicting = c.evicting !== undefined;
      const t = pool.apply(o.containerId, { type: 'usage', inFlight: o.inFlight, paused: o.paused, lastUsedAt: o.lastUsedAt });
      if (wasEvicting && t?.state?.state === 'assigned' && !t.state.evicting) refused = true;
    }
    if (refused) serve();
  };

  /** Read-only: the newest entries of the decision log, at most MAX_DECISIONS_PER_REPLY. */
  const decisionsRequest: Handler<'decisions.request'> = (peer, msg) => {
    const limit = Math.min(msg.limit ?? 100, MAX_DECISIONS_PER_REPLY);
    peer.conn.send({
      type: 'decisions',
      requestId: msg.requestId,
      entries: decisionLog.recent({ limit, ...(msg.afterSeq === undefined ? {} : { afterSeq: msg.afterSeq }) }),
      capacity: decisionLog.capacity,
      lastSeq: decisionLog.lastSeq,
    });
  };

  const table: HandlerTable = {
    'agent.register': { roles: ['agent'], handle: agentRegister },
    'container.ready': { roles: ['agent'], handle: containerReady },
    'container.failed': { roles: ['agent'], handle: containerFailed },
    'container.exited': { roles: ['agent'], handle: containerExited },
    'controller.register': { roles: ['controller'], handle: controllerRegister },
    acquire: { roles: ['controller'], handle: acquire },
    release: { roles: ['controller'], handle: release },
    usage: { roles: ['controller'], handle: usage },
    'decisions.request': { roles: ['controller', 'observer'], handle: decisionsRequest },
    'watch.subscribe': { roles: ['controller', 'observer'], handle: (peer) => watch.subscribe(peer.conn) },
    'watch.unsubscribe': { roles: ['controller', 'observer'], handle: (peer) => watch.unsubscribe(peer.conn) },
  };

  /** A peer that said goodbye (1000/1001) is routine; one whose connection broke is worth a warning. */
  function onClose(peer: Peer, code: number): void {
    const now = clock();
    watch.unsubscribe(peer.conn);
    if (peer.conn.role === 'observer') return;
    const level = code === CloseCode.normal || code === CloseCode.goingAway ? 'info' : 'warn';
    if (peer.conn.role === 'agent') {
      if (agentConns.get(peer.id) !== peer.conn) return; // replaced by a newer connection
      agentConns.delete(peer.id);
      markAgentLost(peer.id, now);
      log(level, 'agent disconnected', { agentId: peer.id, code });
      return;
    }
    const state = controllers.get(peer.id);
    if (state?.conn !== peer.conn) return;
    state.conn = undefined;
    state.lostSince = now;
    // Its pending acquires are dropped: the controller has failed them on its side already.
    queue.removeWhere((e) => entryConn.get(e) === peer.conn);
    log(level, 'controller disconnected', { controllerId: peer.id, code });
  }

  // ---------------------------------------------------------------- housekeeping

  function tick(): void {
    const now = clock();
    for (const entry of queue.expired(now)) {
      rejectLogged(
        entry,
        'queueDeadline',
        `Waited ${now - entry.enqueuedAt} ms in the scheduler queue for a container of ${entry.action.memoryMB} MB for action ${describe(entry.action)}; no capacity became free before the deadline.`,
        now,
      );
    }
    for (const [controllerId, state] of controllers) {
      if (state.conn || state.lostSince === undefined || now - state.lostSince < peerGraceMs) continue;
      controllers.delete(controllerId);
      for (const c of pool.ownedBy(controllerId)) destroy(c.containerId, 'owner controller lost', now);
      log('warn', 'controller written off', { controllerId });
    }
    for (const agent of [...pool.agents.values()]) {
      if (agent.connected || agent.lostSince === undefined || now - agent.lostSince < peerGraceMs) continue;
      for (const c of pool.onAgent(agent.agentId)) gone(c.containerId, 'destroyed', now);
      pool.removeAgent(agent.agentId);
      backends.delete(agent.agentId);
      log('warn', 'agent written off', { agentId: agent.agentId });
    }
    for (const c of pool.watchedContainers()) {
      if (c.state === 'unclaimed' && now - c.since >= peerGraceMs) destroy(c.containerId, 'not claimed by any controller', now);
      else if (c.state === 'assigned' && c.evicting && now - c.evicting.since >= evictTimeoutMs) pool.apply(c.containerId, { type: 'evictRefused' });
    }
    serve();
  }

  const schedulerId = options.schedulerId ?? `scheduler-${randomBytes(4).toString('hex')}`;
  // The live view's cluster data (src/scheduler/watch.ts): built only while someone subscribed.
  const backends = new Map<string, string>();
  const watch = new ClusterWatchPublisher({
    build: () => buildClusterWatch({ schedulerId, agents: pool.agents.values(), containers: pool.containers.values(), queue: { length: queue.size }, queueCapacity: config.maxQueueSize, decisions: decisionLog.recent({ limit: WATCH_LIMITS.decisions }), backends }),
  });
  const server = await startWsServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    token: options.token,
    serverId: schedulerId,
    roles: ['agent', 'controller', 'observer'],
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    onProtocolError: (peer, error) => log('warn', 'invalid message from peer', { peer, error: error.message }),
    httpHandler: metricsHttpHandler({ registry: metrics.registry, token: options.metricsToken }),
    onConnection: (conn) => {
      const peer: Peer = { conn, id: conn.peerId };
      return {
        onMessage: (message) => {
          const entry = table[message.type] as { roles: readonly Role[]; handle: (p: Peer, m: Message) => void } | undefined;
          if (!entry || !entry.roles.includes(conn.role)) {
            log('warn', 'unexpected message type for this peer', { peer: conn.peerId, role: conn.role, type: message.type });
            return;
          }
          try {
            entry.handle(peer, message);
          } catch (error) {
            log('error', 'handler failed', { type: message.type, error: error instanceof Error ? error.stack : String(error) });
          }
        },
        onClose: (code) => onClose(peer, code),
      };
    },
  });
  const timer = setInterval(tick, options.tickMs ?? 200);
  timer.unref();
  log('info', 'scheduler listening', { url: server.url, schedulerId });

  return {
    url: server.url,
    port: server.port,
    state: () => ({ agents: [...pool.agents.values()], containers: [...pool.containers.values()], queue: [...queue.list()] }),
    decisions: (opts = {}) => decisionLog.recent(opts),
    close: async () => {
      clearInterval(timer);
      watch.close();
      await server.close();
    },
  };
}
