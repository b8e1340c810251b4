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

export class WorkerWriter implements BatchWriter {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve(): void; reject(error: Error): void }>();
  #seq = 0;
  #failure: Error | undefined;

  constructor(file: string) {
    this.#worker = new Worker(WRITER_WORKER_ENTRY, { workerData: { file } });
    // The process may exit while the worker idles; close() is what flushes.
    this.#worker.unref();
    this.#worker.on('message', (reply: WriterReply) => {
      const waiter = this.#waiting.get(reply.seq);
      if (waiter === undefined) return;
      this.#waiting.delete(reply.seq);
      if (reply.error === undefined) waiter.resolve();
      else waiter.reject(new Error(reply.error));
    });
    const fail = (error: Error) => {
      this.#failure = error;
      for (const waiter of this.#waiting.values()) waiter.reject(error);
      this.#waiting.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`the activation writer thread exited (code ${code})`)));
  }

  write(rows: ActivationRow[]): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const seq = ++this.#seq;
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(seq, { resolve, reject });
      this.#worker.postMessage({ seq, rows } satisfies WriterRequest);
    });
  }

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
