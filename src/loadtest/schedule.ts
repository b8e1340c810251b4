/**
 * The load test's plan as pure functions: when each request is meant to be sent (open loop), whether
 * one more may start (both loops), and which action each request goes to. The engine in run.ts
 * asks these; nothing here reads a clock or does I/O.
 */
import { InvalidInputError } from '../errors.js';

/** When the run stops sending: after `count` requests, after `durationMs`, or at whichever comes first. */
export interface StopCondition {
  count?: number | undefined;
  durationMs?: number | undefined;
}

/**
 * Closed loop: `concurrency` workers, each sends its next request as soon as its previous one answers.
 * Open loop: requests are sent at a fixed `ratePerSec` whatever the answers do; at most `maxInFlight`
 * wait for an answer at once (a request that finds none free is sent late, and its latency still
 * counts from the time it was meant to be sent).
 */
export type LoadMode = { kind: 'closed'; concurrency: number } | { kind: 'open'; ratePerSec: number; maxInFlight: number };

/** Throws InvalidInputError unless the stop condition has at least one positive bound. */
export function checkStop(stop: StopCondition): void {
  const { count, durationMs } = stop;
  if (count === undefined && durationMs === undefined) throw new InvalidInputError('A load test needs a count or a duration.', { hint: 'Pass --count N or --duration 30s.' });
  if (count !== undefined && (!Number.isInteger(count) || count <= 0)) throw new InvalidInputError(`The count must be a positive whole number, not ${count}.`);
  if (durationMs !== undefined && (!Number.isFinite(durationMs) || durationMs <= 0)) throw new InvalidInputError(`The duration must be positive, not ${durationMs} ms.`);
}

/**
 * Open loop: the offset in ms from the start of the run at which request `index` (0-based) is meant
 * to be sent, or undefined when the plan ends before it (its count reached, or its offset at or past
 * the duration).
 */
export function intendedSendOffsetMs(index: number, ratePerSec: number, stop: StopCondition): number | undefined {
  if (stop.count !== undefined && index >= stop.count) return undefined;
  const offset = (index * 1000) / ratePerSec;
  if (stop.durationMs !== undefined && offset >= stop.durationMs) return undefined;
  return offset;
}

/** How many requests the plan sends, when that is known ahead: open loop always, closed loop by count only. */
export function plannedTotal(mode: LoadMode, stop: StopCondition): number | undefined {
  if (mode.kind === 'closed') return stop.count;
  const byDuration = stop.durationMs === undefined ? undefined : Math.ceil((stop.durationMs * mode.ratePerSec) / 1000);
  if (stop.count === undefined) return byDuration;
  return byDuration === undefined ? stop.count : Math.min(stop.count, byDuration);
}

/** Closed loop: whether a worker may start one more request, given how many were started and the time since the start. */
export function mayStartAnother(started: number, elapsedMs: number, stop: StopCondition): boolean {
  if (stop.count !== undefined && started >= stop.count) return false;
  if (stop.durationMs !== undefined && elapsedMs >= stop.durationMs) return false;
  return true;
}

/** Fraction of the plan done, 0..1, for a progress bar: by count when known, else by time. */
export function progressFraction(done: number, elapsedMs: number, total: number | undefined, stop: StopCondition): number {
  const byCount = total === undefined || total === 0 ? 0 : done / total;
  const byTime = stop.durationMs === undefined ? 0 : elapsedMs / stop.durationMs;
  return Math.min(1, Math.max(byCount, byTime));
}

/** One action to load, with its share of the requests (weight, default 1). */
export interface ActionTarget {
  name: string;
  weight: number;
}

/** Most distinct actions in one run, and the largest sum of weights (the selection cycle's length). */
export const MAX_ACTIONS = 1_000;
export const MAX_TOTAL_WEIGHT = 100_000;

/**
 * Reads `NAME` or `NAME:WEIGHT` (action names cannot hold a colon). Weight is a positive integer,
 * default 1.
 */
export function parseActionTarget(input: string): ActionTarget {
  const colon = input.lastIndexOf(':');
  if (colon === -1) return { name: input, weight: 1 };
  const name = input.slice(0, colon);
  const weightText = input.slice(colon + 1);
  if (name === '' || !/^\d+$/.test(weightText) || Number(weightText) === 0) {
    throw new InvalidInputError(`'${input}' is not an action target; use NAME or NAME:WEIGHT with a positive whole weight.`);
  }
  return { name, weight: Number(weightText) };
}

/**
 * The order in which requests cycle over the actions: each action appears `weight` times per cycle,
 * spread out (smooth weighted round robin: the action with the largest running credit goes next, then
 * loses the total weight), so with weights 1 each it is plain round robin. Request i goes to
 * `cycle[i % cycle.length]`. Throws InvalidInputError for no actions, too many, or too much weight.
 */
export function selectionCycle(targets: readonly ActionTarget[]): number[] {
  if (targets.length === 0) throw new InvalidInputError('A load test needs at least one action.', { hint: 'brisk loadtest ACTION [ACTION...]' });
  if (targets.length > MAX_ACTIONS) throw new InvalidInputError(`A load test takes at most ${MAX_ACTIONS} actions, not ${targets.length}.`);
  const total = targets.reduce((sum, t) => sum + t.weight, 0);
  if (total > MAX_TOTAL_WEIGHT) throw new InvalidInputError(`The weights add up to ${total}; at most ${MAX_TOTAL_WEIGHT}.`);
  const credit = targets.map(() => 0);
  const cycle: number[] = [];
  for (let n = 0; n < total; n++) {
    let best = 0;
    for (let i = 0; i < targets.length; i++) {
      credit[i]! += targets[i]!.weight;
      if (credit[i]! > credit[best]!) best = i;
    }
    credit[best]! -= total;
    cycle.push(best);
  }
  return cycle;
}
