/**
 * Log collection of one container: turns its stdout/stderr chunks into timestamped OpenWhisk log
 * lines and hands each activation its own lines.
 *
 * Attribution:
 * - tagged lines (the brisk runtime frames every line written inside an activation with its id, see
 *   src/runtime/framing.ts) belong to that activation, even when activations overlap;
 * - untagged lines are cut into segments by the sentinels, per stream. Without any tag ever seen
 *   (OpenWhisk images, blackbox) the container is in sequential mode: each collect takes the oldest
 *   segment, so collects must come in the order the activations ran (true for concurrency 1).
 *   Once tags were seen, untagged lines are output outside activations (init logs, stray timers)
 *   and go to the next activation collected, merged in order of receipt.
 *
 * Memory: every buffer is bounded: partial lines, each activation's lines, the number of
 * uncollected activations and the total bytes of a container; on top of that all containers of an
 * agent share one {@link LogBudget}. Whatever bound is hit, the oldest uncollected data nobody is
 * waiting for is dropped first and its later collect says that data is missing
 * (LogText.collectionIssue). A container that exited keeps its lines only for a short retention
 * (see {@link ContainerLogsOptions.exitRetentionMs}), then frees everything.
 *
 * Known limit, tag forgery: the tag is written by the runtime inside the action's own process, so
 * action code can write a forged frame (`\u0001<id>\u0001text`) to the raw file descriptor. With the
 * id of another activation running in the same container (same action, same namespace: the same
 * tenant) it can add lines to that activation's logs or end them early with a forged sentinel; with
 * made-up ids it can only fill buffers, which the bounds above contain (a flooding container mostly
 * evicts its own data). The agent cannot tell forged ids from real ones: controllers call containers
 * directly, so the agent learns an activation id only when its logs are collected, after the run.
 * Lines tagged with an id already collected (or dropped) are discarded, so a finished activation's
 * logs cannot be changed. Closing the gap needs a secret the action code cannot read, i.e. a
 * runtime protocol change.
 */
import { StringDecoder } from 'node:string_decoder';
import { formatLogLine, LOG_SENTINEL, LogText } from '../model/activation.js';
import { parseLine } from '../runtime/framing.js';

export type LogStream = 'stdout' | 'stderr';

/** What the budget needs of each ContainerLogs sharing it. */
interface BudgetHolder {
  readonly bufferedBytes: number;
  /** Drops this holder's oldest data nobody waits for, never `keep`; false if there is none. */
  evictOldest(keep: object | undefined): boolean;
}

export interface LogBudgetOptions {
  /** bytes of buffered log lines all holders together may keep; default 256 MiB */
  maxBytes?: number;
}

/**
 * An agent-wide cap on buffered log text, shared by the ContainerLogs of all its containers.
 *
 * A line that would exceed the budget first makes room: the holder (container) that buffers the
 * most bytes drops its oldest uncollected data nobody is waiting for, repeatedly, moving on to the
 * next largest holder when one has nothing droppable. Largest first rather than globally oldest
 * first: a few containers flooding their output then evict their own data instead of the older,
 * still uncollected lines of quiet containers (whose activations may simply still be running).
 * If nothing can be dropped (every buffered line is awaited by a collect), the new line is refused
 * and its activation's collect says data is missing. So `usedBytes <= maxBytes` always holds.
 *
 * The methods other than `usedBytes`/`maxBytes` are the contract with ContainerLogs; other code
 * only creates a budget and passes it in ContainerLogsOptions.budget.
 */
export class LogBudget {
  readonly maxBytes: number;
  #used = 0;
  readonly #holders = new Set<BudgetHolder>();

  constructor(options: LogBudgetOptions = {}) {
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
  }

  /** Bytes currently buffered by all holders. */
  get usedBytes(): number {
    return this.#used;
  }

  /** Registers a holder whose data may be dropped to make room for others. */
  join(holder: BudgetHolder): void {
    this.#holders.add(holder);
  }

  /** Unregisters a holder; it must have released all of its bytes first. */
  leave(holder: BudgetHolder): void {
    this.#holders.delete(holder);
  }

