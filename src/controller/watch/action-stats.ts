/**
 * Per-action statistics over a sliding window, for the live view: requests per second, latency
 * percentiles and cold starts of the activations this controller answered. Pure bookkeeping with
 * an injected time (`at`/`now` arguments), no timers.
 *
 * Memory is bounded: per action a ring of `windowMs / bucketMs` count buckets and a ring of the
 * last `reservoirSize` latencies; at most `maxActions` actions (the least recently active one is
 * forgotten to make room). Recording is O(1) and allocates nothing after an action's first sample.
 */

export interface ActionStatsOptions {
  /** the window, default 10 000 ms */
  windowMs?: number;
  /** bucket width of the request counts, default 1000 ms (windowMs must be a multiple) */
  bucketMs?: number;
  /** latencies kept per action for the percentiles (the newest ones), default 256 */
  reservoirSize?: number;
  /** actions tracked at most, default 2000 */
  maxActions?: number;
}

/** One answered activation. */
export interface ActionSample {
  /** epoch ms when its result was known */
  at: number;
  /** receipt to result, ms */
  latencyMs: number;
  /** it ran /init on a new container */
  coldStart: boolean;
}

/** An action's numbers over the window ending now. */
export interface WindowStats {
  requestsPerSecond: number;
  /** absent when no activation ended within the window */
  p50Ms?: number;
  p99Ms?: number;
  coldStarts: number;
}

interface Series {
  /** bucket number (floor(at / bucketMs)) each slot holds */
  readonly bucketIds: Float64Array;
  readonly counts: Uint32Array;
  readonly colds: Uint32Array;
  readonly latencies: Float64Array;
  readonly latencyAt: Float64Array;
  /** next reservoir slot */
  next: number;
  /** samples ever written to the reservoir, capped at its size */
  filled: number;
  lastAt: number;
}

/** Nearest-rank percentile of sorted values (p in (0, 1]). */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1];
}

export class ActionStatsWindow {
  readonly windowMs: number;
  private readonly bucketMs: number;
  private readonly buckets: number;
  private readonly reservoirSize: number;
  private readonly maxActions: number;
  private readonly series = new Map<string, Series>();

  constructor(options: ActionStatsOptions = {}) {
    this.windowMs = options.windowMs ?? 10_000;
    this.bucketMs = options.bucketMs ?? 1_000;
    if (this.windowMs <= 0 || this.bucketMs <= 0 || this.windowMs % this.bucketMs !== 0) {
      throw new RangeError('windowMs must be a positive multiple of bucketMs');
    }
    this.buckets = this.windowMs / this.bucketMs;
    this.reservoirSize = Math.max(1, options.reservoirSize ?? 256);
    this.maxActions = Math.max(1, options.maxActions ?? 2_000);
  }

  /** Actions currently tracked (for tests and bounds). */
  get size(): number {
    return this.series.size;
  }

  /** Records one answered activation of `action` (`namespace/name`). */
  record(action: string, sample: ActionSample): void {
    const s = this.seriesOf(action, sample.at);
    s.lastAt = Math.max(s.lastAt, sample.at);
    const bucket = Math.floor(sample.at / this.bucketMs);
    const slot = bucket % this.buckets;
    if (s.bucketIds[slot] !== bucket) {
      s.bucketIds[slot] = bucket;
      s.counts[slot] = 0;
      s.colds[slot] = 0;
    }
    s.counts[slot] = (s.counts[slot] ?? 0) + 1;
    if (sample.coldStart) s.colds[slot] = (s.colds[slot] ?? 0) + 1;
    s.latencies[s.next] = sample.latencyMs;
    s.latencyAt[s.next] = sample.at;
    s.next = (s.next + 1) % this.reservoirSize;
    s.filled = Math.min(this.reservoirSize, s.filled + 1);
  }

  /**
   * Every action with an activation ended within the window (`(now - windowMs, now]`, at bucket
   * granularity for the counts). Requests per second is that count over the whole window;
   * percentiles are over the reservoir's samples inside the window. Forgets actions idle longer
   * than the window.
   */
  snapshot(now: number): Map<string, WindowStats> {
    const out = new Map<string, WindowStats>();
    const firstBucket = Math.floor(now / this.bucketMs) - this.buckets + 1;
    const since = now - this.windowMs;
    for (const [action, s] of this.series) {
      if (s.lastAt <= since) {
        this.series.delete(action);
        continue;
      }
      let count = 0;
      let colds = 0;
      for (let i = 0; i < this.buckets; i++) {
        const id = s.bucketIds[i] ?? -1;
        if (id >= firstBucket && id <= firstBucket + this.buckets - 1) {
          count += s.counts[i] ?? 0;
          colds += s.colds[i] ?? 0;
        }
      }
      const latencies: number[] = [];
      for (let i = 0; i < s.filled; i++) if ((s.latencyAt[i] ?? 0) > since) latencies.push(s.latencies[i] ?? 0);
      latencies.sort((a, b) => a - b);
      const p50 = percentile(latencies, 0.5);
      const p99 = percentile(latencies, 0.99);
      out.set(action, {
        requestsPerSecond: count / (this.windowMs / 1000),
        ...(p50 === undefined ? {} : { p50Ms: p50 }),
        ...(p99 === undefined ? {} : { p99Ms: p99 }),
        coldStarts: colds,
      });
    }
    return out;
  }

  private seriesOf(action: string, at: number): Series {
    let s = this.series.get(action);
    if (s !== undefined) return s;
    if (this.series.size >= this.maxActions) this.evictOldest();
    s = {
      bucketIds: new Float64Array(this.buckets).fill(-1),
      counts: new Uint32Array(this.buckets),
      colds: new Uint32Array(this.buckets),
      latencies: new Float64Array(this.reservoirSize),
      latencyAt: new Float64Array(this.reservoirSize),
      next: 0,
      filled: 0,
      lastAt: at,
    };
    this.series.set(action, s);
    return s;
  }

  /** O(actions), only when a new action arrives while the table is full. */
  private evictOldest(): void {
    let oldest: string | undefined;
    let oldestAt = Number.POSITIVE_INFINITY;
    for (const [action, s] of this.series) {
      if (s.lastAt < oldestAt) {
        oldestAt = s.lastAt;
        oldest = action;
      }
    }
    if (oldest !== undefined) this.series.delete(oldest);
  }
}
