/** The bottom line: the keys, with the current pane marked; the filter being typed. A leaf. */
import { Text } from 'ink';
import type { ReactElement } from 'react';
import { truncate } from '../layout.js';
import { PANES, type Pane } from '../state.js';

export interface FooterProps {
  readonly pane: Pane;
  readonly filter: string;
  readonly editingFilter: boolean;
  readonly width: number;
}

const PANE_LABELS: Record<Pane, string> = { overview: 'all', agents: 'agents', actions: 'actions', activations: 'activations', decisions: 'decisions' };

/** The footer's text (pure), e.g. `pane 1 all (1-5, Tab) · s sort · … · q quit`. */
export function footerText(props: Omit<FooterProps, 'width'>): string {
  if (props.editingFilter) return `filter: ${props.filter}▏  Enter keep · Esc clear`;
  const filter = props.filter === '' ? '' : `filter "${props.filter}" (Esc clears) · `;
  return `${filter}pane ${PANES.indexOf(props.pane) + 1} ${PANE_LABELS[props.pane]} (1-5, Tab) · s sort · r reverse · / filter · ↑↓ select · q quit`;
}

export function Footer(props: FooterProps): ReactElement {
  return (
    <Text wrap="truncate" inverse={props.editingFilter}>
      {truncate(footerText(props), props.width)}
    </Text>
  );
}
