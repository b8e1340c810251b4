import type { Database, Statement } from 'better-sqlite3';
import type { LogFn } from '../../daemon/log.js';
import type { ActivationRecord } from '../../model/activation.js';
import type { ActivationQuery, ActivationStore } from '../types.js';

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
 * ActivationStore with a bounded write-behind buffer. `put` only touches memory (the hot path must
 * not wait on disk); the buffer is written in one transaction per batch. `get` looks in the buffer
 * first; `list`/`count` flush first so that SQL sees every record (listing is not on the hot path).
 */
export class SqliteActivationStore implements ActivationStore {
  readonly #db: Database;
  readonly #pending = new Map<string, ActivationRecord>();
  readonly #flushIntervalMs: number;
  readonly #batchSize: number;
  readonly #maxBuffered: number;
  readonly #onWriteError: NonNullable<WriteBehindOptions['onWriteError']>;
  /** set while writes fail: no write is tried before this time (epoch ms) */
  #retryAt = 0;
  #retryDelay: number = RETRY_MS.first;
  #lastError: unknown;
  readonly #upsert: Statement<[string, string, string, number, string]>;
  readonly #get: Statement<[string, string], { record: string }>;
  readonly #queries = new Map<string, Statement<unknown[], { record: string }>>();
  readonly #counts = new Map<string, Statement<unknown[], { n: number }>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(db: Database, options: WriteBehindOptions = {}) {
    this.#db = db;
    this.#flushIntervalMs = options.flushIntervalMs ?? 50;
    this.#batchSize = Math.max(1, options.batchSize ?? 500);
    this.#maxBuffered = Math.max(this.#batchSize, options.maxBuffered ?? 20 * this.#batchSize);
    this.#onWriteError =
      options.onWriteError ??
      ((error, info) => process.stderr.write(`activation store: write failed (${String(error)}); ${info.buffered} records buffered, ${info.dropped} dropped\n`));
    this.#upsert = db.prepare(
      `INSERT INTO activations (activation_id, namespace, name, start, record) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (activation_id) DO UPDATE SET namespace = excluded.namespace, name = excluded.name,
         start = excluded.start, record = excluded.record`,
    );
    this.#get = db.prepare('SELECT record FROM activations WHERE namespace = ? AND activation_id = ?');
  }

  /** Records waiting to be written (for tests and metrics). */
  get buffered(): number {
    return this.#pending.size;
  }

  put(record: ActivationRecord): void {
    // delete+set moves a replaced record to the end, keeping write order = put order
    this.#pending.delete(record.activationId);
    this.#pending.set(record.activationId, record);
    // Only reachable while writes fail (otherwise a batch is written at batchSize).
    if (this.#pending.size > this.#maxBuffered) this.#dropOldest(undefined);
    if (this.#pending.size >= this.#batchSize && Date.now() >= this.#retryAt) {
      this.#tryFlush();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#tryFlush(), Math.max(this.#flushIntervalMs, this.#retryAt - Date.now()));
      this.#timer.unref();
    }
  }

  /** Drops the oldest buffered records down to maxBuffered, and says so. */
  #dropOldest(error: unknown): void {
    let dropped = 0;
    for (const id of this.#pending.keys()) {
      if (this.#pending.size <= this.#maxBuffered) break;
      this.#pending.delete(id);
      dropped += 1;
    }
    this.#onWriteError(error ?? this.#lastError, { buffered: this.#pending.size, dropped });
  }

  /** A background write: a failure is reported and retried later with backoff, never thrown into the caller. */
  #tryFlush(): void {
    try {
      this.flushSync();
      this.#retryAt = 0;
      this.#retryDelay = RETRY_MS.first;
    } catch (error) {
      this.#retryAt = Date.now() + this.#retryDelay;
      this.#retryDelay = Math.min(RETRY_MS.max, this.#retryDelay * 2);
      this.#lastError = error;
      this.#onWriteError(error, { buffered: this.#pending.size, dropped: 0 });
      if (this.#timer === undefined) {
        this.#timer = setTimeout(() => this.#tryFlush(), this.#retryAt - Date.now());
        this.#timer.unref();
      }
    }
  }

  get(namespace: string, activationId: string): ActivationRecord | undefined {
    const pending = this.#pending.get(activationId);
    if (pending) return pending.namespace === namespace ? pending : undefined;
    const row = this.#get.get(namespace, activationId);
    return row ? (JSON.parse(row.record) as ActivationRecord) : undefined;
  }

  list(namespace: string, q: ActivationQuery): ActivationRecord[] {
    this.flushSync();
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

  count(namespace: string, q: Filter): number {
    this.flushSync();
    const { key, where, args } = filterSql(namespace, q);
    let statement = this.#counts.get(key);
    if (!statement) {
      statement = this.#db.prepare(`SELECT COUNT(*) AS n FROM activations WHERE ${where}`);
      this.#counts.set(key, statement);
    }
    return statement.get(...args)?.n ?? 0;
  }

  async flush(): Promise<void> {
    this.flushSync();
  }

  /** Writes the whole buffer in one transaction. */
  flushSync(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pending.size === 0 || !this.#db.open) return;
    const batch = [...this.#pending.values()];
    this.#db.transaction(() => {
      for (const r of batch) this.#upsert.run(r.activationId, r.namespace, r.name, r.start, JSON.stringify(r));
    })();
    // Only now drop them: a record replaced during the write (impossible synchronously, but cheap to honour) stays.
    for (const r of batch) if (this.#pending.get(r.activationId) === r) this.#pending.delete(r.activationId);
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
