/** Per action: warm containers, in-flight, queued, requests/s, p50/p99 latency, cold starts. A leaf. */
import type { ReactElement } from 'react';
import type { ActionWatch } from '../../watch/snapshot.js';
import { formatMs, formatRate, type ColumnSpec } from '../layout.js';
import type { SortState } from '../state.js';
import { Table, type TableRow } from './table.js';
import { sortLabel } from './sort-label.js';

export interface ActionsPaneProps {
  readonly actions: readonly ActionWatch[];
  readonly sort: SortState;
  readonly width: number;
  readonly height: number;
  readonly selected?: number | undefined;
}

const COLUMNS: readonly ColumnSpec[] = [
  { header: 'ACTION', min: 10, ideal: 24, grow: true },
  { header: 'WARM', align: 'right' },
  { header: 'INFLIGHT', align: 'right' },
  { header: 'QUEUED', align: 'right' },
  { header: 'REQ/S', min: 6, align: 'right' },
  { header: 'P50', min: 6, align: 'right', priority: 1 },
  { header: 'P99', min: 6, align: 'right' },
  { header: 'COLD', align: 'right', priority: 1 },
];

export function actionRow(a: ActionWatch): TableRow {
  return {
    key: a.action,
    cells: [a.action, String(a.warm), String(a.inFlight), String(a.queued), formatRate(a.requestsPerSecond), formatMs(a.p50Ms), formatMs(a.p99Ms), String(a.coldStarts)],
    tone: a.queued > 0 ? 'warn' : 'normal',
  };
}

export function ActionsPane(props: ActionsPaneProps): ReactElement {
  return (
    <Table
      title={`ACTIONS ${props.actions.length} · ${sortLabel(props.sort)}`}
      columns={COLUMNS}
      rows={props.actions.map(actionRow)}
      width={props.width}
      height={props.height}
      selected={props.selected}
      empty="no actions invoked through this controller yet"
    />
  );
}
