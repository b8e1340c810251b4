import { describe, expect, it } from 'vitest';
import { parseDurationMs, parseMemoryMB, parseNonNegativeInt, parseTimeMs } from '../../../src/cli/flags.js';

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
