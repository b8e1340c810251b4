/**
 * The live view: the reducer, fed by the watch connection (useWatch), the keyboard (useInput) and
 * the terminal size (stdout's `resize` event); the Screen draws the state. `q` / Ctrl-C set
 * `quit`, and the app exits through Ink (which restores the terminal) on the next effect.
 */
import { useApp, useInput, useStdout } from 'ink';
import { useEffect, useReducer, type ReactElement } from 'react';
import { Screen } from './components/screen.js';
import { toKeyPress } from './keys.js';
import { initialState, reduce, type TopEvent } from './state.js';
import { useWatch } from './use-watch.js';
import type { BackoffOptions } from './watch-client.js';

export interface AppProps {
  readonly apihost: string;
  /** `uuid:key` of a namespace */
  readonly auth: string;
  /** reconnect backoff (default 250 ms doubling to 5 s) */
  readonly backoff?: BackoffOptions | undefined;
  /** no message for this long counts as lost (default 5 s) */
  readonly staleAfterMs?: number | undefined;
}

/** Follows the terminal's size: one `resize` event per change, removed on unmount. */
function useTerminalSize(stdout: NodeJS.WriteStream, dispatch: (event: TopEvent) => void): void {
  useEffect(() => {
    const onResize = () => dispatch({ type: 'resize', columns: stdout.columns ?? 80, rows: stdout.rows ?? 24 });
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, dispatch]);
}

export function App(props: AppProps): ReactElement {
  const { stdout } = useStdout();
  const { exit } = useApp();
  const [state, dispatch] = useReducer(reduce, undefined, () => initialState({ columns: stdout.columns ?? 80, rows: stdout.rows ?? 24 }));
  useWatch(props, dispatch);
  useTerminalSize(stdout, dispatch);
  useInput((input, key) => dispatch({ type: 'key', key: toKeyPress(input, key) }));
  useEffect(() => {
    if (state.quit) exit();
  }, [state.quit, exit]);
  return <Screen state={state} apihost={props.apihost} />;
}
