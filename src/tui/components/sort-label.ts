import type { SortState } from '../state.js';

/** `sort rps` or `sort rps (reversed)`: how a pane's title names its order. */
export function sortLabel(sort: SortState): string {
  return `sort ${sort.key}${sort.reversed ? ' (reversed)' : ''}`;
}
