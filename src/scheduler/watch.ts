/**
 * The scheduler's part of the watch stream (see src/watch/snapshot.ts): `buildClusterWatch` turns the
 * pool, the queue and the decision log into a ClusterWatch (pure), and `ClusterWatchPublisher` sends
 * it to the peers that asked for it with `watch.subscribe`.
 *
 * Cost: nothing at all while nobody subscribed (no timer). While someone did, one build per period
 * (O(agents + containers)), shared by every subscriber. A slow subscriber never makes the scheduler
 * queue anything: each tick sends the current state to a peer only when that peer's socket has
 * drained below `maxBufferedBytes`; otherwise the peer skips this tick and gets a later, newer one
 * (latest only, never a backlog).
 */
import type { DecisionRecord, Message } from '../daemon/protocol.js';
import { WATCH_LIMITS, type AgentWatch, type ClusterWatch, type DecisionWatch } from '../watch/snapshot.js';
import type { AgentView, ContainerView } from './pool.js';

/** What the builder reads: the scheduler's state (`RunningScheduler.state()` has this shape) without copies. */
export interface ClusterWatchInput {
  schedulerId: string;
  agents: Iterable<AgentView>;
  containers: Iterable<ContainerView>;
  queue: { readonly length: number };
  /** the scheduler queue's bound */
  queueCapacity: number;
  /** newest decisions, oldest first (as `DecisionLog.recent` returns them); only the newest WATCH_LIMITS.decisions are kept */
  decisions: readonly DecisionRecord[];
  /** agentId → backend as the agent registered it; agents missing here show `unknown` */
  backends: ReadonlyMap<string, string>;
}

/** `ns/name` of an action key `ns/name@version@updated` (the revision is `version@updated`). */
export function actionPathOfKey(key: string): string {
  const last = key.lastIndexOf('@');
  if (last <= 0) return key;
  const previous = key.lastIndexOf('@', last - 1);
  return previous <= 0 ? key.slice(0, last) : key.slice(0, previous);
}

/** One decision as the live view shows it. */
export function decisionView(record: DecisionRecord): DecisionWatch {
  const action = record.request?.action;
  const reason = record.limit !== undefined && !record.reason.includes(record.limit) ? `${record.reason} (${record.limit})` : record.reason;
  return {
    at: record.at,
    kind: record.decision,
    ...(action === undefined ? {} : { action: actionPathOfKey(action) }),
    ...(record.agentId === undefined ? {} : { agentId: record.agentId }),
    reason,
  };
}

/**
 * The cluster as the live view shows it. Containers by state: `starting`, `prewarm` (stem cells),
 * and for containers assigned to an action `busy` (something in flight), `paused`, else `idle`;
 * an unclaimed container (its owner has not re-registered yet) counts as idle. Memory used is the
 * memory of every container the pool holds on the agent, as the scheduler accounts it. Agents are
 * ordered by id and at most WATCH_LIMITS.agents are listed. In-flight counts come from the owners'
 * usage batches, so they lag by up to one batch period.
 */
export function buildClusterWatch(input: ClusterWatchInput): ClusterWatch {
  const byAgent = new Map<string, AgentWatch>();
  for (const agent of input.agents) {
    byAgent.set(agent.agentId, {
      agentId: agent.agentId,
      backend: input.backends.get(agent.agentId) ?? 'unknown',
      connected: agent.connected,
      memoryMB: agent.memoryMB,
      usedMB: 0,
      containers: { starting: 0, prewarm: 0, busy: 0, idle: 0, paused: 0 },
    });
  }
  for (const c of input.containers) {
    const agent = byAgent.get(c.agentId);
    if (agent === undefined) continue;
    agent.usedMB += c.memoryMB;
    const counts = agent.containers;
    switch (c.state) {
      case 'starting':
        counts.starting += 1;
        break;
      case 'prewarm':
        counts.prewarm += 1;
        break;
      case 'unclaimed':
        counts.idle += 1;
        break;
      case 'assigned':
        if (c.inFlight > 0) counts.busy += 1;
        else if (c.paused) counts.paused += 1;
        else counts.idle += 1;
        break;
      default: {
        const unreachable: never = c;
        void unreachable;
      }
    }
  }
  const agents = [...byAgent.values()].sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0)).slice(0, WATCH_LIMITS.agents);
  return {
    schedulerId: input.schedulerId,
    agents,
    queue: { length: input.queue.length, capacity: input.queueCapacity },
    decisions: input.decisions.slice(-WATCH_LIMITS.decisions).map(decisionView),
  };
}

