/**
 * The load test against a real platform (scheduler, agent with real runtime processes, controller):
 * its totals and its cold/warm/resumed split must match the activation records of the same run.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ActivationSummary, ActivationView } from '../../../src/client/types.js';
import { runLoadtest } from '../../../src/loadtest/loadtest.js';
import { api, putAction, startPlatform, type Platform } from '../platform/harness.js';

/** An annotation of a record as the API returns it (the client's schema: `value` may be absent). */
function annotation(record: { annotations: readonly { key: string; value?: unknown }[] }, key: string): unknown {
  return record.annotations.find((a) => a.key === key)?.value;
}

let platform: Platform | undefined;

afterEach(async () => {
  await platform?.close();
  platform = undefined;
});

const ECHO = 'function main(params) { return { n: params.n ?? null }; }';

function credentials(p: Platform): { apihost: string; auth: string } {
  return { apihost: p.controller.url, auth: `${p.identity.uuid}:${p.identity.key}` };
}

/** Every record in the guest namespace (a fresh platform: they are all this test's). */
async function allRecords(p: Platform): Promise<ActivationView[]> {
  const list = await api<ActivationSummary[]>(p, 'GET', '/namespaces/_/activations?limit=200');
  expect(list.status).toBe(200);
  return Promise.all(list.body.map(async (s) => (await api<ActivationView>(p, 'GET', `/namespaces/_/activations/${s.activationId}`)).body));
}

describe('brisk loadtest against a real platform', () => {
  it('reports totals and cold/warm counts equal to the activation records of the run', async () => {
    const p = (platform = await startPlatform());
    await putAction(p, 'lt-a', ECHO);
    await putAction(p, 'lt-b', ECHO);

    const { report, classifiedIds } = await runLoadtest({
      ...credentials(p),
      targets: [
        { name: 'lt-a', weight: 1 },
        { name: 'lt-b', weight: 1 },
      ],
      mode: { kind: 'closed', concurrency: 2 },
      stop: { count: 24 },
      payload: { n: 7 },
    });

    const records = await allRecords(p);
    expect(records.length).toBe(24);
    expect(report).toMatchObject({ sent: 24, completed: 24, ok: 24, errors: 0, statuses: { '200': 24 }, aborted: false });
    expect(report.actions).toEqual([
      { name: 'lt-a', weight: 1, sent: 12, errors: 0 },
      { name: 'lt-b', weight: 1, sent: 12, errors: 0 },
    ]);
    expect(records.filter((r) => r.name === 'lt-a').length).toBe(12);
    expect(records.every((r) => r.response.success && (r.response.result as { n: unknown }).n === 7)).toBe(true);

    // Every activation the report classified is one of the run's records, and the split equals theirs.
    const ids = new Set(records.map((r) => r.activationId));
    expect(classifiedIds.length).toBe(24);
    expect(classifiedIds.every((id) => ids.has(id))).toBe(true);
    const cold = records.filter((r) => annotation(r, 'initTime') !== undefined).length;
    const resumed = records.filter((r) => annotation(r, 'initTime') === undefined && annotation(r, 'resumeTime') !== undefined).length;
    // at least one container per action started cold; the pause grace (60 s) is never reached
    expect(cold).toBeGreaterThanOrEqual(2);
    expect(resumed).toBe(0);
    expect(report.classification).toEqual({ withActivationId: 24, sampled: 24, cold, warm: 24 - cold, resumed: 0, unclassified: 0 });
    expect(report.latencyMs.all.count).toBe(24);
    expect(report.latencyMs.cold.count).toBe(cold);
    expect(report.latencyMs.warm.count).toBe(24 - cold);
  });

  it('classifies the activation that had to resume a paused container as resumed, from its resumeTime annotation', async () => {
    const p = (platform = await startPlatform({ pauseGraceMs: 50 }));
    await putAction(p, 'lt-p', ECHO);
    const pause = vi.spyOn(p.backend, 'pause');
    const target = { ...credentials(p), targets: [{ name: 'lt-p', weight: 1 }], mode: { kind: 'closed', concurrency: 1 } as const, stop: { count: 1 } };

    const first = await runLoadtest(target);
    expect(first.report.classification).toMatchObject({ cold: 1, warm: 0, resumed: 0 });

    // The idle container is paused after the grace; the balancer marks it paused before asking the agent.
    await vi.waitFor(() => expect(pause).toHaveBeenCalledTimes(1));
    await pause.mock.results[0]!.value;

    const second = await runLoadtest(target);
    expect(second.report).toMatchObject({ completed: 1, ok: 1, classification: { cold: 0, warm: 0, resumed: 1, unclassified: 0 } });
    expect(second.report.latencyMs.resumed.count).toBe(1);

    const record = (await api<ActivationView>(p, 'GET', `/namespaces/_/activations/${second.classifiedIds[0]}`)).body;
    expect(record.annotations.map((a) => a.key)).toEqual(['limits', 'path', 'kind', 'timeout', 'waitTime', 'resumeTime']);
    expect(annotation(record, 'resumeTime')).toEqual(expect.any(Number));
    expect(annotation(record, 'resumeTime') as number).toBeLessThanOrEqual(annotation(record, 'waitTime') as number);
  });

  it('an open loop sends the planned count and every answer is accounted for', async () => {
    const p = (platform = await startPlatform());
    await putAction(p, 'lt-o', ECHO);
    const { report } = await runLoadtest({
      ...credentials(p),
      targets: [{ name: 'lt-o', weight: 1 }],
      mode: { kind: 'open', ratePerSec: 200, maxInFlight: 8 },
      stop: { count: 30 },
    });
    const records = await allRecords(p);
    expect(records.length).toBe(30);
    expect(report).toMatchObject({ mode: 'open', sent: 30, completed: 30, statuses: { '200': 30 } });
    expect(report.classification.cold).toBe(records.filter((r) => annotation(r, 'initTime') !== undefined).length);
  });

  it('refuses an unknown action before sending anything', async () => {
    const p = (platform = await startPlatform());
    await expect(runLoadtest({ ...credentials(p), targets: [{ name: 'missing', weight: 1 }], mode: { kind: 'closed', concurrency: 1 }, stop: { count: 1 } })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await allRecords(p)).length).toBe(0);
  });
});
