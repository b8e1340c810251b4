/**
 * The activation writer thread (see activation-writer.ts): one SQLite connection, one transaction
 * per batch, one reply per batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { UPSERT_SQL, type ActivationRow, type WriterReply, type WriterRequest } from './activation-writer.js';
import { messageOf } from '../../errors.js';

const { file } = workerData as { file: string };
const db = new BetterSqlite3(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const upsert = db.prepare<ActivationRow>(UPSERT_SQL);
const writeBatch = db.transaction((rows: ActivationRow[]) => {
  for (const row of rows) upsert.run(...row);
});

parentPort?.on('message', ({ seq, rows }: WriterRequest) => {
  let reply: WriterReply;
  try {
    writeBatch(rows);
    reply = { seq };
  } catch (error) {
    reply = { seq, error: messageOf(error) };
  }
  parentPort?.postMessage(reply);
});
