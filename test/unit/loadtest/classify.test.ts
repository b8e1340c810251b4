import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { breakdown, classOf, pickForClassification } from '../../../src/loadtest/classify.js';
import { fetchClasses, type GetRecord } from '../../../src/loadtest/records.js';
import type { Sample } from '../../../src/loadtest/run.js';

const base = [
  { key: 'limits', value: {} },
  { key: 'path', value: 'guest/a' },
  { key: 'kind', value: 'nodejs:20' },
  { key: 'timeout', value: false },
];
const cold = { annotations: [...base, { key: 'initTime', value: 30 }, { key: 'waitTime', value: 40 }] };
const warm = { annotations: [...base, { key: 'waitTime', value: 1 }] };
const resumed = { annotations: [...base, { key: 'waitTime', value: 2 }, { key: 'resumeTime', value: 1 }] };

describe('classOf', () => {
  it('cold by initTime, resumed by resumeTime, else warm', () => {
    expect(classOf(cold)).toBe('cold');
    expect(classOf(warm)).toBe('warm');
    expect(classOf(resumed)).toBe('resumed');
    expect(classOf({ annotations: [] })).toBe('warm');
    expect(classOf({ annotations: [{ key: 'resumeTime', value: 1 }, { key: 'initTime', value: 5 }] })).toBe('cold');
  });
});

describe('breakdown', () => {
  it('joins each sample latency with its class; unknown ids are unclassified', () => {
    const samples: Sample[] = [
      { activationId: 'c1', latencyUs: 50_000, action: 0 },
      { activationId: 'w1', latencyUs: 1_000, action: 0 },
      { activationId: 'w2', latencyUs: 3_000, action: 1 },
      { activationId: 'r1', latencyUs: 2_000, action: 1 },
      { activationId: 'x', latencyUs: 9_000, action: 1 },
    ];
    const classes = new Map([
      ['c1', 'cold'],
      ['w1', 'warm'],
      ['w2', 'warm'],
      ['r1', 'resumed'],
    ] as const);
    const b = breakdown(samples, classes);
    expect(b.counts).toEqual({ cold: 1, warm: 2, resumed: 1 });
    expect(b.unclassified).toBe(1);
    expect(b.latency.warm.summary()).toEqual({ count: 2, min: 1_000, max: 3_000, mean: 2_000 });
    expect(b.latency.cold.max).toBe(50_000);
    expect(b.latency.resumed.max).toBe(2_000);
  });
});

describe('pickForClassification', () => {
  const samples = Array.from({ length: 20 }, (_, i) => ({ activationId: `id${i}`, latencyUs: i, action: 0 }));
  it('keeps all when under the bound', () => {
    expect(pickForClassification(samples.slice(0, 5), 10)).toEqual(samples.slice(0, 5));
  });
  it('property: picks exactly max distinct samples from the input', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.infiniteStream(fc.double({ min: 0, max: 0.999999, noNaN: true })), (max, stream) => {
        const it = stream[Symbol.iterator]();
        const picked = pickForClassification(samples, max, () => it.next().value as number);
        expect(picked.length).toBe(max);
        expect(new Set(picked.map((s) => s.activationId)).size).toBe(max);
        for (const s of picked) expect(samples).toContain(s);
      }),
    );
  });
});

describe('fetchClasses', () => {
  it('reads every distinct id, retries not-found ones, and counts the rest as missing', async () => {
    const asked: string[] = [];
    let lateSeen = 0;
    const get: GetRecord = async (id) => {
      asked.push(id);
      if (id === 'cold') return cold;
      if (id === 'late') return ++lateSeen >= 2 ? resumed : undefined;
      if (id === 'broken') throw new Error('500');
      if (id === 'gone') return undefined;
      return warm;
    };
    const fetched = await fetchClasses({ ids: ['cold', 'w', 'w', 'late', 'broken', 'gone'], get, concurrency: 2, retries: 2, retryDelayMs: 1 });
    expect(Object.fromEntries(fetched.classes)).toEqual({ cold: 'cold', w: 'warm', late: 'resumed' });
    expect(fetched.missing).toBe(2);
    expect(asked.filter((id) => id === 'gone').length).toBe(3);
    expect(asked.filter((id) => id === 'broken').length).toBe(1);
    expect(asked.filter((id) => id === 'w').length).toBe(1);
  });
});
