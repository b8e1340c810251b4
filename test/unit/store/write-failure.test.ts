import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ActivationRecord } from '../../../src/model/activation.js';
import { openSqliteStore, type Store } from '../../../src/store/index.js';

let dir: string | undefined;
let store: Store | undefined;
let side: BetterSqlite3.Database | undefined;
afterEach(async () => {
  side?.close();
  await store?.close().catch(() => undefined);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  side = undefined;
  store = undefined;
});

function record(id: number): ActivationRecord {
  return {
    namespace: 'guest', name: 'hello', subject: 'guest', activationId: id.toString(16).padStart(32, '0'),
    version: '0.0.1', publish: false, start: 1000 + id, end: 1005 + id, duration: 5,
    response: { statusCode: 0, result: { id } }, logs: [], annotations: [],
  };
}

describe('activation write-behind when the database refuses writes', () => {
  it('reports the failure, keeps at most maxBuffered records readable, and writes them once the database is back', async () => {
    dir = mkdtempSync(join(tmpdir(), 'brisk-store-'));
    const file = join(dir, 'brisk.db');
    const failures: Array<{ error: unknown; buffered: number; dropped: number }> = [];
    store = openSqliteStore({ file, writeBehind: { flushIntervalMs: 5, batchSize: 2, maxBuffered: 3, onWriteError: (error, info) => failures.push({ error, ...info }) } });
    // A second connection makes every insert fail, as a full disk would.
    side = new BetterSqlite3(file);
    side.exec(`CREATE TRIGGER refuse BEFORE INSERT ON activations BEGIN SELECT RAISE(ABORT, 'disk full'); END;`);

    for (let id = 1; id <= 5; id += 1) expect(() => store!.activations.put(record(id))).not.toThrow();
    // the first batch (1, 2) is refused by the database
    await vi.waitFor(() => expect(failures.some((f) => String(f.error).includes('disk full'))).toBe(true));
    expect(failures.every((f) => f.buffered <= 3)).toBe(true);
    expect(failures.reduce((n, f) => n + f.dropped, 0)).toBe(2);
    // The newest records are still readable from memory; the two oldest were dropped.
    expect(store.activations.get('guest', record(5).activationId)).toEqual(record(5));
    expect(store.activations.get('guest', record(1).activationId)).toBeUndefined();

    side.exec('DROP TRIGGER refuse');
    await vi.waitFor(() => expect(side!.prepare('SELECT COUNT(*) AS n FROM activations').get()).toEqual({ n: 3 }), { timeout: 10_000 });
  });
});