  /**
   * Accounts `bytes` more, dropping other data (never `keep`) to make room. False, with nothing
   * accounted, when the room cannot be made.
   */
  reserve(bytes: number, keep: object | undefined): boolean {
    if (bytes > this.maxBytes) return false;
    if (this.#used + bytes > this.maxBytes) {
      const candidates = new Set(this.#holders);
      while (this.#used + bytes > this.maxBytes) {
        let largest: BudgetHolder | undefined;
        for (const holder of candidates) if (largest === undefined || holder.bufferedBytes > largest.bufferedBytes) largest = holder;
        if (largest === undefined) return false;
        if (!largest.evictOldest(keep)) candidates.delete(largest);
      }
    }
    this.#used += bytes;
    return true;
  }

  /** Gives back bytes accounted by reserve. */
  release(bytes: number): void {
    this.#used -= bytes;
  }
}

export interface ContainerLogsOptions {
  /** clock for line timestamps; default () => new Date() */
  now?: () => Date;
  /** how long collect waits for both sentinels before cutting with a notice; default 2000 ms */
  sentinelWaitMs?: number;
  /** uncollected activations (and untagged segments) kept; default 256 */
  maxActivations?: number;
  /** bytes kept per activation (more counts as truncated); default 10 MiB + 64 KiB */
  maxActivationBytes?: number;
  /** bytes of uncollected lines kept per container; default 32 MiB */
  maxContainerBytes?: number;
  /** a partial line longer than this is cut into a line of its own; default 64 KiB */
  maxLineChars?: number;
  /** pending collect calls; more are answered at once with a notice; default 10000 */
  maxWaiters?: number;
  /** ids remembered as collected or dropped; default 4096 */
  rememberIds?: number;
  /** the agent-wide byte budget shared with other containers; default a private one of 256 MiB */
  budget?: LogBudget;
  /**
   * How long the lines of an exited container stay collectable; default 30000 ms.
   *
   * Policy: after an exit the only collects to come are the controller's for the activations that
   * had just ended or were in flight (it collects right after a run, within milliseconds, and after
   * a crash once the exit is seen via awaitExitMs). The agent cannot tell those ids from forged or
   * abandoned ones, so everything stays for this short time and then all of it (lines, remembered
   * ids) is freed at once; a later collect answers with LogText.collectionIssue.
   */
  exitRetentionMs?: number;
}

export interface CollectRequest {
  activationId: string;
  /** cap on the bytes of log lines returned; 0 returns [] at once */
  limitBytes: number;
  /** wait (bounded) for the stdout and stderr sentinels; false after a developer error */
  waitForSentinels: boolean;
}

export interface CollectedLogs {
  logs: string[];
  /** the lines were cut at limitBytes (the last line says so) */
  truncated: boolean;
}

interface Entry {
  seq: number;
  line: string;
  bytes: number;
}

interface Bucket {
  entries: Entry[];
  bytes: number;
  sentinels: Record<LogStream, boolean>;
  /** more than maxActivationBytes: collect says truncated */
  overflowed: boolean;
  /** a line was refused by the agent budget: collect says data is missing */
  lost: boolean;
}

interface Waiter {
  request: CollectRequest;
  resolve: (logs: CollectedLogs) => void;
  timer: NodeJS.Timeout;
}

const STREAMS: readonly LogStream[] = ['stdout', 'stderr'];

function newBucket(): Bucket {
  return { entries: [], bytes: 0, sentinels: { stdout: false, stderr: false }, overflowed: false, lost: false };
}

const complete = (bucket: Bucket | undefined): boolean => bucket !== undefined && bucket.sentinels.stdout && bucket.sentinels.stderr;

export class ContainerLogs implements BudgetHolder {
  readonly #now: () => Date;
  readonly #waitMs: number;
  readonly #maxActivations: number;
  readonly #maxActivationBytes: number;
  readonly #maxContainerBytes: number;
  readonly #maxLine: number;
  readonly #maxWaiters: number;
  readonly #rememberIds: number;
  readonly #budget: LogBudget;
  readonly #retentionMs: number;

