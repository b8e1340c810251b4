/**
 * A small Prometheus metrics registry and its `/metrics` HTTP handler, shared by every daemon.
 *
 * - Counters, gauges and histograms with fixed buckets, each with optional label names.
 * - Cardinality is bounded: each metric keeps at most `maxSeries` label sets (default 64). A new
 *   label set past the bound is not recorded; the drop is counted in
 *   `brisk_metrics_series_dropped_total{metric="…"}`, whose own cardinality is the number of metrics.
 * - Collect callbacks run at scrape time, before rendering, so gauges that mirror a daemon's state
 *   (pool sizes, queue lengths) read that state only when someone asks, never on the hot path.
 * - `render()` writes the text exposition format 0.0.4: `# HELP`, `# TYPE`, then one line per
 *   series, metrics in registration order and series in the order their label sets first appeared.
 *
 * Not thread-safe by design (one event loop); recording is O(1) apart from building the label key.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError } from '../errors.js';

/** The `Content-Type` of the text exposition format this registry writes. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Label sets kept per metric unless a metric says otherwise. */
export const DEFAULT_MAX_SERIES = 64;

/** Buckets (seconds) for latencies from sub-millisecond warm invokes to minute-long actions. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export type Labels = Readonly<Record<string, string | number>>;

interface MetricOptions<L extends string> {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*`, unique in the registry */
  name: string;
  help: string;
  /** label names, in the order they are written; default none */
  labelNames?: readonly L[];
  /** most label sets kept; default DEFAULT_MAX_SERIES */
  maxSeries?: number;
}

export type CounterOptions<L extends string> = MetricOptions<L>;
export interface GaugeOptions<L extends string> extends MetricOptions<L> {
  /**
   * Called at every scrape before rendering. The gauge's series are cleared first, so a label set
   * the callback no longer sets disappears (a pool state with nothing in it should be set to 0
   * explicitly if it must stay visible).
   */
  collect?: (gauge: Gauge<L>) => void;
}
export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** upper bounds, strictly increasing, finite; `+Inf` is implied */
  buckets: readonly number[];
}

type LabelSet<L extends string> = Readonly<Record<L, string | number>>;
/** `(value?)` without labels, `(labels, value?)` with them. */
type IncArgs<L extends string> = [L] extends [never] ? [value?: number] : [labels: LabelSet<L>, value?: number];
/** `(value)` without labels, `(labels, value)` with them. */
type SetArgs<L extends string> = [L] extends [never] ? [value: number] : [labels: LabelSet<L>, value: number];
/** `()` without labels, `(labels)` with them. */
type GetArgs<L extends string> = [L] extends [never] ? [] : [labels: LabelSet<L>];

export interface Counter<L extends string = never> {
  readonly name: string;
  /** Adds `value` (default 1, must be ≥ 0) to the series of `labels`. */
  inc(...args: IncArgs<L>): void;
  /** The current value of a series (0 when absent), for tests. */
  get(...args: GetArgs<L>): number;
}

export interface Gauge<L extends string = never> {
  readonly name: string;
  set(...args: SetArgs<L>): void;
  inc(...args: IncArgs<L>): void;
  dec(...args: IncArgs<L>): void;
  get(...args: GetArgs<L>): number;
  /** Removes every series. */
  reset(): void;
}

export interface Histogram<L extends string = never> {
  readonly name: string;
  /** Records one observation (in the metric's unit, seconds for `_seconds` names). */
  observe(...args: SetArgs<L>): void;
  /** Count and sum of a series, for tests. */
  get(...args: GetArgs<L>): { count: number; sum: number };
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A number as the exposition format writes it. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

interface Series<V> {
  /** rendered `{a="x",b="y"}`, or '' without labels */
  readonly labelText: string;
  value: V;
}

/** What every metric kind shares: label handling and the series table with its bound. */
abstract class BaseMetric<V> {
  readonly series = new Map<string, Series<V>>();
  abstract readonly type: 'counter' | 'gauge' | 'histogram';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly maxSeries: number,
    private readonly onDrop: (metric: string) => void,
  ) {}

  protected abstract initial(): V;

  /** The series of `labels`, created if there is room; undefined (and a drop counted) when full. */
  protected seriesOf(labels: Labels | undefined, create: boolean): Series<V> | undefined {
    let key = '';
    let text = '';
    if (this.labelNames.length > 0) {
      if (labels === undefined) throw new ConfigError(`metric ${this.name} needs labels ${this.labelNames.join(', ')}`);
      const parts: string[] = [];
      for (const name of this.labelNames) {
        const raw = labels[name];
        if (raw === undefined) throw new ConfigError(`metric ${this.name} is missing label ${name}`);
        parts.push(`${name}="${escapeLabelValue(String(raw))}"`);
      }
      text = `{${parts.join(',')}}`;
      key = text;
    }
    let series = this.series.get(key);
    if (series === undefined && create) {
      if (this.series.size >= this.maxSeries) {
        this.onDrop(this.name);
        return undefined;
      }
      series = { labelText: text, value: this.initial() };
      this.series.set(key, series);
    }
    return series;
  }

