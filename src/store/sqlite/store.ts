import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Store } from '../types.js';
import { InlineWriter, WorkerWriter } from './activation-writer.js';
import { SqliteActivationStore, type WriteBehindOptions } from './activations.js';
import { SqliteEntityStore } from './entities.js';
import { applyMigrations } from './migrations.js';

export interface SqliteStoreOptions {
  /** database file; `':memory:'` for a private in-memory store. Parent directories are created. */
  file: string;
  /** activation write-behind tuning (defaults: 50 ms, 500 records) */
  writeBehind?: WriteBehindOptions;
  /** write activation batches on this thread instead of a writer thread (always so for `:memory:`) */
  inlineWrites?: boolean;
}

/**
 * Opens (creating if needed) the SQLite store: WAL journal, NORMAL sync (WAL makes that crash-safe
 * for the database; the last batch of activations may be lost on power failure), pending migrations applied.
 */
export function openSqliteStore(options: SqliteStoreOptions): Store {
  if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
  const db = new BetterSqlite3(options.file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    applyMigrations(db);
  } catch (error) {
    db.close();
    throw error;
  }
  const entities = new SqliteEntityStore(db);
  // A worker cannot share a private in-memory database: write those inline.
  const writer = options.file === ':memory:' || options.inlineWrites === true ? new InlineWriter(db) : new WorkerWriter(options.file);
  const activations = new SqliteActivationStore(db, writer, options.writeBehind);
  let closed = false;
  return {
    entities,
    activations,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await activations.close();
      } finally {
        db.close();
      }
    },
  };
}
