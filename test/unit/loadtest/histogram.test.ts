import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Histogram, nearestRank } from '../../../src/loadtest/histogram.js';

/** The nearest-rank percentile of a sorted list, as Histogram.percentile defines it. */
function exactPercentile(sorted: readonly number[], p: number): number {
  return sorted[nearestRank(p, sorted.length) - 1]!;
}

describe('Histogram', () => {
  it('is exact below 2·10^digits and reports count, min, max, mean exactly', () => {
    const h = new Histogram({ significantDigits: 3 });
    for (const v of [5, 1, 3, 2, 4]) h.record(v);
    expect(h.summary()).toEqual({ count: 5, min: 1, max: 5, mean: 3 });
    expect(h.percentile(50)).toBe(3);
    expect(h.percentile(0)).toBe(1);
    expect(h.percentile(100)).toBe(5);
    expect(h.percentile(80)).toBe(4);
  });

  it('nearest rank is exact for decimal percentiles', () => {
    expect(nearestRank(99.9, 1000)).toBe(999);
    expect(nearestRank(50, 3)).toBe(2);
    expect(nearestRank(0, 10)).toBe(1);
    expect(nearestRank(150, 10)).toBe(10);
  });

  it('an empty histogram answers 0 everywhere', () => {
    const h = new Histogram();
    expect(h.summary()).toEqual({ count: 0, min: 0, max: 0, mean: 0 });
    expect(h.percentile(99)).toBe(0);
  });

  it('reports the highest value of the bucket, capped at the exact max', () => {
    const h = new Histogram({ significantDigits: 1 });
    // digits 1: exact below 32, then buckets of 2 in [32, 64), of 4 in [64, 128), ...
    h.record(100);
    h.record(101);
    h.record(1000);
    expect(h.percentile(50)).toBe(103);
    expect(h.percentile(100)).toBe(1000);
    expect(h.max).toBe(1000);
  });

  it('records a value several times, ignores non-finite values, counts negatives as 0', () => {
    const h = new Histogram();
    h.record(7, 3);
    h.record(Number.NaN);
    h.record(-4);
    expect(h.summary()).toEqual({ count: 4, min: 0, max: 7, mean: 21 / 4 });
    expect(h.percentile(25)).toBe(0);
    expect(h.percentile(26)).toBe(7);
  });

  it('clamps values above the trackable range into the top bucket but keeps max exact', () => {
    const h = new Histogram({ highestTrackableValue: 1000 });
    h.record(5000);
    expect(h.max).toBe(5000);
    expect(h.percentile(100)).toBe(5000);
    expect(h.count).toBe(1);
  });

  it('rejects bad options and merging histograms of different shapes', () => {
    expect(() => new Histogram({ significantDigits: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => new Histogram({ significantDigits: 6 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => new Histogram({ highestTrackableValue: 1.5 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => new Histogram({ significantDigits: 2 }).merge(new Histogram({ significantDigits: 3 }))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('property: every percentile lies in [exact, exact·(1 + 10^-digits)]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 3_600_000_000 }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (digits, values, p) => {
          const h = new Histogram({ significantDigits: digits });
          for (const v of values) h.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = exactPercentile(sorted, p);
          const reported = h.percentile(p);
          expect(reported).toBeGreaterThanOrEqual(exact);
          expect(reported).toBeLessThanOrEqual(exact + exact * 10 ** -digits);
          expect(h.min).toBe(sorted[0]);
          expect(h.max).toBe(sorted.at(-1));
          expect(h.count).toBe(values.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: merging equals recording everything into one histogram', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 100 }),
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 100 }),
        (a, b) => {
          const ha = new Histogram();
          const hb = new Histogram();
          const all = new Histogram();
          for (const v of a) ha.record(v), all.record(v);
          for (const v of b) hb.record(v), all.record(v);
          ha.merge(hb);
          expect(ha.summary()).toEqual(all.summary());
          for (const p of [0, 50, 90, 99, 99.9, 100]) expect(ha.percentile(p)).toBe(all.percentile(p));
          expect(hb.emptyCopy().count).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
