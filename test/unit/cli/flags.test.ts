import { describe, expect, it } from 'vitest';
import { controllerPoolOptions, namespaceLimits, stemCellsOf } from '../../../src/cli/daemon-flags.js';
import { parseDurationMs, parseMemoryMB, parseNonNegativeInt, parseStemCell, parseTimeMs } from '../../../src/cli/flags.js';

describe('parseMemoryMB', () => {
  it.each([
    ['256', 256],
    ['256M', 256],
    ['256MB', 256],
    ['256mib', 256],
    [' 128 MB ', 128],
    ['1G', 1024],
    ['2GB', 2048],
    ['1.5GiB', 1536],
  ])('%s → %d', (input, expected) => {
    expect(parseMemoryMB(input)).toBe(expected);
  });

  it.each(['', 'abc', '256KB', '-1', '0', '1.5', '12TB'])('rejects %j', (input) => {
    expect(() => parseMemoryMB(input)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['3000', 3000],
    ['3000ms', 3000],
    ['3s', 3000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['0', 0],
  ])('%s → %d', (input, expected) => {
    expect(parseDurationMs(input)).toBe(expected);
  });

  it.each(['', 'soon', '3 days', '1.5ms', '-5s'])('rejects %j', (input) => {
    expect(() => parseDurationMs(input)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

describe('parseTimeMs', () => {
  it('reads epoch milliseconds and ISO dates', () => {
    expect(parseTimeMs('1700000000000')).toBe(1_700_000_000_000);
    expect(parseTimeMs('2024-05-01T10:00:00Z')).toBe(Date.UTC(2024, 4, 1, 10, 0, 0));
  });
  it('rejects anything else', () => {
    expect(() => parseTimeMs('yesterday-ish')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

describe('parseNonNegativeInt', () => {
  it('reads whole numbers and rejects the rest', () => {
    expect(parseNonNegativeInt('0')).toBe(0);
    expect(parseNonNegativeInt('42')).toBe(42);
    expect(() => parseNonNegativeInt('-1')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => parseNonNegativeInt('1.5')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

describe('parseStemCell', () => {
  it('reads KIND,MEMORY[,COUNT], resolving nodejs:default', () => {
    expect(parseStemCell('nodejs:20,256')).toEqual({ kind: 'nodejs:20', memoryMB: 256, count: 1 });
    expect(parseStemCell('nodejs:default, 512MB, 2')).toEqual({ kind: 'nodejs:20', memoryMB: 512, count: 2 });
    expect(parseStemCell('none')).toBeNull();
  });

  it('refuses what it cannot read, saying the form', () => {
    for (const bad of ['nodejs:20', 'python:3,256', 'nodejs:20,lots', 'nodejs:20,256,0', 'nodejs:20,256,101', 'nodejs:20,256,1,extra']) {
      expect(() => parseStemCell(bad)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
    expect(() => parseStemCell('python:3,256')).toThrow(/KIND,MEMORY\[,COUNT\]/);
  });
});

describe('daemon flag values', () => {
  const fallback = [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }];
  it('stem cells: the given ones, none for none, else the default', () => {
    expect(stemCellsOf(undefined, fallback)).toEqual(fallback);
    expect(stemCellsOf([], fallback)).toEqual(fallback);
    expect(stemCellsOf([null], fallback)).toEqual([]);
    expect(stemCellsOf([{ kind: 'nodejs:18', memoryMB: 128, count: 3 }], fallback)).toEqual([{ kind: 'nodejs:18', memoryMB: 128, count: 3 }]);
  });

  it('controller pool and namespace limits: only the flags given', () => {
    expect(controllerPoolOptions({})).toEqual({});
    expect(controllerPoolOptions({ 'pause-grace': 50, 'idle-timeout': 60_000, 'overflow-limit': 10 })).toEqual({ pauseGraceMs: 50, idleTimeoutMs: 60_000, overflowLimit: 10 });
    expect(namespaceLimits({ 'concurrent-invocations': 5 })).toEqual({ concurrentInvocations: 5 });
  });
});
