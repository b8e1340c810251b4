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
  /** a background write failed (default: one line on stderr); the records stay buffered and are retried with backoff */
  onWriteError?: (error: unknown, info: { buffered: number; dropped: number }) => void;
}

/** The usual onWriteError: one log line through the daemon's logger. */
export function logWriteErrors(log: LogFn): NonNullable<WriteBehindOptions['onWriteError']> {
  return (error, info) => log('error', 'activation store write failed; records stay buffered and are retried', { error: String(error), ...info });
}

/** Retry delays after a failed write: doubling from the first to the last. */
const RETRY_MS = { first: 500, max: 30_000 } as const;

type Filter = Omit<ActivationQuery, 'limit' | 'skip'>;

/**
 * ActivationStore with a bounded write-behind buffer. `put` only touches memory (the hot path never
 * waits on disk); batches go to a BatchWriter (a writer thread for files), one batch at a time, so
 * writes land in put order. `get` looks in the buffer first; `list`/`count` wait until everything
 * put so far is written, so that SQL sees it (listing is not on the hot path).
 */
export class SqliteActivationStore implements ActivationStore {
  readonly #db: Database;
  readonly #writer: BatchWriter;
  /** every record not yet known to be written, readable by get */
  readonly #pending = new Map<string, ActivationRecord>();
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
  /** the batch being written, if any */
  #writing: Promise<void> | undefined;
  /** callers of flush() waiting for the buffer to drain */
  readonly #drained = new Set<{ resolve(): void; reject(error: unknown): void }>();
  readonly #get: Statement<[string, string], { record: string }>;
  readonly #queries = new Map<string, Statement<unknown[], { record: string }>>();
  readonly #counts = new Map<string, Statement<unknown[], { n: number }>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(db: Database, writer: BatchWriter, options: WriteBehindOptions = {}) {
    this.#db = db;
    this.#writer = writer;
    this.#flushIntervalMs = options.flushIntervalMs ?? 50;
    this.#batchSize = Math.max(1, options.batchSize ?? 500);
    this.#maxBuffered = Math.max(this.#batchSize, options.maxBuffered ?? 20 * this.#batchSize);
    this.#onWriteError =
      options.onWriteError ??
      ((error, info) => process.stderr.write(`activation store: write failed (${String(error)}); ${info.buffered} records buffered, ${info.dropped} dropped\n`));
    this.#get = db.prepare('SELECT record FROM activations WHERE namespace = ? AND activation_id = ?');
  }

  /** Records not yet written (for tests and metrics). */
  get buffered(): number {
    return this.#pending.size;
  }

  put(record: ActivationRecord): void {
    // delete+set moves a replaced record to the end, keeping write order = put order
    this.#pending.delete(record.activationId);
    this.#pending.set(record.activationId, record);
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
    await this.flush();
    const { key, where, args } = filterSql(namespace, q);
    let statement = this.#queries.get(key);
    if (!statement) {
      statement = this.#db.prepare(
        `SELECT record FROM activations WHERE ${where} ORDER BY start DESC, activation_id DESC LIMIT ? OFFSET ?`,
      );
      this.#queries.set(key, statement);
    }
    return statement.all(...args, q.limit, q.skip).map((row) => JSON.parse(row.record) as ActivationRecord);
  }

  async count(namespace: string, q: Filter): Promise<number> {
    await this.flush();
    const { key, where, args } = filterSql(namespace, q);
    let statement = this.#counts.get(key);
    if (!statement) {
      statement = this.#db.prepare(`SELECT COUNT(*) AS n FROM activations WHERE ${where}`);
      this.#counts.set(key, statement);
    }
    return statement.get(...args)?.n ?? 0;
  }

  /**
   * Resolves once every record put before the call is written; rejects with the write error when a
   * write fails meanwhile (the records stay buffered and are retried in the background).
   */
  flush(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#drained.add({ resolve, reject });
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
      await this.#writer.close();
    }
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined) return;
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
    const rows = batch.map((r): ActivationRow => [r.activationId, r.namespace, r.name, r.start, JSON.stringify(r)]);
    this.#writing = this.#writer.write(rows).then(
      () => {
        this.#writing = undefined;
        this.#retryAt = 0;
        this.#retryDelay = RETRY_MS.first;
        // A record replaced while its batch was written stays pending (its newer version is dirty).
        for (const r of batch) if (this.#pending.get(r.activationId) === r) this.#pending.delete(r.activationId);
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
        this.#onWriteError(error, { buffered: this.#pending.size, dropped: 0 });
        this.#afterWrite(error);
      },
    );
  }

  #afterWrite(error: unknown): void {
    if (error !== undefined) {
      for (const waiter of this.#drained) waiter.reject(error);
      this.#drained.clear();
    } else if (this.#pending.size === 0) {
      for (const waiter of this.#drained) waiter.resolve();
      this.#drained.clear();
    }
    if (this.#dirty.size === 0) return;
    if (this.#drained.size > 0 || this.#dirty.size >= this.#batchSize) this.#writeNext();
    else this.#schedule(Math.max(this.#flushIntervalMs, this.#retryAt - Date.now()));
  }

  /** Drops the oldest buffered records down to maxBuffered, and says so. */
  #dropOldest(): void {
    let dropped = 0;
    for (const id of this.#pending.keys()) {
      if (this.#pending.size <= this.#maxBuffered) break;
      this.#pending.delete(id);
      this.#dirty.delete(id);
      dropped += 1;
    }
    this.#onWriteError(this.#lastError, { buffered: this.#pending.size, dropped });
  }
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
