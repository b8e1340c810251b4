/**
 * In-flight activations, then recent ones: action, status and where the time went (wait for a
 * container, create or resume it, init, run). A leaf.
 */
import type { ReactElement } from 'react';
import { formatMs, type ColumnSpec } from '../layout.js';
import type { ActivationRow } from '../select.js';
import type { SortState } from '../state.js';
import { Table, type TableRow, type Tone } from './table.js';
import { sortLabel } from './sort-label.js';

export interface ActivationsPaneProps {
  readonly rows: readonly ActivationRow[];
  /** the snapshot's time: a running activation's duration is its age at that time */
  readonly at: number;
  readonly sort: SortState;
  readonly width: number;
  readonly height: number;
  readonly selected?: number | undefined;
}

const COLUMNS: readonly ColumnSpec[] = [
  { header: 'ID', min: 8, ideal: 32, priority: 3 },
  { header: 'ACTION', min: 10, ideal: 20, grow: true },
  { header: 'STATUS', min: 9, ideal: 10 },
  { header: 'TOTAL', min: 6, align: 'right' },
  { header: 'WAIT', min: 6, align: 'right' },
  { header: 'CREATE', min: 6, align: 'right', priority: 1 },
  { header: 'RESUME', min: 6, align: 'right', priority: 1 },
  { header: 'INIT', min: 6, align: 'right', priority: 1 },
  { header: 'RUN', min: 6, align: 'right' },
];

/** Short names for the record statuses, so they fit a narrow column. */
const STATUS_LABELS: Record<string, string> = {
  'application error': 'app error',
  'action developer error': 'dev error',
  'whisk internal error': 'internal',
};

function toneOf(status: string): Tone {
  if (status === 'running') return 'warn';
  if (status === 'success') return 'normal';
  return 'bad';
}

export function activationRow(row: ActivationRow, at: number): TableRow {
  const a = row.activation;
  const p = a.phases;
  const total = a.durationMs ?? Math.max(0, at - a.startedAt);
  return {
    key: `${row.inFlight ? 'f' : 'r'}:${a.activationId}`,
    cells: [a.activationId, a.action, STATUS_LABELS[a.status] ?? a.status, formatMs(total), formatMs(p.waitMs), formatMs(p.createMs), formatMs(p.resumeMs), formatMs(p.initMs), formatMs(p.runMs)],
    tone: toneOf(a.status),
  };
}

export function ActivationsPane(props: ActivationsPaneProps): ReactElement {
  const running = props.rows.filter((r) => r.inFlight).length;
  return (
    <Table
      title={`ACTIVATIONS ${running} in flight · ${props.rows.length - running} recent · ${sortLabel(props.sort)}`}
      columns={COLUMNS}
      rows={props.rows.map((r) => activationRow(r, props.at))}
      width={props.width}
      height={props.height}
      selected={props.selected}
      empty="no activations yet"
    />
  );
}
