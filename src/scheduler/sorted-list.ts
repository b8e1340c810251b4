/**
 * An array kept sorted by a total order, for the pool's indexes. Lookup is a binary search
 * (O(log n)); insert and delete shift the tail (a memmove of pointers, cheap for the few hundred to
 * few thousand entries one agent holds). Items must be distinct under the order (the pool's orders
 * end with a unique id), so an item can be found again by its key.
 */
export class SortedList<T> {
  private readonly items: T[] = [];

  /** `compare` must be a total order with no ties between distinct items. */
  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  /** The first index whose item is not before `probe` (lower bound). */
  lowerBound(probe: T): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.items[mid]!, probe) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first index whose item satisfies `pred`, for a predicate monotone over the order (false…false true…true). */
  firstWhere(pred: (item: T) => boolean): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pred(this.items[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  insert(item: T): void {
    const n = this.items.length;
    // Appending is the common case (an LRU order receives the newest use last): no search, no shift.
    if (n === 0 || this.compare(this.items[n - 1]!, item) < 0) this.items.push(item);
    else this.items.splice(this.lowerBound(item), 0, item);
  }

  /** Removes the item equal to `item` under the order; false when absent. */
  delete(item: T): boolean {
    const n = this.items.length;
    if (n > 0 && this.compare(this.items[n - 1]!, item) === 0) {
      this.items.pop();
      return true;
    }
    const at = this.lowerBound(item);
    if (at >= n || this.compare(this.items[at]!, item) !== 0) return false;
    this.items.splice(at, 1);
    return true;
  }

  at(index: number): T | undefined {
    return this.items[index];
  }

  [Symbol.iterator](): Iterator<T> {
    return this.items[Symbol.iterator]();
  }
}
