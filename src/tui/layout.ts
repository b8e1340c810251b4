/**
 * Fitting text into the terminal (pure). The live view draws every table as fixed-width lines, so
 * what an operator sees at 80×24 is decided here, not by the renderer's wrapping: columns get their
 * minimum widths in priority order, columns that do not fit are dropped, spare width goes to the
 * growing columns, and every cell is cut with an ellipsis.
 *
 * Widths count UTF-16 code units: names, ids and numbers on the watch stream are ASCII; a wide
 * character in a name may make its line one cell longer, never a crash.
 */

/** The smallest terminal the view is designed for; smaller ones get the same layout, clipped. */
export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;

export const ELLIPSIS = '…';

/** Cuts `text` to at most `width` characters, ending in `…` when it was cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  if (width === 1) return ELLIPSIS;
  return `${text.slice(0, width - 1)}${ELLIPSIS}`;
}

/** `text` cut or padded to exactly `width` characters. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width);
  return align === 'left' ? cut.padEnd(width) : cut.padStart(width);
}

export interface ColumnSpec {
  /** header text */
  header: string;
  /** the column's narrowest width; cells are cut to it when space is short (default: header length) */
  min?: number;
  /** the width it takes when there is room (default: `min`) */
  ideal?: number;
  /** takes the width left over once every column has its ideal width (default false) */
  grow?: boolean;
  /** numbers align right (default left) */
  align?: 'left' | 'right';
  /** lower is kept longer when the width is short; equal priorities keep the earlier column (default 0) */
  priority?: number;
}

/** One column as laid out: its index in the spec list and its width. */
export interface FittedColumn {
  index: number;
  width: number;
  align: 'left' | 'right';
}

/** Blank characters between two columns. */
export const GAP = 1;

/**
 * Lays out columns into `width` characters (with one blank between columns):
 * 1. keeps the columns whose minimum widths fit, most important first (priority, then order);
 * 2. widens the kept columns towards their ideal widths, most important first;
 * 3. gives what is left to the growing columns (shared evenly, the first ones get the remainder).
 * The first column is always kept, cut to the width if need be. Result in the spec's order.
 */
export function fitColumns(columns: readonly ColumnSpec[], width: number): FittedColumn[] {
  if (columns.length === 0 || width <= 0) return [];
  const minOf = (c: ColumnSpec) => Math.max(1, c.min ?? c.header.length);
  const idealOf = (c: ColumnSpec) => Math.max(minOf(c), c.ideal ?? minOf(c));
  const byImportance = columns.map((c, index) => ({ c, index })).sort((a, b) => (a.c.priority ?? 0) - (b.c.priority ?? 0) || a.index - b.index);
  const kept = new Set<number>();
  let used = 0;
  for (const { c, index } of byImportance) {
    const need = minOf(c) + (kept.size === 0 ? 0 : GAP);
    if (kept.size === 0 || used + need <= width) {
      kept.add(index);
      used += need;
    }
  }
  const order = [...kept].sort((a, b) => a - b);
  const widths = new Map(order.map((i) => [i, minOf(columns[i]!)]));
  if (used > width) {
    // only the first kept column, wider than the screen
    widths.set(order[0]!, width);
    used = width;
  }
  for (const i of byImportance.map((b) => b.index).filter((i) => kept.has(i))) {
    const extra = Math.min(idealOf(columns[i]!) - widths.get(i)!, width - used);
    if (extra > 0) {
      widths.set(i, widths.get(i)! + extra);
      used += extra;
    }
  }
  const growing = order.filter((i) => columns[i]!.grow === true);
  let spare = width - used;
  for (let k = 0; k < growing.length && spare > 0; k++) {
    const share = Math.ceil(spare / (growing.length - k));
    widths.set(growing[k]!, widths.get(growing[k]!)! + share);
    spare -= share;
  }
  return order.map((index) => ({ index, width: widths.get(index)!, align: columns[index]!.align ?? 'left' }));
}

/** One line of cells laid out by `fitColumns` (cells of dropped columns are left out). Trailing blanks are trimmed. */
export function formatLine(cells: readonly string[], fitted: readonly FittedColumn[]): string {
  return fitted
    .map((f) => fit(cells[f.index] ?? '', f.width, f.align))
    .join(' '.repeat(GAP))
    .trimEnd();
}

/**
 * The rows of a list that fit in `height` lines while keeping `selected` in view (pure):
 * a window that scrolls as the selection moves past its end. `selected` is clamped first.
 */
export function visibleWindow(count: number, selected: number, height: number): { start: number; end: number } {
  if (height <= 0 || count === 0) return { start: 0, end: 0 };
  if (count <= height) return { start: 0, end: count };
  const sel = Math.min(Math.max(selected, 0), count - 1);
  const start = Math.min(Math.max(0, sel - height + 1), count - height);
  return { start, end: start + height };
}

/**
 * How many lines each section of a stacked screen gets (pure). Each section takes `overhead` lines
 * (title, header) plus its rows; a section with no rows still shows one line ("none"). Rows are
 * handed out one at a time round-robin to sections that still want more, so a long list cannot
 * starve a short one. Sections that do not fit at their smallest (overhead + 1) get 0.
 */
export function splitHeight(height: number, wants: readonly number[], overhead = 2): number[] {
  const result = wants.map(() => 0);
  let left = height;
  for (let i = 0; i < wants.length; i++) {
    if (left >= overhead + 1) {
      result[i] = overhead + 1;
      left -= overhead + 1;
    }
  }
  let progress = true;
  while (left > 0 && progress) {
    progress = false;
    for (let i = 0; i < wants.length && left > 0; i++) {
      if (result[i]! > 0 && result[i]! - overhead < wants[i]!) {
        result[i]!++;
        left--;
        progress = true;
      }
    }
  }
  return result;
}

/** A horizontal bar of `width` cells, `used` of `total` filled (`█` filled, `░` empty). */
export function bar(used: number, total: number, width: number): string {
  if (width <= 0) return '';
  const ratio = total > 0 ? Math.min(1, Math.max(0, used / total)) : 0;
  const filled = Math.round(ratio * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** A duration for a narrow column: `850ms`, `1.2s`, `12s`, `3m05s`; `-` when absent. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  if (ms < 60_000) return `${Math.floor(ms / 1_000)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1_000);
  return `${minutes}m${String(seconds).padStart(2, '0')}s`;
}

/** A rate: `0`, `0.5`, `12.3`, `456`. */
export function formatRate(perSecond: number): string {
  if (perSecond === 0) return '0';
  if (perSecond < 100) return (Math.round(perSecond * 10) / 10).toFixed(1);
  return String(Math.round(perSecond));
}

/** Megabytes for a narrow column: `512M`, `2.0G`, `16G`. */
export function formatMB(mb: number): string {
  if (mb < 1024) return `${mb}M`;
  const gb = mb / 1024;
  return gb < 10 ? `${(Math.floor(gb * 10) / 10).toFixed(1)}G` : `${Math.floor(gb)}G`;
}
