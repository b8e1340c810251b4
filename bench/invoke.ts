/**
 * `npm run bench`: the warm invoke path through the controller against its physical floor, a direct
 * `POST /run` to the same runtime, measured in one run on this machine.
 *
 * - The platform runs as `brisk up --backend process` (or `--backend runc`) in a child process (scheduler, agent, controller,
 *   SQLite store), so the load generator does not share its event loop.
 * - The floor is the same runtime (src/runtime, started by the same backend) called directly.
 * - Both get the same no-op action, the same client (undici keep-alive pool), the same request counts:
 *   latency at concurrency 1 (p50/p99), throughput at concurrency 32.
 *
 * Prints a table and a JSON document; with `--write` also rewrites the results section of
 * docs/benchmarks.md. Options: `--count N` (latency requests, default 3000), `--seconds S`
 * (throughput window, default 8), `--json` (JSON only).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { ContainerBackend } from '../src/agent/backend.js';
import { ProcessBackend } from '../src/agent/backends/process.js';
import { RuncBackend } from '../src/agent/backends/runc.js';
import { closedLoop, table, type LoadResult, type Target } from './lib/load.js';
import { writeBenchSection } from './lib/report.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NOOP = 'function main() { return {}; }';
const CONCURRENCY_HIGH = 32;
/** The benchmark measures the invoke path, not the namespace throttles: lift them far above its rate. */
const UNTHROTTLED = ['--invocations-per-minute', '100000000', '--concurrent-invocations', '100000'];

interface Args {
  count: number;
  seconds: number;
  json: boolean;
  write: boolean;
  /** the container backend of both sides: process (default) or runc (root) */
  backend: 'process' | 'runc';
}

function parseArgs(argv: string[]): Args {
  const args: Args = { count: 3000, seconds: 8, json: false, write: false, backend: 'process' };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const next = () => {
      const value = Number(argv[++i]);
      if (!Number.isFinite(value) || value <= 0) throw new Error(`${arg} needs a positive number`);
      return value;
    };
    if (arg === '--count') args.count = Math.round(next());
    else if (arg === '--seconds') args.seconds = next();
    else if (arg === '--json') args.json = true;
    else if (arg === '--write') args.write = true;
    else if (arg === '--backend') {
      const value = argv[++i];
      if (value !== 'process' && value !== 'runc') throw new Error('--backend takes process or runc');
      args.backend = value;
    } else throw new Error(`unknown option ${arg} (known: --count N, --seconds S, --json, --write, --backend process|runc)`);
  }
  return args;
}

interface Up {
  child: ChildProcess;
  apihost: string;
  auth: string;
}

/** Starts `brisk up` in a child process and waits for its JSON report. */
async function startBriskUp(dataDir: string, configDir: string, backend: Args['backend']): Promise<Up> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/run.js'), 'up', '--port', '0', '--data-dir', dataDir, '--json', '--no-sample', '--backend', backend, ...UNTHROTTLED], {
    env: { ...process.env, BRISK_CONFIG_DIR: configDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const report = await new Promise<{ apihost: string; auth: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`brisk up exited with code ${code} before it was ready`)));
    let buffered = '';
    lines.on('line', (line) => {
      buffered += line;
      try {
        const parsed = JSON.parse(buffered) as { apihost?: string; auth?: string; result?: { apihost: string; auth: string } };
        const body = parsed.result ?? parsed;
        if (body.apihost !== undefined && body.auth !== undefined) resolve({ apihost: body.apihost, auth: body.auth });
        buffered = '';
      } catch {
        // a JSON document printed over several lines: keep reading
      }
    });
  });
  return { child, ...report };
}

async function stopBriskUp(up: Up): Promise<void> {
  if (up.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => up.child.once('exit', () => resolve()));
  up.child.kill('SIGINT');
  await exited;
}

