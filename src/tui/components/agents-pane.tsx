/** The agents (hosts): containers by state and memory used of capacity, with a bar. A leaf. */
import type { ReactElement } from 'react';
import type { AgentWatch } from '../../watch/snapshot.js';
import { bar, formatMB, type ColumnSpec } from '../layout.js';
import type { SortState } from '../state.js';
import { Table, type TableRow } from './table.js';
import { sortLabel } from './sort-label.js';

export interface AgentsPaneProps {
  readonly agents: readonly AgentWatch[];
  /** false before the first snapshot or while the controller has no scheduler data */
  readonly known: boolean;
  readonly sort: SortState;
  readonly width: number;
  readonly height: number;
  readonly selected?: number | undefined;
}

/** Cells of the memory bar. */
export const MEMORY_BAR_WIDTH = 10;

const COLUMNS: readonly ColumnSpec[] = [
  { header: 'AGENT', min: 8, ideal: 16, grow: true },
  { header: 'BACKEND', min: 7, priority: 3 },
  { header: 'BUSY', align: 'right' },
  { header: 'IDLE', align: 'right' },
  { header: 'PAUSED', align: 'right', priority: 1 },
  { header: 'PREWARM', align: 'right', priority: 1 },
  { header: 'STARTING', align: 'right', priority: 2 },
  { header: 'MEMORY', min: MEMORY_BAR_WIDTH + 10, ideal: MEMORY_BAR_WIDTH + 12 },
];

export function agentRow(agent: AgentWatch): TableRow {
  const c = agent.containers;
  return {
    key: agent.agentId,
    cells: [
      agent.connected ? agent.agentId : `${agent.agentId} (down)`,
      agent.backend,
      String(c.busy),
      String(c.idle),
      String(c.paused),
      String(c.prewarm),
      String(c.starting),
      `${bar(agent.usedMB, agent.memoryMB, MEMORY_BAR_WIDTH)} ${formatMB(agent.usedMB)}/${formatMB(agent.memoryMB)}`,
    ],
    tone: agent.connected ? 'normal' : 'bad',
  };
}

export function AgentsPane(props: AgentsPaneProps): ReactElement {
  const containers = props.agents.reduce((n, a) => n + a.containers.busy + a.containers.idle + a.containers.paused + a.containers.prewarm + a.containers.starting, 0);
  return (
    <Table
      title={`AGENTS ${props.agents.length} · ${containers} containers · ${sortLabel(props.sort)}`}
      columns={COLUMNS}
      rows={props.agents.map(agentRow)}
      width={props.width}
      height={props.height}
      selected={props.selected}
      empty={props.known ? 'no agents match' : 'no scheduler data yet'}
    />
  );
}
