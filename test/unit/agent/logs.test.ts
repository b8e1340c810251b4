import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatLogLine, LOG_SENTINEL, LogText } from '../../../src/model/activation.js';
import { tagLine } from '../../../src/runtime/framing.js';
import { ContainerLogs } from '../../../src/agent/logs.js';

const T = new Date('2024-05-01T10:00:00.000Z');
const now = () => T;
const out = (text: string) => formatLogLine(T, 'stdout', text);
const err = (text: string) => formatLogLine(T, 'stderr', text);
const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const req = (activationId: string, extra: Partial<{ limitBytes: number; waitForSentinels: boolean }> = {}) => ({
  activationId,
  limitBytes: 1_000_000,
  waitForSentinels: true,
  ...extra,
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ContainerLogs, tagged (brisk runtime)', () => {
  it('separates interleaved concurrent activations and strips sentinels', async () => {
    const logs = new ContainerLogs({ now });
    logs.push('stdout', `${tagLine(A, 'a1')}\n${tagLine(B, 'b1')}\n${tagLine(A, 'a')}`);
    logs.push('stdout', `2\n${tagLine(A, LOG_SENTINEL)}\n`);
    logs.push('stderr', `${tagLine(B, 'b-err')}\n${tagLine(A, LOG_SENTINEL)}\n${tagLine(B, LOG_SENTINEL)}\n`);
    logs.push('stdout', `${tagLine(B, LOG_SENTINEL)}\n`);
    await expect(logs.collect(req(A))).resolves.toEqual({ logs: [out('a1'), out('a2')], truncated: false });
    await expect(logs.collect(req(B))).resolves.toEqual({ logs: [out('b1'), err('b-err')], truncated: false });
    expect(logs.bufferedBytes).toBe(0);
  });

  it('waits for the sentinels that arrive after the collect', async () => {
    const logs = new ContainerLogs({ now });
    const pending = logs.collect(req(A));
    logs.push('stdout', `${tagLine(A, 'late')}\n${tagLine(A, LOG_SENTINEL)}\n`);
    logs.push('stderr', `${tagLine(A, LOG_SENTINEL)}\n`);
    await expect(pending).resolves.toEqual({ logs: [out('late')], truncated: false });
  });

  it('gives untagged output (init logs) to the next activation collected, in order of receipt', async () => {
    const logs = new ContainerLogs({ now });
    logs.push('stdout', 'init says hi\n');
    logs.push('stdout', `${tagLine(A, 'run')}\n${tagLine(A, LOG_SENTINEL)}\n`);
    logs.push('stderr', `${tagLine(A, LOG_SENTINEL)}\n`);
    await expect(logs.collect(req(A))).resolves.toEqual({ logs: [out('init says hi'), out('run')], truncated: false });
  });

  it('appends the collection notice when the sentinels do not come in time', async () => {
    vi.useFakeTimers();
    const logs = new ContainerLogs({ now, sentinelWaitMs: 2000 });
    logs.push('stdout', `${tagLine(A, 'x')}\n${tagLine(A, LOG_SENTINEL)}\n`);
    const pending = logs.collect(req(A));
    await vi.advanceTimersByTimeAsync(2000);
    await expect(pending).resolves.toEqual({ logs: [out('x'), err(LogText.collectionIssue)], truncated: false });
  });

  it('answers at once without waitForSentinels, with the developer-error notice', async () => {
    const logs = new ContainerLogs({ now });
    logs.push('stdout', `${tagLine(A, 'x')}\n`);
    await expect(logs.collect(req(A, { waitForSentinels: false }))).resolves.toEqual({
      logs: [out('x'), err(LogText.developerError)],
      truncated: false,
    });
  });

  it('answers pending collects when the container exits, flushing partial lines', async () => {
    const logs = new ContainerLogs({ now });
    logs.push('stdout', `${tagLine(A, 'x')}\n`);
    logs.push('stderr', 'FATAL ERROR: heap');
    const pending = logs.collect(req(A));
    logs.markExited();
    await expect(pending).resolves.toEqual({ logs: [out('x'), err('FATAL ERROR: heap'), err(LogText.developerError)], truncated: false });
  });

  it('returns [] at once for limit 0 and drops later lines of a collected activation', async () => {
    const logs = new ContainerLogs({ now });
    logs.push('stdout', `${tagLine(A, 'x')}\n`);
    await expect(logs.collect(req(A, { limitBytes: 0 }))).resolves.toEqual({ logs: [], truncated: false });
    logs.push('stdout', `${tagLine(A, 'stray')}\n`);
    expect(logs.bufferedBytes).toBe(0);
  });

  it('caps the bytes and says so', async () => {
    const logs = new ContainerLogs({ now });
    const line = out('0123456789');
    const size = Buffer.byteLength(line);
    logs.push('stdout', `${tagLine(A, '0123456789')}\n${tagLine(A, '0123456789')}\n${tagLine(A, LOG_SENTINEL)}\n`);
    logs.push('stderr', `${tagLine(A, LOG_SENTINEL)}\n`);
    await expect(logs.collect(req(A, { limitBytes: size + 1 }))).resolves.toEqual({
      logs: [line, err(LogText.truncated(size + 1))],
      truncated: true,
    });
  });

  it('drops the oldest uncollected activation beyond the bound and says so on its collect', async () => {
    const logs = new ContainerLogs({ now, maxActivations: 2 });
    const ids = ['1', '2', '3'].map((d) => d.repeat(32));
    for (const id of ids) {
      logs.push('stdout', `${tagLine(id, `line ${id[0]}`)}\n${tagLine(id, LOG_SENTINEL)}\n`);
      logs.push('stderr', `${tagLine(id, LOG_SENTINEL)}\n`);
    }
    await expect(logs.collect(req(ids[0] as string))).resolves.toEqual({ logs: [err(LogText.collectionIssue)], truncated: false });
    await expect(logs.collect(req(ids[2] as string))).resolves.toEqual({ logs: [out('line 3')], truncated: false });
  });

  it('bounds the bytes of one activation', async () => {
    const logs = new ContainerLogs({ now, maxActivationBytes: 100 });
    for (let i = 0; i < 10; i++) logs.push('stdout', `${tagLine(A, `line ${i}`)}\n`);
    expect(logs.bufferedBytes).toBeLessThanOrEqual(100);
    logs.push('stdout', `${tagLine(A, LOG_SENTINEL)}\n`);
    logs.push('stderr', `${tagLine(A, LOG_SENTINEL)}\n`);
    const result = await logs.collect(req(A));
    expect(result.truncated).toBe(true);
    expect(result.logs.at(-1)).toBe(err(LogText.truncated(1_000_000)));
  });
});

describe('ContainerLogs, untagged (sequential by sentinels)', () => {
  it('hands out segments in order', async () => {
    const logs = new ContainerLogs({ now });
    logs.push('stdout', `first\n${LOG_SENTINEL}\nsecond\n${LOG_SENTINEL}\n`);
    logs.push('stderr', `e1\n${LOG_SENTINEL}\n`);
    await expect(logs.collect(req(A))).resolves.toEqual({ logs: [out('first'), err('e1')], truncated: false });
    const pending = logs.collect(req(B));
    logs.push('stderr', `${LOG_SENTINEL}\n`);
    await expect(pending).resolves.toEqual({ logs: [out('second')], truncated: false });
  });

  it('splits lines across chunks and multibyte characters', async () => {
    const logs = new ContainerLogs({ now });
    const bytes = Buffer.from('héllo\n');
    logs.push('stdout', bytes.subarray(0, 2));
    logs.push('stdout', bytes.subarray(2));
    logs.push('stdout', `${LOG_SENTINEL}\n`);
    logs.push('stderr', `${LOG_SENTINEL}\n`);
    await expect(logs.collect(req(A))).resolves.toEqual({ logs: [out('héllo')], truncated: false });
  });
});
