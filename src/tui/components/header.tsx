/**
 * The top lines: where the view is connected to and whether it is (a lost connection is shown in
 * red with the reason while the hook reconnects), the cluster totals, and the last error, if any.
 * A leaf.
 */
import { Box, Text } from 'ink';
import type { ReactElement } from 'react';
import type { AgentWatch, WatchSnapshot } from '../../watch/snapshot.js';
import { formatMB, truncate } from '../layout.js';
import type { ConnectionState } from '../state.js';

export interface HeaderProps {
  readonly apihost: string;
  readonly connection: ConnectionState;
  readonly snapshot: WatchSnapshot | undefined;
  readonly lastError: string | undefined;
  readonly width: number;
}

/** Lines the header takes for these props: 2, plus one for a lost connection's reason, plus one for an error. */
export function headerHeight(props: Pick<HeaderProps, 'lastError' | 'connection'>): number {
  return 2 + (props.connection.status === 'disconnected' ? 1 : 0) + (props.lastError === undefined ? 0 : 1);
}

export function connectionLabel(connection: ConnectionState): string {
  switch (connection.status) {
    case 'connecting':
      return '… connecting';
    case 'connected':
      return '● connected';
    case 'disconnected':
      return '○ disconnected — reconnecting';
  }
}

/** Totals line: scheduler, queue, memory and containers over all agents, then the controller. */
export function summaryLine(snapshot: WatchSnapshot | undefined): string {
  if (snapshot === undefined) return 'waiting for the first snapshot…';
  const parts = [`scheduler ${snapshot.schedulerConnected ? 'up' : 'DOWN'}`];
  const cluster = snapshot.cluster;
  if (cluster !== undefined) {
    const agents = cluster.agents;
    const sum = (pick: (a: AgentWatch) => number) => agents.reduce((n, a) => n + pick(a), 0);
    const c = (a: AgentWatch) => a.containers;
    parts.push(`queue ${cluster.queue.length}/${cluster.queue.capacity}`);
    parts.push(`mem ${formatMB(sum((a) => a.usedMB))}/${formatMB(sum((a) => a.memoryMB))}`);
    const containers = sum((a) => c(a).busy + c(a).idle + c(a).paused + c(a).prewarm + c(a).starting);
    parts.push(`containers ${containers} (${sum((a) => c(a).busy)} busy)`);
  }
  // last: the controller's id is long and matters least
  parts.push(`ctl ${snapshot.controllerId}`);
  return parts.join(' · ');
}

export function Header(props: HeaderProps): ReactElement {
  const { connection, width } = props;
  const namespace = props.snapshot === undefined ? '' : `  ns ${props.snapshot.namespace}`;
  const left = `brisk top  ${props.apihost}${namespace}  `;
  const colour = connection.status === 'connected' ? 'green' : connection.status === 'connecting' ? 'yellow' : 'red';
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold>{truncate(left, width)}</Text>
        <Text color={colour}>{truncate(connectionLabel(connection), Math.max(0, width - left.length))}</Text>
      </Text>
      <Text wrap="truncate" dimColor={connection.status !== 'connected'}>
        {truncate(summaryLine(props.snapshot), width)}
      </Text>
      {connection.status === 'disconnected' ? (
        <Text wrap="truncate" color="red">
          {truncate(`connection lost: ${connection.reason}`, width)}
        </Text>
      ) : null}
      {props.lastError === undefined ? null : (
        <Text wrap="truncate" color="yellow">
          {truncate(`! ${props.lastError}`, width)}
        </Text>
      )}
    </Box>
  );
}
