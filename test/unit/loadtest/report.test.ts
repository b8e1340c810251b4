import { describe, expect, it } from 'vitest';
import { breakdown } from '../../../src/loadtest/classify.js';
import { Histogram } from '../../../src/loadtest/histogram.js';
import { DEFAULT_MAX_IN_FLIGHT, parseRate, planOf, targetsOf } from '../../../src/loadtest/plan.js';
import { progressLine } from '../../../src/loadtest/progress.js';
import { buildReport, formatReport, percentilesOf } from '../../../src/loadtest/report.js';
import type { EngineResult } from '../../../src/loadtest/run.js';

function engineResult(): EngineResult {
  const latency = new Histogram();
  for (const us of [1_000, 2_000, 3_000, 40_000]) latency.record(us);
  return {
    startedAt: Date.parse('2024-05-01T10:00:00.000Z'),
    elapsedMs: 2_000,
    sent: 4,
    completed: 4,
    errors: 1,
    statuses: { '200': 3, '502': 1 },
    latency,
    perAction: [
      { name: 'a', sent: 3, errors: 1 },
      { name: 'b', sent: 1, errors: 0 },
    ],
    samples: [
      { activationId: 'i1', latencyUs: 40_000, action: 0 },
      { activationId: 'i2', latencyUs: 1_000, action: 1 },
      { activationId: 'i3', latencyUs: 2_000, action: 0 },
      { activationId: 'i4', latencyUs: 3_000, action: 0 },
    ],
    withActivationId: 4,
    aborted: false,
  };
}

describe('report', () => {
  it('percentiles in ms', () => {
    const h = new Histogram();
    for (let us = 1; us <= 1000; us++) h.record(us * 1000);
    expect(percentilesOf(h)).toEqual({ count: 1000, min: 1, mean: 500.5, p50: 500.223, p90: 900.095, p99: 990.207, p999: 999.423, max: 1000 });
  });

  it('builds the result object from the run and the classes', () => {
    const run = engineResult();
    const classes = breakdown(run.samples, new Map([['i1', 'cold'], ['i2', 'warm'], ['i3', 'warm'], ['i4', 'resumed']] as const));
    const report = buildReport({
      targets: [{ name: 'a', weight: 3 }, { name: 'b', weight: 1 }],
      mode: { kind: 'closed', concurrency: 2 },
      stop: { count: 4 },
      run,
      classes,
      sampled: 4,
    });
    expect(report).toEqual({
      actions: [
        { name: 'a', weight: 3, sent: 3, errors: 1 },
        { name: 'b', weight: 1, sent: 1, errors: 0 },
      ],
      mode: 'closed',
      concurrency: 2,
      ratePerSec: null,
      maxInFlight: null,
      count: 4,
      durationMs: null,
      startedAt: '2024-05-01T10:00:00.000Z',
      elapsedMs: 2000,
      sent: 4,
      completed: 4,
      ok: 3,
      errors: 1,
      throughputPerSec: 2,
      statuses: { '200': 3, '502': 1 },
      latencyMs: {
        all: { count: 4, min: 1, mean: 11.5, p50: 2, p90: 40, p99: 40, p999: 40, max: 40 },
        cold: { count: 1, min: 40, mean: 40, p50: 40, p90: 40, p99: 40, p999: 40, max: 40 },
        warm: { count: 2, min: 1, mean: 1.5, p50: 1, p90: 2, p99: 2, p999: 2, max: 2 },
        resumed: { count: 1, min: 3, mean: 3, p50: 3, p90: 3, p99: 3, p999: 3, max: 3 },
      },
      classification: { withActivationId: 4, sampled: 4, cold: 1, warm: 2, resumed: 1, unclassified: 0 },
      aborted: false,
    });
    const text = formatReport(report);
    expect(text.split('\n')).toEqual([
      '2 actions: closed loop, concurrency 2; 4 requests in 2.00 s',
      'throughput  2.0 req/s  (3 ok, 1 errors)',
      'statuses    200: 3  502: 1',
      '',
      'latency ms  count  min    mean   p50    p90    p99    p99.9  max',
      'all         4      1.00   11.50  2.00   40.00  40.00  40.00  40.00',
      'cold        1      40.00  40.00  40.00  40.00  40.00  40.00  40.00',
      'warm        2      1.00   1.50   1.00   2.00   2.00   2.00   2.00',
      'resumed     1      3.00   3.00   3.00   3.00   3.00   3.00   3.00',
      '',
      'classes from the activation records of 4 activations',
      '',
      'action  weight  sent  errors',
      'a       3       3     1',
      'b       1       1     0',
    ]);
  });
});

describe('plan', () => {
  it('defaults to a closed loop of 1; a rate makes an open loop', () => {
    expect(planOf({ count: 5 })).toEqual({ mode: { kind: 'closed', concurrency: 1 }, stop: { count: 5 } });
    expect(planOf({ ratePerSec: 20, durationMs: 1000 })).toEqual({ mode: { kind: 'open', ratePerSec: 20, maxInFlight: DEFAULT_MAX_IN_FLIGHT }, stop: { durationMs: 1000 } });
    expect(planOf({ concurrency: 4, count: 10, durationMs: 500 })).toEqual({ mode: { kind: 'closed', concurrency: 4 }, stop: { count: 10, durationMs: 500 } });
  });

  it('refuses contradictions and out-of-range values with INVALID_INPUT', () => {
    const bad = [
      { concurrency: 2, ratePerSec: 5, count: 1 },
      {},
      { count: 0 },
      { durationMs: 0 },
      { concurrency: 0, count: 1 },
      { concurrency: 1001, count: 1 },
      { ratePerSec: 0, count: 1 },
      { ratePerSec: 5, maxInFlight: 0, count: 1 },
      { maxInFlight: 3, count: 1 },
    ];
    for (const input of bad) expect(() => planOf(input), JSON.stringify(input)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('parses rates and targets', () => {
    expect(parseRate('2.5')).toBe(2.5);
    expect(() => parseRate('fast')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(targetsOf(['a', 'b:2'], undefined)).toEqual([{ name: 'a', weight: 1 }, { name: 'b', weight: 2 }]);
    expect(targetsOf([], ['p1', 'p2'])).toEqual([{ name: 'p1', weight: 1 }, { name: 'p2', weight: 1 }]);
    for (const [args, prefix] of [[[], undefined], [['a'], ['b']], [['a', 'a:2'], undefined]] as const) {
      expect(() => targetsOf(args, prefix)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
  });
});

describe('progressLine', () => {
  it('renders a bar and the running figures', () => {
    const p = { elapsedMs: 1500, sent: 60, completed: 50, errors: 2, inFlight: 10, fraction: 0.5, throughputPerSec: 33.333, p50Ms: 1.5, p99Ms: 12 };
    expect(progressLine(p, 10)).toBe('[#####-----]  50%  1.5s  50 done  10 in flight  2 errors  33.3 req/s  p50 1.50 ms  p99 12.00 ms');
    expect(progressLine(p, 0)).toBe(' 50%  1.5s  50 done  10 in flight  2 errors  33.3 req/s  p50 1.50 ms  p99 12.00 ms');
  });
});
