import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ActivationRecord } from '../../../src/model/activation.js';
import { InlineWriter, WorkerWriter, type ActivationRow, type BatchWriter } from '../../../src/store/sqlite/activation-writer.js';
import { SqliteActivationStore, type WriteErrorInfo } from '../../../src/store/sqlite/activations.js';
import { applyMigrations } from '../../../src/store/sqlite/migrations.js';

function record(id: number, start = 1000 + id, name = 'hello'): ActivationRecord {
  return {
    namespace: 'guest', name, subject: 'guest', activationId: id.toString(16).padStart(32, '0'),
    version: '0.0.1', publish: false, start, end: start + 5, duration: 5,
    response: { statusCode: 0, result: { id } }, logs: [], annotations: [],
  };
}

/** A BatchWriter whose batches the test settles by hand; `commit` writes them through to the database. */
class ScriptedWriter implements BatchWriter {
  readonly batches: Array<{ rows: ActivationRow[]; resolve(): void; reject(error: Error): void }> = [];
  readonly #inline: InlineWriter | undefined;
  constructor(db?: BetterSqlite3.Database) {
    this.#inline = db === undefined ? undefined : new InlineWriter(db);
  }
  write(rows: ActivationRow[]): Promise<void> {
    return new Promise<void>((resolve, reject) => this.batches.push({ rows, resolve, reject }));
  }
  /** Writes the oldest outstanding batch and resolves it. */
  async commit(): Promise<void> {
    const batch = this.batches.shift()!;
    await this.#inline?.write(batch.rows);
    batch.resolve();
  }
  fail(message: string): void {
    this.batches.shift()!.reject(new Error(message));
  }
  ids(index: number): string[] {
    return this.batches[index]!.rows.map((row) => row[0]);
  }
  async close(): Promise<void> {}
}

/** Lets settled promises run their callbacks (a macrotask turn; setImmediate is never faked here). */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function migratedDb(): BetterSqlite3.Database {
  const db = new BetterSqlite3(':memory:');
  applyMigrations(db);
  return db;
}

const dbs: BetterSqlite3.Database[] = [];
let dir: string | undefined;
afterEach(() => {
  vi.useRealTimers();
  for (const db of dbs.splice(0)) db.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('reporting of dropped records', () => {
  it('aggregates drops into at most one report per interval, and says "behind" until a write fails', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'], now: 0 });
    const db = migratedDb();
    dbs.push(db);
    const writer = new ScriptedWriter();
    const reports: Array<{ error: unknown } & WriteErrorInfo> = [];
    const store = new SqliteActivationStore(db, writer, {
      flushIntervalMs: 60_000, batchSize: 2, maxBuffered: 2, onWriteError: (error, info) => reports.push({ error, ...info }),
    });

    // 1 and 2 go out as one batch that never completes (the writer lags); 3..12 each push one out.
    for (let id = 1; id <= 12; id += 1) store.put(record(id));
    expect(writer.batches).toHaveLength(1);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ buffered: 2, dropped: 1, failing: false });
    expect(String(reports[0]!.error)).toBe('Error: the writer is behind: 2 records buffered');

    await vi.advanceTimersByTimeAsync(1000);
    expect(reports).toHaveLength(2);
    expect(reports[1]).toMatchObject({ buffered: 2, dropped: 9, failing: false });

    store.put(record(13)); // within the interval: counted, not reported
    expect(reports).toHaveLength(2);
    writer.fail('disk full'); // a failure is reported at once, with the drops not yet reported
    await turn();
    expect(reports).toHaveLength(3);
    expect(reports[2]).toMatchObject({ buffered: 2, dropped: 1, failing: true });
    expect(String(reports[2]!.error)).toBe('Error: disk full');

    store.put(record(14));
    expect(reports).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1000);
    // the retry after 500 ms went out and is still outstanding; the drop of 14's turn is reported once
    expect(writer.batches).toHaveLength(1);
    expect(reports).toHaveLength(4);
    expect(reports[3]).toMatchObject({ buffered: 2, dropped: 1, failing: true });
    expect(String(reports[3]!.error)).toBe('Error: disk full');
    expect(reports.reduce((n, r) => n + r.dropped, 0)).toBe(12);
    expect(store.get('guest', record(14).activationId)).toEqual(record(14));
    expect(store.get('guest', record(12).activationId)).toBeUndefined();
  });
});

