/**
 * Load generation shared by the benchmarks: a closed loop at a fixed concurrency over undici
 * keep-alive connections, with latencies in microseconds. Bounded by count and time.
 */
import { Pool } from 'undici';

export interface Target {
  /** http://host:port */
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** status codes that count as success */
  okStatus: number[];
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  throughput: number;
  latencyUs: { p50: number; p90: number; p99: number; max: number; mean: number };
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Runs `concurrency` workers, each sending requests back to back, until `count` requests completed
 * or `maxSeconds` passed. Warm-up requests are sent first and not counted.
 */
export async function closedLoop(target: Target, options: { concurrency: number; count: number; maxSeconds: number; warmup: number }): Promise<LoadResult> {
  const pool = new Pool(target.origin, { connections: options.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const once = async (): Promise<boolean> => {
    const res = await pool.request({ method: 'POST', path: target.path, headers: target.headers, body: target.body });
    await res.body.dump();
    return target.okStatus.includes(res.statusCode);
  };
  try {
    for (let i = 0; i < options.warmup; i += 1) await Promise.all(Array.from({ length: options.concurrency }, once));
    const latencies = new Float64Array(options.count);
    let issued = 0;
    let done = 0;
    let errors = 0;
    const started = process.hrtime.bigint();
    const deadline = started + BigInt(Math.round(options.maxSeconds * 1e9));
    const worker = async () => {
      while (issued < options.count && process.hrtime.bigint() < deadline) {
        issued += 1;
        const t0 = process.hrtime.bigint();
        let ok = false;
        try {
          ok = await once();
        } catch {
          ok = false;
        }
        latencies[done] = Number(process.hrtime.bigint() - t0) / 1_000;
        done += 1;
        if (!ok) errors += 1;
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const sorted = latencies.slice(0, done).sort();
    const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, done);
    return {
      requests: done,
      errors,
      seconds,
      throughput: done / seconds,
      latencyUs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[done - 1] ?? 0, mean },
    };
  } finally {
    await pool.close();
  }
}

/** Formats rows as a fixed-width text table. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
