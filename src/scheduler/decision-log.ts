/**
 * The scheduler's bounded log of decisions: each entry holds the request, what the pool looked like
 * (agents, containers, queue, the chosen agent's free memory), the decision and the policy's reason.
 * A ring buffer: recording is O(1) and allocation-free beyond the entry itself; the oldest entries
 * fall off once `capacity` is reached. Read over the daemon protocol (`decisions.request`).
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

export class DecisionLog {
  readonly capacity: number;
  private readonly ring: (DecisionRecord | undefined)[];
  private next = 0;
  private seq = 0;

  constructor(options: DecisionLogOptions = {}) {
    this.capacity = options.capacity ?? DEFAULT_DECISION_LOG_SIZE;
    this.ring = new Array<DecisionRecord | undefined>(this.capacity);
  }

  /** `seq` of the newest entry ever recorded, 0 when none. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Records one entry (its `seq` is assigned here) and returns it. */
  record(entry: Omit<DecisionRecord, 'seq'>): DecisionRecord {
    const full = { seq: ++this.seq, ...entry };
    if (this.capacity > 0) {
      this.ring[this.next] = full;
      this.next = (this.next + 1) % this.capacity;
    }
    return full;
  }

  /** The newest `limit` entries (default all) with `seq > afterSeq`, oldest first. */
  recent(options: { limit?: number; afterSeq?: number } = {}): DecisionRecord[] {
    const limit = Math.min(options.limit ?? this.capacity, this.capacity);
    const afterSeq = options.afterSeq ?? 0;
    const out: DecisionRecord[] = [];
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const e = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (e === undefined || e.seq <= afterSeq) break;
      out.push(e);
    }
    return out.reverse();
  }
}

/** The inputs part of an entry: the pool as the decision saw it. */
export function inputsOf(snapshot: PoolSnapshot, agentId?: string): DecisionRecord['inputs'] {
  return {
    connectedAgents: snapshot.connectedAgents().length,
    containers: snapshot.containers.size,
    queued: snapshot.queuedRequests,
    ...(agentId === undefined ? {} : { agentFreeMB: snapshot.freeMemory(agentId) }),
  };
}

/**
 * The entry for one acquire decision. Call it BEFORE the decision is applied, so that the inputs
 * are those the policy saw.
 */
export function acquireEntry(snapshot: PoolSnapshot, request: AcquireRequest, decision: Decision, at: number): Omit<DecisionRecord, 'seq'> {
  const { action } = request;
  const agentId = 'agentId' in decision ? decision.agentId : undefined;
  return {
    at,
    decision: decision.kind,
    reason: decision.reason,
    request: { controllerId: request.controllerId, requestId: request.requestId, action: actionKey(action), kind: action.kind, memoryMB: action.memoryMB, queued: request.queued },
    ...(agentId === undefined ? {} : { agentId }),
    ...(decision.kind === 'assignStemCell' ? { containerId: decision.containerId } : {}),
    ...(decision.kind === 'evictThenCreate' ? { evict: decision.evict.slice(0, MAX_EVICT_IN_ENTRY) } : {}),
    ...(decision.kind === 'reject' ? { limit: decision.limit } : {}),
    inputs: inputsOf(snapshot, agentId),
  };
}

/** The entry for a stem cell refill (one entry per refill, however many agents it covers). */
export function stemCellEntry(snapshot: PoolSnapshot, creates: readonly StemCellCreate[], at: number): Omit<DecisionRecord, 'seq'> {
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
    inputs: inputsOf(snapshot, agents.size === 1 ? first : undefined),
  };
}
