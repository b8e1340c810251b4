import type { Database, Statement } from 'better-sqlite3';
import type { LogFn } from '../../daemon/log.js';
import type { ActivationRecord } from '../../model/activation.js';
import type { ActivationQuery, ActivationStore } from '../types.js';
import type { ActivationRow, BatchWriter } from './activation-writer.js';

export interface WriteBehindOptions {
  /** how long a record may wait in the buffer before its batch is written (default 50 ms) */
  flushIntervalMs?: number;
  /** a batch is written at once when this many records are buffered (default 500) */
  batchSize?: number;
  /**
   * Records kept in memory while writes fail (disk full, database locked), default 20 × batchSize.
   * Past it the oldest are dropped, and said so through onWriteError: memory stays bounded.
   */
  maxBuffered?: number;
  /**
   * Called (default: one line on stderr) when a background write fails (at once; the records stay
   * buffered and are retried with backoff), and when records were dropped past maxBuffered: drops are
   * counted and reported at most once per `reportIntervalMs`. `info.failing` is false when no write
   * has failed and the writer only lags; `error` is then an Error saying so.
   */
  onWriteError?: (error: unknown, info: WriteErrorInfo) => void;
  /** minimum time between two reports of dropped records (default 1000 ms) */
  reportIntervalMs?: number;
}

export interface WriteErrorInfo {
  /** records not yet written */
  buffered: number;
  /** records dropped since the previous report */
  dropped: number;
  /** true while writes fail, false when the writer is only behind */
  failing: boolean;
}

/** The usual onWriteError: one log line through the daemon's logger. */
export function logWriteErrors(log: LogFn): NonNullable<WriteBehindOptions['onWriteError']> {
  return (error, info) =>
    log(
      'error',
      info.failing ? 'activation store write failed; records stay buffered and are retried' : 'activation store writer is behind; the oldest buffered records were dropped',
      { error: String(error), ...info },
    );
}

/** Retry delays after a failed write: doubling from the first to the last. */
const RETRY_MS = { first: 500, max: 30_000 } as const;

type Filter = Omit<ActivationQuery, 'limit' | 'skip'>;

/**
 * ActivationStore with a bounded write-behind buffer. `put` only touches memory (the hot path never
 * waits on disk); batches go to a BatchWriter (a writer thread for files), one batch at a time, so
 * writes land in put order. `get` looks in the buffer first; `list`/`count` wait until everything
 * put before the call is written, so that SQL sees it (listing is not on the hot path). While writes
 * fail they do not wait: they answer from SQL merged with the matching buffered records.
 */
export class SqliteActivationStore implements ActivationStore {
  readonly #db: Database;
  readonly #writer: BatchWriter;
  /** every record not yet known to be written, readable by get; in put order */
  readonly #pending = new Map<string, ActivationRecord>();
  /** put sequence number of each record in #pending */
  readonly #seqOf = new Map<ActivationRecord, number>();
  /** sequence number of the last put */
  #seq = 0;
  /** highest sequence number written by a successful batch: every record put up to it is written (or dropped) */
  #writtenSeq = 0;
  /** records put since they were last handed to the writer (a subset of #pending) */
  readonly #dirty = new Map<string, ActivationRecord>();
  readonly #flushIntervalMs: number;
  readonly #batchSize: number;
  readonly #maxBuffered: number;
  readonly #onWriteError: NonNullable<WriteBehindOptions['onWriteError']>;
  /** set while writes fail: no write is tried before this time (epoch ms) */
  #retryAt = 0;
  #retryDelay: number = RETRY_MS.first;
  #lastError: unknown;
  /** true from a failed write until the next successful one */
  #failing = false;
  /** the batch being written, if any */
  #writing: Promise<void> | undefined;
  /** callers of flush() waiting until #writtenSeq reaches their target; targets ascending */
  readonly #flushers: Array<{ target: number; resolve(): void; reject(error: unknown): void }> = [];
  readonly #reportIntervalMs: number;
  /** records dropped and not yet reported */
  #unreportedDrops = 0;
  #lastReportAt = Number.NEGATIVE_INFINITY;
  #reportTimer: NodeJS.Timeout | undefined;
  readonly #get: Statement<[string, string], { record: string }>;
  readonly #queries = new Map<string, Statement<unknown[], { record: string }>>();
  readonly #counts = new Map<string, Statement<unknown[], { n: number }>>();
  #timer: NodeJS.Timeout | undefined;
  /** when #timer fires (epoch ms) */
  #timerAt = 0;

  constructor(db: Database, writer: BatchWriter, options: WriteBehindOptions = {}) {
    this.#db = db;
    this.#writer = writer;
    this.#flushIntervalMs = options.flushIntervalMs ?? 50;
    this.#batchSize = Math.max(1, options.batchSize ?? 500);
    this.#maxBuffered = Math.max(this.#batchSize, options.maxBuffered ?? 20 * this.#batchSize);
    this.#onWriteError =
      options.onWriteError ??
      ((error, info) =>
        process.stderr.write(
          `activation store: ${info.failing ? 'write failed' : 'writer behind'} (${String(error)}); ${info.buffered} records buffered, ${info.dropped} dropped\n`,
        ));
    this.#reportIntervalMs = options.reportIntervalMs ?? 1000;
    this.#get = db.prepare('SELECT record FROM activations WHERE namespace = ? AND activation_id = ?');
  }

