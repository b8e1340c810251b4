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
 * Every buffer is bounded: partial lines, each activation's lines, the number of uncollected
 * activations and the total bytes of a container; the oldest uncollected activation is dropped
 * first and its later collect says that data is missing.
 */
import { StringDecoder } from 'node:string_decoder';
import { formatLogLine, LOG_SENTINEL, LogText } from '../model/activation.js';
import { parseLine } from '../runtime/framing.js';

export type LogStream = 'stdout' | 'stderr';

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
  overflowed: boolean;
}

interface Waiter {
  request: CollectRequest;
  resolve: (logs: CollectedLogs) => void;
  timer: NodeJS.Timeout;
}

const STREAMS: readonly LogStream[] = ['stdout', 'stderr'];

function newBucket(): Bucket {
  return { entries: [], bytes: 0, sentinels: { stdout: false, stderr: false }, overflowed: false };
}

const complete = (bucket: Bucket | undefined): boolean => bucket !== undefined && bucket.sentinels.stdout && bucket.sentinels.stderr;

export class ContainerLogs {
  readonly #now: () => Date;
  readonly #waitMs: number;
  readonly #maxActivations: number;
  readonly #maxActivationBytes: number;
  readonly #maxContainerBytes: number;
  readonly #maxLine: number;
  readonly #maxWaiters: number;
  readonly #rememberIds: number;

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
  #exited = false;

  constructor(options: ContainerLogsOptions = {}) {
    this.#now = options.now ?? (() => new Date());
    this.#waitMs = options.sentinelWaitMs ?? 2000;
    this.#maxActivations = options.maxActivations ?? 256;
    this.#maxActivationBytes = options.maxActivationBytes ?? 10 * 1024 * 1024 + 64 * 1024;
    this.#maxContainerBytes = options.maxContainerBytes ?? 32 * 1024 * 1024;
    this.#maxLine = options.maxLineChars ?? 64 * 1024;
    this.#maxWaiters = options.maxWaiters ?? 10_000;
    this.#rememberIds = options.rememberIds ?? 4096;
  }

  /** Bytes of uncollected lines held (for tests and metrics). */
  get bufferedBytes(): number {
    return this.#bytes;
  }

  /** Feeds one chunk of container output. */
  push(stream: LogStream, chunk: Buffer | string): void {
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
   * The container is gone: partial lines are flushed and every pending or later collect answers at
   * once with what there is.
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
  }

  /**
   * Resolves with the activation's lines (sentinels stripped) once both of its sentinels were seen,
   * or after the sentinel wait with LogText.collectionIssue appended. Without waitForSentinels, or
   * once the container has exited, answers at once; if the sentinels were then not both seen,
   * LogText.developerError is appended. Never rejects.
   */
  collect(request: CollectRequest): Promise<CollectedLogs> {
    if (request.limitBytes <= 0) {
      this.#forget(request.activationId);
      return Promise.resolve({ logs: [], truncated: false });
    }
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
          resolve(this.#take(request, LogText.collectionIssue));
        }, this.#waitMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Answers pending collects with what there is and stops their timers. */
  dispose(): void {
    this.markExited();
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
    const line = formatLogLine(time, stream, text);
    const bytes = Buffer.byteLength(line);
    if (bucket.overflowed || bucket.bytes + bytes > this.#maxActivationBytes) {
      bucket.overflowed = true;
      return;
    }
    bucket.entries.push({ seq: this.#seq++, line, bytes });
    bucket.bytes += bytes;
    this.#bytes += bytes;
  }

  #enforceBounds(): void {
    const waited = new Set(this.#waiters.map((w) => w.request.activationId));
    while (this.#tagged.size + this.#segments.length > this.#maxActivations || this.#bytes > this.#maxContainerBytes) {
      let victim: string | undefined;
      for (const id of this.#tagged.keys()) {
        if (!waited.has(id)) {
          victim = id;
          break;
        }
      }
      if (victim !== undefined) {
        this.#bytes -= this.#tagged.get(victim)?.bytes ?? 0;
        this.#tagged.delete(victim);
        this.#remember(this.#dropped, victim);
      } else if (this.#segments.length > 1 || (this.#segments.length === 1 && this.#tagged.size === 0)) {
        const segment = this.#segments.shift() as Bucket;
        this.#segmentBase += 1;
        this.#bytes -= segment.bytes;
        this.#droppedSegments += 1;
      } else break;
    }
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
        waiter.resolve(taken);
      }
    }
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
    for (const part of parts) this.#bytes -= part.bytes;
    const overflowed = parts.some((p) => p.overflowed);

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
    } else if (!isComplete && incomplete !== undefined) logs.push(this.#notice(incomplete));
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
      this.#bytes -= bucket.bytes;
      this.#tagged.delete(id);
    }
    this.#remember(this.#done, id);
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