describe('flush', () => {
  it('resolves once the records put before it are written, although puts go on', async () => {
    const db = migratedDb();
    dbs.push(db);
    const writer = new ScriptedWriter(db);
    const store = new SqliteActivationStore(db, writer, { flushIntervalMs: 60_000, batchSize: 1 });
    store.put(record(1)); // batch [1] goes out
    store.put(record(2));
    let flushed = false;
    const flush = store.flush().then(() => (flushed = true));
    store.put(record(3));
    await writer.commit(); // [1] written; [2, 3] goes out
    await turn();
    expect(flushed).toBe(false);
    expect(writer.ids(0)).toEqual([record(2).activationId, record(3).activationId]);
    store.put(record(4)); // put after the flush: not waited for
    await writer.commit();
    await flush;
    expect(flushed).toBe(true);
    expect(store.buffered).toBe(1);
    expect(writer.ids(0)).toEqual([record(4).activationId]);
    await writer.commit();
  });

  it('waits across a failed batch for the retry that writes its records', async () => {
    const db = migratedDb();
    dbs.push(db);
    const writer = new ScriptedWriter(db);
    const store = new SqliteActivationStore(db, writer, { flushIntervalMs: 60_000, batchSize: 1, onWriteError: () => undefined });
    store.put(record(1)); // batch [1] goes out
    store.put(record(2));
    writer.fail('locked');
    await turn();
    let flushed = false;
    const flush = store.flush().then(() => (flushed = true)); // forces the retry: [2, 1]
    expect(writer.ids(0)).toEqual([record(2).activationId, record(1).activationId]);
    store.put(record(3));
    await writer.commit();
    await flush;
    expect(flushed).toBe(true);
    expect(db.prepare('SELECT COUNT(*) AS n FROM activations').get()).toEqual({ n: 2 });
    expect(store.buffered).toBe(1);
    await writer.commit();
  });
});

describe('list and count while writes fail', () => {
  it('answer from what is written merged with the buffered records, newest first, then paged', async () => {
    const db = migratedDb();
    dbs.push(db);
    const writer = new ScriptedWriter(db);
    const store = new SqliteActivationStore(db, writer, { flushIntervalMs: 60_000, batchSize: 100, onWriteError: () => undefined });
    for (const r of [record(1, 100), record(2, 300), record(3, 500)]) store.put(r);
    const first = store.flush();
    await writer.commit();
    await first;

    // 2 is put again with a later start (replacing its row), 4 and 5 are new; a flush sends them out and that write fails
    store.put(record(2, 600));
    store.put(record(4, 200));
    store.put(record(5, 400, 'other'));
    const failed = store.flush();
    writer.fail('disk full');
    await expect(failed).rejects.toThrow('disk full');

    const ids = (rs: ActivationRecord[]) => rs.map((r) => [r.activationId.slice(-1), r.start]);
    expect(ids(await store.list('guest', { limit: 10, skip: 0 }))).toEqual([['2', 600], ['3', 500], ['5', 400], ['4', 200], ['1', 100]]);
    expect(ids(await store.list('guest', { limit: 2, skip: 1 }))).toEqual([['3', 500], ['5', 400]]);
    expect(ids(await store.list('guest', { limit: 10, skip: 0, name: 'hello', since: 150, upto: 550 }))).toEqual([['3', 500], ['4', 200]]);
    expect(await store.list('other-ns', { limit: 10, skip: 0 })).toEqual([]);
    expect(await store.count('guest', {})).toBe(5);
    expect(await store.count('guest', { name: 'hello', since: 150 })).toBe(3);
    expect(await store.count('guest', { upto: 350 })).toBe(2); // 2's row (300) is replaced by its buffered version (600)
    expect(writer.batches).toHaveLength(0); // reading while backing off forced no retry
  });
});

describe('WorkerWriter', () => {
  it('starts a new writer thread on the next write after its thread died', async () => {
    dir = mkdtempSync(join(tmpdir(), 'brisk-writer-'));
    const file = join(dir, 'later', 'brisk.db');
    const writer = new WorkerWriter(file);
    try {
      const row: ActivationRow = [record(1).activationId, 'guest', 'hello', 1001, JSON.stringify(record(1))];
      // the thread cannot open a file in a missing directory: it dies, and the batch with it
      await expect(writer.write([row])).rejects.toThrow();
      await vi.waitFor(() => expect(writer.failed).toBe(true));

      mkdirSync(join(dir, 'later'));
      const db = new BetterSqlite3(file);
      dbs.push(db);
      db.pragma('journal_mode = WAL');
      applyMigrations(db);
      await writer.write([row]);
      expect(writer.restarts).toBe(1);
      expect(writer.failed).toBe(false);
      expect(db.prepare('SELECT activation_id AS id FROM activations').all()).toEqual([{ id: record(1).activationId }]);
    } finally {
      await writer.close();
    }
    await expect(writer.write([])).rejects.toThrow('the activation writer is closed');
  });
});
