/**
 * A bounded least-recently-used map. `get` refreshes recency; `set` evicts the oldest entries while
 * there are more than `max`, or, when a weight is given, while their total weight is over its max
 * (the entry just set is kept even if it alone is heavier: the caller has it anyway).
 */
export class LruCache<K, V> {
  readonly #map = new Map<K, V>();
  readonly #max: number;
  readonly #weight: { max: number; of: (value: V) => number } | undefined;
  #total = 0;

  constructor(max: number, weight?: { max: number; of: (value: V) => number }) {
    this.#max = Math.max(1, max);
    this.#weight = weight;
  }

  get size(): number {
    return this.#map.size;
  }

  /** Sum of the weights of the entries held (0 without a weight function). */
  get weight(): number {
    return this.#total;
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.delete(key);
    this.#map.set(key, value);
    if (this.#weight !== undefined) this.#total += this.#weight.of(value);
    while (this.#map.size > this.#max || (this.#weight !== undefined && this.#total > this.#weight.max && this.#map.size > 1)) {
      const oldest = this.#map.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
  }

  delete(key: K): void {
    const value = this.#map.get(key);
    if (value === undefined) return;
    this.#map.delete(key);
    if (this.#weight !== undefined) this.#total -= this.#weight.of(value);
  }
}
