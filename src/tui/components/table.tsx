/**
 * The one table of the live view (a leaf): a title line, a header line and as many rows as fit in
 * `height` lines, each cut to `width` by the layout module. The selected row is drawn inverse and
 * kept in view; when rows are hidden the title says which ones are shown.
 */
import { Box, Text } from 'ink';
import type { ReactElement } from 'react';
import { fitColumns, formatLine, truncate, visibleWindow, type ColumnSpec } from '../layout.js';

export type Tone = 'normal' | 'dim' | 'good' | 'warn' | 'bad';

export interface TableRow {
  readonly key: string;
  readonly cells: readonly string[];
  readonly tone?: Tone;
}

export interface TableProps {
  readonly title: string;
  readonly columns: readonly ColumnSpec[];
  readonly rows: readonly TableRow[];
  readonly width: number;
  /** lines including title and header; fewer than 3 draws the title only */
  readonly height: number;
  /** index into `rows`; undefined: no selection (the overview) */
  readonly selected?: number | undefined;
  /** shown instead of rows when there are none */
  readonly empty: string;
}

const COLOURS: Record<Tone, string | undefined> = { normal: undefined, dim: undefined, good: 'green', warn: 'yellow', bad: 'red' };

export function Table(props: TableProps): ReactElement {
  const { rows, width } = props;
  const bodyHeight = Math.max(0, props.height - 2);
  const selected = props.selected === undefined ? undefined : Math.min(props.selected, Math.max(0, rows.length - 1));
  const window = visibleWindow(rows.length, selected ?? 0, bodyHeight);
  const shown = window.end - window.start < rows.length ? `  ${window.start + 1}–${window.end} of ${rows.length}` : '';
  const fitted = fitColumns(props.columns, width);
  const header = formatLine(
    props.columns.map((c) => c.header),
    fitted,
  );
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate">
        {truncate(`${props.title}${shown}`, width)}
      </Text>
      {props.height >= 3 ? (
        <Text dimColor wrap="truncate">
          {header}
        </Text>
      ) : null}
      {props.height >= 3 && rows.length === 0 ? (
        <Text dimColor wrap="truncate">
          {truncate(props.empty, width)}
        </Text>
      ) : null}
      {rows.slice(window.start, window.end).map((row, i) => {
        const tone = row.tone ?? 'normal';
        const line = formatLine(row.cells, fitted);
        const isSelected = selected === window.start + i;
        return (
          <Text key={row.key} wrap="truncate" inverse={isSelected} dimColor={tone === 'dim'} {...(COLOURS[tone] === undefined ? {} : { color: COLOURS[tone] })}>
            {isSelected ? line.padEnd(width) : line}
          </Text>
        );
      })}
    </Box>
  );
}