  abstract lines(): string[];
}

/** Splits `[labels?, value?]` rest arguments of the public methods. */
function split(args: readonly unknown[], labelled: boolean): { labels: Labels | undefined; value: number | undefined } {
  if (labelled) return { labels: args[0] as Labels | undefined, value: args[1] as number | undefined };
  return { labels: undefined, value: args[0] as number | undefined };
}

class CounterImpl extends BaseMetric<number> implements Counter<string> {
  readonly type = 'counter' as const;
  protected initial(): number {
    return 0;
  }
  inc(...args: unknown[]): void {
    const { labels, value = 1 } = split(args, this.labelNames.length > 0);
    if (!(value >= 0)) throw new ConfigError(`counter ${this.name} cannot decrease (inc by ${value})`);
    const series = this.seriesOf(labels, true);
    if (series !== undefined) series.value += value;
  }
  get(...args: unknown[]): number {
    return this.seriesOf(split(args, this.labelNames.length > 0).labels, false)?.value ?? 0;
  }
  lines(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${s.labelText} ${formatValue(s.value)}`);
  }
}

class GaugeImpl extends BaseMetric<number> implements Gauge<string> {
  readonly type = 'gauge' as const;
  protected initial(): number {
    return 0;
  }
  set(...args: unknown[]): void {
    const { labels, value } = split(args, this.labelNames.length > 0);
    const series = this.seriesOf(labels, true);
    if (series !== undefined) series.value = value ?? 0;
  }
  inc(...args: unknown[]): void {
    const { labels, value = 1 } = split(args, this.labelNames.length > 0);
    const series = this.seriesOf(labels, true);
    if (series !== undefined) series.value += value;
  }
  dec(...args: unknown[]): void {
    const { labels, value = 1 } = split(args, this.labelNames.length > 0);
    const series = this.seriesOf(labels, true);
    if (series !== undefined) series.value -= value;
  }
  get(...args: unknown[]): number {
    return this.seriesOf(split(args, this.labelNames.length > 0).labels, false)?.value ?? 0;
  }
  reset(): void {
    this.series.clear();
  }
  lines(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${s.labelText} ${formatValue(s.value)}`);
  }
}

interface HistogramValue {
  /** per bucket (not cumulative); the last is +Inf */
  counts: number[];
  sum: number;
  count: number;
}

class HistogramImpl extends BaseMetric<HistogramValue> implements Histogram<string> {
  readonly type = 'histogram' as const;
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    maxSeries: number,
    onDrop: (metric: string) => void,
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames, maxSeries, onDrop);
  }
  protected initial(): HistogramValue {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }
  observe(...args: unknown[]): void {
    const { labels, value } = split(args, this.labelNames.length > 0);
    if (value === undefined || Number.isNaN(value)) return;
    const series = this.seriesOf(labels, true);
    if (series === undefined) return;
    let i = 0;
    while (i < this.buckets.length && value > (this.buckets[i] as number)) i++;
    series.value.counts[i] = (series.value.counts[i] as number) + 1;
    series.value.sum += value;
    series.value.count += 1;
  }
  get(...args: unknown[]): { count: number; sum: number } {
    const series = this.seriesOf(split(args, this.labelNames.length > 0).labels, false);
    return { count: series?.value.count ?? 0, sum: series?.value.sum ?? 0 };
  }
  lines(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      // `le` goes last, after the metric's own labels.
      const prefix = s.labelText === '' ? '{' : `${s.labelText.slice(0, -1)},`;
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += s.value.counts[i] as number;
        const le = i < this.buckets.length ? formatValue(this.buckets[i] as number) : '+Inf';
        out.push(`${this.name}_bucket${prefix}le="${le}"} ${cumulative}`);
      }
      out.push(`${this.name}_sum${s.labelText} ${formatValue(s.value.sum)}`);
      out.push(`${this.name}_count${s.labelText} ${s.value.count}`);
    }
    return out;
  }
}

export interface MetricsRegistry {
  counter<L extends string = never>(options: CounterOptions<L>): Counter<L>;
  gauge<L extends string = never>(options: GaugeOptions<L>): Gauge<L>;
  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L>;
  /**
   * Registers a callback run at every scrape before rendering (after the gauges' own collects), for
   * state read in one pass that feeds several metrics. Returns the unregister function.
   */
  onCollect(callback: () => void): () => void;
  /** Runs the collect callbacks and writes every metric in the text format (ends with a newline). */
  render(): string;
}

/**
 * Creates an empty registry. Registration throws ConfigError for an invalid or duplicate name,
 * invalid label names, or histogram buckets that are not strictly increasing finite numbers.
 */