async function call(origin: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<unknown> {
  const res = await fetch(origin + path, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

interface Row {
  path: string;
  c1: LoadResult;
  c32: LoadResult;
}

function ms(us: number): string {
  return (us / 1000).toFixed(3);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const work = await mkdtemp(join(tmpdir(), 'brisk-bench-'));
  let up: Up | undefined;
  // The floor: the same runtime, started by the same backend, called directly (over the same
  // network path: loopback for process, the container's veth for runc).
  const backend: ContainerBackend = args.backend === 'runc' ? await RuncBackend.open({ dataDir: join(work, 'direct') }) : new ProcessBackend({ dataDir: join(work, 'direct') });
  try {
    const address = await backend.create({ containerId: 'bench-direct', kind: 'nodejs:20', memoryMB: 256, env: {} });
    const direct = `http://${address.host}:${address.port}`;
    await call(direct, 'POST', '/init', {}, { value: { name: 'noop', main: 'main', binary: false, code: NOOP, env: {} } });
    const runBody = JSON.stringify({
      value: {},
      namespace: 'guest',
      action_name: '/guest/noop',
      action_version: '0.0.1',
      activation_id: '0'.repeat(32),
      transaction_id: 'bench',
      deadline: String(Date.now() + 3_600_000),
    });
    const directTarget: Target = { origin: direct, path: '/run', headers: { 'content-type': 'application/json' }, body: runBody, okStatus: [200] };

    up = await startBriskUp(join(work, 'data'), join(work, 'config'), args.backend);
    const authHeader = { authorization: `Basic ${Buffer.from(up.auth).toString('base64')}` };
    await call(up.apihost, 'PUT', '/api/v1/namespaces/_/actions/noop?overwrite=true', authHeader, {
      exec: { kind: 'nodejs:default', code: NOOP },
      // One container serves the whole run, as the direct path does.
      limits: { concurrency: CONCURRENCY_HIGH, logs: 0 },
    });
    await call(up.apihost, 'PUT', '/api/v1/namespaces/_/actions/noop-logged?overwrite=true', authHeader, {
      exec: { kind: 'nodejs:default', code: NOOP },
      limits: { concurrency: CONCURRENCY_HIGH },
    });
    const invokeTarget = (action: string): Target => ({
      origin: up!.apihost,
      path: `/api/v1/namespaces/_/actions/${action}?blocking=true`,
      headers: { 'content-type': 'application/json', ...authHeader },
      body: '{}',
      okStatus: [200],
    });
    const controllerTarget = invokeTarget('noop');
    const loggedTarget = invokeTarget('noop-logged');

    // Alternate between the two sides so that machine noise hits both alike.
    const latency = { concurrency: 1, count: args.count, maxSeconds: 60, warmup: 200 };
    const throughput = { concurrency: CONCURRENCY_HIGH, count: 10_000_000, maxSeconds: args.seconds, warmup: 20 };
    const directC1 = await closedLoop(directTarget, latency);
    const controllerC1 = await closedLoop(controllerTarget, latency);
    const loggedC1 = await closedLoop(loggedTarget, latency);
    const directC32 = await closedLoop(directTarget, throughput);
    const controllerC32 = await closedLoop(controllerTarget, throughput);
    const loggedC32 = await closedLoop(loggedTarget, throughput);
    const directFirst = { c1: directC1, c32: directC32 };
    const viaController = { c1: controllerC1, c32: controllerC32 };
    const rows: Row[] = [
      { path: 'direct POST /run (floor)', ...directFirst },
      { path: 'controller blocking invoke', ...viaController },
      // The same with log collection on (the default 10 MB limit): one logs.collect to the agent per activation, after the reply.
      { path: 'controller, logs collected', c1: loggedC1, c32: loggedC32 },
    ];
    const overheadP50Us = viaController.c1.latencyUs.p50 - directFirst.c1.latencyUs.p50;
    const overheadP99Us = viaController.c1.latencyUs.p99 - directFirst.c1.latencyUs.p99;
    const throughputRatio = viaController.c32.throughput / directFirst.c32.throughput;
    const result = {
      benchmark: 'warm-invoke',
      backend: args.backend,
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
      action: { code: NOOP, concurrencyLimit: CONCURRENCY_HIGH, logsMB: { noop: 0, 'noop-logged': 10 } },
      rows: rows.map((r) => ({
        path: r.path,
        c1: { requests: r.c1.requests, errors: r.c1.errors, p50Ms: r.c1.latencyUs.p50 / 1000, p99Ms: r.c1.latencyUs.p99 / 1000 },
        c32: { requests: r.c32.requests, errors: r.c32.errors, seconds: r.c32.seconds, throughput: r.c32.throughput, p50Ms: r.c32.latencyUs.p50 / 1000, p99Ms: r.c32.latencyUs.p99 / 1000 },
      })),
      overhead: { p50Ms: overheadP50Us / 1000, p99Ms: overheadP99Us / 1000, throughputRatio },
      aims: { p50OverheadMs: 1, throughputRatio: 0.4 },
    };
    const text = [
      table(
        ['path', 'c=1 p50 ms', 'c=1 p99 ms', 'c=32 req/s', 'c=32 p50 ms', 'c=32 p99 ms', 'errors'],
        rows.map((r) => [r.path, ms(r.c1.latencyUs.p50), ms(r.c1.latencyUs.p99), r.c32.throughput.toFixed(0), ms(r.c32.latencyUs.p50), ms(r.c32.latencyUs.p99), r.c1.errors + r.c32.errors]),
      ),
      '',
      `overhead of the controller at c=1: p50 +${ms(overheadP50Us)} ms, p99 +${ms(overheadP99Us)} ms (aim: p50 under 1 ms)`,
      `throughput at c=32: ${(throughputRatio * 100).toFixed(1)}% of the direct figure (aim: at least 40%)`,
    ].join('\n');
    if (!args.json) console.log(`${text}\n`);
    console.log(JSON.stringify(result, null, args.json ? 0 : 2));
    if (args.write) await writeBenchSection(args.backend === 'runc' ? 'warm-invoke-runc' : 'warm-invoke', text, result);
  } finally {
    if (up !== undefined) await stopBriskUp(up);
    await backend.close();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
