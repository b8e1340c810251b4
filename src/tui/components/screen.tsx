/**
 * The whole screen for one state (pure: no hooks): header, the current pane (or the overview that
 * stacks every pane that fits), footer. It never draws more than `rows - 1` lines: Ink clears the
 * whole terminal before each frame that is as tall as the terminal, which would flicker.
 */
import { Box } from 'ink';
import type { ReactElement } from 'react';
import { splitHeight } from '../layout.js';
import { selectActions, selectActivations, selectAgents, selectDecisions } from '../select.js';
import type { DataPane, TopState } from '../state.js';
import { ActionsPane } from './actions-pane.js';
import { ActivationsPane } from './activations-pane.js';
import { AgentsPane } from './agents-pane.js';
import { DecisionsPane } from './decisions-pane.js';
import { Footer } from './footer.js';
import { Header, headerHeight } from './header.js';

export interface ScreenProps {
  readonly state: TopState;
  readonly apihost: string;
}

/** The order panes are stacked in the overview, most important first (the last ones go first when short). */
const OVERVIEW_ORDER: readonly DataPane[] = ['agents', 'actions', 'activations', 'decisions'];

export function Screen({ state, apihost }: ScreenProps): ReactElement {
  const width = state.columns;
  const bodyHeight = Math.max(0, state.rows - 1 - headerHeight({ lastError: state.lastError, connection: state.connection }) - 1);
  const options = (pane: DataPane) => ({ filter: state.filter, sort: state.sort[pane] });
  const at = state.snapshot?.at ?? 0;
  const known = state.snapshot?.cluster !== undefined;
  const lists = {
    agents: selectAgents(state.snapshot, options('agents')),
    actions: selectActions(state.snapshot, options('actions')),
    activations: selectActivations(state.snapshot, options('activations')),
    decisions: selectDecisions(state.snapshot, options('decisions')),
  };

  const pane = (name: DataPane, height: number, selected: number | undefined): ReactElement => {
    const common = { width, height, selected, sort: state.sort[name] };
    switch (name) {
      case 'agents':
        return <AgentsPane key={name} agents={lists.agents} known={known} {...common} />;
      case 'actions':
        return <ActionsPane key={name} actions={lists.actions} {...common} />;
      case 'activations':
        return <ActivationsPane key={name} rows={lists.activations} at={at} {...common} />;
      case 'decisions':
        return <DecisionsPane key={name} decisions={lists.decisions} known={known} at={at} {...common} />;
    }
  };

  let body: ReactElement[];
  if (state.pane === 'overview') {
    const heights = splitHeight(
      bodyHeight,
      OVERVIEW_ORDER.map((p) => lists[p].length),
    );
    body = OVERVIEW_ORDER.flatMap((p, i) => (heights[i]! > 0 ? [pane(p, heights[i]!, undefined)] : []));
  } else {
    body = [pane(state.pane, bodyHeight, state.selected[state.pane])];
  }

  return (
    <Box flexDirection="column" width={width}>
      <Header apihost={apihost} connection={state.connection} snapshot={state.snapshot} lastError={state.lastError} width={width} />
      <Box flexDirection="column" height={bodyHeight}>
        {body}
      </Box>
      <Footer pane={state.pane} filter={state.filter} editingFilter={state.editingFilter} width={width} />
    </Box>
  );
}
