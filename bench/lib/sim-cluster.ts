/**
 * The scheduler simulation: the REAL pool (src/scheduler/pool.ts), policy (policy.ts, placement.ts),
 * queue (queue.ts) and decision log, driven by a synthetic cluster and workload in virtual time.
 * Decisions are applied to the pool exactly as the daemon applies them (assign, create then ready,
 * evict then create, queue, reject, stem cell refill of the changed agents); what the daemon would
 * send over sockets happens at once here (agents are ready at once, owners release an evicted idle
 * container at once), so the time measured is the scheduler's own work.
 *
 * Controllers are modelled as the design has them: an invoke first takes an idle warm container of
 * the action that its controller owns (no scheduler decision, design §3 step 1), otherwise it sends
 * an acquire. Timed with process.hrtime.bigint around each acquire's handling.
 *
 * What `placementsPerSecond` measures (docs/scheduler.md "What placements per second means"):
 * containers placed for acquires in the measured phase (stem cell assignments plus creates, a
 * create after evictions included) divided by the time the scheduler spent on acquires on this one
 * thread: admitting each acquire (queue entry, one line per action), every decision (including
 * those that place nothing: queued, rejected, re-decided from the queue), its decision log entry,
 * every pool write (evict, destroy, create, ready, the run's usage update), the stem cell refill,
 * and the queue passes. Warm invocations (no scheduler work) and the end-of-run usage updates are
 * not in it; GC pauses that fall inside that time are.
 */
import { hrtime } from 'node:process';
import { actionKey, type ActionRef } from '../../src/model/action.js';
import { DecisionLog } from '../../src/scheduler/decision-log.js';
import type { PlacementStrategy } from '../../src/scheduler/placement.js';
import { cannotBeServed, decideAcquire, decideStemCells, type Decision, type PolicyConfig } from '../../src/scheduler/policy.js';
import { Pool } from '../../src/scheduler/pool.js';
import { AcquireQueue, type QueueEntry } from '../../src/scheduler/queue.js';
import { actionCatalogue, burstyArrivals, EventHeap, exponential, MEAN_MEMORY_MB, meanRateFactor, seededRandom, zipf } from './sim-workload.js';

