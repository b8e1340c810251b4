import { describe, expect, it } from 'vitest';
import { bar, fit, fitColumns, formatLine, formatMB, formatMs, formatRate, splitHeight, truncate, visibleWindow, type ColumnSpec } from '../../../src/tui/layout.js';

describe('truncate and fit', () => {
  it('cuts with an ellipsis only when needed', () => {
    expect(truncate('guest/hello', 20)).toBe('guest/hello');
    expect(truncate('guest/hello', 11)).toBe('guest/hello');
    expect(truncate('guest/hello', 8)).toBe('guest/h…');
    expect(truncate('guest/hello', 1)).toBe('…');
    expect(truncate('guest/hello', 0)).toBe('');
  });

  it('pads to the exact width, left or right', () => {
    expect(fit('ab', 5)).toBe('ab   ');
    expect(fit('12', 5, 'right')).toBe('   12');
    expect(fit('abcdefg', 5, 'right')).toBe('abcd…');
  });
});

describe('fitColumns', () => {
  const columns: ColumnSpec[] = [
    { header: 'NAME', min: 6, ideal: 10, grow: true },
    { header: 'ID', min: 4, ideal: 8, priority: 2 },
    { header: 'COUNT', align: 'right' },
  ];

  it('gives ideal widths, then the rest to growing columns', () => {
    expect(fitColumns(columns, 40)).toEqual([
      { index: 0, width: 10 + 15, align: 'left' },
      { index: 1, width: 8, align: 'left' },
      { index: 2, width: 5, align: 'right' },
    ]);
  });

  it('widens the most important columns first when space is short', () => {
    // minimums 6+4+5 and two gaps = 17; 4 spare go to NAME (priority 0) before ID (priority 2)
    expect(fitColumns(columns, 21).map((c) => c.width)).toEqual([10, 4, 5]);
  });

  it('drops the least important column that does not fit', () => {
    expect(fitColumns(columns, 13)).toEqual([
      { index: 0, width: 7, align: 'left' },
      { index: 2, width: 5, align: 'right' },
    ]);
  });

  it('keeps the first column, cut, on a screen narrower than it', () => {
    expect(fitColumns(columns, 3)).toEqual([{ index: 0, width: 3, align: 'left' }]);
  });

  it('lays out a line of cells and trims its end', () => {
    const fitted = fitColumns(columns, 21);
    expect(formatLine(['guest/a-very-long-name', 'abcdef', '7'], fitted)).toBe('guest/a-v… abc…     7');
    expect(formatLine(['x', '', ''], fitted)).toBe('x');
  });
});

describe('visibleWindow', () => {
  it('shows everything that fits', () => {
    expect(visibleWindow(3, 2, 5)).toEqual({ start: 0, end: 3 });
  });
  it('scrolls to keep the selection in view', () => {
    expect(visibleWindow(10, 0, 4)).toEqual({ start: 0, end: 4 });
    expect(visibleWindow(10, 5, 4)).toEqual({ start: 2, end: 6 });
    expect(visibleWindow(10, 99, 4)).toEqual({ start: 6, end: 10 });
  });
  it('shows nothing with no room', () => {
    expect(visibleWindow(10, 0, 0)).toEqual({ start: 0, end: 0 });
  });
});

describe('splitHeight', () => {
  it('gives every section its smallest size, then rows round-robin', () => {
    expect(splitHeight(20, [2, 3, 10, 5])).toEqual([4, 5, 6, 5]);
  });
  it('stops giving rows to a section that has them all', () => {
    expect(splitHeight(30, [0, 1, 2, 3])).toEqual([3, 3, 4, 5]);
  });
  it('leaves out the sections that do not fit', () => {
    expect(splitHeight(7, [1, 1, 1])).toEqual([3, 3, 0]);
  });
});

describe('formatting', () => {
  it('formats durations for narrow columns', () => {
    expect([undefined, 0.4, 850, 1_249, 9_999, 12_500, 185_000].map(formatMs)).toEqual(['-', '0ms', '850ms', '1.2s', '9.9s', '12s', '3m05s']);
  });
  it('formats rates and sizes', () => {
    expect([0, 0.04, 12.34, 99.96, 456.4].map(formatRate)).toEqual(['0', '0.0', '12.3', '100.0', '456']);
    expect([256, 1024, 1536, 10_240, 16_384].map(formatMB)).toEqual(['256M', '1.0G', '1.5G', '10G', '16G']);
  });
  it('draws a bar of used over total', () => {
    expect(bar(512, 2048, 8)).toBe('██░░░░░░');
    expect(bar(3000, 2048, 4)).toBe('████');
    expect(bar(1, 0, 3)).toBe('░░░');
  });
});
