/**
 * The command line's choices turned into a plan (closed or open loop, stop condition), with every
 * rule checked once here. Pure; throws InvalidInputError with the flag to fix.
 */
import { InvalidInputError } from '../errors.js';
import { checkStop, MAX_ACTIONS, parseActionTarget, type ActionTarget, type LoadMode, type StopCondition } from './schedule.js';

/** Upper bounds that keep one load generator (and the machine it runs on) sane. */
export const LIMITS = {
  concurrency: 1_000,
  ratePerSec: 100_000,
  maxInFlight: 10_000,
} as const;

/** Open loop's default most requests in flight (the controller's default overflow limit per action). */
export const DEFAULT_MAX_IN_FLIGHT = 256;

export interface PlanInput {
  concurrency?: number | undefined;
  ratePerSec?: number | undefined;
  maxInFlight?: number | undefined;
  count?: number | undefined;
  durationMs?: number | undefined;
}

export interface Plan {
  mode: LoadMode;
  stop: StopCondition;
}

/**
 * Exactly one of concurrency (closed loop) and rate (open loop); neither means concurrency 1. A count,
 * a duration or both (whichever ends first). `maxInFlight` only goes with a rate.
 */
export function planOf(input: PlanInput): Plan {
  const { concurrency, ratePerSec, maxInFlight } = input;
  if (concurrency !== undefined && ratePerSec !== undefined) {
    throw new InvalidInputError('--concurrency and --rate exclude each other.', { hint: 'Use --concurrency N for a closed loop, or --rate R for an open loop.' });
  }
  const stop: StopCondition = {
    ...(input.count === undefined ? {} : { count: input.count }),
    ...(input.durationMs === undefined ? {} : { durationMs: input.durationMs }),
  };
  if (input.count === undefined && input.durationMs === undefined) {
    throw new InvalidInputError('A load test needs --count or --duration.', { hint: 'Pass --count 1000 or --duration 30s (or both: whichever ends first).' });
  }
  if (input.count !== undefined && input.count <= 0) throw new InvalidInputError('--count must be at least 1.');
  if (input.durationMs !== undefined && input.durationMs <= 0) throw new InvalidInputError('--duration must be positive, e.g. 10s.');
  checkStop(stop);
  if (ratePerSec !== undefined) {
    if (!Number.isFinite(ratePerSec) || ratePerSec <= 0 || ratePerSec > LIMITS.ratePerSec) {
      throw new InvalidInputError(`--rate must be above 0 and at most ${LIMITS.ratePerSec} requests per second, not ${ratePerSec}.`);
    }
    const inFlight = maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (!Number.isInteger(inFlight) || inFlight < 1 || inFlight > LIMITS.maxInFlight) {
      throw new InvalidInputError(`--max-in-flight must be 1..${LIMITS.maxInFlight}, not ${inFlight}.`);
    }
    return { mode: { kind: 'open', ratePerSec, maxInFlight: inFlight }, stop };
  }
  if (maxInFlight !== undefined) throw new InvalidInputError('--max-in-flight goes with --rate (an open loop).', { hint: 'In a closed loop, --concurrency bounds the requests in flight.' });
  const workers = concurrency ?? 1;
  if (!Number.isInteger(workers) || workers < 1 || workers > LIMITS.concurrency) {
    throw new InvalidInputError(`--concurrency must be 1..${LIMITS.concurrency}, not ${workers}.`);
  }
  return { mode: { kind: 'closed', concurrency: workers }, stop };
}

/** `--rate` text: a positive number of requests per second (`50`, `2.5`). */
export function parseRate(input: string): number {
  if (!/^\s*\d+(\.\d+)?\s*$/.test(input)) throw new InvalidInputError(`'${input}' is not a rate; use requests per second like 50 or 2.5.`);
  return Number(input);
}

/**
 * The actions to load: the arguments (`NAME` or `NAME:WEIGHT`), or the names found by prefix (weight
 * 1 each); not both, not neither. The same name twice is refused (give it a weight instead).
 */
export function targetsOf(args: readonly string[], byPrefix: readonly string[] | undefined): ActionTarget[] {
  if (args.length > 0 && byPrefix !== undefined) throw new InvalidInputError('Name the actions, or give --actions-prefix, not both.');
  const targets = byPrefix !== undefined ? byPrefix.map((name) => ({ name, weight: 1 })) : args.map(parseActionTarget);
  if (targets.length === 0) throw new InvalidInputError('Name at least one action to load.', { hint: 'brisk loadtest ACTION [ACTION...] --count 100, or --actions-prefix PREFIX.' });
  if (targets.length > MAX_ACTIONS) throw new InvalidInputError(`At most ${MAX_ACTIONS} actions, not ${targets.length}.`);
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t.name)) throw new InvalidInputError(`The action '${t.name}' is named twice.`, { hint: 'Give it a weight instead: NAME:WEIGHT.' });
    seen.add(t.name);
  }
  return targets;
}