/** The part of a connection the publisher uses (the transport's Connection has it). */
export interface WatchPeer {
  send(message: Message): boolean;
  /** bytes queued on the socket and not yet sent; absent counts as 0 */
  readonly bufferedAmount?: number;
}

export interface ClusterWatchPublisherOptions {
  /** builds the current ClusterWatch; called at most once per tick, only while someone subscribed */
  build(): ClusterWatch;
  /** period between sends, default 500 ms */
  intervalMs?: number;
  /** a peer whose socket holds more than this many unsent bytes skips ticks until it drains; default 1 MiB */
  maxBufferedBytes?: number;
  /** most subscribers at once (further subscribes are ignored); default 256 */
  maxSubscribers?: number;
  /** test seam, default the global setInterval/clearInterval */
  timers?: { setInterval(fn: () => void, ms: number): unknown; clearInterval(handle: unknown): void };
}

/** Default period of the watch stream. */
export const DEFAULT_WATCH_INTERVAL_MS = 500;
const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * Sends the latest ClusterWatch to subscribed peers: at once on subscribe, then every `intervalMs`
 * while at least one peer is subscribed (the timer stops with the last one). Per peer at most one
 * message is ever waiting: a peer with more than `maxBufferedBytes` unsent is skipped for the tick.
 */
export class ClusterWatchPublisher {
  private readonly peers = new Set<WatchPeer>();
  private readonly intervalMs: number;
  private readonly maxBufferedBytes: number;
  private readonly maxSubscribers: number;
  private readonly timers: NonNullable<ClusterWatchPublisherOptions['timers']>;
  private timer: unknown;
  private closed = false;

  constructor(private readonly options: ClusterWatchPublisherOptions) {
    this.intervalMs = options.intervalMs ?? DEFAULT_WATCH_INTERVAL_MS;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.maxSubscribers = options.maxSubscribers ?? 256;
    this.timers = options.timers ?? {
      setInterval: (fn, ms) => setInterval(fn, ms).unref(),
      clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
    };
  }

  get subscribers(): number {
    return this.peers.size;
  }

  /** Adds the peer (idempotent) and sends it the current state at once. */
  subscribe(peer: WatchPeer): void {
    if (this.closed || this.peers.has(peer) || this.peers.size >= this.maxSubscribers) return;
    this.peers.add(peer);
    this.sendTo([peer]);
    if (this.timer === undefined) this.timer = this.timers.setInterval(() => this.tick(), this.intervalMs);
  }

  /** Removes the peer (idempotent; also on its disconnect). */
  unsubscribe(peer: WatchPeer): void {
    if (!this.peers.delete(peer)) return;
    if (this.peers.size === 0) this.stop();
  }

  /** One period: sends the current state to every subscriber that has drained. */
  tick(): void {
    this.sendTo(this.peers);
  }

  close(): void {
    this.closed = true;
    this.peers.clear();
    this.stop();
  }

  private sendTo(peers: Iterable<WatchPeer>): void {
    let message: Message | undefined;
    for (const peer of peers) {
      if ((peer.bufferedAmount ?? 0) > this.maxBufferedBytes) continue;
      message ??= { type: 'watch.cluster', cluster: this.options.build() };
      peer.send(message);
    }
  }

  private stop(): void {
    if (this.timer === undefined) return;
    this.timers.clearInterval(this.timer);
    this.timer = undefined;
  }
}
