import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { ConflictError } from '../../errors.js';
import type { ActionDoc } from '../../model/action.js';
import type { EntityStore, Identity } from '../types.js';

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** OpenWhisk's Secret is exactly 64 characters. */
export const KEY_LENGTH = 64;

/** 64 random alphanumeric characters (rejection sampling keeps the distribution uniform). */
export function newKey(): string {
  let key = '';
  while (key.length < KEY_LENGTH) {
    for (const byte of randomBytes(KEY_LENGTH * 2)) {
      if (byte < 248 && key.length < KEY_LENGTH) key += KEY_ALPHABET[byte % KEY_ALPHABET.length];
    }
  }
  return key;
}

/** Constant-time string equality; unequal lengths still cost one comparison. */
export function keysEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

export const CONCURRENT_MODIFICATION = 'Concurrent modification to resource detected.';

interface IdentityRow { namespace: string; uuid: string; key: string }
interface DocRow { doc: string }

/** EntityStore over one better-sqlite3 connection. All calls are synchronous and short. */
export class SqliteEntityStore implements EntityStore {
  readonly #identityByNs: Statement<[string], IdentityRow>;
  readonly #identityByUuid: Statement<[string], IdentityRow>;
  readonly #insertIdentity: Statement<[string, string, string]>;
  readonly #getAction: Statement<[string, string], DocRow>;
  readonly #insertAction: Statement<[string, string, number, string]>;
  readonly #updateAction: Statement<[number, string, string, string, number]>;
  readonly #deleteAction: Statement<[string, string]>;
  readonly #listActions: Statement<[string, number, number], DocRow>;
  readonly #countActions: Statement<[string], { n: number }>;
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
    this.#identityByNs = db.prepare('SELECT namespace, uuid, key FROM identities WHERE namespace = ?');
    this.#identityByUuid = db.prepare('SELECT namespace, uuid, key FROM identities WHERE uuid = ?');
    this.#insertIdentity = db.prepare('INSERT OR IGNORE INTO identities (namespace, uuid, key) VALUES (?, ?, ?)');
    this.#getAction = db.prepare('SELECT doc FROM actions WHERE namespace = ? AND name = ?');
    this.#insertAction = db.prepare('INSERT OR IGNORE INTO actions (namespace, name, updated, doc) VALUES (?, ?, ?, ?)');
    this.#updateAction = db.prepare('UPDATE actions SET updated = ?, doc = ? WHERE namespace = ? AND name = ? AND updated = ?');
    this.#deleteAction = db.prepare('DELETE FROM actions WHERE namespace = ? AND name = ?');
    this.#listActions = db.prepare('SELECT doc FROM actions WHERE namespace = ? ORDER BY updated DESC, name ASC LIMIT ? OFFSET ?');
    this.#countActions = db.prepare('SELECT COUNT(*) AS n FROM actions WHERE namespace = ?');
  }

  ensureIdentity(namespace: string): Identity {
    const existing = this.#identityByNs.get(namespace);
    if (existing) return { ...existing };
    // INSERT OR IGNORE + re-read: two processes racing on the same namespace agree on one identity.
    this.#insertIdentity.run(namespace, randomUUID(), newKey());
    const row = this.#identityByNs.get(namespace);
    if (!row) throw new Error(`identity for ${namespace} vanished after insert`);
    return { ...row };
  }

  findIdentity(uuid: string, key: string): Identity | undefined {
    const row = this.#identityByUuid.get(uuid);
    if (!row) return undefined;
    return keysEqual(row.key, key) ? { ...row } : undefined;
  }

  getAction(namespace: string, name: string): ActionDoc | undefined {
    const row = this.#getAction.get(namespace, name);
    return row ? (JSON.parse(row.doc) as ActionDoc) : undefined;
  }

  putAction(doc: ActionDoc, expectedUpdated?: number): ActionDoc {
    const json = JSON.stringify(doc);
    const changes = expectedUpdated === undefined
      ? this.#insertAction.run(doc.namespace, doc.name, doc.updated, json).changes
      : this.#updateAction.run(doc.updated, json, doc.namespace, doc.name, expectedUpdated).changes;
    if (changes !== 1) throw new ConflictError(CONCURRENT_MODIFICATION);
    return doc;
  }

  deleteAction(namespace: string, name: string): ActionDoc | undefined {
    return this.#db.transaction(() => {
      const doc = this.getAction(namespace, name);
      if (doc) this.#deleteAction.run(namespace, name);
      return doc;
    })();
  }

  listActions(namespace: string, opts: { limit: number; skip: number }): ActionDoc[] {
    return this.#listActions.all(namespace, opts.limit, opts.skip).map((row) => JSON.parse(row.doc) as ActionDoc);
  }

  countActions(namespace: string): number {
    return this.#countActions.get(namespace)?.n ?? 0;
  }
}
