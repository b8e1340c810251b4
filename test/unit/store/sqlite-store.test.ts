import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActionDoc } from '../../../src/model/action.js';
import type { ActivationRecord } from '../../../src/model/activation.js';
import { DEFAULT_LIMITS } from '../../../src/model/limits.js';
import { openSqliteStore, type Store } from '../../../src/store/index.js';
import { applyMigrations, MIGRATIONS } from '../../../src/store/sqlite/migrations.js';
import { keysEqual, newKey } from '../../../src/store/sqlite/entities.js';

let dir: string;
let file: string;
const open: Store[] = [];

function openStore(opts: { flushIntervalMs?: number; batchSize?: number } = {}): Store {
  const store = openSqliteStore({ file, writeBehind: { flushIntervalMs: opts.flushIntervalMs ?? 60_000, batchSize: opts.batchSize } });
  open.push(store);
  return store;
}

function action(name: string, updated: number, namespace = 'guest'): ActionDoc {
  return {
    namespace, name, version: '0.0.1', publish: false,
    exec: { kind: 'nodejs:20', code: 'function main(){}', binary: false },
    parameters: [], limits: { ...DEFAULT_LIMITS }, annotations: [], updated,
  };
}

function record(id: number, start: number, opts: { name?: string; namespace?: string; logs?: string[] } = {}): ActivationRecord {
  return {
    namespace: opts.namespace ?? 'guest', name: opts.name ?? 'hello', subject: opts.namespace ?? 'guest',
    activationId: id.toString(16).padStart(32, '0'), version: '0.0.1', publish: false,
    start, end: start + 5, duration: 5, response: { statusCode: 0, result: { id } },
    logs: opts.logs ?? [], annotations: [],
  };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'brisk-store-'));
  file = join(dir, 'nested', 'brisk.db');
});

afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('migrations', () => {
  it('applies every migration once and is idempotent on reopen', async () => {
    const first = openStore();
    first.entities.ensureIdentity('guest');
    await first.close();
    const db = new BetterSqlite3(file);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(applyMigrations(db)).toEqual([]);
      const rows = db.prepare('SELECT id, name FROM migrations ORDER BY id').all();
      expect(rows).toEqual(MIGRATIONS.map((m) => ({ id: m.id, name: m.name })));
    } finally {
      db.close();
    }
    const second = openStore();
    expect(second.entities.ensureIdentity('guest').namespace).toBe('guest');
  });

  it('applies pending migrations in order inside transactions and rolls back a failing one', () => {
    const db = new BetterSqlite3(':memory:');
    try {
      const applied = applyMigrations(db, [
        { id: 2, name: 'two', sql: 'CREATE TABLE b (x INTEGER)' },
        { id: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER)' },
      ]);
      expect(applied).toEqual([1, 2]);
      expect(() => applyMigrations(db, [{ id: 3, name: 'bad', sql: 'CREATE TABLE c (x INTEGER); CREATE TABLE a (y)' }])).toThrow();
      expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'c'").get()).toEqual({ n: 0 });
      expect(db.prepare('SELECT COUNT(*) AS n FROM migrations').get()).toEqual({ n: 2 });
    } finally {
      db.close();
    }
  });
});

