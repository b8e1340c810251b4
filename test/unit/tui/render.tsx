/** The one render helper of the live view's component tests: a screen of exactly `columns` × `rows`. */
import { Box } from 'ink';
import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';
import { Screen } from '../../../src/tui/components/screen.js';
import { initialState, reduce, type TopEvent, type TopState } from '../../../src/tui/state.js';

export const APIHOST = 'http://127.0.0.1:3233';

/** The state after `events`, on a terminal of `columns` × `rows`. */
export function stateAfter(size: { columns: number; rows: number }, ...events: TopEvent[]): TopState {
  return events.reduce(reduce, initialState(size));
}

/** Renders a component at a fixed width and returns the frame's lines (no trailing blanks). */
export function renderLines(node: ReactElement, width: number): string[] {
  const { lastFrame, unmount } = render(<Box width={width}>{node}</Box>);
  const frame = lastFrame() ?? '';
  unmount();
  return frame.split('\n').map((line) => line.trimEnd());
}

export function renderScreen(state: TopState): string[] {
  return renderLines(<Screen state={state} apihost={APIHOST} />, state.columns);
}
