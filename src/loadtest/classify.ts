/**
 * The per-class split of a load test's latencies, from the activation records of the run. Pure: the
 * records are fetched by records.ts.
 *
 * - `cold`: the activation initialised its container (the record has an `initTime` annotation);
 * - `resumed`: its container was paused and had to be resumed before the run (brisk's `resumeTime`
 *   annotation; OpenWhisk does not record this);
 * - `warm`: neither: a running, initialised container took it (also the class of a record of an
 *   activation that never reached a container, e.g. one ended for want of capacity).
 */
import { Histogram, type HistogramOptions } from './histogram.js';
import type { Sample } from './run.js';

export type ActivationClass = 'cold' | 'warm' | 'resumed';
export const ACTIVATION_CLASSES: readonly ActivationClass[] = ['cold', 'warm', 'resumed'];

/** The annotations of a record, as the API returns them. */
export interface RecordAnnotations {
  annotations: readonly { key: string; value?: unknown }[];
}

/** The class of one activation record; a cold start wins over a resume (a fresh container is never paused before its init). */
export function classOf(record: RecordAnnotations): ActivationClass {
  let resumed = false;
  for (const a of record.annotations) {
    if (a.key === 'initTime') return 'cold';
    if (a.key === 'resumeTime') resumed = true;
  }
  return resumed ? 'resumed' : 'warm';
}

/** Default most records fetched to classify a run; larger runs classify a uniform random subset of this size. */
export const DEFAULT_MAX_CLASSIFIED = 10_000;

/**
 * The samples whose records are fetched: all of them when at most `max`, else a uniform random
 * subset of `max` (partial Fisher-Yates on a copy; `random` is uniform in [0, 1)).
 */
export function pickForClassification(samples: readonly Sample[], max: number, random: () => number = Math.random): Sample[] {
  if (samples.length <= max) return [...samples];
  const copy = [...samples];
  for (let i = 0; i < max; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, max);
}

export interface ClassBreakdown {
  /** latency (µs) per class of the classified samples */
  latency: Record<ActivationClass, Histogram>;
  /** classified samples per class */
  counts: Record<ActivationClass, number>;
  /** samples whose record could not be read (not found, or the read failed) */
  unclassified: number;
}

/** Joins each sample's client-side latency with its activation's class (`classes`: id → class; absent = unclassified). */
export function breakdown(samples: readonly Sample[], classes: ReadonlyMap<string, ActivationClass>, histogram?: HistogramOptions): ClassBreakdown {
  const latency = { cold: new Histogram(histogram), warm: new Histogram(histogram), resumed: new Histogram(histogram) };
  const counts = { cold: 0, warm: 0, resumed: 0 };
  let unclassified = 0;
  for (const sample of samples) {
    const cls = classes.get(sample.activationId);
    if (cls === undefined) {
      unclassified += 1;
      continue;
    }
    counts[cls] += 1;
    latency[cls].record(sample.latencyUs);
  }
  return { latency, counts, unclassified };
}