  #seq = 0;
  #bytes = 0;
  #tagged = new Map<string, Bucket>();
  /** untagged segments, oldest first; #segmentBase is the absolute index of #segments[0] */
  #segments: Bucket[] = [];
  #segmentBase = 0;
  /** absolute index of the segment the next untagged line of each stream goes to */
  #segmentOf: Record<LogStream, number> = { stdout: 0, stderr: 0 };
  #droppedSegments = 0;
  #taggedMode = false;
  #partial: Record<LogStream, string> = { stdout: '', stderr: '' };
  #decoders: Record<LogStream, StringDecoder> = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  #done = new Set<string>();
  #dropped = new Set<string>();
  #waiters: Waiter[] = [];
  /** pending collects per activation id: their buckets are never dropped */
  #waited = new Map<string, number>();
  #exited = false;
  /** everything was freed (retention over or disposed): collects answer with the notice */
  #released = false;
  #retentionTimer: NodeJS.Timeout | undefined;

  constructor(options: ContainerLogsOptions = {}) {
    this.#now = options.now ?? (() => new Date());
    this.#waitMs = options.sentinelWaitMs ?? 2000;
    this.#maxActivations = options.maxActivations ?? 256;
    this.#maxActivationBytes = options.maxActivationBytes ?? 10 * 1024 * 1024 + 64 * 1024;
    this.#maxContainerBytes = options.maxContainerBytes ?? 32 * 1024 * 1024;
    this.#maxLine = options.maxLineChars ?? 64 * 1024;
    this.#maxWaiters = options.maxWaiters ?? 10_000;
    this.#rememberIds = options.rememberIds ?? 4096;
    this.#budget = options.budget ?? new LogBudget();
    this.#retentionMs = options.exitRetentionMs ?? 30_000;
    this.#budget.join(this);
  }

  /** Bytes of uncollected lines held (for tests and metrics). */
  get bufferedBytes(): number {
    return this.#bytes;
  }

