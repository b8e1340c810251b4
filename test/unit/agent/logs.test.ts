import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatLogLine, LOG_SENTINEL, LogText } from '../../../src/model/activation.js';
import { tagLine } from '../../../src/runtime/framing.js';
import { ContainerLogs, LogBudget } from '../../../src/agent/logs.js';

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

/** One complete tagged activation: a line on stdout, both sentinels. */
const activation = (id: string, text: string) => [`${tagLine(id, text)}\n${tagLine(id, LOG_SENTINEL)}\n`, `${tagLine(id, LOG_SENTINEL)}\n`] as const;
const runIn = (logs: ContainerLogs, id: string, text: string) => {
  const [stdout, stderr] = activation(id, text);
  logs.push('stdout', stdout);
  logs.push('stderr', stderr);
};
/** The 32-hex id of the i-th forged activation of container c. */
const forged = (c: number, i: number) => `${c}`.padStart(8, 'f') + i.toString(16).padStart(24, '0');
const LINE = Buffer.byteLength(out('flood 0123'));

describe('LogBudget, agent-wide bound', () => {
  it('never lets two flooding containers exceed the budget, drops their own oldest data and spares a quiet one', async () => {
    const budget = new LogBudget({ maxBytes: 10 * LINE });
    const quiet = new ContainerLogs({ now, budget });
    const c1 = new ContainerLogs({ now, budget });
    const c2 = new ContainerLogs({ now, budget });
    runIn(quiet, A, 'quiet 0123');
    const peak = { used: 0 };
    for (let i = 0; i < 500; i++) {
      // forged tags straight to the fd, ids nobody will ever collect
      c1.push('stdout', `${tagLine(forged(1, i), 'flood 0123')}\n`);
      c2.push('stderr', `${tagLine(forged(2, i), 'flood 0123')}\n`);
      peak.used = Math.max(peak.used, budget.usedBytes);
      expect(quiet.bufferedBytes + c1.bufferedBytes + c2.bufferedBytes).toBe(budget.usedBytes);
    }
    expect(peak.used).toBe(10 * LINE);
    expect(budget.usedBytes).toBe(10 * LINE);
    // the quiet container's uncollected activation survived the flood
    expect(quiet.bufferedBytes).toBe(LINE);
    await expect(quiet.collect(req(A))).resolves.toEqual({ logs: [out('quiet 0123')], truncated: false });
    // a dropped activation says so when it is collected
    await expect(c1.collect(req(forged(1, 0)))).resolves.toEqual({ logs: [err(LogText.collectionIssue)], truncated: false });
    await expect(c2.collect(req(forged(2, 499), { waitForSentinels: false }))).resolves.toEqual({
      logs: [err('flood 0123'), err(LogText.developerError)],
      truncated: false,
    });
    expect(budget.usedBytes).toBe(c1.bufferedBytes + c2.bufferedBytes);
  });

  it('keeps what a pending collect waits for and refuses new lines beyond the budget, with a notice', async () => {
    const budget = new LogBudget({ maxBytes: 2 * LINE });
    const logs = new ContainerLogs({ now, budget });
    const pending = logs.collect(req(A));
    logs.push('stdout', `${tagLine(A, 'flood 0001')}\n${tagLine(A, 'flood 0002')}\n${tagLine(A, 'flood 0003')}\n`);
    expect(budget.usedBytes).toBe(2 * LINE);
    logs.push('stdout', `${tagLine(A, LOG_SENTINEL)}\n`);
    logs.push('stderr', `${tagLine(A, LOG_SENTINEL)}\n`);
    await expect(pending).resolves.toEqual({ logs: [out('flood 0001'), out('flood 0002'), err(LogText.collectionIssue)], truncated: false });
    expect(budget.usedBytes).toBe(0);
  });
});

