/**
 * The scheduler's bounded log of decisions: each entry holds the request, what the pool looked like
 * (agents, containers, queue, the chosen agent's free memory), the decision and the policy's reason.
 * A ring buffer: recording is O(1); the oldest entries fall off once `capacity` is reached. The
 * policy's decisions are kept by reference and formatted into records only when read (`recent`). Read over the daemon protocol (`decisions.request`).
 */
import { actionKey } from '../model/action.js';
import type { DecisionRecord } from '../daemon/protocol.js';
import type { PoolSnapshot } from './pool.js';
import type { AcquireRequest, Decision, StemCellCreate } from './policy.js';

export type { DecisionRecord };

/** Default entries kept. */
export const DEFAULT_DECISION_LOG_SIZE = 1000;

/** Longest `evict` list kept in an entry (a plan longer than this is cut, the reason still says how many). */
const MAX_EVICT_IN_ENTRY = 100;

export interface DecisionLogOptions {
  /** entries kept, default 1000; 0 keeps none */
  capacity?: number;
}

/**
 * One ring slot. An entry recorded with `recordAcquire` / `recordStemCells` keeps only references
 * to the request, decision and creates (values nobody mutates) and the few numbers of its inputs;
 * the `DecisionRecord` is built the first time the entry is read, and kept. Recording an acquire
 * decision thus costs one small object, not a record, a request copy and an inputs object.
 */
class Slot {
  formatted: DecisionRecord | undefined = undefined;
  constructor(
    readonly seq: number,
    readonly at: number,
    readonly request: AcquireRequest | undefined,
    readonly decision: Decision | undefined,
    readonly creates: readonly StemCellCreate[] | undefined,
    readonly inputs: Inputs,
    eager: DecisionRecord | undefined,
  ) {
    this.formatted = eager;
  }

  record(): DecisionRecord {
    if (this.formatted === undefined) {
      const body = this.decision !== undefined && this.request !== undefined ? acquireRecord(this.request, this.decision, this.at, this.inputs) : stemCellRecord(this.creates ?? [], this.at, this.inputs);
      this.formatted = { seq: this.seq, ...body };
    }
    return this.formatted;
  }
}

type Inputs = DecisionRecord['inputs'];

export class DecisionLog {
  readonly capacity: number;
  private readonly ring: (Slot | undefined)[];
  private next = 0;
  private seq = 0;

  constructor(options: DecisionLogOptions = {}) {
    this.capacity = options.capacity ?? DEFAULT_DECISION_LOG_SIZE;
    this.ring = new Array<Slot | undefined>(this.capacity);
  }

  /** `seq` of the newest entry ever recorded, 0 when none. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Records one entry (its `seq` is assigned here) and returns it. */
  record(entry: Omit<DecisionRecord, 'seq'>): DecisionRecord {
    const full = { seq: ++this.seq, ...entry };
    this.keep(new Slot(full.seq, full.at, undefined, undefined, undefined, full.inputs, full));
    return full;
  }

  /**
   * Records an acquire decision as `acquireEntry` would, formatted when read. Call it BEFORE the
   * decision is applied (the inputs are read now). `request` and `decision` are kept by reference:
   * they must not be mutated afterwards (the policy's values never are). Returns the entry's `seq`.
   */
  recordAcquire(snapshot: PoolSnapshot, request: AcquireRequest, decision: Decision, at: number): number {
    const seq = ++this.seq;
    if (this.capacity > 0) this.keep(new Slot(seq, at, request, decision, undefined, inputsOf(snapshot, agentOf(decision)), undefined));
    return seq;
  }

  /** Records a stem cell refill as `stemCellEntry` would, formatted when read; returns its `seq`. */
  recordStemCells(snapshot: PoolSnapshot, creates: readonly StemCellCreate[], at: number): number {
    const seq = ++this.seq;
    if (this.capacity > 0) this.keep(new Slot(seq, at, undefined, undefined, creates, inputsOf(snapshot, onlyAgent(creates)), undefined));
    return seq;
  }