describe('identities', () => {
  it('creates an identity once, with a uuid and a 64-char key, and finds it only by the right key', () => {
    const store = openStore();
    const id = store.entities.ensureIdentity('guest');
    expect(id.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(id.key).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(store.entities.ensureIdentity('guest')).toEqual(id);
    expect(store.entities.findIdentity(id.uuid, id.key)).toEqual(id);
    expect(store.entities.findIdentity(id.uuid, id.key.slice(0, 63) + (id.key.endsWith('a') ? 'b' : 'a'))).toBeUndefined();
    expect(store.entities.findIdentity(id.uuid, 'short')).toBeUndefined();
    expect(store.entities.findIdentity('nope', id.key)).toBeUndefined();
  });

  it('keysEqual compares exactly and newKey yields fresh 64-char keys', () => {
    expect(keysEqual('abc', 'abc')).toBe(true);
    expect(keysEqual('abc', 'abd')).toBe(false);
    expect(keysEqual('abc', 'abcd')).toBe(false);
    expect(newKey()).toHaveLength(64);
    expect(newKey()).not.toBe(newKey());
  });
});

describe('actions', () => {
  it('creates, reads, updates with optimistic concurrency, lists newest first and deletes', () => {
    const { entities } = openStore();
    entities.putAction(action('a', 10));
    entities.putAction(action('b', 30));
    entities.putAction(action('c', 20));
    entities.putAction(action('x', 40, 'other'));
    expect(() => entities.putAction(action('a', 11))).toThrow(expect.objectContaining({ code: 'CONFLICT', message: 'Concurrent modification to resource detected.' }));
    expect(() => entities.putAction(action('a', 12), 9)).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(entities.putAction({ ...action('a', 50), version: '0.0.2' }, 10).version).toBe('0.0.2');
    expect(entities.getAction('guest', 'a')).toMatchObject({ version: '0.0.2', updated: 50 });
    expect(entities.listActions('guest', { limit: 30, skip: 0 }).map((a) => a.name)).toEqual(['a', 'b', 'c']);
    expect(entities.listActions('guest', { limit: 1, skip: 1 }).map((a) => a.name)).toEqual(['b']);
    expect(entities.countActions('guest')).toBe(3);
    expect(entities.deleteAction('guest', 'b')?.name).toBe('b');
    expect(entities.deleteAction('guest', 'b')).toBeUndefined();
    expect(entities.getAction('guest', 'b')).toBeUndefined();
    expect(entities.countActions('guest')).toBe(2);
  });
});

describe('activations (write-behind)', () => {
  it('makes a record readable at once and durable after flush and reopen', async () => {
    const store = openStore();
    store.activations.put(record(1, 1000));
    expect(store.activations.get('guest', record(1, 0).activationId)).toEqual(record(1, 1000));
    expect(store.activations.get('other', record(1, 0).activationId)).toBeUndefined();
    expect(await store.activations.list('guest', { limit: 10, skip: 0 })).toEqual([record(1, 1000)]);
    store.activations.put(record(2, 2000));
    await store.close();
    const reopened = openStore();
    expect(reopened.activations.get('guest', record(2, 0).activationId)).toEqual(record(2, 2000));
    expect(await reopened.activations.count('guest', {})).toBe(2);
  });

  it('writes batches on its timer without an explicit flush', async () => {
    const store = openStore({ flushIntervalMs: 5 });
    store.activations.put(record(1, 1000));
    const db = new BetterSqlite3(file, { readonly: true });
    try {
      await expect.poll(() => db.prepare('SELECT COUNT(*) AS n FROM activations').get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  it('hands a batch to the writer as soon as the buffer reaches its batch size, not before', async () => {
    const store = openStore({ batchSize: 3 }); // the timer is a minute away
    const db = new BetterSqlite3(file, { readonly: true });
    try {
      store.activations.put(record(1, 1));
      store.activations.put(record(2, 2));
      expect((store.activations as unknown as { buffered: number }).buffered).toBe(2);
      store.activations.put(record(3, 3));
      await expect.poll(() => db.prepare('SELECT COUNT(*) AS n FROM activations').get()).toEqual({ n: 3 });
      expect((store.activations as unknown as { buffered: number }).buffered).toBe(0);
      expect(db.prepare('SELECT COUNT(*) AS n FROM activations').get()).toEqual({ n: 3 });
    } finally {
      db.close();
    }
  });

  it("writes on a writer thread: put returns before the row is on disk", async () => {
    const store = openStore({ batchSize: 1 });
    const db = new BetterSqlite3(file, { readonly: true });
    try {
      store.activations.put(record(1, 1));
      // put returned before anything reached the disk; the row arrives from the other thread
      expect(db.prepare('SELECT COUNT(*) AS n FROM activations').get()).toEqual({ n: 0 });
      await expect.poll(() => db.prepare('SELECT COUNT(*) AS n FROM activations').get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  it('replaces a record put again with the same id, before and after flush', async () => {
    const store = openStore();
    store.activations.put(record(1, 1000));
    store.activations.put(record(1, 1000, { logs: ['a'] }));
    expect(store.activations.get('guest', record(1, 0).activationId)?.logs).toEqual(['a']);
    await store.activations.flush();
    store.activations.put(record(1, 1000, { logs: ['a', 'b'] }));
    await store.activations.flush();
    expect(store.activations.get('guest', record(1, 0).activationId)?.logs).toEqual(['a', 'b']);
    expect(await store.activations.count('guest', {})).toBe(1);
  });

  it('lists newest start first with paging, name filter and inclusive since/upto', async () => {
    const { activations } = openStore();
    for (let i = 1; i <= 6; i++) activations.put(record(i, i * 100, { name: i % 2 === 0 ? 'even' : 'odd' }));
    activations.put(record(7, 700, { namespace: 'other' }));
    const starts = async (q: Parameters<typeof activations.list>[1]) => (await activations.list('guest', q)).map((r) => r.start);
    expect(await starts({ limit: 30, skip: 0 })).toEqual([600, 500, 400, 300, 200, 100]);
    expect(await starts({ limit: 2, skip: 1 })).toEqual([500, 400]);
    expect(await starts({ limit: 30, skip: 0, name: 'even' })).toEqual([600, 400, 200]);
    expect(await starts({ limit: 30, skip: 0, since: 200, upto: 400 })).toEqual([400, 300, 200]);
    expect(await starts({ limit: 30, skip: 0, name: 'odd', since: 300 })).toEqual([500, 300]);
    expect(await activations.count('guest', { name: 'odd', upto: 300 })).toBe(2);
    expect(await activations.count('guest', {})).toBe(6);
  });
});