export interface SimOptions {
  agents: number;
  /** containers the cluster is filled with before the measured phase (its capacity is sized for them) */
  containers: number;
  /** invocations in the measured phase */
  invocations: number;
  /** default 'pack' */
  placement?: PlacementStrategy;
  /** default true */
  locality?: boolean;
  /** default 1 */
  seed?: number;
  /** default 8 */
  controllers?: number;
  /** distinct actions, default containers / 20 (at least 50) */
  actions?: number;
  /** Zipf exponent of action popularity, default 1.0 */
  zipfS?: number;
  /** mean run time of an invocation, virtual ms, default 1000 */
  meanRunMs?: number;
  /** share of the cluster's containers busy on average, default 0.35 (bursts reach ~0.9) */
  load?: number;
  /** queue deadline of an acquire, virtual ms, default 5000 */
  deadlineMs?: number;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface SimResult {
  agents: number;
  containers: number;
  actions: number;
  placement: PlacementStrategy;
  locality: boolean;
  /** placing the initial containers: acquires answered by a placement, and their rate */
  fill: { placements: number; seconds: number; placementsPerSecond: number };
  invocations: number;
  /** acquires sent by the controllers (invocations without a warm container of their own) */
  acquires: number;
  /** decisions taken again for acquires waiting in the queue */
  redecisions: number;
  /** acquires answered by a container (stem cell, create, evict then create) in the measured phase */
  placements: number;
  /**
   * placements divided by the scheduler's time on acquires (admission, every decision, log entry,
   * pool writes, stem cell refill, queue passes): see the module comment
   */
  placementsPerSecond: number;
  /** the time that figure divides by, seconds */
  schedulerSeconds: number;
  /** `measureFloor` in the same run: the physical floor of a placement, per second */
  floorPlacementsPerSecond: number;
  /** floor over placementsPerSecond: how many floors one placement costs (lower is better; machine noise mostly cancels) */
  floorRatio: number;
  /** decideAcquire alone, µs */
  decisionLatencyUs: Percentiles;
  /** one acquire's whole handling by the scheduler (decision, log entry, pool updates, stem cell refill), µs */
  handleLatencyUs: Percentiles;
  /** usage updates (a run starts or ends) applied to the pool per second of the pool's time */
  usageUpdatesPerSecond: number;
  warmRatio: number;
  stemCellRatio: number;
  /** invocations that waited for a new container to be created (create, or evict then create) */
  coldStartRatio: number;
  evictions: number;
  queued: number;
  rejected: Record<string, number>;
  stemCellsCreated: number;
  /** seconds of wall time for the whole simulation of this size */
  wallSeconds: number;
}

const STEM_CELLS = [
  { kind: 'nodejs:20', memoryMB: 256, count: 2 },
  { kind: 'python:3', memoryMB: 128, count: 1 },
];

function percentiles(samples: Float64Array, n: number): Percentiles {
  const sorted = samples.slice(0, n).sort();
  const at = (p: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!);
  return { p50: at(50), p90: at(90), p99: at(99), max: n === 0 ? 0 : sorted[n - 1]! };
}

const ns = (): bigint => hrtime.bigint();

/** Runs one simulation; synchronous, deterministic for a seed (apart from the timings). */
export function runSimulation(options: SimOptions): SimResult {
  const wallStart = ns();
  const random = seededRandom(options.seed ?? 1);
  const placement = options.placement ?? 'pack';
  const locality = options.locality ?? true;
  const controllers = options.controllers ?? 8;
  const actionCount = options.actions ?? Math.max(50, Math.round(options.containers / 20));
  const meanRunMs = options.meanRunMs ?? 1000;
  const deadlineMs = options.deadlineMs ?? 5000;
  const load = options.load ?? 0.35;
  const actions = actionCatalogue(random, actionCount);
  const keys = actions.map((a) => actionKey(a));
  const pick = zipf(random, actionCount, options.zipfS ?? 1);

  const config: PolicyConfig = { stemCells: STEM_CELLS, maxQueueSize: 1000, placement, locality };
  const pool = new Pool();
  const queue = new AcquireQueue({ maxSize: config.maxQueueSize });
  const log = new DecisionLog();
  // Room for the containers plus the stem cells, in 128 MB steps.
  const stemMB = STEM_CELLS.reduce((s, c) => s + c.memoryMB * c.count, 0);
  const agentMB = Math.ceil(((options.containers / options.agents) * MEAN_MEMORY_MB + stemMB) / 128) * 128;
  const width = String(options.agents).length;
  for (let i = 0; i < options.agents; i++) {
    pool.setAgent({ agentId: `agent-${String(i).padStart(width, '0')}`, controlUrl: 'ws://sim:1', memoryMB: agentMB, connected: true });
  }

  let nextId = 0;
  let now = 0;
  const address = { host: '10.0.0.1', port: 8080 };
  /** owner + action → its idle containers (the controllers' warm tables) */
  const idle = new Map<string, Set<string>>();
  const idleKey = (owner: string, key: string) => `${owner}\u0000${key}`;
  const runs = new EventHeap<{ containerId: string }>();

  const stats = { acquires: 0, redecisions: 0, placements: 0, warm: 0, stem: 0, cold: 0, evictions: 0, queued: 0, stemCellsCreated: 0, rejected: {} as Record<string, number> };
  let decideSamples = new Float64Array(1 << 16);
  let handleSamples = new Float64Array(1 << 16);
  let samples = 0;
  let handleNs = 0n;
  /** scheduler work outside `handle`: admission of acquires, queue passes */
  let schedulerNs = 0n;
  let usageNs = 0n;
  let usageUpdates = 0;
  let measuring = false;

  const record = (decideUs: number, handleUs: number) => {
    if (samples === decideSamples.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      decideSamples = grow(decideSamples);
      handleSamples = grow(handleSamples);
    }
    decideSamples[samples] = decideUs;
    handleSamples[samples] = handleUs;
    samples++;
  };

  function createContainer(agentId: string, action: ActionRef | undefined, kind: string, memoryMB: number, entry?: QueueEntry): string {
    const containerId = `c${nextId++}`;
    pool.put({
      state: 'starting',
      containerId,
      agentId,
      kind,
      memoryMB,
      purpose: action && entry ? { type: 'acquire', requestId: entry.requestId, controllerId: entry.controllerId, action, deadline: entry.deadline } : { type: 'stemCell' },
    });
    // The agent answers container.ready at once.
    pool.apply(containerId, { type: 'ready', address, now });
    return containerId;
  }

  function refill(): void {
    if (queue.size > 0) return;
    const changed = pool.takeChangedAgents();
    if (changed.length === 0) return;
    const creates = decideStemCells(pool, config, { agents: changed });
    if (creates.length === 0) return;
    log.recordStemCells(pool, creates, now);
    for (const c of creates) createContainer(c.agentId, undefined, c.kind, c.memoryMB);
    stats.stemCellsCreated += creates.length;
  }

  function startRun(containerId: string, runMs: number): void {
    const t = ns();
    pool.apply(containerId, { type: 'usage', inFlight: 1, paused: false, lastUsedAt: Math.floor(now) });
    usageNs += ns() - t;
    usageUpdates++;
    runs.push(now + runMs, { containerId });
  }

  const runLength = new Map<QueueEntry, number>();

  /** Handles one acquire as the daemon does; true when it is answered (granted or rejected). */
  let lastDecision: Decision | undefined;
  function handle(entry: QueueEntry, queued: boolean): boolean {
    const t0 = ns();
    pool.queuedRequests = queue.size;
    const request = { ...entry, queued };
    let decision: Decision = decideAcquire(pool, request, config);
    const t1 = ns();
    if (!(queued && decision.kind === 'queue')) log.recordAcquire(pool, request, decision, now);
    let granted: string | undefined;
    let cold = false;
    if (decision.kind === 'evictThenCreate') {
      for (const id of decision.evict) {
        const c = pool.containers.get(id);
        if (c?.state === 'assigned') {
          // The owner is idle there: it answers the evict with a release at once.
          pool.apply(id, { type: 'evict', controllerId: entry.controllerId, requestId: entry.requestId, now });
          idle.get(idleKey(c.owner, c.actionKey))?.delete(id);
        }
        pool.apply(id, { type: 'destroy', reason: 'evicted' });
        stats.evictions++;
      }
      pool.queuedRequests = queue.size;
      decision = decideAcquire(pool, request, config);
      log.recordAcquire(pool, request, decision, now);
    }
    switch (decision.kind) {
      case 'assignStemCell':
        pool.apply(decision.containerId, { type: 'assign', owner: entry.controllerId, action: entry.action, now });
        if (decision.backfill) {
          createContainer(decision.backfill.agentId, undefined, decision.backfill.kind, decision.backfill.memoryMB);
          stats.stemCellsCreated++;
        }
        granted = decision.containerId;
        break;
      case 'create':
        granted = createContainer(decision.agentId, entry.action, entry.action.kind, entry.action.memoryMB, entry);
        cold = true;
        break;
      case 'evictThenCreate':
        // Only stem cells of another shape could be left in the way: wait like the daemon would.
        if (!queued) queue.insert(entry);
        break;
      case 'queue':
        if (!queued) {
          queue.insert(entry);
          if (measuring) stats.queued++;
        }
        break;
      case 'reject':
        if (measuring) stats.rejected[decision.limit] = (stats.rejected[decision.limit] ?? 0) + 1;
        break;
    }
    lastDecision = decision;
    const answered = granted !== undefined || decision.kind === 'reject';
    if (answered && queued) queue.remove(entry);
    if (granted !== undefined) startRun(granted, runLength.get(entry) ?? meanRunMs);
    runLength.delete(entry);
    refill();
    const t2 = ns();
    if (measuring) {
      handleNs += t2 - t0;
      record(Number(t1 - t0) / 1000, Number(t2 - t0) / 1000);
      if (queued) stats.redecisions++;
      else stats.acquires++;
      if (granted !== undefined) {
        stats.placements++;
        if (cold) stats.cold++;
        else stats.stem++;
      }
    }
    return answered;
  }

  function serveQueue(): void {
    if (queue.size === 0) return;
    // The pass itself (picking heads, skipping hopeless ones, deadlines) is timed too; the
    // handling of each head it decides for is timed by `handle`.
    const passStart = ns();
    const handledBefore = handleNs;
    passQueue();
    if (measuring) schedulerNs += ns() - passStart - (handleNs - handledBefore);
  }

  function passQueue(): void {
    const skip = new Set<string>();
    let noRoomFor = Number.POSITIVE_INFINITY;
    for (let guard = queue.size * 2 + 2; guard > 0; guard--) {
      const entry = queue.nextServable(skip);
      if (!entry) break;
      if (cannotBeServed(pool, entry.action, noRoomFor)) {
        skip.add(entry.key);
        continue;
      }
      if (entry.deadline < now) {
        queue.remove(entry);
        runLength.delete(entry);
        if (measuring) stats.rejected['queueDeadline'] = (stats.rejected['queueDeadline'] ?? 0) + 1;
        continue;
      }
      if (!handle(entry, true)) {
        skip.add(entry.key);
        if (lastDecision?.kind === 'queue' && lastDecision.waitingFor === 'capacity') noRoomFor = Math.min(noRoomFor, entry.action.memoryMB);
      }
    }
  }

  function finishRunsUntil(time: number): void {
    for (let t = runs.peekTime(); t !== undefined && t <= time; t = runs.peekTime()) {
      const { containerId } = runs.pop()!;
      now = t;
      const c = pool.containers.get(containerId);
      if (c?.state !== 'assigned') continue;
      const s = ns();
      pool.apply(containerId, { type: 'usage', inFlight: 0, paused: false, lastUsedAt: Math.floor(now) });
      usageNs += ns() - s;
      usageUpdates++;
      const k = idleKey(c.owner, c.actionKey);
      let set = idle.get(k);
      if (!set) idle.set(k, (set = new Set()));
      set.add(containerId);
      serveQueue();
    }
  }

  function invoke(index: number, runMs: number): void {
    const controllerId = `ctl${Math.floor(random() * controllers)}`;
    const set = idle.get(idleKey(controllerId, keys[index]!));
    const warm = set?.values().next();
    if (warm && !warm.done) {
      set!.delete(warm.value);
      startRun(warm.value, runMs);
      if (measuring) stats.warm++;
      return;
    }
    const requestId = `q${nextId++}`;
    // Admission is the scheduler's work too (the daemon's acquire handler makes the entry and
    // checks the action's line): timed with the acquire's handling.
    const t = ns();
    const entry = queue.make({ requestId, controllerId, action: actions[index]!, deadline: now + deadlineMs }, now);
    if (queue.hasAction(entry.key)) {
      const inserted = queue.insert(entry);
      if (measuring) schedulerNs += ns() - t;
      if (!inserted) {
        if (measuring) stats.rejected['schedulerQueue'] = (stats.rejected['schedulerQueue'] ?? 0) + 1;
      } else {
        runLength.set(entry, runMs);
        if (measuring) stats.queued++;
      }
      return;
    }
    if (measuring) schedulerNs += ns() - t;
    runLength.set(entry, runMs);
    handle(entry, false);
  }

  // ---------------------------------------------------------------- fill: the cluster's containers, all busy for a while
  refill();
  const fillStart = ns();
  let fillPlacements = 0;
  for (let guard = options.containers * 3; guard > 0 && pool.containers.size < options.containers; guard--) {
    const before = pool.containers.size;
    const spread = exponential(random, meanRunMs * 3);
    invoke(pick(), spread);
    if (queue.size > 0) {
      // Full: what waits is dropped (the fill only places).
      queue.removeWhere(() => true);
      break;
    }
    if (pool.containers.size > before) fillPlacements++;
  }
  const fillSeconds = Number(ns() - fillStart) / 1e9;
  const filled = pool.containers.size;

  // ---------------------------------------------------------------- measured phase
  measuring = true;
  const calmRate = (load * filled) / (meanRunMs / 1000) / meanRateFactor();
  const nextArrival = burstyArrivals(random, { calmRate });
  let lastExpiry = 0;
  for (let i = 0; i < options.invocations; i++) {
    const at = nextArrival();
    finishRunsUntil(at);
    now = at;
    if (now - lastExpiry >= 100) {
      lastExpiry = now;
      for (const e of queue.expired(now)) {
        runLength.delete(e);
        stats.rejected['queueDeadline'] = (stats.rejected['queueDeadline'] ?? 0) + 1;
      }
    }
    invoke(pick(), exponential(random, meanRunMs));
  }
  const invocations = options.invocations;
  const schedulerSeconds = Number(handleNs + schedulerNs) / 1e9;
  const floor = measureFloor(filled, Math.max(stats.placements, 100_000));
  return {
    agents: options.agents,
    containers: filled,
    actions: actionCount,
    placement,
    locality,
    fill: { placements: fillPlacements, seconds: fillSeconds, placementsPerSecond: fillPlacements / fillSeconds },
    invocations,
    acquires: stats.acquires,
    redecisions: stats.redecisions,
    placements: stats.placements,
    placementsPerSecond: stats.placements / schedulerSeconds,
    schedulerSeconds,
    floorPlacementsPerSecond: floor,
    floorRatio: floor / (stats.placements / schedulerSeconds),
    decisionLatencyUs: percentiles(decideSamples, samples),
    handleLatencyUs: percentiles(handleSamples, samples),
    usageUpdatesPerSecond: usageUpdates / (Number(usageNs) / 1e9),
    warmRatio: stats.warm / invocations,
    stemCellRatio: stats.stem / invocations,
    coldStartRatio: stats.cold / invocations,
    evictions: stats.evictions,
    queued: stats.queued,
    rejected: stats.rejected,
    stemCellsCreated: stats.stemCellsCreated,
    wallSeconds: Number(ns() - wallStart) / 1e9,
  };
}

/**
 * Bytes of heap per container record: a pool of `agents` agents is filled with `containers`
 * assigned containers (each with its own action reference and address, as decoded messages give
 * the daemon), heap measured with process.memoryUsage() before and after, after a full GC.
 */
export function measureRecordBytes(agents: number, containers: number, gc: (() => void) | undefined): { bytesPerContainerRecord: number; gcForced: boolean } {
  const pool = new Pool();
  for (let i = 0; i < agents; i++) pool.setAgent({ agentId: `agent-${i}`, controlUrl: 'ws://sim:1', memoryMB: 1 << 30, connected: true });
  gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < containers; i++) {
    const action: ActionRef = { namespace: `ns${i % 50}`, name: `action-${i % 5000}`, revision: '0.0.1@1', kind: 'nodejs:20', memoryMB: 256 };
    pool.put({
      state: 'assigned',
      containerId: `c${i.toString(16).padStart(16, '0')}`,
      agentId: `agent-${i % agents}`,
      kind: action.kind,
      memoryMB: action.memoryMB,
      address: { host: '10.0.0.1', port: 10000 + (i % 50000) },
      action,
      actionKey: actionKey(action),
      owner: `ctl${i % 8}`,
      inFlight: i % 3 === 0 ? 1 : 0,
      paused: false,
      lastUsedAt: 1_700_000_000_000 + i,
    });
  }
  gc?.();
  const after = process.memoryUsage().heapUsed;
  const bytes = (after - before) / containers;
  // Keep the pool alive until measured.
  if (pool.containers.size !== containers) throw new Error('pool lost containers');
  return { bytesPerContainerRecord: Math.round(bytes), gcForced: gc !== undefined };
}

