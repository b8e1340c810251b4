/**
 * The synthetic workload of the scheduler simulation: a seeded random source, a catalogue of actions
 * with skewed (Zipf) popularity, bursty arrivals (calm and burst periods, Poisson within each) and a
 * min-heap of timed events. Everything runs in virtual time; nothing here reads a clock.
 */
import type { ActionRef } from '../../src/model/action.js';

/** mulberry32: a small, fast, seeded generator in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An exponential sample with the given mean. */
export function exponential(random: () => number, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

/** Runtime kinds and memory sizes of the catalogue, with their weights. */
export const KINDS: readonly { kind: string; weight: number }[] = [
  { kind: 'nodejs:20', weight: 0.8 },
  { kind: 'python:3', weight: 0.2 },
];
export const MEMORY_SIZES: readonly { memoryMB: number; weight: number }[] = [
  { memoryMB: 128, weight: 0.3 },
  { memoryMB: 256, weight: 0.5 },
  { memoryMB: 512, weight: 0.2 },
];
export const MEAN_MEMORY_MB = MEMORY_SIZES.reduce((s, m) => s + m.memoryMB * m.weight, 0);

function weighted<T extends { weight: number }>(random: () => number, items: readonly T[]): T {
  let r = random();
  for (const item of items) {
    r -= item.weight;
    if (r < 0) return item;
  }
  return items[items.length - 1]!;
}

/** `count` actions in a handful of namespaces, kinds and memory sizes drawn by weight. */
export function actionCatalogue(random: () => number, count: number): ActionRef[] {
  const actions: ActionRef[] = [];
  for (let i = 0; i < count; i++) {
    actions.push({
      namespace: `ns${i % 50}`,
      name: `action-${i}`,
      revision: '0.0.1@1',
      kind: weighted(random, KINDS).kind,
      memoryMB: weighted(random, MEMORY_SIZES).memoryMB,
    });
  }
  return actions;
}

/** Draws indexes 0..n-1 with Zipf(s) popularity: index 0 is the most popular. */
export function zipf(random: () => number, n: number, s = 1): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / Math.pow(i + 1, s);
  for (let i = 0; i < n; i++) cdf[i]! /= sum;
  return () => {
    const r = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export interface BurstyArrivalsOptions {
  /** mean arrivals per virtual second in a calm period */
  calmRate: number;
  /** rate in a burst, as a multiple of the calm rate; default 4 */
  burstFactor?: number;
  /** mean length of a calm period, virtual ms; default 2000 */
  calmMs?: number;
  /** mean length of a burst, virtual ms; default 500 */
  burstMs?: number;
}

/** Arrival times (virtual ms): Poisson within alternating calm and burst periods of random length. */
export function burstyArrivals(random: () => number, options: BurstyArrivalsOptions): () => number {
  const burstFactor = options.burstFactor ?? 4;
  const calmMs = options.calmMs ?? 2000;
  const burstMs = options.burstMs ?? 500;
  let now = 0;
  let burst = false;
  let periodEnd = exponential(random, calmMs);
  return () => {
    for (;;) {
      const rate = options.calmRate * (burst ? burstFactor : 1);
      const next = now + exponential(random, 1000 / rate);
      if (next <= periodEnd) return (now = next);
      // Memoryless: restart the draw at the period boundary with the new rate.
      now = periodEnd;
      burst = !burst;
      periodEnd = now + exponential(random, burst ? burstMs : calmMs);
    }
  };
}

/** The mean arrival rate of `burstyArrivals` over a long run, relative to `calmRate`. */
export function meanRateFactor(options: Omit<BurstyArrivalsOptions, 'calmRate'> = {}): number {
  const f = options.burstFactor ?? 4;
  const c = options.calmMs ?? 2000;
  const b = options.burstMs ?? 500;
  return (c + f * b) / (c + b);
}

/** A binary min-heap of timed events. */
export class EventHeap<T> {
  private readonly times: number[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peekTime(): number | undefined {
    return this.times[0];
  }

  push(time: number, item: T): void {
    let i = this.items.length;
    this.times.push(time);
    this.items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.times[parent]! <= time) break;
      this.times[i] = this.times[parent]!;
      this.items[i] = this.items[parent]!;
      i = parent;
    }
    this.times[i] = time;
    this.items[i] = item;
  }

  pop(): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const top = this.items[0];
    const lastTime = this.times.pop()!;
    const lastItem = this.items.pop()!;
    if (n > 1) {
      let i = 0;
      const size = n - 1;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= size) break;
        if (child + 1 < size && this.times[child + 1]! < this.times[child]!) child++;
        if (this.times[child]! >= lastTime) break;
        this.times[i] = this.times[child]!;
        this.items[i] = this.items[child]!;
        i = child;
      }
      this.times[i] = lastTime;
      this.items[i] = lastItem;
    }
    return top;
  }
}
