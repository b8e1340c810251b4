/**
 * Read-through cache of action docs in front of the entity store, so a warm invoke does no store
 * read. Writes through this class keep it coherent within one controller. (With several controllers
 * on one PostgreSQL store, a peer's update is seen after eviction only; a TTL belongs here then.)
 */
import type { ActionDoc } from '../../model/action.js';
import type { EntityStore } from '../../store/types.js';
import { LruCache } from './lru.js';

/** What a cached doc costs beyond its code (names, parameters, annotations), as a round figure. */
const DOC_OVERHEAD = 1024;

export class ActionCache {
  readonly #entities: EntityStore;
  readonly #cache: LruCache<string, ActionDoc>;

  /**
   * `size` bounds the number of docs (default 10000) and `maxCodeBytes` the code they hold (default
   * 256 MiB): an action's code may be 48 MB, so a count alone would not bound memory.
   */
  constructor(entities: EntityStore, size = 10_000, maxCodeBytes = 256 * 1024 * 1024) {
    this.#entities = entities;
    this.#cache = new LruCache(size, { max: maxCodeBytes, of: (doc) => doc.exec.code.length + DOC_OVERHEAD });
  }

  get(namespace: string, name: string): ActionDoc | undefined {
    const key = `${namespace}/${name}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const doc = this.#entities.getAction(namespace, name);
    if (doc !== undefined) this.#cache.set(key, doc);
    return doc;
  }

  /** Reads the store directly (PUT must merge over the latest revision, not a cached one). */
  getFresh(namespace: string, name: string): ActionDoc | undefined {
    return this.#entities.getAction(namespace, name);
  }

  put(doc: ActionDoc, expectedUpdated?: number): ActionDoc {
    const key = `${doc.namespace}/${doc.name}`;
    try {
      const stored = this.#entities.putAction(doc, expectedUpdated);
      this.#cache.set(key, stored);
      return stored;
    } catch (error) {
      this.#cache.delete(key);
      throw error;
    }
  }

  delete(namespace: string, name: string): ActionDoc | undefined {
    this.#cache.delete(`${namespace}/${name}`);
    return this.#entities.deleteAction(namespace, name);
  }
}
