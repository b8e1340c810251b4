/** Recent scheduler decisions and rejections, each with its reason. A leaf. */
import type { ReactElement } from 'react';
import type { DecisionWatch } from '../../watch/snapshot.js';
import { formatMs, type ColumnSpec } from '../layout.js';
import type { SortState } from '../state.js';
import { Table, type TableRow, type Tone } from './table.js';
import { sortLabel } from './sort-label.js';

export interface DecisionsPaneProps {
  readonly decisions: readonly DecisionWatch[];
  /** false before the first snapshot or while the controller has no scheduler data */
  readonly known: boolean;
  /** the snapshot's time: ages are counted from it */
  readonly at: number;
  readonly sort: SortState;
  readonly width: number;
  readonly height: number;
  readonly selected?: number | undefined;
}

const COLUMNS: readonly ColumnSpec[] = [
  { header: 'AGO', min: 6, align: 'right', priority: 2 },
  { header: 'KIND', min: 8, ideal: 16 },
  { header: 'ACTION', min: 10, ideal: 20, priority: 1 },
  { header: 'AGENT', min: 6, ideal: 10, priority: 3 },
  { header: 'REASON', min: 12, grow: true },
];

/** Rejections are what an operator looks for first: red; queued requests: yellow. */
function toneOf(kind: string): Tone {
  if (kind === 'reject') return 'bad';
  if (kind === 'queue') return 'warn';
  return 'normal';
}

export function decisionRow(d: DecisionWatch, at: number, index: number): TableRow {
  return {
    key: `${d.at}:${index}`,
    cells: [formatMs(Math.max(0, at - d.at)), d.kind, d.action ?? '-', d.agentId ?? '-', d.reason],
    tone: toneOf(d.kind),
  };
}

export function DecisionsPane(props: DecisionsPaneProps): ReactElement {
  const rejected = props.decisions.filter((d) => d.kind === 'reject').length;
  return (
    <Table
      title={`SCHEDULER DECISIONS ${props.decisions.length} · ${rejected} rejected · ${sortLabel(props.sort)}`}
      columns={COLUMNS}
      rows={props.decisions.map((d, i) => decisionRow(d, props.at, i))}
      width={props.width}
      height={props.height}
      selected={props.selected}
      empty={props.known ? 'no decisions match' : 'no scheduler data yet'}
    />
  );
}
