import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkStop,
  intendedSendOffsetMs,
  mayStartAnother,
  parseActionTarget,
  plannedTotal,
  progressFraction,
  selectionCycle,
} from '../../../src/loadtest/schedule.js';

describe('open-loop schedule', () => {
  it('spaces sends by 1/rate and stops at the count', () => {
    const offsets = [0, 1, 2, 3, 4].map((i) => intendedSendOffsetMs(i, 4, { count: 4 }));
    expect(offsets).toEqual([0, 250, 500, 750, undefined]);
  });

  it('stops before the duration, whichever bound comes first', () => {
    expect(intendedSendOffsetMs(9, 10, { durationMs: 1000 })).toBe(900);
    expect(intendedSendOffsetMs(10, 10, { durationMs: 1000 })).toBeUndefined();
    expect(intendedSendOffsetMs(3, 10, { durationMs: 1000, count: 3 })).toBeUndefined();
  });

  it('plans a total: by count, by duration·rate, or the smaller of both', () => {
    expect(plannedTotal({ kind: 'open', ratePerSec: 10, maxInFlight: 5 }, { durationMs: 1000 })).toBe(10);
    expect(plannedTotal({ kind: 'open', ratePerSec: 10, maxInFlight: 5 }, { durationMs: 1000, count: 4 })).toBe(4);
    expect(plannedTotal({ kind: 'closed', concurrency: 2 }, { durationMs: 1000 })).toBeUndefined();
    expect(plannedTotal({ kind: 'closed', concurrency: 2 }, { count: 7 })).toBe(7);
  });

  it('property: the number of sends the schedule yields equals plannedTotal', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }), fc.integer({ min: 1, max: 3000 }), (rate, count, durationMs) => {
        const stop = { count, durationMs };
        let n = 0;
        while (intendedSendOffsetMs(n, rate, stop) !== undefined) n++;
        expect(n).toBe(plannedTotal({ kind: 'open', ratePerSec: rate, maxInFlight: 1 }, stop));
      }),
    );
  });
});

describe('closed loop and progress', () => {
  it('allows another start until the count or the duration is reached', () => {
    expect(mayStartAnother(2, 0, { count: 3 })).toBe(true);
    expect(mayStartAnother(3, 0, { count: 3 })).toBe(false);
    expect(mayStartAnother(100, 999, { durationMs: 1000 })).toBe(true);
    expect(mayStartAnother(100, 1000, { durationMs: 1000 })).toBe(false);
  });

  it('progress is the larger of count and time fractions, capped at 1', () => {
    expect(progressFraction(5, 0, 10, { count: 10 })).toBe(0.5);
    expect(progressFraction(5, 750, undefined, { durationMs: 1000 })).toBe(0.75);
    expect(progressFraction(50, 2000, undefined, { durationMs: 1000 })).toBe(1);
  });

  it('checks the stop condition', () => {
    expect(() => checkStop({})).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => checkStop({ count: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => checkStop({ count: 1.5 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => checkStop({ durationMs: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => checkStop({ count: 1, durationMs: 10 })).not.toThrow();
  });
});

describe('action selection', () => {
  it('parses NAME and NAME:WEIGHT', () => {
    expect(parseActionTarget('hello')).toEqual({ name: 'hello', weight: 1 });
    expect(parseActionTarget('/guest/pkg/a:3')).toEqual({ name: '/guest/pkg/a', weight: 3 });
    for (const bad of ['a:0', 'a:x', ':2', 'a:-1']) expect(() => parseActionTarget(bad)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('round robin with equal weights', () => {
    expect(selectionCycle([{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }, { name: 'c', weight: 1 }])).toEqual([0, 1, 2]);
  });

  it('spreads weighted picks out', () => {
    expect(selectionCycle([{ name: 'a', weight: 3 }, { name: 'b', weight: 1 }])).toEqual([0, 0, 1, 0]);
    expect(selectionCycle([{ name: 'a', weight: 2 }, { name: 'b', weight: 2 }])).toEqual([0, 1, 0, 1]);
  });

  it('rejects no actions and too much weight', () => {
    expect(() => selectionCycle([])).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => selectionCycle([{ name: 'a', weight: 100_001 }])).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('property: each action appears exactly weight times per cycle', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 10 }), (weights) => {
        const cycle = selectionCycle(weights.map((weight, i) => ({ name: `a${i}`, weight })));
        expect(cycle.length).toBe(weights.reduce((s, w) => s + w, 0));
        weights.forEach((w, i) => expect(cycle.filter((x) => x === i).length).toBe(w));
      }),
    );
  });
});
