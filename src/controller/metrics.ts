/**
 * The controller's Prometheus metrics. Three sources:
 * - an Invoker decorator around the load balancer: activations by outcome, invoke latency (from the
 *   request's receipt to its result), activations accepted and not yet answered, and activations
 *   that ended for want of a container, by limit (the 503s of blocking invokes and their records);
 * - the REST API's error replies: 429s by limit (namespace rate and concurrency, overflow buffer);
 * - state read at scrape time: the balancer's stats (warm containers owned, in flight, overflow
 *   buffer depth, outstanding acquires) and the activation store's write-behind buffer, plus the
 *   store's write failure and drop reports (through `storeWriteErrors`).
 *
 * Hot path cost: one `then` on the response promise and a few counter increments per invoke.
 */
import { ThrottledError } from '../errors.js';
import { createRegistry, LATENCY_BUCKETS_SECONDS, registerProcessMetrics, type MetricsRegistry } from '../daemon/metrics.js';
import { StatusCode, type ActivationRecord } from '../model/activation.js';
import type { WriteErrorInfo } from '../store/sqlite/activations.js';
import type { Invocation, InvokeRequest, Invoker } from './invoker.js';

/** Activation outcomes as metric labels, by OpenWhisk status code. */
export const OUTCOME_LABELS: Record<StatusCode, string> = {
  [StatusCode.success]: 'success',
  [StatusCode.applicationError]: 'application_error',
  [StatusCode.developerError]: 'developer_error',
  [StatusCode.internalError]: 'internal_error',
};

/** What the state gauges read at scrape time. */
export interface ControllerStateSource {
  /** the balancer's counters */
  stats(): { containers: number; inFlight: number; waiting: number; outstandingAcquires: number };
  /** records not yet written by the activation store; undefined when the store does not say */
  storeBuffered?(): number | undefined;
}

export interface ControllerMetrics {
  readonly registry: MetricsRegistry;
  /** Wraps the invoker; everything is forwarded, invocations are counted as they resolve. */
  instrument(invoker: Invoker): Invoker;
  /** Registers the state read at each scrape (the last call wins). */
  observe(source: ControllerStateSource): void;
  /** Counts an error the REST API answered with (429s by limit). */
  errorReply(error: unknown): void;
  /** Wraps a store's `onWriteError` so its failure and drop reports are also counted. */
  storeWriteErrors(inner: (error: unknown, info: WriteErrorInfo) => void): (error: unknown, info: WriteErrorInfo) => void;
}

export interface ControllerMetricsOptions {
  /** default a new registry with the process metrics */
  registry?: MetricsRegistry;
  /** epoch ms, the clock of `InvokeRequest.receivedAt`; default Date.now */
  clock?: () => number;
}

/** The `buffered` count of a store that has one (the SQLite activation store does), else undefined. */
export function bufferedOf(activations: unknown): number | undefined {
  const value = typeof activations === 'object' && activations !== null ? (activations as { buffered?: unknown }).buffered : undefined;
  return typeof value === 'number' ? value : undefined;
}

/**
 * Registers the controller's metrics:
 * `brisk_controller_activations_total{outcome}`, `brisk_controller_invoke_seconds{outcome}`,
 * `brisk_controller_activations_pending`, `brisk_controller_unavailable_total{limit}`,
 * `brisk_controller_throttled_total{limit}`, `brisk_controller_containers`,
 * `brisk_controller_in_flight`, `brisk_controller_overflow_waiting`,
 * `brisk_controller_outstanding_acquires`, `brisk_store_write_behind_buffered`,
 * `brisk_store_write_failures_total`, `brisk_store_records_dropped_total`.
 */
