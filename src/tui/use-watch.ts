/**
 * The hook that owns the watch connection: starts it on mount (and when the target changes), feeds
 * its events to `dispatch`, and closes it on unmount.
 */
import { useEffect } from 'react';
import type { TopEvent } from './state.js';
import { startWatch, type BackoffOptions } from './watch-client.js';

export interface UseWatchOptions {
  apihost: string;
  auth: string;
  backoff?: BackoffOptions | undefined;
  staleAfterMs?: number | undefined;
}

export function useWatch(options: UseWatchOptions, dispatch: (event: TopEvent) => void): void {
  const { apihost, auth, backoff, staleAfterMs } = options;
  const initialMs = backoff?.initialMs;
  const maxMs = backoff?.maxMs;
  useEffect(() => {
    const client = startWatch({
      apihost,
      auth,
      onEvent: dispatch,
      backoff: { ...(initialMs === undefined ? {} : { initialMs }), ...(maxMs === undefined ? {} : { maxMs }) },
      ...(staleAfterMs === undefined ? {} : { staleAfterMs }),
    });
    return () => client.close();
  }, [apihost, auth, initialMs, maxMs, staleAfterMs, dispatch]);
}