/** Passes of `measureFloor`; its figure is the best. */
const FLOOR_PASSES = 5;

/**
 * The physical floor of a placement, in placements per second, measured in the same process right
 * after the simulation (so under the same machine load): per placement, one `Map.get` of an
 * existing container record and one `Map.set` of a new record (a fresh object of the pool's
 * assigned-record shape) under a new id, in a Map already holding `containers` records. No
 * scheduler can place a container for less than storing its record; the ratio of the two figures
 * varies less with machine load than either figure does (both slow down together). Best of
 * FLOOR_PASSES passes: a major GC falling into one pass is the noise this removes.
 */
export function measureFloor(containers: number, placements: number): number {
  const ids: string[] = [];
  for (let i = 0; i < containers + FLOOR_PASSES * placements; i++) ids.push(`c${i}`);
  const address = { host: '10.0.0.1', port: 8080 };
  const action: ActionRef = { namespace: 'ns', name: 'a', revision: '0.0.1@1', kind: 'nodejs:20', memoryMB: 256 };
  const key = actionKey(action);
  const record = (containerId: string, agentId: string, lastUsedAt: number) => ({
    state: 'assigned' as const,
    containerId,
    agentId,
    kind: action.kind,
    memoryMB: action.memoryMB,
    address,
    action,
    actionKey: key,
    owner: 'ctl0',
    inFlight: 0,
    paused: false,
    lastUsedAt,
    evicting: undefined,
  });
  let best = 0;
  let sink = 0;
  const map = new Map<string, ReturnType<typeof record>>();
  for (let i = 0; i < containers; i++) map.set(ids[i]!, record(ids[i]!, 'agent-0', i));
  for (let pass = 0; pass < FLOOR_PASSES; pass++) {
    // Each pass stores `placements` new records under ids not used before (the Map grows as the
    // pool would with creates), looking one existing record up for each.
    const first = containers + pass * placements;
    const t = ns();
    for (let i = 0; i < placements; i++) {
      const old = map.get(ids[(i * 7919) % containers]!);
      sink += old === undefined ? 0 : old.lastUsedAt;
      const id = ids[first + i]!;
      map.set(id, record(id, old?.agentId ?? 'agent-0', i));
    }
    const seconds = Number(ns() - t) / 1e9;
    best = Math.max(best, placements / seconds);
  }
  if (sink < 0) throw new Error('unreachable: keeps the loop from being optimised away');
  return best;
}