export function createControllerMetrics(options: ControllerMetricsOptions = {}): ControllerMetrics {
  const registry = options.registry ?? withProcess(createRegistry());
  const clock = options.clock ?? Date.now;
  let source: ControllerStateSource | undefined;
  let pending = 0;

  const activations = registry.counter({ name: 'brisk_controller_activations_total', help: 'Activations answered, by outcome (OpenWhisk status).', labelNames: ['outcome'] });
  const invokeSeconds = registry.histogram({
    name: 'brisk_controller_invoke_seconds',
    help: 'Time from the receipt of an invoke to its result, by outcome.',
    labelNames: ['outcome'],
    buckets: LATENCY_BUCKETS_SECONDS,
  });
  registry.gauge({ name: 'brisk_controller_activations_pending', help: 'Activations accepted and not yet answered (buffered or running).', collect: (g) => g.set(pending) });
  const unavailable = registry.counter({
    name: 'brisk_controller_unavailable_total',
    help: 'Activations that ended without a container (503 for a blocking invoke), by limit.',
    labelNames: ['limit'],
    maxSeries: 16,
  });
  const throttled = registry.counter({ name: 'brisk_controller_throttled_total', help: 'Invokes answered 429, by limit.', labelNames: ['limit'], maxSeries: 16 });
  for (const outcome of Object.values(OUTCOME_LABELS)) activations.inc({ outcome }, 0);
  for (const limit of ['invocationsPerMinute', 'concurrentInvocations', 'overflowBuffer']) throttled.inc({ limit }, 0);

  const stat = (pick: (s: ReturnType<ControllerStateSource['stats']>) => number) => (g: { set(value: number): void }) => {
    if (source !== undefined) g.set(pick(source.stats()));
  };
  registry.gauge({ name: 'brisk_controller_containers', help: 'Warm containers this controller owns.', collect: stat((s) => s.containers) });
  registry.gauge({ name: 'brisk_controller_in_flight', help: 'Activations running on this controller\'s containers.', collect: stat((s) => s.inFlight) });
  registry.gauge({ name: 'brisk_controller_overflow_waiting', help: 'Requests waiting in the overflow buffer for a container.', collect: stat((s) => s.waiting) });
  registry.gauge({ name: 'brisk_controller_outstanding_acquires', help: 'Acquires sent to the scheduler and not yet answered.', collect: stat((s) => s.outstandingAcquires) });
  registry.gauge({
    name: 'brisk_store_write_behind_buffered',
    help: 'Activation records accepted and not yet written to the store (write-behind lag).',
    collect: (g) => {
      const buffered = source?.storeBuffered?.();
      if (buffered !== undefined) g.set(buffered);
    },
  });
  const writeFailures = registry.counter({ name: 'brisk_store_write_failures_total', help: 'Reports of failed activation store writes (records stay buffered and are retried).' });
  const dropped = registry.counter({ name: 'brisk_store_records_dropped_total', help: 'Activation records dropped because the write-behind buffer was full.' });

  function finished(request: InvokeRequest, invocation: Invocation, record: ActivationRecord): void {
    pending -= 1;
    const outcome = OUTCOME_LABELS[record.response.statusCode] ?? 'internal_error';
    activations.inc({ outcome });
    invokeSeconds.observe({ outcome }, Math.max(0, clock() - request.receivedAt) / 1000);
    if (invocation.unavailable !== undefined) unavailable.inc({ limit: invocation.unavailable.limit });
  }

  return {
    registry,
    instrument(invoker) {
      return {
        invoke(request) {
          const invocation = invoker.invoke(request);
          pending += 1;
          invocation.response.then(
            (record) => finished(request, invocation, record),
            () => {
              pending -= 1;
            },
          );
          return invocation;
        },
        close: () => invoker.close(),
      };
    },
    observe(next) {
      source = next;
    },
    errorReply(error) {
      if (error instanceof ThrottledError) throttled.inc({ limit: error.limit });
    },
    storeWriteErrors(inner) {
      return (error, info) => {
        if (info.failing) writeFailures.inc();
        if (info.dropped > 0) dropped.inc(info.dropped);
        inner(error, info);
      };
    },
  };
}

function withProcess(registry: MetricsRegistry): MetricsRegistry {
  registerProcessMetrics(registry);
  return registry;
}
