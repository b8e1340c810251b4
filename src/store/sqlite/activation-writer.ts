/**
 * Where batches of activation rows are written. The store hands over one batch at a time; a writer
 * resolves when the batch is committed and rejects when it is not (the store keeps it and retries).
 *
 * - WorkerWriter: a worker thread with its own SQLite connection to the same file (WAL lets the
 *   controller's connection keep reading). The B-tree work of the inserts and any wait on the disk
 *   happen off the event loop that serves invokes.
 * - InlineWriter: the same statement on the caller's connection; for `:memory:` databases (a worker
 *   cannot share them) and tests.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { Database, Statement } from 'better-sqlite3';

/** `[activationId, namespace, name, start, recordJson]` */
export type ActivationRow = [string, string, string, number, string];

export interface BatchWriter {
  write(rows: ActivationRow[]): Promise<void>;
  close(): Promise<void>;
}

export const UPSERT_SQL = `INSERT INTO activations (activation_id, namespace, name, start, record) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (activation_id) DO UPDATE SET namespace = excluded.namespace, name = excluded.name,
    start = excluded.start, record = excluded.record`;

export class InlineWriter implements BatchWriter {
  readonly #db: Database;
  readonly #upsert: Statement<ActivationRow>;

  constructor(db: Database) {
    this.#db = db;
    this.#upsert = db.prepare(UPSERT_SQL);
  }

  async write(rows: ActivationRow[]): Promise<void> {
    if (!this.#db.open) return;
    this.#db.transaction(() => {
      for (const row of rows) this.#upsert.run(...row);
    })();
  }

  async close(): Promise<void> {}
}

/**
 * The worker's entry, compiled next to this module in dist/. Loaded from the TypeScript sources (the
 * tests), the build in dist/ is used, since a worker runs plain JavaScript.
 */
export const WRITER_WORKER_ENTRY = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../../dist/src/store/sqlite/activation-writer-worker.js' : './activation-writer-worker.js', import.meta.url),
);

/** Messages between the store and its writer worker. */
export type WriterRequest = { seq: number; rows: ActivationRow[] };
export type WriterReply = { seq: number; error?: string };

/**
 * Writes batches on a worker thread. If the thread dies (an `error` or `exit`), the batches it held
 * are rejected and the next write starts a fresh thread (the store's retry backoff bounds how often);
 * the dead one is terminated. After close() every write rejects.
 */
export class WorkerWriter implements BatchWriter {
  readonly #file: string;
  #worker: Worker;
  readonly #waiting = new Map<number, { resolve(): void; reject(error: Error): void }>();
  #seq = 0;
  #failure: Error | undefined;
  #closed = false;
  #restarts = 0;

  constructor(file: string) {
    this.#file = file;
    this.#worker = this.#start();
  }

  #start(): Worker {
    const worker = new Worker(WRITER_WORKER_ENTRY, { workerData: { file: this.#file } });
    // The process may exit while the worker idles; close() is what flushes.
    worker.unref();
    worker.on('message', (reply: WriterReply) => {
      const waiter = this.#waiting.get(reply.seq);
      if (waiter === undefined) return;
      this.#waiting.delete(reply.seq);
      if (reply.error === undefined) waiter.resolve();
      else waiter.reject(new Error(reply.error));
    });
    const fail = (error: Error) => {
      // A replaced thread's late `exit` (after its `error`) must not fail its successor.
      if (worker !== this.#worker || this.#failure !== undefined) return;
      this.#failure = error;
      for (const waiter of this.#waiting.values()) waiter.reject(error);
      this.#waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the activation writer thread exited (code ${code})`)));
    return worker;
  }

  write(rows: ActivationRow[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the activation writer is closed'));
    if (this.#failure !== undefined) {
      // Only batches of the dead thread were waiting, and fail() rejected them all.
      const dead = this.#worker;
      this.#failure = undefined;
      this.#restarts += 1;
      this.#worker = this.#start();
      void dead.terminate().catch(() => undefined);
    }
    const seq = ++this.#seq;
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(seq, { resolve, reject });
      this.#worker.postMessage({ seq, rows } satisfies WriterRequest);
    });
  }

  /** Whether the current thread has died (the next write starts a new one). */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** How many times a dead thread was replaced (for tests and metrics). */
  get restarts(): number {
    return this.#restarts;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#worker.terminate();
  }
}
