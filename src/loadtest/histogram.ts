/**
 * A small HDR-style latency histogram: log-linear buckets whose width is at most 10^-digits of the
 * values they hold, in a fixed-size array. Memory does not grow with the number of samples, which
 * is what lets a long load test keep every latency without keeping a list of them.
 *
 * Layout: values below 2^k (the smallest power of two ≥ 2·10^digits) are counted exactly, one bucket
 * each. Above, each power-of-two range [2^e, 2^(e+1)) is cut into 2^(k-1) equal buckets of width
 * 2^(e-k+1), so a bucket is at most 1/2^(k-1) ≤ 10^-digits of any value in it.
 *
 * Values are non-negative integers (the load test records microseconds). A percentile is reported as
 * the highest value of the bucket it falls in (never below the true value, as HdrHistogram does),
 * capped at the exact maximum; min, max, count and mean are exact.
 */
import { InvalidInputError } from '../errors.js';

export interface HistogramOptions {
  /** significant decimal digits kept, 1..5; default 3 (0.1 % relative precision) */
  significantDigits?: number;
  /**
   * Highest value counted in its own bucket; larger values are counted at this value (and still
   * update `max` exactly). Default 3 600 000 000 (one hour in µs).
   */
  highestTrackableValue?: number;
}

export interface HistogramSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
}

const DEFAULT_DIGITS = 3;
const DEFAULT_HIGHEST = 3_600_000_000;

/** floor(log2(v)) for a positive integer v, exact at powers of two (Math.log2 alone may round across them). */
function floorLog2(v: number): number {
  let e = Math.floor(Math.log2(v));
  if (2 ** e > v) e -= 1;
  else if (2 ** (e + 1) <= v) e += 1;
  return e;
}

/**
 * The 1-based rank of percentile `p` (0..100, clamped) among `count` sorted values: ceil(p·count/100),
 * at least 1. The product is rounded to 12 significant digits first, so that binary fractions
 * (99.9 is not exact) do not push an exact rank up by one.
 */
export function nearestRank(p: number, count: number): number {
  const clamped = Math.min(100, Math.max(0, p));
  return Math.max(1, Math.ceil(Number(((clamped * count) / 100).toPrecision(12))));
}

export class Histogram {
  readonly significantDigits: number;
  readonly highestTrackableValue: number;
  /** 2^k: values below it are exact */
  private readonly linearCount: number;
  /** k - 1: log2 of the buckets per power-of-two range */
  private readonly halfMagnitude: number;
  private readonly counts: Float64Array;
  private total = 0;
  private sum = 0;
  private minValue = Number.POSITIVE_INFINITY;
  private maxValue = 0;

  constructor(options: HistogramOptions = {}) {
    const digits = options.significantDigits ?? DEFAULT_DIGITS;
    const highest = options.highestTrackableValue ?? DEFAULT_HIGHEST;
    if (!Number.isInteger(digits) || digits < 1 || digits > 5) throw new InvalidInputError(`significantDigits must be 1..5, not ${digits}.`);
    if (!Number.isSafeInteger(highest) || highest < 2) throw new InvalidInputError(`highestTrackableValue must be an integer ≥ 2, not ${highest}.`);
    this.significantDigits = digits;
    this.highestTrackableValue = highest;
    const k = Math.ceil(Math.log2(2 * 10 ** digits));
    this.linearCount = 2 ** k;
    this.halfMagnitude = k - 1;
    this.counts = new Float64Array(this.indexOf(Math.max(highest, this.linearCount)) + 1);
  }

  /** Bucket index of a value (an integer in 0..highestTrackableValue). */
  private indexOf(value: number): number {
    if (value < this.linearCount) return value;
    const shift = floorLog2(value) - this.halfMagnitude;
    const sub = Math.floor(value / 2 ** shift);
    const half = 2 ** this.halfMagnitude;
    return this.linearCount + (shift - 1) * half + (sub - half);
  }

  /** The highest value a bucket holds. */
  private highestIn(index: number): number {
    if (index < this.linearCount) return index;
    const half = 2 ** this.halfMagnitude;
    const offset = index - this.linearCount;
    const shift = Math.floor(offset / half) + 1;
    const sub = (offset % half) + half;
    return (sub + 1) * 2 ** shift - 1;
  }

  /** Counts `value` (rounded to an integer, negatives as 0) `times` times (default once). */
  record(value: number, times = 1): void {
    if (!Number.isFinite(value) || times <= 0) return;
    const v = Math.max(0, Math.round(value));
    const clamped = Math.min(v, this.highestTrackableValue);
    this.counts[this.indexOf(clamped)]! += times;
    this.total += times;
    this.sum += v * times;
    if (v < this.minValue) this.minValue = v;
    if (v > this.maxValue) this.maxValue = v;
  }

  get count(): number {
    return this.total;
  }

  /** exact; 0 when empty */
  get min(): number {
    return this.total === 0 ? 0 : this.minValue;
  }

  /** exact; 0 when empty */
  get max(): number {
    return this.maxValue;
  }

  /** exact; 0 when empty */
  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  summary(): HistogramSummary {
    return { count: this.count, min: this.min, max: this.max, mean: this.mean };
  }

  /**
   * The value at percentile `p` (0..100) by nearest rank: the smallest recorded value such that at
   * least p % of the values are ≤ it, reported as its bucket's highest value capped at `max`. So the
   * result r and the exact value x satisfy x ≤ r ≤ x·(1 + 10^-digits). 0 when empty.
   */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = nearestRank(p, this.total);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen < rank) continue;
      // The bucket of the trackable limit also holds the clamped larger values: report the true max.
      if (i === this.indexOf(this.highestTrackableValue) && this.maxValue > this.highestTrackableValue) return this.maxValue;
      return Math.min(this.highestIn(i), this.maxValue);
    }
    return this.maxValue;
  }

  /** Adds every value of `other` (same options required) into this one. */
  merge(other: Histogram): this {
    if (other.significantDigits !== this.significantDigits || other.highestTrackableValue !== this.highestTrackableValue) {
      throw new InvalidInputError('Only histograms with the same significantDigits and highestTrackableValue can be merged.');
    }
    for (let i = 0; i < other.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    this.sum += other.sum;
    if (other.total > 0) {
      this.minValue = Math.min(this.minValue, other.minValue);
      this.maxValue = Math.max(this.maxValue, other.maxValue);
    }
    return this;
  }

  /** An empty histogram with the same options. */
  emptyCopy(): Histogram {
    return new Histogram({ significantDigits: this.significantDigits, highestTrackableValue: this.highestTrackableValue });
  }
}