  private keep(slot: Slot): void {
    if (this.capacity === 0) return;
    this.ring[this.next] = slot;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The newest `limit` entries (default all) with `seq > afterSeq`, oldest first. */
  recent(options: { limit?: number; afterSeq?: number } = {}): DecisionRecord[] {
    const limit = Math.min(options.limit ?? this.capacity, this.capacity);
    const afterSeq = options.afterSeq ?? 0;
    const out: DecisionRecord[] = [];
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const e = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (e === undefined || e.seq <= afterSeq) break;
      out.push(e.record());
    }
    return out.reverse();
  }
}

function agentOf(decision: Decision): string | undefined {
  return decision.kind === 'assignStemCell' || decision.kind === 'create' || decision.kind === 'evictThenCreate' ? decision.agentId : undefined;
}

/** The agent of every create, when they are all on one agent. */
function onlyAgent(creates: readonly StemCellCreate[]): string | undefined {
  const first = creates[0]?.agentId;
  for (const c of creates) if (c.agentId !== first) return undefined;
  return first;
}

/** The inputs part of an entry: the pool as the decision saw it. */
export function inputsOf(snapshot: PoolSnapshot, agentId?: string): DecisionRecord['inputs'] {
  const inputs: Inputs = { connectedAgents: snapshot.connectedAgents().length, containers: snapshot.containers.size, queued: snapshot.queuedRequests };
  if (agentId !== undefined) inputs.agentFreeMB = snapshot.freeMemory(agentId);
  return inputs;
}

/**
 * The entry for one acquire decision. Call it BEFORE the decision is applied, so that the inputs
 * are those the policy saw.
 */
export function acquireEntry(snapshot: PoolSnapshot, request: AcquireRequest, decision: Decision, at: number): Omit<DecisionRecord, 'seq'> {
  return acquireRecord(request, decision, at, inputsOf(snapshot, agentOf(decision)));
}

function acquireRecord(request: AcquireRequest, decision: Decision, at: number, inputs: Inputs): Omit<DecisionRecord, 'seq'> {
  const { action } = request;
  const agentId = agentOf(decision);
  return {
    at,
    decision: decision.kind,
    reason: decision.reason,
    request: { controllerId: request.controllerId, requestId: request.requestId, action: actionKey(action), kind: action.kind, memoryMB: action.memoryMB, queued: request.queued },
    ...(agentId === undefined ? {} : { agentId }),
    ...(decision.kind === 'assignStemCell' ? { containerId: decision.containerId } : {}),
    ...(decision.kind === 'evictThenCreate' ? { evict: decision.evict.slice(0, MAX_EVICT_IN_ENTRY) } : {}),
    ...(decision.kind === 'reject' ? { limit: decision.limit } : {}),
    inputs,
  };
}

/** The entry for a stem cell refill (one entry per refill, however many agents it covers). */
export function stemCellEntry(snapshot: PoolSnapshot, creates: readonly StemCellCreate[], at: number): Omit<DecisionRecord, 'seq'> {
  return stemCellRecord(creates, at, inputsOf(snapshot, onlyAgent(creates)));
}

function stemCellRecord(creates: readonly StemCellCreate[], at: number, inputs: Inputs): Omit<DecisionRecord, 'seq'> {
  const agents = new Set(creates.map((c) => c.agentId));
  const shapes = new Map<string, number>();
  for (const c of creates) shapes.set(`${c.kind}/${c.memoryMB} MB`, (shapes.get(`${c.kind}/${c.memoryMB} MB`) ?? 0) + 1);
  const what = [...shapes].map(([shape, n]) => `${n} × ${shape}`).join(', ');
  const first = creates[0]?.agentId;
  return {
    at,
    decision: 'stemCells',
    reason: `refill stem cells below their configured count: ${what} on ${agents.size === 1 ? first : `${agents.size} agents`}`,
    ...(agents.size === 1 && first !== undefined ? { agentId: first } : {}),
    inputs,
  };
}
