/**
 * The load-test engine: sends blocking invokes (`?blocking=true`) in a closed or an open loop, and
 * keeps what the report needs in bounded memory: one latency histogram, counts by HTTP status, and a
 * bounded random sample of (activation id, latency) pairs for the per-class split afterwards.
 *
 * Latency is measured from the moment a request was MEANT to be sent: in a closed loop that is when
 * it was sent; in an open loop it is its slot in the schedule, so when the platform (or this
 * generator) falls behind, the queueing shows in the latencies instead of being hidden
 * (coordinated omission).
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { checkAuth, normalizeApihost, splitEntityName } from '../client/client.js';
import { Histogram, type HistogramOptions } from './histogram.js';
import { intendedSendOffsetMs, mayStartAnother, plannedTotal, progressFraction, selectionCycle, type ActionTarget, type LoadMode, type StopCondition } from './schedule.js';

/** What one blocking invoke came back with: the HTTP status (or `network` when no answer came) and the activation id when there is one. */
export interface InvokeReply {
  status: number | 'network';
  activationId?: string | undefined;
}

/** The port the engine sends through. Never rejects: a failure to get an answer is `{ status: 'network' }`. */
export type InvokeFn = (action: string, body: string) => Promise<InvokeReply>;

/** One completed request kept for the per-class split: which activation, how long it took (µs), which action (index into targets). */
export interface Sample {
  activationId: string;
  latencyUs: number;
  action: number;
}

export interface LoadtestProgress {
  elapsedMs: number;
  sent: number;
  completed: number;
  /** completed with any status but 200 */
  errors: number;
  inFlight: number;
  /** 0..1 of the plan (by count when known, else by time) */
  fraction: number;
  /** completed per second so far */
  throughputPerSec: number;
  /** latency so far, ms (0 before the first answer) */
  p50Ms: number;
  p99Ms: number;
}

/** Default cap on the samples kept for classification; past it a uniform random sample (reservoir) is kept. */
export const DEFAULT_MAX_SAMPLES = 100_000;

export interface EngineOptions {
  invoke: InvokeFn;
  targets: readonly ActionTarget[];
  mode: LoadMode;
  stop: StopCondition;
  /** the invoke body; default `{}` */
  payload?: Record<string, unknown>;
  /** called every `progressIntervalMs` (default 250) while running, and once at the end */
  onProgress?: (progress: LoadtestProgress) => void;
  progressIntervalMs?: number;
  /** aborting stops sending; requests in flight are still awaited and counted */
  signal?: AbortSignal;
  /** most samples kept for classification; default DEFAULT_MAX_SAMPLES (about 100 bytes each) */
  maxSamples?: number;
  histogram?: HistogramOptions;
  /** monotonic clock in ms; default performance.now */
  now?: () => number;
  /** uniform [0, 1) for the reservoir sample; default Math.random */
  random?: () => number;
}

export interface EngineResult {
  /** epoch ms at the start */
  startedAt: number;
  /** from the first send until the last answer */
  elapsedMs: number;
  sent: number;
  completed: number;
  errors: number;
  /** completed requests by HTTP status (`"200"`, `"502"`, ..., `"network"`) */
  statuses: Record<string, number>;
  /** every completed request's latency, µs */
  latency: Histogram;
  /** per action (same order as targets): requests sent and errors */
  perAction: { name: string; sent: number; errors: number }[];
  /** at most maxSamples (uniformly chosen when more completed with an activation id) */
  samples: Sample[];
  /** how many completed requests carried an activation id (samples.length ≤ this) */
  withActivationId: number;
  /** stopped early through the signal */
  aborted: boolean;
}

