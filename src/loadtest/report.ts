/**
 * The load test's result as a value (what `brisk loadtest --json` prints) and as text. Pure.
 */
import { renderTable, type TableOptions } from '../cli/format.js';
import { ACTIVATION_CLASSES, type ActivationClass, type ClassBreakdown } from './classify.js';
import type { Histogram } from './histogram.js';
import type { EngineResult } from './run.js';
import type { ActionTarget, LoadMode, StopCondition } from './schedule.js';

/** Latency percentiles in milliseconds (µs precision); all 0 when count is 0. */
export interface Percentiles {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LoadtestReport {
  actions: { name: string; weight: number; sent: number; errors: number }[];
  mode: 'closed' | 'open';
  /** closed loop: workers; null in open loop */
  concurrency: number | null;
  /** open loop: requests per second; null in closed loop */
  ratePerSec: number | null;
  /** open loop: most requests in flight at once; null in closed loop */
  maxInFlight: number | null;
  count: number | null;
  durationMs: number | null;
  /** ISO time of the first send */
  startedAt: string;
  /** first send to last answer */
  elapsedMs: number;
  sent: number;
  completed: number;
  /** answered 200 */
  ok: number;
  /** answered anything else (202: still running after the blocking wait; 502: the action failed; 429/503: refused; `network`: no answer) */
  errors: number;
  /** completed requests per second of elapsed time */
  throughputPerSec: number;
  /** completed requests by HTTP status */
  statuses: Record<string, number>;
  /** client-side latency of every completed request, and per class of the classified activations */
  latencyMs: { all: Percentiles } & Record<ActivationClass, Percentiles>;
  classification: {
    /** completed requests that carried an activation id */
    withActivationId: number;
    /** of those, how many records were read (all of them up to the sample limit) */
    sampled: number;
    cold: number;
    warm: number;
    resumed: number;
    /** sampled ids whose record could not be read */
    unclassified: number;
  };
  /** stopped early (Ctrl-C) */
  aborted: boolean;
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

/** Percentiles of a µs histogram, in ms. */
export function percentilesOf(histogram: Histogram): Percentiles {
  const ms = (us: number) => round3(us / 1000);
  return {
    count: histogram.count,
    min: ms(histogram.min),
    mean: ms(histogram.mean),
    p50: ms(histogram.percentile(50)),
    p90: ms(histogram.percentile(90)),
    p99: ms(histogram.percentile(99)),
    p999: ms(histogram.percentile(99.9)),
    max: ms(histogram.max),
  };
}

export interface ReportInput {
  targets: readonly ActionTarget[];
  mode: LoadMode;
  stop: StopCondition;
  run: EngineResult;
  classes: ClassBreakdown;
  /** how many samples had their records read */
  sampled: number;
}

export function buildReport(input: ReportInput): LoadtestReport {
  const { run, classes, mode, stop } = input;
  return {
    actions: input.targets.map((t, i) => ({ name: t.name, weight: t.weight, sent: run.perAction[i]?.sent ?? 0, errors: run.perAction[i]?.errors ?? 0 })),
    mode: mode.kind,
    concurrency: mode.kind === 'closed' ? mode.concurrency : null,
    ratePerSec: mode.kind === 'open' ? mode.ratePerSec : null,
    maxInFlight: mode.kind === 'open' ? mode.maxInFlight : null,
    count: stop.count ?? null,
    durationMs: stop.durationMs ?? null,
    startedAt: new Date(run.startedAt).toISOString(),
    elapsedMs: round3(run.elapsedMs),
    sent: run.sent,
    completed: run.completed,
    ok: run.completed - run.errors,
    errors: run.errors,
    throughputPerSec: run.elapsedMs > 0 ? round3((run.completed * 1000) / run.elapsedMs) : 0,
    statuses: { ...run.statuses },
    latencyMs: {
      all: percentilesOf(run.latency),
      cold: percentilesOf(classes.latency.cold),
      warm: percentilesOf(classes.latency.warm),
      resumed: percentilesOf(classes.latency.resumed),
    },
    classification: {
      withActivationId: run.withActivationId,
      sampled: input.sampled,
      ...classes.counts,
      unclassified: classes.unclassified,
    },
    aborted: run.aborted,
  };
}

const fmt = (ms: number) => ms.toFixed(2);

/** The report as an operator reads it: a summary, the statuses, and one latency row per class. */
export function formatReport(report: LoadtestReport, options: TableOptions = {}): string {
  const how =
    report.mode === 'closed'
      ? `closed loop, concurrency ${report.concurrency}`
      : `open loop, ${report.ratePerSec} req/s (at most ${report.maxInFlight} in flight)`;
  const names = report.actions.length === 1 ? report.actions[0]!.name : `${report.actions.length} actions`;
  const lines = [
    `${names}: ${how}; ${report.completed} requests in ${(report.elapsedMs / 1000).toFixed(2)} s${report.aborted ? ' (stopped early)' : ''}`,
    `throughput  ${report.throughputPerSec.toFixed(1)} req/s  (${report.ok} ok, ${report.errors} errors)`,
    `statuses    ${
      Object.entries(report.statuses)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([status, n]) => `${status}: ${n}`)
        .join('  ') || 'none'
    }`,
    '',
  ];
  const row = (label: string, p: Percentiles) =>
    p.count === 0 ? [label, '0', '', '', '', '', '', '', ''] : [label, String(p.count), fmt(p.min), fmt(p.mean), fmt(p.p50), fmt(p.p90), fmt(p.p99), fmt(p.p999), fmt(p.max)];
  const rows = [row('all', report.latencyMs.all), ...ACTIVATION_CLASSES.map((cls) => row(cls, report.latencyMs[cls]))];
  lines.push(renderTable(['latency ms', 'count', 'min', 'mean', 'p50', 'p90', 'p99', 'p99.9', 'max'], rows, options));
  const c = report.classification;
  const unread = c.unclassified > 0 ? `; ${c.unclassified} records could not be read` : '';
  const sampledNote = c.sampled < c.withActivationId ? ` (a random sample of ${c.withActivationId})` : '';
  lines.push('', `classes from the activation records of ${c.sampled} activations${sampledNote}${unread}`);
  if (report.actions.length > 1) {
    lines.push('', renderTable(['action', 'weight', 'sent', 'errors'], report.actions.map((a) => [a.name, String(a.weight), String(a.sent), String(a.errors)]), options));
  }
  return lines.join('\n');
}
