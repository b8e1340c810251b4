import type { Database } from 'better-sqlite3';

/** One schema step. Numbers are dense and never reused; a released migration is never edited. */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/**
 * Records are JSON columns; the columns beside them exist only to be indexed and filtered on.
 * `actions.updated` doubles as the revision for optimistic concurrency.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE identities (
        namespace TEXT PRIMARY KEY,
        uuid      TEXT NOT NULL UNIQUE,
        key       TEXT NOT NULL
      );
      CREATE TABLE actions (
        namespace TEXT NOT NULL,
        name      TEXT NOT NULL,
        updated   INTEGER NOT NULL,
        doc       TEXT NOT NULL,
        PRIMARY KEY (namespace, name)
      );
      CREATE INDEX actions_by_updated ON actions (namespace, updated DESC);
      CREATE TABLE activations (
        activation_id TEXT PRIMARY KEY,
        namespace     TEXT NOT NULL,
        name          TEXT NOT NULL,
        start         INTEGER NOT NULL,
        record        TEXT NOT NULL
      );
      CREATE INDEX activations_by_start ON activations (namespace, start DESC);
      CREATE INDEX activations_by_name_start ON activations (namespace, name, start DESC);
    `,
  },
];

/**
 * Applies every migration not yet recorded in the `migrations` table, each in its own transaction
 * together with its bookkeeping row, so a crash leaves the schema at a numbered step. Returns the ids applied.
 */
export function applyMigrations(db: Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT id FROM migrations').all() as { id: number }[]).map((row) => row.id),
  );
  const record = db.prepare('INSERT INTO migrations (id, name, applied_at) VALUES (?, ?, ?)');
  const done: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.id - b.id)) {
    if (applied.has(migration.id)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.id, migration.name, Date.now());
    })();
    done.push(migration.id);
  }
  return done;
}
