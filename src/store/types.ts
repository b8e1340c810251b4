/**
 * The store ports: entities (identities, actions) and activation records. The SQLite adapter
 * (./sqlite) is the embedded default; a PostgreSQL adapter will implement the same interfaces.
 */
import type { ActionDoc } from '../model/action.js';
import type { ActivationRecord } from '../model/activation.js';

/** A namespace's credentials. The auth string is `${uuid}:${key}`; `key` is 64 characters. */
export interface Identity {
  namespace: string;
  uuid: string;
  key: string;
}

export interface EntityStore {
  /** Returns the namespace's identity, creating it (random uuid + 64-char key) if missing. */
  ensureIdentity(namespace: string): Identity;
  /** The identity with this uuid if `key` matches; the key comparison is constant-time. */
  findIdentity(uuid: string, key: string): Identity | undefined;
  getAction(namespace: string, name: string): ActionDoc | undefined;
  /**
   * Writes an action with optimistic concurrency: `expectedUpdated` undefined means "create, must
   * not exist"; otherwise the stored doc's `updated` must equal it. A clash throws ConflictError
   * 'Concurrent modification to resource detected.'. The caller makes `doc.updated` strictly newer.
   */
  putAction(doc: ActionDoc, expectedUpdated?: number): ActionDoc;
  /** Removes the action and returns it, or undefined if it did not exist. */
  deleteAction(namespace: string, name: string): ActionDoc | undefined;
  /** Newest `updated` first. */
  listActions(namespace: string, opts: { limit: number; skip: number }): ActionDoc[];
  countActions(namespace: string): number;
}

/** Filters of an activation listing; `since`/`upto` are inclusive bounds on `start` (epoch ms). */
export interface ActivationQuery {
  name?: string;
  limit: number;
  skip: number;
  since?: number;
  upto?: number;
}

export interface ActivationStore {
  /**
   * Write-behind: the record is readable by get at once (and by list/count, which wait for it to be
   * written) and written to disk in batches (every ~50 ms or 500 records, whichever first), off the
   * caller's event loop. Putting the same activationId again replaces it (the record with logs
   * replaces the one without). While writes fail, records stay buffered up to a bound and are retried.
   */
  put(record: ActivationRecord): void;
  get(namespace: string, activationId: string): ActivationRecord | undefined;
  /**
   * Newest `start` first. Waits until the records put before the call are written; while writes
   * fail it answers at once from what is written merged with the matching buffered records.
   */
  list(namespace: string, q: ActivationQuery): Promise<ActivationRecord[]>;
  /** Same waiting and fallback as list. */
  count(namespace: string, q: Omit<ActivationQuery, 'limit' | 'skip'>): Promise<number>;
  /**
   * Resolves once every record put before the call is written (later puts are not waited for);
   * rejects when a write fails meanwhile.
   */
  flush(): Promise<void>;
}

export interface Store {
  entities: EntityStore;
  activations: ActivationStore;
  /** Flushes buffered activations, then closes. Idempotent. */
  close(): Promise<void>;
}
