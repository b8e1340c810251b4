import { describe, expect, it } from 'vitest';
import { formatActionList, formatActivationList, invokedLine, renderTable, statusText, styleFor } from '../../../src/cli/format.js';

describe('renderTable', () => {
  it('aligns columns under their headers', () => {
    expect(renderTable(['NAME', 'KIND'], [['hello', 'nodejs:20'], ['a', 'b']])).toBe(['NAME   KIND', 'hello  nodejs:20', 'a      b'].join('\n'));
  });

  it('never exceeds the width: the widest column is cut first', () => {
    const rows = [['x'.repeat(60), 'short', 'y'.repeat(30)]];
    const table = renderTable(['A', 'B', 'C'], rows, { width: 50 });
    for (const line of table.split('\n')) expect(line.length).toBeLessThanOrEqual(50);
    expect(table.split('\n')[1]).toContain('short');
    expect(table.split('\n')[1]).toContain('…');
  });

  it('never cuts kept columns', () => {
    const table = renderTable(['ID', 'NOTE'], [['i'.repeat(32), 'n'.repeat(40)]], { width: 45, keep: [0] });
    expect(table.split('\n')[1]).toBe(`${'i'.repeat(32)}  ${'n'.repeat(10)}…`);
  });
});

describe('formatters', () => {
  it('lists actions with their kind and limits', () => {
    const text = formatActionList([
      { namespace: 'guest', name: 'hello', version: '0.0.1', exec: { kind: 'nodejs:20' }, limits: { timeout: 60000, memory: 256 }, annotations: [], updated: Date.UTC(2024, 0, 2, 3, 4, 5) },
    ]);
    expect(text.split('\n')).toEqual([
      'NAME          KIND       VERSION  MEMORY  TIMEOUT   UPDATED',
      '/guest/hello  nodejs:20  0.0.1    256 MB  60000 ms  2024-01-02 03:04:05',
    ]);
    expect(formatActionList([])).toBe('no actions');
  });

  it('lists activations with status text and cold/warm start', () => {
    const text = formatActivationList([
      { namespace: 'guest', name: 'hello', version: '0.0.1', activationId: 'a'.repeat(32), start: Date.UTC(2024, 0, 2), duration: 12, statusCode: 1, annotations: [{ key: 'kind', value: 'nodejs:20' }, { key: 'initTime', value: 30 }] },
    ]);
    expect(text.split('\n')[1]).toBe(`2024-01-02 00:00:00  ${'a'.repeat(32)}  nodejs:20  cold   12 ms     application error  guest/hello:0.0.1`);
  });

  it('status text, invoke line and colour only on a TTY', () => {
    expect(statusText(0)).toBe('success');
    expect(statusText(2)).toBe('action developer error');
    expect(statusText(undefined)).toBe('running');
    expect(invokedLine('hello', 'abc')).toBe('ok: invoked /_/hello with id abc');
    expect(invokedLine('/guest/hello', 'abc')).toBe('ok: invoked /guest/hello with id abc');
    expect(styleFor({ isTTY: false }, {}).paint('red', 'x')).toBe('x');
    expect(styleFor({ isTTY: true }, { NO_COLOR: '1' }).paint('red', 'x')).toBe('x');
  });
});