/** Resolves after `ms`, or at once when the signal aborts. */
function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Runs the load test to its stop condition (or abort) and resolves once every request sent has answered. */
export async function runEngine(options: EngineOptions): Promise<EngineResult> {
  const now = options.now ?? (() => performance.now());
  const random = options.random ?? Math.random;
  const maxSamples = options.maxSamples ?? DEFAULT_MAX_SAMPLES;
  const { mode, stop, signal } = options;
  // A function, not a property read: TypeScript would narrow `signal.aborted` across the awaits.
  const aborted = () => signal?.aborted === true;
  const cycle = selectionCycle(options.targets);
  const body = JSON.stringify(options.payload ?? {});
  const total = plannedTotal(mode, stop);

  const latency = new Histogram(options.histogram);
  const statuses: Record<string, number> = {};
  const perAction = options.targets.map((t) => ({ name: t.name, sent: 0, errors: 0 }));
  const samples: Sample[] = [];
  let withActivationId = 0;
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let inFlight = 0;
  const startedAt = Date.now();
  const t0 = now();

  const progress = (): LoadtestProgress => {
    const elapsedMs = now() - t0;
    return {
      elapsedMs,
      sent,
      completed,
      errors,
      inFlight,
      fraction: progressFraction(completed, elapsedMs, total, stop),
      throughputPerSec: elapsedMs > 0 ? (completed * 1000) / elapsedMs : 0,
      p50Ms: latency.percentile(50) / 1000,
      p99Ms: latency.percentile(99) / 1000,
    };
  };
  const ticker = options.onProgress === undefined ? undefined : setInterval(() => options.onProgress?.(progress()), options.progressIntervalMs ?? 250);

  /** Sends request `index`, meant to go at `intended` (monotonic ms), and accounts for its answer. */
  const send = async (index: number, intended: number): Promise<void> => {
    const action = cycle[index % cycle.length]!;
    const target = options.targets[action]!;
    sent += 1;
    inFlight += 1;
    perAction[action]!.sent += 1;
    const reply = await options.invoke(target.name, body);
    const latencyUs = Math.round((now() - intended) * 1000);
    inFlight -= 1;
    completed += 1;
    latency.record(latencyUs);
    const key = String(reply.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (reply.status !== 200) {
      errors += 1;
      perAction[action]!.errors += 1;
    }
    if (reply.activationId !== undefined) {
      withActivationId += 1;
      const sample = { activationId: reply.activationId, latencyUs, action };
      // Reservoir sampling: every completed activation has the same chance to be kept.
      if (samples.length < maxSamples) samples.push(sample);
      else {
        const slot = Math.floor(random() * withActivationId);
        if (slot < maxSamples) samples[slot] = sample;
      }
    }
  };

  try {
    if (mode.kind === 'closed') {
      const worker = async () => {
        while (!aborted() && mayStartAnother(sent, now() - t0, stop)) {
          await send(sent, now());
        }
      };
      await Promise.all(Array.from({ length: mode.concurrency }, worker));
    } else {
      await openLoop(mode.ratePerSec, mode.maxInFlight);
    }
  } finally {
    if (ticker !== undefined) clearInterval(ticker);
  }
  options.onProgress?.(progress());

  async function openLoop(ratePerSec: number, maxInFlight: number): Promise<void> {
    const running = new Set<Promise<void>>();
    let slotFreed: (() => void) | undefined;
    for (let index = 0; !aborted(); index++) {
      const offset = intendedSendOffsetMs(index, ratePerSec, stop);
      if (offset === undefined) break;
      const intended = t0 + offset;
      const wait = intended - now();
      if (wait >= 1) await delay(wait, signal);
      if (aborted()) break;
      // Behind on slots: this request goes late, and its latency still counts from `intended`.
      while (running.size >= maxInFlight) await new Promise<void>((resolve) => (slotFreed = resolve));
      const request: Promise<void> = send(index, intended).finally(() => {
        running.delete(request);
        const wake = slotFreed;
        slotFreed = undefined;
        wake?.();
      });
      running.add(request);
    }
    await Promise.all(running);
  }

  return {
    startedAt,
    elapsedMs: now() - t0,
    sent,
    completed,
    errors,
    statuses,
    latency,
    perAction,
    samples,
    withActivationId,
    aborted: aborted(),
  };
}

export interface HttpInvokerOptions {
  /** e.g. `http://127.0.0.1:3233` */
  apihost: string;
  /** `uuid:key` */
  auth: string;
  /** kept-alive connections to the API; set it to the concurrency (or the open loop's maxInFlight) */
  connections: number;
  /** per-request deadline; default 75 000 ms (above the server's 60 s blocking wait) */
  timeoutMs?: number;
}

export interface HttpInvoker {
  invoke: InvokeFn;
  close(): Promise<void>;
}

/**
 * The engine's port over HTTP: one undici Pool of kept-alive connections to the API, a blocking
 * POST per invoke. The activation id comes from the `x-openwhisk-activation-id` header (or the
 * error body's `activationId`, for a 503 that ended an accepted activation).
 */
export function createHttpInvoker(options: HttpInvokerOptions): HttpInvoker {
  const apihost = new URL(normalizeApihost(options.apihost));
  const authorization = `Basic ${Buffer.from(checkAuth(options.auth)).toString('base64')}`;
  const timeoutMs = options.timeoutMs ?? 75_000;
  const pool = new Pool(apihost.origin, { connections: options.connections, keepAliveTimeout: 30_000 });
  const root = `${apihost.pathname.replace(/\/+$/, '')}/api/v1/namespaces/`;
  const headers = { authorization, 'content-type': 'application/json', accept: 'application/json' };
  const pathOf = (action: string) => {
    const { namespace, name } = splitEntityName(action);
    return `${root}${encodeURIComponent(namespace ?? '_')}/actions/${name.split('/').map(encodeURIComponent).join('/')}?blocking=true`;
  };

  return {
    async invoke(action, body) {
      try {
        const res = await pool.request({ method: 'POST', path: pathOf(action), headers, body, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
        const text = await res.body.text();
        const header = res.headers['x-openwhisk-activation-id'];
        let activationId = typeof header === 'string' ? header : undefined;
        if (activationId === undefined && text !== '') {
          try {
            const parsed = JSON.parse(text) as { activationId?: unknown };
            if (typeof parsed.activationId === 'string') activationId = parsed.activationId;
          } catch {
            // not JSON: no id
          }
        }
        return { status: res.statusCode, activationId };
      } catch {
        return { status: 'network' };
      }
    },
    close: () => pool.close(),
  };
}
