/**
 * Reads the activation records of a run (GET /namespaces/_/activations/{id}) with bounded
 * concurrency, and keeps only each one's class. A record is written when its activation's answer is
 * known, so it is normally there at once; one that is not yet (another controller, a store written
 * behind) is asked again a few times before it counts as missing.
 */
import type { BriskClient } from '../client/client.js';
import { BriskError } from '../errors.js';
import { classOf, type ActivationClass, type RecordAnnotations } from './classify.js';

/** Reads one record; undefined when it does not exist (yet). May reject on other failures. */
export type GetRecord = (activationId: string) => Promise<RecordAnnotations | undefined>;

export interface FetchClassesOptions {
  ids: readonly string[];
  get: GetRecord;
  /** requests at once; default 8 */
  concurrency?: number;
  /** extra rounds for records not found; default 3 */
  retries?: number;
  /** pause before each extra round; default 250 ms */
  retryDelayMs?: number;
  signal?: AbortSignal;
}

export interface FetchedClasses {
  classes: Map<string, ActivationClass>;
  /** ids whose record was not found after the retries, or whose read failed */
  missing: number;
}

/** The class of each id's record. Never rejects for a single record: a failed read counts as missing. */
export async function fetchClasses(options: FetchClassesOptions): Promise<FetchedClasses> {
  const classes = new Map<string, ActivationClass>();
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const retries = options.retries ?? 3;
  let pending = [...new Set(options.ids)];
  for (let round = 0; round <= retries && pending.length > 0 && options.signal?.aborted !== true; round++) {
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 250));
    const notFound: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < pending.length && options.signal?.aborted !== true) {
        const id = pending[next++]!;
        try {
          const record = await options.get(id);
          if (record === undefined) notFound.push(id);
          else classes.set(id, classOf(record));
        } catch {
          // counted as missing below, not retried: the API answered, with an error other than 404
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, pending.length) }, worker));
    pending = notFound;
  }
  return { classes, missing: new Set(options.ids).size - classes.size };
}

/** GetRecord over the REST client: 404 → undefined. */
export function recordGetter(client: BriskClient): GetRecord {
  return async (id) => {
    try {
      return await client.activations.get(id);
    } catch (error) {
      if (error instanceof BriskError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
  };
}