  /** Feeds one chunk of container output; ignored once released. */
  push(stream: LogStream, chunk: Buffer | string): void {
    if (this.#released) return;
    const text = this.#partial[stream] + (typeof chunk === 'string' ? chunk : this.#decoders[stream].write(chunk));
    const lines = text.split('\n');
    let rest = lines.pop() ?? '';
    while (rest.length > this.#maxLine) {
      lines.push(rest.slice(0, this.#maxLine));
      rest = rest.slice(this.#maxLine);
    }
    this.#partial[stream] = rest;
    if (lines.length === 0) return;
    const time = this.#now();
    for (const line of lines) this.#accept(stream, line, time);
    this.#settle();
  }

  /**
   * The container is gone: partial lines are flushed, every pending or later collect answers at
   * once with what there is, and after exitRetentionMs everything is released.
   */
  markExited(): void {
    if (this.#exited) return;
    const time = this.#now();
    for (const stream of STREAMS) {
      const rest = this.#partial[stream] + this.#decoders[stream].end();
      this.#partial[stream] = '';
      if (rest !== '') this.#accept(stream, rest, time);
    }
    this.#exited = true;
    this.#settle();
    if (!this.#released) {
      this.#retentionTimer = setTimeout(() => this.#release(), this.#retentionMs);
      this.#retentionTimer.unref();
    }
  }

  /**
   * Resolves with the activation's lines (sentinels stripped) once both of its sentinels were seen,
   * or after the sentinel wait with LogText.collectionIssue appended. Without waitForSentinels, or
   * once the container has exited, answers at once; if the sentinels were then not both seen,
   * LogText.developerError is appended. After the lines were released (exit retention over,
   * dispose) answers with LogText.collectionIssue alone. Never rejects.
   */
  collect(request: CollectRequest): Promise<CollectedLogs> {
    if (request.limitBytes <= 0) {
      this.#forget(request.activationId);
      return Promise.resolve({ logs: [], truncated: false });
    }
    if (this.#released) return Promise.resolve({ logs: [this.#notice(LogText.collectionIssue)], truncated: false });
    if (this.#dropped.has(request.activationId)) {
      this.#dropped.delete(request.activationId);
      return Promise.resolve({ logs: [this.#notice(LogText.collectionIssue)], truncated: false });
    }
    const ready = this.#tryTake(request, false);
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#waiters.length >= this.#maxWaiters) return Promise.resolve(this.#take(request, LogText.collectionIssue));
    return new Promise((resolve) => {
      const waiter: Waiter = {
        request,
        resolve,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          this.#unwait(request.activationId);
          resolve(this.#take(request, LogText.collectionIssue));
        }, this.#waitMs),
      };
      this.#waiters.push(waiter);
      this.#waited.set(request.activationId, (this.#waited.get(request.activationId) ?? 0) + 1);
    });
  }

  /** Answers pending collects with what there is, then frees everything and leaves the budget. */
  dispose(): void {
    this.markExited();
    this.#release();
  }

  /** For the LogBudget: drops the oldest data nobody waits for (never `keep`). */
  evictOldest(keep: object | undefined): boolean {
    const evicted = this.#evictOne(keep);
    // a dropped segment may let a sequential collect go on; settle outside the caller's loop
    if (evicted && this.#waiters.length > 0) queueMicrotask(() => this.#settle());
    return evicted;
  }

  // ------------------------------------------------------------------ internals

  #accept(stream: LogStream, raw: string, time: Date): void {
    const { activationId, text } = parseLine(raw);
    const sentinel = text === LOG_SENTINEL;
    if (activationId !== undefined) {
      this.#taggedMode = true;
      if (this.#done.has(activationId) || this.#dropped.has(activationId)) return;
      let bucket = this.#tagged.get(activationId);
      if (bucket === undefined) {
        bucket = newBucket();
        this.#tagged.set(activationId, bucket);
      }
      if (sentinel) bucket.sentinels[stream] = true;
      else this.#append(bucket, stream, text, time);
    } else {
      const index = this.#segmentOf[stream];
      if (index < this.#segmentBase) {
        // this segment was dropped; keep the stream aligned with the next one
        this.#segmentOf[stream] = this.#segmentBase;
        return this.#accept(stream, raw, time);
      }
      while (this.#segmentBase + this.#segments.length <= index) this.#segments.push(newBucket());
      const bucket = this.#segments[index - this.#segmentBase] as Bucket;
      if (sentinel) {
        bucket.sentinels[stream] = true;
        this.#segmentOf[stream] = index + 1;
      } else this.#append(bucket, stream, text, time);
    }
    this.#enforceBounds();
  }

  #append(bucket: Bucket, stream: LogStream, text: string, time: Date): void {
    if (bucket.overflowed || bucket.lost) return;
    const line = formatLogLine(time, stream, text);
    const bytes = Buffer.byteLength(line);
    if (bucket.bytes + bytes > this.#maxActivationBytes) {
      bucket.overflowed = true;
      return;
    }
    // may drop other data, of this container or others, but never this bucket
    if (!this.#budget.reserve(bytes, bucket)) {
      bucket.lost = true;
      return;
    }
    bucket.entries.push({ seq: this.#seq++, line, bytes });
    bucket.bytes += bytes;
    this.#bytes += bytes;
  }

  /** Frees bytes of lines taken or dropped. */
  #free(bytes: number): void {
    this.#bytes -= bytes;
    this.#budget.release(bytes);
  }

  #enforceBounds(): void {
    while (this.#tagged.size + this.#segments.length > this.#maxActivations || this.#bytes > this.#maxContainerBytes) {
      if (!this.#evictOne(undefined)) break;
    }
  }

  /** Drops the oldest uncollected activation nobody waits for, else the oldest untagged segment. */
  #evictOne(keep: object | undefined): boolean {
    for (const [id, bucket] of this.#tagged) {
      if (bucket === keep || this.#waited.has(id)) continue;
      this.#free(bucket.bytes);
      this.#tagged.delete(id);
      this.#remember(this.#dropped, id);
      return true;
    }
    // the only segment of a tagging runtime is output outside activations, still to be handed out
    if (this.#segments.length > 1 || (this.#segments.length === 1 && this.#tagged.size === 0)) {
      if (this.#segments[0] === keep) return false;
      const segment = this.#segments.shift() as Bucket;
      this.#segmentBase += 1;
      this.#free(segment.bytes);
      this.#droppedSegments += 1;
      return true;
    }
    return false;
  }

  #settle(): void {
    if (this.#waiters.length === 0) return;
    const pending = this.#waiters;
    this.#waiters = [];
    for (const waiter of pending) {
      const taken = this.#tryTake(waiter.request, false);
      if (taken === undefined) this.#waiters.push(waiter);
      else {
        clearTimeout(waiter.timer);
        this.#unwait(waiter.request.activationId);
        waiter.resolve(taken);
      }
    }
  }

  #unwait(id: string): void {
    const count = (this.#waited.get(id) ?? 0) - 1;
    if (count > 0) this.#waited.set(id, count);
    else this.#waited.delete(id);
  }

  /** Takes the activation's lines if they are complete (or cannot become more complete). */
  #tryTake(request: CollectRequest, force: boolean): CollectedLogs | undefined {
    const bucket = this.#tagged.get(request.activationId);
    const sequentialReady = !this.#taggedMode && complete(this.#segments[0]);
    if (force || complete(bucket) || sequentialReady) return this.#take(request, undefined);
    if (!request.waitForSentinels || this.#exited) return this.#take(request, LogText.developerError);
    return undefined;
  }

  /** Removes and formats the activation's lines; `incomplete` is the notice appended when its sentinels are missing. */
  #take(request: CollectRequest, incomplete: string | undefined): CollectedLogs {
    const id = request.activationId;
    const bucket = this.#tagged.get(id);
    const parts: Bucket[] = [];
    let isComplete: boolean;
    if (bucket !== undefined || this.#taggedMode) {
      if (bucket !== undefined) parts.push(bucket);
      isComplete = complete(bucket);
      this.#tagged.delete(id);
      // untagged output of a tagging runtime is outside any activation: give it to this one
      parts.push(...this.#takeSegments(this.#segments.length));
    } else {
      isComplete = complete(this.#segments[0]);
      parts.push(...this.#takeSegments(1));
    }
    this.#remember(this.#done, id);
    const entries = parts.flatMap((p) => p.entries).sort((a, b) => a.seq - b.seq);
    for (const part of parts) this.#free(part.bytes);
    const overflowed = parts.some((p) => p.overflowed);
    const lost = parts.some((p) => p.lost);

    const logs: string[] = [];
    let total = 0;
    let truncated = false;
    for (const entry of entries) {
      if (total + entry.bytes > request.limitBytes) {
        truncated = true;
        break;
      }
      logs.push(entry.line);
      total += entry.bytes;
    }
    if (overflowed) truncated = true;
    if (truncated) logs.push(this.#notice(LogText.truncated(request.limitBytes)));
    if (this.#droppedSegments > 0 && !this.#taggedMode) {
      this.#droppedSegments = 0;
      logs.push(this.#notice(LogText.collectionIssue));
    } else if (lost) logs.push(this.#notice(LogText.collectionIssue));
    else if (!isComplete && incomplete !== undefined) logs.push(this.#notice(incomplete));
    return { logs, truncated };
  }

  #takeSegments(count: number): Bucket[] {
    const taken = this.#segments.splice(0, count);
    this.#segmentBase += taken.length;
    for (const stream of STREAMS) this.#segmentOf[stream] = Math.max(this.#segmentOf[stream], this.#segmentBase);
    return taken;
  }

  #forget(id: string): void {
    const bucket = this.#tagged.get(id);
    if (bucket !== undefined) {
      this.#free(bucket.bytes);
      this.#tagged.delete(id);
    }
    if (!this.#released) this.#remember(this.#done, id);
  }

  /** Frees every line and remembered id and leaves the budget; only after markExited. */
  #release(): void {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#retentionTimer);
    this.#free(this.#bytes);
    this.#tagged = new Map();
    this.#segments = [];
    this.#done = new Set();
    this.#dropped = new Set();
    this.#budget.leave(this);
  }

  #remember(set: Set<string>, id: string): void {
    set.add(id);
    if (set.size > this.#rememberIds) {
      const oldest = set.values().next().value;
      if (oldest !== undefined) set.delete(oldest);
    }
  }

  #notice(text: string): string {
    return formatLogLine(this.#now(), 'stderr', text);
  }
}
