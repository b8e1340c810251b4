/**
 * An Invoker decorator (as src/controller/metrics.ts does) that feeds the live view: each accepted
 * activation is listed in flight, and when its result is known it moves to the recent list with its
 * phases and is counted in its action's window statistics.
 *
 * Hot path cost: one Map insert at acceptance, one `then` on the response promise, and at the end a
 * Map delete, a ring write and a few array writes. No allocation beyond the two small view objects.
 */
import type { Invocation, InvokeRequest, Invoker } from '../invoker.js';
import type { ActivationRecord } from '../../model/activation.js';
import type { ActionStatsWindow } from './action-stats.js';
import { finishedView, type ActivationTracker } from './activations.js';

export interface WatchInstrumentOptions {
  stats: ActionStatsWindow;
  activations: ActivationTracker;
  /** epoch ms, the clock of `InvokeRequest.receivedAt`; default Date.now */
  clock?: () => number;
}

/** Wraps `invoker`; everything is forwarded unchanged. */
export function instrumentForWatch(invoker: Invoker, options: WatchInstrumentOptions): Invoker {
  const clock = options.clock ?? Date.now;
  const { stats, activations } = options;

  function finished(request: InvokeRequest, action: string, invocation: Invocation, record: ActivationRecord): void {
    const reached = invocation.unavailable === undefined;
    const view = finishedView(action, request.receivedAt, record, reached);
    activations.finished(request.action.namespace, view);
    const initTime = view.phases.initMs;
    stats.record(action, { at: clock(), latencyMs: view.durationMs ?? 0, coldStart: initTime !== undefined });
  }

  return {
    invoke(request) {
      const action = `${request.action.namespace}/${request.action.name}`;
      const invocation = invoker.invoke(request);
      activations.started(request.activationId, request.action.namespace, action, request.receivedAt);
      invocation.response.then(
        (record) => finished(request, action, invocation, record),
        () => activations.forget(request.activationId),
      );
      return invocation;
    },
    close: () => invoker.close(),
  };
}
