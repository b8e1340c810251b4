import { describe, expect, it } from 'vitest';
import { runEngine, type InvokeFn, type LoadtestProgress } from '../../../src/loadtest/run.js';

const id = (n: number) => n.toString(16).padStart(32, '0');

/** A virtual clock that only the fake invoke moves: the engine never has to sleep on it. */
function virtualClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('runEngine', () => {
  it('closed loop: sends exactly count requests round robin over the actions, counts statuses and keeps samples', async () => {
    const calls: string[] = [];
    let n = 0;
    const invoke: InvokeFn = async (action) => {
      calls.push(action);
      n += 1;
      if (n % 5 === 0) return { status: 502, activationId: id(n) };
      if (n === 7) return { status: 'network' };
      return { status: 200, activationId: id(n) };
    };
    const result = await runEngine({ invoke, targets: [{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }], mode: { kind: 'closed', concurrency: 3 }, stop: { count: 10 } });
    expect(result.sent).toBe(10);
    expect(result.completed).toBe(10);
    expect(result.statuses).toEqual({ '200': 7, '502': 2, network: 1 });
    expect(result.errors).toBe(3);
    expect(result.latency.count).toBe(10);
    expect(calls.filter((c) => c === 'a').length).toBe(5);
    expect(result.perAction.map((a) => a.sent)).toEqual([5, 5]);
    expect(result.perAction[0]!.errors + result.perAction[1]!.errors).toBe(3);
    expect(result.withActivationId).toBe(9);
    expect(result.samples.map((s) => s.activationId).sort()).toEqual([1, 2, 3, 4, 5, 6, 8, 9, 10].map(id));
    expect(result.aborted).toBe(false);
  });

  it('closed loop: latency counts from the send, so a slow platform shows as slow requests only', async () => {
    const clock = virtualClock();
    const invoke: InvokeFn = async () => {
      clock.advance(100);
      return { status: 200 };
    };
    const result = await runEngine({ invoke, targets: [{ name: 'a', weight: 1 }], mode: { kind: 'closed', concurrency: 1 }, stop: { count: 4 }, now: clock.now });
    expect(result.latency.summary()).toEqual({ count: 4, min: 100_000, max: 100_000, mean: 100_000 });
  });

  it('open loop: latency counts from the intended send time, so queueing behind a slow answer is not hidden', async () => {
    const clock = virtualClock();
    const invoke: InvokeFn = async () => {
      clock.advance(100);
      return { status: 200 };
    };
    // 100 req/s = one every 10 ms, but each answer takes 100 ms and only one may be in flight.
    const result = await runEngine({ invoke, targets: [{ name: 'a', weight: 1 }], mode: { kind: 'open', ratePerSec: 100, maxInFlight: 1 }, stop: { count: 4 }, now: clock.now });
    // request i is meant for 10·i ms and answers at 100·(i+1) ms
    expect(result.latency.summary()).toEqual({ count: 4, min: 100_000, max: 370_000, mean: (100_000 + 190_000 + 280_000 + 370_000) / 4 });
    // 3 digits: 190 000 lies in the bucket [189 952, 190 079] (width 128); the top of it is reported
    expect(result.latency.percentile(50)).toBe(190_079);
  });

  it('open loop: sends the planned number of requests by duration', async () => {
    const clock = virtualClock();
    const invoke: InvokeFn = async () => {
      clock.advance(1);
      return { status: 200, activationId: id(1) };
    };
    const result = await runEngine({ invoke, targets: [{ name: 'a', weight: 1 }], mode: { kind: 'open', ratePerSec: 1000, maxInFlight: 4 }, stop: { durationMs: 25 }, now: clock.now });
    expect(result.sent).toBe(25);
    expect(result.completed).toBe(25);
  });

  it('keeps a bounded uniform sample of activation ids (reservoir)', async () => {
    let n = 0;
    const invoke: InvokeFn = async () => ({ status: 200, activationId: id(++n) });
    // random() = 0 always replaces slot 0: the sample ends as the last id, then ids 2 and 3.
    const result = await runEngine({ invoke, targets: [{ name: 'a', weight: 1 }], mode: { kind: 'closed', concurrency: 1 }, stop: { count: 50 }, maxSamples: 3, random: () => 0 });
    expect(result.withActivationId).toBe(50);
    expect(result.samples.map((s) => s.activationId)).toEqual([id(50), id(2), id(3)]);
  });

  it('stops sending when aborted, awaits what is in flight, and reports progress at the end', async () => {
    const stop = new AbortController();
    let n = 0;
    const invoke: InvokeFn = async () => {
      n += 1;
      if (n === 3) stop.abort();
      return { status: 200, activationId: id(n) };
    };
    const seen: LoadtestProgress[] = [];
    const result = await runEngine({
      invoke,
      targets: [{ name: 'a', weight: 1 }],
      mode: { kind: 'closed', concurrency: 1 },
      stop: { count: 100 },
      signal: stop.signal,
      onProgress: (p) => seen.push(p),
    });
    expect(result).toMatchObject({ sent: 3, completed: 3, aborted: true });
    expect(seen.at(-1)).toMatchObject({ sent: 3, completed: 3, errors: 0, inFlight: 0, fraction: 0.03 });
  });
});
