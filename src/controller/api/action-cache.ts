/**
 * Read-through cache of action docs in front of the entity store, so a warm invoke does no store
 * read. Writes through this class keep it coherent within one controller. (With several controllers
 * on one PostgreSQL store, a peer's update is seen after eviction only; a TTL belongs here then.)
 */
import type { ActionDoc } from '../../model/action.js';
import type { EntityStore } from '../../store/types.js';
import { LruCache } from './lru.js';

export class ActionCache {
  readonly #entities: EntityStore;
  readonly #cache: LruCache<string, ActionDoc>;

  /** `size` bounds the cache (default 10000 docs). */
  constructor(entities: EntityStore, size = 10_000) {
    this.#entities = entities;
    this.#cache = new LruCache(size);
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
