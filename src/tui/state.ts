/**
 * The live view's screen state as a pure reducer: `reduce(state, event) → state`. Everything the
 * screen shows is a function of this state; the hooks only turn the world (socket, keyboard,
 * terminal size) into events. Tested without rendering.
 *
 * Keys (see FOOTER_KEYS): `1`–`5` or Tab / Shift-Tab switch panes; `s` cycles the pane's sort key,
 * `r` reverses it; `/` starts a filter (typed text, Backspace, Enter keeps it, Esc clears it);
 * ↑/↓ (or `k`/`j`) move the selected row; `q` or Ctrl-C quits (Ctrl-C even while typing a filter).
 */
import type { WatchSnapshot } from '../watch/snapshot.js';
import { MIN_COLUMNS, MIN_ROWS } from './layout.js';

export type DataPane = 'agents' | 'actions' | 'activations' | 'decisions';
/** `overview` stacks several data panes, as many as the terminal height allows. */
export type Pane = 'overview' | DataPane;

export const PANES: readonly Pane[] = ['overview', 'agents', 'actions', 'activations', 'decisions'];
export const DATA_PANES: readonly DataPane[] = ['agents', 'actions', 'activations', 'decisions'];

/** The sort keys of each pane, in the order `s` cycles them; the first is the default. */
export const SORT_KEYS = {
  agents: ['agent', 'memory', 'busy'],
  actions: ['rps', 'action', 'inflight', 'p99', 'cold'],
  activations: ['started', 'duration', 'action', 'status'],
  decisions: ['time', 'kind', 'action'],
} as const satisfies Record<DataPane, readonly string[]>;

export type SortKey<P extends DataPane = DataPane> = (typeof SORT_KEYS)[P][number];

export interface SortState {
  key: string;
  /** true: the key's natural order reversed (natural: names A→Z, numbers and times largest first) */
  reversed: boolean;
}

export type ConnectionState =
  | { readonly status: 'connecting' }
  | { readonly status: 'connected' }
  | { readonly status: 'disconnected'; readonly reason: string };

export interface TopState {
  /** the newest valid snapshot; kept while disconnected so the last picture stays on screen */
  readonly snapshot: WatchSnapshot | undefined;
  readonly connection: ConnectionState;
  readonly pane: Pane;
  readonly sort: Readonly<Record<DataPane, SortState>>;
  /** case-insensitive substring applied to every pane's rows */
  readonly filter: string;
  /** true while the operator types a filter after `/` */
  readonly editingFilter: boolean;
  /** selected row per data pane (clamped to the rows when drawn) */
  readonly selected: Readonly<Record<DataPane, number>>;
  readonly columns: number;
  readonly rows: number;
  /** the last thing that went wrong that is not a disconnection, e.g. an invalid message */
  readonly lastError: string | undefined;
  /** set by `q` / Ctrl-C; the app exits when it sees it */
  readonly quit: boolean;
}

/** A key press, normalised from Ink's `useInput` (input text plus the special key, if any). */
export interface KeyPress {
  input: string;
  name?: 'up' | 'down' | 'pageUp' | 'pageDown' | 'tab' | 'backTab' | 'return' | 'escape' | 'backspace';
  ctrl?: boolean;
}

export type TopEvent =
  | { readonly type: 'snapshot'; readonly snapshot: WatchSnapshot }
  | { readonly type: 'connected' }
  | { readonly type: 'disconnected'; readonly reason: string }
  /** a message that failed validation: shown, not crashed on; the connection stays */
  | { readonly type: 'invalid'; readonly message: string }
  | { readonly type: 'key'; readonly key: KeyPress }
  | { readonly type: 'resize'; readonly columns: number; readonly rows: number };

/** The initial state; `columns`/`rows` default to 80×24. */
export function initialState(options: { columns?: number; rows?: number } = {}): TopState {
  return {
    snapshot: undefined,
    connection: { status: 'connecting' },
    pane: 'overview',
    sort: {
      agents: { key: SORT_KEYS.agents[0], reversed: false },
      actions: { key: SORT_KEYS.actions[0], reversed: false },
      activations: { key: SORT_KEYS.activations[0], reversed: false },
      decisions: { key: SORT_KEYS.decisions[0], reversed: false },
    },
    filter: '',
    editingFilter: false,
    selected: { agents: 0, actions: 0, activations: 0, decisions: 0 },
    columns: options.columns ?? MIN_COLUMNS,
    rows: options.rows ?? MIN_ROWS,
    lastError: undefined,
    quit: false,
  };
}