describe('ContainerLogs after the container exited', () => {
  it('still answers a collect right after the exit, then frees everything after the retention', async () => {
    vi.useFakeTimers();
    const budget = new LogBudget({ maxBytes: 1000 * LINE });
    const logs = new ContainerLogs({ now, budget, exitRetentionMs: 30_000 });
    for (let i = 0; i < 100; i++) logs.push('stdout', `${tagLine(forged(1, i), 'flood 0123')}\n`);
    runIn(logs, A, 'done 01234');
    logs.push('stdout', `${tagLine(B, 'in flight')}\n`);
    logs.markExited();
    await expect(logs.collect(req(A))).resolves.toEqual({ logs: [out('done 01234')], truncated: false });
    await expect(logs.collect(req(B))).resolves.toEqual({ logs: [out('in flight'), err(LogText.developerError)], truncated: false });
    expect(logs.bufferedBytes).toBe(100 * LINE);
    expect(budget.usedBytes).toBe(100 * LINE);
    vi.advanceTimersByTime(29_999);
    expect(logs.bufferedBytes).toBe(100 * LINE);
    vi.advanceTimersByTime(1);
    expect(logs.bufferedBytes).toBe(0);
    expect(budget.usedBytes).toBe(0);
    // a collect after the retention gets the notice, never stale lines
    await expect(logs.collect(req(forged(1, 5)))).resolves.toEqual({ logs: [err(LogText.collectionIssue)], truncated: false });
  });

  it('answers a pending crash collect with the untagged crash output, and dispose frees at once', async () => {
    const budget = new LogBudget();
    const logs = new ContainerLogs({ now, budget });
    logs.push('stdout', `${tagLine(forged(1, 1), 'flood 0123')}\n`);
    logs.push('stdout', `${tagLine(A, 'working')}\n`);
    const pending = logs.collect(req(A));
    logs.push('stderr', 'FATAL ERROR: heap');
    logs.markExited();
    await expect(pending).resolves.toEqual({ logs: [out('working'), err('FATAL ERROR: heap'), err(LogText.developerError)], truncated: false });
    expect(budget.usedBytes).toBe(LINE);
    logs.dispose();
    expect(budget.usedBytes).toBe(0);
    logs.push('stdout', `${tagLine(B, 'after')}\n`);
    expect(logs.bufferedBytes).toBe(0);
  });

  it('an exited container within its retention is dropped first by the budget when it holds the most', async () => {
    const budget = new LogBudget({ maxBytes: 4 * LINE });
    const gone = new ContainerLogs({ now, budget });
    const live = new ContainerLogs({ now, budget });
    for (let i = 0; i < 3; i++) gone.push('stdout', `${tagLine(forged(1, i), 'flood 0123')}\n`);
    gone.dispose(); // frees at once
    for (let i = 0; i < 3; i++) gone.push('stdout', `${tagLine(forged(1, i), 'flood 0123')}\n`);
    expect(budget.usedBytes).toBe(0);
    const exited = new ContainerLogs({ now, budget });
    for (let i = 0; i < 3; i++) exited.push('stdout', `${tagLine(forged(2, i), 'flood 0123')}\n`);
    exited.markExited();
    runIn(live, A, 'live 01234');
    runIn(live, B, 'live 56789');
    // B did not fit: the exited container, holding the most, lost its oldest activation
    expect(exited.bufferedBytes).toBe(2 * LINE);
    expect(live.bufferedBytes).toBe(2 * LINE);
    expect(budget.usedBytes).toBe(4 * LINE);
    await expect(exited.collect(req(forged(2, 0)))).resolves.toEqual({ logs: [err(LogText.collectionIssue)], truncated: false });
    await expect(live.collect(req(A))).resolves.toEqual({ logs: [out('live 01234')], truncated: false });
    await expect(live.collect(req(B))).resolves.toEqual({ logs: [out('live 56789')], truncated: false });
    exited.dispose();
    expect(budget.usedBytes).toBe(0);
  });
});