  /** Records not yet written (for tests and metrics). */
  get buffered(): number {
    return this.#pending.size;
  }

  put(record: ActivationRecord): void {
    // delete+set moves a replaced record to the end, keeping write order = put order
    const old = this.#pending.get(record.activationId);
    if (old !== undefined) this.#seqOf.delete(old);
    this.#pending.delete(record.activationId);
    this.#pending.set(record.activationId, record);
    this.#seqOf.set(record, ++this.#seq);
    this.#dirty.delete(record.activationId);
    this.#dirty.set(record.activationId, record);
    // Only reachable while writes fail or lag far behind (a batch goes out at batchSize).
    if (this.#pending.size > this.#maxBuffered) this.#dropOldest();
    if (this.#dirty.size >= this.#batchSize) this.#writeNext();
    else this.#schedule(this.#flushIntervalMs);
  }

  get(namespace: string, activationId: string): ActivationRecord | undefined {
    const pending = this.#pending.get(activationId);
    if (pending) return pending.namespace === namespace ? pending : undefined;
    const row = this.#get.get(namespace, activationId);
    return row ? (JSON.parse(row.record) as ActivationRecord) : undefined;
  }

  async list(namespace: string, q: ActivationQuery): Promise<ActivationRecord[]> {
    const written = await this.#settle();
    const { key, where, args } = filterSql(namespace, q);
    let statement = this.#queries.get(key);
    if (!statement) {
      statement = this.#db.prepare(
        `SELECT record FROM activations WHERE ${where} ORDER BY start DESC, activation_id DESC LIMIT ? OFFSET ?`,
      );
      this.#queries.set(key, statement);
    }
    const parse = (row: { record: string }) => JSON.parse(row.record) as ActivationRecord;
    if (written) return statement.all(...args, q.limit, q.skip).map(parse);
    // Writes fail: a buffered record replaces its (older) row, so that one comes from SQL per id.
    // At most #pending.size rows are replaced, hence the larger first page.
    const buffered = [...this.#pending.values()].filter((r) => matches(r, namespace, q));
    const rows = statement
      .all(...args, q.skip + q.limit + this.#pending.size, 0)
      .map(parse)
      .filter((r) => !this.#pending.has(r.activationId));
    return [...rows, ...buffered].sort(newestFirst).slice(q.skip, q.skip + q.limit);
  }

  async count(namespace: string, q: Filter): Promise<number> {
    const written = await this.#settle();
    const { key, where, args } = filterSql(namespace, q);
    let statement = this.#counts.get(key);
    if (!statement) {
      statement = this.#db.prepare(`SELECT COUNT(*) AS n FROM activations WHERE ${where}`);
      this.#counts.set(key, statement);
    }
    let n = statement.get(...args)?.n ?? 0;
    if (written) return n;
    // Writes fail: count each buffered record instead of its row, if any.
    for (const r of this.#pending.values()) {
      if (r.namespace !== namespace) continue;
      const row = this.#get.get(namespace, r.activationId);
      if (row !== undefined && matches(JSON.parse(row.record) as ActivationRecord, namespace, q)) n -= 1;
      if (matches(r, namespace, q)) n += 1;
    }
    return n;
  }

  /**
   * Waits for the records put before the call to be written; false (at once) when writes fail or
   * the wait ends in a failed write, and the caller must merge the buffer into what SQL says.
   */
  async #settle(): Promise<boolean> {
    // No forced retry while backing off: reading must not hammer a failing disk (nor wait on it).
    if (this.#failing) return false;
    try {
      await this.flush();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Resolves once every record put before the call is written; rejects with the write error when a
   * write fails meanwhile (the records stay buffered and are retried in the background).
   */
  flush(): Promise<void> {
    const target = this.#seq;
    if (this.#pending.size === 0 || this.#writtenSeq >= target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#flushers.push({ target, resolve, reject });
      this.#retryAt = 0; // an explicit flush tries at once
      this.#writeNext();
    });
  }

  /** Writes what is buffered and stops the writer (close of the store). */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      if (this.#reportTimer !== undefined) clearTimeout(this.#reportTimer);
      this.#reportTimer = undefined;
      await this.#writer.close();
    }
  }

  /** Tries #writeNext after delayMs, or sooner if a try is already due sooner. */
  #schedule(delayMs: number): void {
    const at = Date.now() + delayMs;
    if (this.#timer !== undefined) {
      if (this.#timerAt <= at) return;
      // e.g. a retry due in 500 ms while the last put's flush timer is due later
      clearTimeout(this.#timer);
    }
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#writeNext();
    }, delayMs);
    this.#timer.unref();
  }

  /** Hands the dirty records to the writer, unless a batch is being written or writes are backing off. */
  #writeNext(): void {
    if (this.#writing !== undefined || this.#dirty.size === 0) return;
    const wait = this.#retryAt - Date.now();
    if (wait > 0) {
      this.#schedule(wait);
      return;
    }
    const batch = [...this.#dirty.values()];
    this.#dirty.clear();
    // A batch takes every dirty record, one batch is out at a time, and a failed batch's records are
    // put back before the next goes out: once this batch is written, so is every record put up to
    // its highest sequence number (or dropped, or replaced by a newer version still buffered).
    let lastSeq = 0;
    for (const r of batch) lastSeq = Math.max(lastSeq, this.#seqOf.get(r) ?? 0);
    const rows = batch.map((r): ActivationRow => [r.activationId, r.namespace, r.name, r.start, JSON.stringify(r)]);
    this.#writing = this.#writer.write(rows).then(
      () => {
        this.#writing = undefined;
        this.#retryAt = 0;
        this.#retryDelay = RETRY_MS.first;
        this.#failing = false;
        this.#writtenSeq = Math.max(this.#writtenSeq, lastSeq);
        // A record replaced while its batch was written stays pending (its newer version is dirty).
        for (const r of batch) {
          if (this.#pending.get(r.activationId) === r) {
            this.#pending.delete(r.activationId);
            this.#seqOf.delete(r);
          }
        }
        this.#afterWrite(undefined);
      },
      (error: unknown) => {
        this.#writing = undefined;
        for (const r of batch) {
          if (this.#pending.get(r.activationId) === r && !this.#dirty.has(r.activationId)) this.#dirty.set(r.activationId, r);
        }
        this.#retryAt = Date.now() + this.#retryDelay;
        this.#retryDelay = Math.min(RETRY_MS.max, this.#retryDelay * 2);
        this.#lastError = error;
        this.#failing = true;
        // Reported at once: the backoff already spaces failed writes. Drops not yet reported go with it.
        this.#report();
        this.#afterWrite(error);
      },
    );
  }

  #afterWrite(error: unknown): void {
    if (error !== undefined) {
      for (const waiter of this.#flushers.splice(0)) waiter.reject(error);
    } else {
      let done = 0;
      while (done < this.#flushers.length && (this.#flushers[done]!.target <= this.#writtenSeq || this.#pending.size === 0)) done += 1;
      for (const waiter of this.#flushers.splice(0, done)) waiter.resolve();
    }
    if (this.#dirty.size === 0) return;
    if (this.#flushers.length > 0 || this.#dirty.size >= this.#batchSize) this.#writeNext();
    else this.#schedule(Math.max(this.#flushIntervalMs, this.#retryAt - Date.now()));
  }

  /**
   * Drops the oldest buffered records down to maxBuffered, and says so, at most once per
   * reportIntervalMs (under a steady overload this runs on every put).
   */
  #dropOldest(): void {
    for (const [id, record] of this.#pending) {
      if (this.#pending.size <= this.#maxBuffered) break;
      this.#pending.delete(id);
      this.#seqOf.delete(record);
      this.#dirty.delete(id);
      this.#unreportedDrops += 1;
    }
    const wait = this.#lastReportAt + this.#reportIntervalMs - Date.now();
    if (wait <= 0) this.#report();
    else if (this.#reportTimer === undefined) {
      this.#reportTimer = setTimeout(() => {
        this.#reportTimer = undefined;
        if (this.#unreportedDrops > 0) this.#report();
      }, wait);
      this.#reportTimer.unref();
    }
  }

  /** One call of onWriteError with the current state and the drops since the previous report. */
  #report(): void {
    const dropped = this.#unreportedDrops;
    this.#unreportedDrops = 0;
    this.#lastReportAt = Date.now();
    const error = this.#failing ? this.#lastError : new Error(`the writer is behind: ${this.#pending.size} records buffered`);
    this.#onWriteError(error, { buffered: this.#pending.size, dropped, failing: this.#failing });
  }
}

/** The order of listings: newest start first, ties by activationId descending (as the SQL). */
function newestFirst(a: ActivationRecord, b: ActivationRecord): number {
  if (a.start !== b.start) return b.start - a.start;
  return a.activationId < b.activationId ? 1 : a.activationId > b.activationId ? -1 : 0;
}

/** The JavaScript twin of filterSql, for buffered records. */
function matches(r: ActivationRecord, namespace: string, q: Filter): boolean {
  return (
    r.namespace === namespace &&
    (q.name === undefined || r.name === q.name) &&
    (q.since === undefined || r.start >= q.since) &&
    (q.upto === undefined || r.start <= q.upto)
  );
}

function filterSql(namespace: string, q: Filter): { key: string; where: string; args: unknown[] } {
  const clauses = ['namespace = ?'];
  const args: unknown[] = [namespace];
  let key = '';
  if (q.name !== undefined) { clauses.push('name = ?'); args.push(q.name); key += 'n'; }
  if (q.since !== undefined) { clauses.push('start >= ?'); args.push(q.since); key += 's'; }
  if (q.upto !== undefined) { clauses.push('start <= ?'); args.push(q.upto); key += 'u'; }
  return { key, where: clauses.join(' AND '), args };
}