export function createRegistry(): MetricsRegistry {
  const metrics: BaseMetric<unknown>[] = [];
  const names = new Set<string>();
  const gaugeCollects: Array<() => void> = [];
  const callbacks = new Set<() => void>();
  let dropped: Counter<'metric'> | undefined;
  const onDrop = (metric: string) => dropped?.inc({ metric });

  function check(options: MetricOptions<string>, reserved: readonly string[] = []): { labelNames: string[]; maxSeries: number } {
    if (!METRIC_NAME.test(options.name)) throw new ConfigError(`invalid metric name '${options.name}'`);
    if (names.has(options.name)) throw new ConfigError(`metric ${options.name} is registered twice`);
    const labelNames = [...(options.labelNames ?? [])];
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith('__') || reserved.includes(label)) throw new ConfigError(`invalid label name '${label}' of metric ${options.name}`);
    }
    if (new Set(labelNames).size !== labelNames.length) throw new ConfigError(`metric ${options.name} repeats a label name`);
    const maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
    if (!Number.isInteger(maxSeries) || maxSeries < 1) throw new ConfigError(`metric ${options.name}: maxSeries must be a positive integer`);
    names.add(options.name);
    return { labelNames, maxSeries };
  }

  const registry: MetricsRegistry = {
    counter<L extends string = never>(options: CounterOptions<L>): Counter<L> {
      const { labelNames, maxSeries } = check(options);
      const metric = new CounterImpl(options.name, options.help, labelNames, maxSeries, onDrop);
      metrics.push(metric as BaseMetric<unknown>);
      return metric as unknown as Counter<L>;
    },
    gauge<L extends string = never>(options: GaugeOptions<L>): Gauge<L> {
      const { labelNames, maxSeries } = check(options);
      const metric = new GaugeImpl(options.name, options.help, labelNames, maxSeries, onDrop);
      metrics.push(metric as BaseMetric<unknown>);
      const gauge = metric as unknown as Gauge<L>;
      const collect = options.collect;
      if (collect !== undefined) {
        gaugeCollects.push(() => {
          metric.reset();
          collect(gauge);
        });
      }
      return gauge;
    },
    histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
      const buckets = [...options.buckets];
      if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= (buckets[i - 1] as number)))) {
        throw new ConfigError(`histogram ${options.name}: buckets must be finite and strictly increasing`);
      }
      const { labelNames, maxSeries } = check(options, ['le']);
      const metric = new HistogramImpl(options.name, options.help, labelNames, maxSeries, onDrop, buckets);
      metrics.push(metric as unknown as BaseMetric<unknown>);
      return metric as unknown as Histogram<L>;
    },
    onCollect(callback) {
      callbacks.add(callback);
      return () => callbacks.delete(callback);
    },
    render() {
      for (const collect of gaugeCollects) collect();
      for (const callback of callbacks) callback();
      const out: string[] = [];
      for (const metric of metrics) {
        out.push(`# HELP ${metric.name} ${escapeHelp(metric.help)}`, `# TYPE ${metric.name} ${metric.type}`, ...metric.lines());
      }
      return `${out.join('\n')}\n`;
    },
  };
  // Always present and always first, so every daemon's output starts the same way.
  dropped = registry.counter({
    name: 'brisk_metrics_series_dropped_total',
    help: 'Label sets not recorded because their metric reached its series bound.',
    labelNames: ['metric'],
    maxSeries: 1_000,
  });
  return registry;
}

/** Metrics of the Node.js process itself, read at scrape time. */
export function registerProcessMetrics(registry: MetricsRegistry, options: { startedAtMs?: number } = {}): void {
  const startedAt = (options.startedAtMs ?? Date.now() - process.uptime() * 1000) / 1000;
  registry.gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since the Unix epoch, in seconds.', collect: (g) => g.set(Math.floor(startedAt)) });
  registry.gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', collect: (g) => g.set(process.memoryUsage.rss()) });
  registry.gauge({ name: 'nodejs_heap_used_bytes', help: 'V8 heap in use, in bytes.', collect: (g) => g.set(process.memoryUsage().heapUsed) });
  registry.gauge({
    name: 'process_cpu_seconds_total',
    help: 'User and system CPU time spent, in seconds.',
    collect: (g) => {
      const usage = process.cpuUsage();
      g.set((usage.user + usage.system) / 1e6);
    },
  });
}

export interface MetricsHandlerOptions {
  registry: MetricsRegistry;
  /** when set, scrapes must send `Authorization: Bearer <token>`; default none (open, as most exporters) */
  token?: string | undefined;
  /** path served; default `/metrics` */
  path?: string;
}

/**
 * An HTTP request handler for `GET|HEAD /metrics`. Returns false, without answering, for any other
 * path, so it can sit in front of a server's own routing. Answers 405 for other methods on the path
 * and 401 when a token is required and the bearer token does not match (compared in constant time).
 */
export function metricsHttpHandler(options: MetricsHandlerOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const path = options.path ?? '/metrics';
  const expected = options.token === undefined || options.token === '' ? undefined : digest(options.token);
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if ((q < 0 ? url : url.slice(0, q)) !== path) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return true;
    }
    if (expected !== undefined) {
      const header = req.headers.authorization;
      if (header === undefined || !header.startsWith('Bearer ') || !timingSafeEqual(digest(header.slice('Bearer '.length)), expected)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain; charset=utf-8' }).end('unauthorized\n');
        return true;
      }
    }
    let body: string;
    try {
      body = options.registry.render();
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics collection failed: ${error instanceof Error ? error.message : String(error)}\n`);
      return true;
    }
    res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
