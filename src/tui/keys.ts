/** Ink's key events → the reducer's KeyPress (pure). */
import type { Key } from 'ink';
import type { KeyPress } from './state.js';

export function toKeyPress(input: string, key: Partial<Key>): KeyPress {
  const ctrl = key.ctrl === true ? { ctrl: true } : {};
  if (key.upArrow) return { input, name: 'up', ...ctrl };
  if (key.downArrow) return { input, name: 'down', ...ctrl };
  if (key.pageUp) return { input, name: 'pageUp', ...ctrl };
  if (key.pageDown) return { input, name: 'pageDown', ...ctrl };
  if (key.tab) return { input, name: key.shift === true ? 'backTab' : 'tab', ...ctrl };
  if (key.return) return { input, name: 'return', ...ctrl };
  if (key.escape) return { input, name: 'escape', ...ctrl };
  // most terminals send DEL (0x7f) for the Backspace key, which Ink reports as `delete`
  if (key.backspace || key.delete) return { input, name: 'backspace', ...ctrl };
  return { input, ...ctrl };
}