/** Longest filter kept; typing past it is ignored (the footer could not show it anyway). */
export const MAX_FILTER_LENGTH = 64;
/** Rows moved by PageUp / PageDown. */
const PAGE = 10;

export function reduce(state: TopState, event: TopEvent): TopState {
  switch (event.type) {
    case 'snapshot':
      return { ...state, snapshot: event.snapshot, connection: { status: 'connected' } };
    case 'connected':
      return { ...state, connection: { status: 'connected' }, lastError: undefined };
    case 'disconnected':
      return { ...state, connection: { status: 'disconnected', reason: event.reason } };
    case 'invalid':
      return { ...state, lastError: event.message };
    case 'resize':
      return { ...state, columns: Math.max(1, Math.floor(event.columns)), rows: Math.max(1, Math.floor(event.rows)) };
    case 'key':
      return reduceKey(state, event.key);
  }
}

function reduceKey(state: TopState, key: KeyPress): TopState {
  if (key.ctrl === true && key.input === 'c') return { ...state, quit: true };
  if (state.editingFilter) return reduceFilterKey(state, key);
  if (key.name === 'escape') return state.filter === '' ? state : { ...state, filter: '' };
  if (key.name === 'tab' || key.name === 'backTab') {
    const step = key.name === 'tab' ? 1 : PANES.length - 1;
    return { ...state, pane: PANES[(PANES.indexOf(state.pane) + step) % PANES.length]! };
  }
  const pane = focusedPane(state);
  if (key.name === 'up' || key.name === 'down' || key.name === 'pageUp' || key.name === 'pageDown') {
    if (pane === undefined) return state;
    const delta = { up: -1, down: 1, pageUp: -PAGE, pageDown: PAGE }[key.name];
    return { ...state, selected: { ...state.selected, [pane]: Math.max(0, state.selected[pane] + delta) } };
  }
  if (key.ctrl === true || key.name !== undefined) return state;
  switch (key.input) {
    case 'q':
      return { ...state, quit: true };
    case '/':
      return { ...state, editingFilter: true };
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
      return { ...state, pane: PANES[Number(key.input) - 1]! };
    case 'j':
      return pane === undefined ? state : { ...state, selected: { ...state.selected, [pane]: state.selected[pane] + 1 } };
    case 'k':
      return pane === undefined ? state : { ...state, selected: { ...state.selected, [pane]: Math.max(0, state.selected[pane] - 1) } };
    case 's':
    case 'r': {
      // in the overview, sort keys act on the activations (the busiest list there)
      const target = pane ?? 'activations';
      const current = state.sort[target];
      const keys: readonly string[] = SORT_KEYS[target];
      const next: SortState =
        key.input === 's' ? { key: keys[(keys.indexOf(current.key) + 1) % keys.length]!, reversed: false } : { ...current, reversed: !current.reversed };
      return { ...state, sort: { ...state.sort, [target]: next } };
    }
    default:
      return state;
  }
}

function reduceFilterKey(state: TopState, key: KeyPress): TopState {
  switch (key.name) {
    case 'escape':
      return { ...state, editingFilter: false, filter: '' };
    case 'return':
      return { ...state, editingFilter: false };
    case 'backspace':
      return { ...state, filter: state.filter.slice(0, -1) };
    case undefined: {
      if (key.ctrl === true) return state;
      // printable text only: a pasted escape sequence or newline is not part of a filter
      const text = [...key.input].filter((ch) => ch >= ' ' && ch !== '\u007f').join('');
      if (text === '') return state;
      return { ...state, filter: (state.filter + text).slice(0, MAX_FILTER_LENGTH), selected: { agents: 0, actions: 0, activations: 0, decisions: 0 } };
    }
    default:
      return state;
  }
}

/** The data pane that arrow keys and sort keys act on; undefined in the overview. */
export function focusedPane(state: Pick<TopState, 'pane'>): DataPane | undefined {
  return state.pane === 'overview' ? undefined : state.pane;
}
