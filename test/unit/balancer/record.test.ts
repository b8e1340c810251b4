import { describe, expect, it } from 'vitest';
import { actionInfoOf, buildActionInfo, initParameters } from '../../../src/controller/balancer/action-info.js';
import { buildRecord, finalLogs } from '../../../src/controller/balancer/record.js';
import { actionDoc } from './fixtures.js';

describe('buildRecord', () => {
  const info = buildActionInfo(actionDoc());

  it('builds a cold-start record: start moved back to init, annotations in order with initTime', () => {
    const record = buildRecord({
      info,
      subject: 'alice',
      activationId: 'a'.repeat(32),
      receivedAt: 1000,
      start: 1040,
      end: 1100,
      initTime: 25,
      timedOut: false,
      response: { statusCode: 0, result: { payload: 'hi' }, size: 16 },
    });
    expect(record).toEqual({
      namespace: 'alice',
      name: 'hello',
      subject: 'alice',
      activationId: 'a'.repeat(32),
      version: '0.0.1',
      publish: false,
      start: 1040,
      end: 1100,
      duration: 60,
      response: { statusCode: 0, result: { payload: 'hi' }, size: 16 },
      logs: [],
      annotations: [
        { key: 'limits', value: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 } },
        { key: 'path', value: 'guest/hello' },
        { key: 'kind', value: 'nodejs:20' },
        { key: 'timeout', value: false },
        { key: 'initTime', value: 25 },
        { key: 'waitTime', value: 40 },
      ],
    });
  });

  it('a warm record has no initTime; a timeout is annotated true', () => {
    const record = buildRecord({
      info,
      subject: 'guest',
      activationId: 'b'.repeat(32),
      receivedAt: 1000,
      start: 1001,
      end: 2001,
      timedOut: true,
      response: { statusCode: 2, result: { error: 'x' } },
      logs: ['l'],
    });
    expect(record.annotations.map((a) => a.key)).toEqual(['limits', 'path', 'kind', 'timeout', 'waitTime']);
    expect(record.annotations[3]).toEqual({ key: 'timeout', value: true });
    expect(record.annotations[4]).toEqual({ key: 'waitTime', value: 1 });
    expect(record.duration).toBe(1000);
    expect(record.logs).toEqual(['l']);
  });

  it('appends resumeTime after waitTime only when the run resumed its paused container', () => {
    const resumed = buildRecord({
      info,
      subject: 'guest',
      activationId: 'c'.repeat(32),
      receivedAt: 1000,
      start: 1003,
      end: 1010,
      resumeTime: 2,
      timedOut: false,
      response: { statusCode: 0, result: {} },
    });
    expect(resumed.annotations.map((a) => a.key)).toEqual(['limits', 'path', 'kind', 'timeout', 'waitTime', 'resumeTime']);
    expect(resumed.annotations[4]).toEqual({ key: 'waitTime', value: 3 });
    expect(resumed.annotations[5]).toEqual({ key: 'resumeTime', value: 2 });

    const zero = buildRecord({ info, subject: 'guest', activationId: 'd'.repeat(32), receivedAt: 1000, start: 1000, end: 1001, resumeTime: 0, timedOut: false, response: { statusCode: 0, result: {} } });
    expect(zero.annotations.at(-1)).toEqual({ key: 'resumeTime', value: 0 });
  });
});

describe('actionInfoOf', () => {
  it('caches per doc and derives the run facts', () => {
    const doc = actionDoc({ namespace: 'guest/pkg', limits: { timeout: 3000, memory: 128, logs: 2, concurrency: 4 } });
    const info = actionInfoOf(doc);
    expect(actionInfoOf(doc)).toBe(info);
    expect(info.key).toBe('guest/pkg/hello@0.0.1@1700000000000');
    expect(info.path).toBe('guest/pkg/hello');
    expect(info.qualifiedName).toBe('/guest/pkg/hello');
    expect(info.concurrency).toBe(4);
    expect(info.logLimitBytes).toBe(2 * 1024 * 1024);
    expect(info.provideApiKey).toBe(false);
  });

  it('provides the api key when the annotation is truthy or absent', () => {
    expect(buildActionInfo(actionDoc({ annotations: [] })).provideApiKey).toBe(true);
    expect(buildActionInfo(actionDoc({ annotations: [{ key: 'provide-api-key', value: true }] })).provideApiKey).toBe(true);
    expect(buildActionInfo(actionDoc({ annotations: [{ key: 'provide-api-key', value: 0 }] })).provideApiKey).toBe(false);
  });

  it('puts parameters marked init into the init env, stringified', () => {
    const doc = actionDoc({
      parameters: [{ key: 'a', value: 'x' }, { key: 'b', value: { n: 1 }, init: true } as never, { key: 'c', value: 'y', init: true } as never],
    });
    expect(initParameters(doc)).toEqual({ b: '{"n":1}', c: 'y' });
  });
});

describe('finalLogs', () => {
  const now = new Date('2024-05-01T10:00:00.000Z');
  it('appends the truncation, collection-issue and developer-error notices as stderr lines', () => {
    expect(finalLogs({ lines: ['a'], truncated: true, limitBytes: 10, issue: true, developerError: true }, now)).toEqual([
      'a',
      '2024-05-01T10:00:00.000Z       stderr: Logs were truncated because the total bytes size exceeds the limit of 10 bytes.',
      '2024-05-01T10:00:00.000Z       stderr: There was an issue while collecting your logs. Data might be missing.',
      '2024-05-01T10:00:00.000Z       stderr: The action did not initialize or run as expected. Log data might be missing.',
    ]);
  });

  it('does not repeat a truncation notice the agent already added', () => {
    const line = 'x stderr: Logs were truncated because the total bytes size exceeds the limit of 10 bytes.';
    expect(finalLogs({ lines: [line], truncated: true, limitBytes: 10, issue: false, developerError: false }, now)).toEqual([line]);
  });

  it('does not repeat the developer-error or collection-issue notices the agent already added', () => {
    const lines = [
      'x stdout: hi',
      'x stderr: There was an issue while collecting your logs. Data might be missing.',
      'x stderr: The action did not initialize or run as expected. Log data might be missing.',
    ];
    expect(finalLogs({ lines, truncated: false, limitBytes: 10, issue: true, developerError: true }, now)).toEqual(lines);
  });
});
