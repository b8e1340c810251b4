/**
 * `npm run bench:containers`: what containers cost, per backend and method, in one run.
 *
 * - pause and resume latency: the cgroup freezer written by the agent (runc), `runc pause`/`resume`
 *   exec'd through execa (runc, the reference path), the Docker API (docker), SIGSTOP/SIGCONT
 *   (process). Each resume is confirmed by the kernel (freezer) or the API before it counts.
 * - cold start to first result, from a stem cell (the container runs already: /init and /run only)
 *   and from nothing (create + /init + /run);
 * - idle memory per warm container (its memory cgroup; for the process backend the runtime's RSS).
 *
 * The floor, measured in the same run: the same runtime started as a plain process (the process
 * backend) is the floor of a cold start; SIGSTOP/SIGCONT (one system call) is the floor of pause/resume.
 * Backends that cannot run here (not root, no runc, no dockerd) are listed as skipped with the reason.
 *
 * Options: `--iterations N` (pause/resume pairs per method, default 200), `--starts N` (cold starts per
 * backend, default 10), `--json` (JSON only), `--write` (rewrites the section of docs/benchmarks.md).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerBackend } from '../src/agent/backend.js';
import type { DockerBackend, DockerPauseMethod } from '../src/agent/backends/docker.js';
import { ProcessBackend } from '../src/agent/backends/process.js';
import { RuncBackend, type PauseMethod } from '../src/agent/backends/runc.js';
import type { Address } from '../src/daemon/protocol.js';
import { buildImage, type BuiltImage } from '../src/image/rootfs.js';
import { table } from './lib/load.js';
import { writeBenchSection } from './lib/report.js';

interface Args {
  iterations: number;
  starts: number;
  json: boolean;
  write: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { iterations: 200, starts: 10, json: false, write: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const next = () => {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value <= 0) throw new Error(`${arg} needs a positive integer`);
      return value;
    };
    if (arg === '--iterations') args.iterations = next();
    else if (arg === '--starts') args.starts = next();
    else if (arg === '--json') args.json = true;
    else if (arg === '--write') args.write = true;
    else throw new Error(`unknown option ${arg} (known: --iterations N, --starts N, --json, --write)`);
  }
  return args;
}

interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  n: number;
}

function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), n: sorted.length };
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
const now = () => performance.now();

interface Subject {
  /** row label, e.g. `runc (freezer)` */
  label: string;
  backend: string;
  pauseMethod: string;
  open: (dataDir: string) => Promise<ContainerBackend>;
  /** bytes of memory the container uses */
  memory: (backend: ContainerBackend, containerId: string) => Promise<number | undefined>;
}

interface SubjectResult {
  label: string;
  backend: string;
  pauseMethod: string;
  pauseMs?: Percentiles;
  resumeMs?: Percentiles;
  coldFromStemCellMs?: Percentiles;
  coldFromNothingMs?: Percentiles;
  createMs?: Percentiles;
  idleMemoryMiB?: number;
  skipped?: string;
}

const ACTION = 'function main(p) { return { ok: true } }';

async function post(address: Address, path: string, body: unknown): Promise<void> {
  const res = await fetch(`http://${address.host}:${address.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.text();
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
}

async function initAndRun(address: Address): Promise<void> {
  await post(address, '/init', { value: { name: 'bench', main: 'main', code: ACTION } });
  await post(address, '/run', { value: {}, activation_id: 'b'.repeat(32) });
}

async function measure(subject: Subject, args: Args): Promise<SubjectResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'brisk-bench-containers-'));
  let backend: ContainerBackend | undefined;
  const result: SubjectResult = { label: subject.label, backend: subject.backend, pauseMethod: subject.pauseMethod };
  try {
    backend = await subject.open(dataDir);
    // cold start from nothing, and the create part of it
    const fromNothing: number[] = [];
    const creates: number[] = [];
    for (let i = 0; i < args.starts; i++) {
      const id = `bench-cold-${i}`;
      const t0 = now();
      const address = await backend.create({ containerId: id, kind: 'nodejs:20', memoryMB: 256, env: {} });
      const t1 = now();
      await initAndRun(address);
      fromNothing.push(now() - t0);
      creates.push(t1 - t0);
      await backend.destroy(id);
    }
    result.coldFromNothingMs = percentiles(fromNothing);
    result.createMs = percentiles(creates);
    // cold start from a stem cell: the containers exist; only /init and /run count
    const stemCells: { id: string; address: Address }[] = [];
    for (let i = 0; i < args.starts; i++) {
      const id = `bench-stem-${i}`;
      stemCells.push({ id, address: await backend.create({ containerId: id, kind: 'nodejs:20', memoryMB: 256, env: {} }) });
    }
    const fromStem: number[] = [];
    for (const cell of stemCells) {
      const t0 = now();
      await initAndRun(cell.address);
      fromStem.push(now() - t0);
    }
    result.coldFromStemCellMs = percentiles(fromStem);
    // idle memory of a warm container, after it settled
    const memory: number[] = [];
    for (const cell of stemCells) {
      const bytes = await subject.memory(backend, cell.id);
      if (bytes !== undefined) memory.push(bytes);
    }
    if (memory.length > 0) result.idleMemoryMiB = round(memory.reduce((a, b) => a + b, 0) / memory.length / 1024 / 1024);
    // pause / resume pairs on one warm container, with a run after each resume to prove it works
    const [first] = stemCells;
    if (first !== undefined) {
      const pauses: number[] = [];
      const resumes: number[] = [];
      for (let i = 0; i < args.iterations; i++) {
        const t0 = now();
        await backend.pause(first.id);
        const t1 = now();
        await backend.resume(first.id);
        const t2 = now();
        pauses.push(t1 - t0);
        resumes.push(t2 - t1);
        if (i % 20 === 0) await post(first.address, '/run', { value: {}, activation_id: 'c'.repeat(32) });
      }
      result.pauseMs = percentiles(pauses);
      result.resumeMs = percentiles(resumes);
    }
  } catch (error) {
    result.skipped = error instanceof Error ? error.message.split('\n')[0] : String(error);
  } finally {
    await backend?.close().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
  return result;
}

async function processRss(backend: ContainerBackend, containerId: string): Promise<number | undefined> {
  const pid = (backend as ProcessBackend).pidOf?.(containerId);
  if (pid === undefined) return undefined;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

function subjects(image: () => Promise<BuiltImage>): Subject[] {
  const runc = (pauseMethod: PauseMethod): Subject => ({
    label: `runc (${pauseMethod === 'freezer' ? 'cgroup freezer' : 'runc pause/resume'})`,
    backend: 'runc',
    pauseMethod: pauseMethod === 'freezer' ? 'cgroup freezer' : 'runc exec',
    open: async (dataDir) => RuncBackend.open({ dataDir, image: await image(), pauseMethod }),
    memory: (backend, id) => (backend as RuncBackend).memoryUsage(id),
  });
  const docker = (pauseMethod: DockerPauseMethod): Subject => ({
    label: `docker (${pauseMethod === 'docker' ? 'Docker API' : 'cgroup freezer'})`,
    backend: 'docker',
    pauseMethod: pauseMethod === 'docker' ? 'Docker API' : 'cgroup freezer',
    open: async (dataDir) => {
      const { DockerBackend } = await import('../src/agent/backends/docker.js');
      return DockerBackend.open({ dataDir, image: await image(), pauseMethod });
    },
    memory: (backend, id) => (backend as DockerBackend).memoryUsage(id),
  });
  return [
    { label: 'process (floor)', backend: 'process', pauseMethod: 'SIGSTOP/SIGCONT', open: async (dataDir) => new ProcessBackend({ dataDir }), memory: processRss },
    runc('freezer'),
    runc('runc'),
    docker('docker'),
    docker('freezer'),
  ];
}

function render(results: SubjectResult[]): string {
  const f = (p: Percentiles | undefined) => (p === undefined ? '-' : `${p.p50} / ${p.p99}`);
  const rows = results.map((r) =>
    r.skipped !== undefined
      ? [r.label, `skipped: ${r.skipped}`, '', '', '', '', '']
      : [r.label, f(r.pauseMs), f(r.resumeMs), f(r.coldFromStemCellMs), f(r.createMs), f(r.coldFromNothingMs), r.idleMemoryMiB === undefined ? '-' : String(r.idleMemoryMiB)],
  );
  return table(['backend (pause method)', 'pause p50/p99 ms', 'resume p50/p99 ms', 'cold from stem cell ms', 'create ms', 'cold from nothing ms', 'idle MiB'], rows);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const imagesDir = join(tmpdir(), 'brisk-bench-images');
  let built: Promise<BuiltImage> | undefined;
  const image = () => (built ??= buildImage({ imagesDir }));
  const results: SubjectResult[] = [];
  for (const subject of subjects(image)) {
    if (!args.json) process.stderr.write(`measuring ${subject.label}…\n`);
    results.push(await measure(subject, args));
  }
  const floor = results.find((r) => r.backend === 'process' && r.skipped === undefined);
  const freezer = results.find((r) => r.backend === 'runc' && r.pauseMethod === 'cgroup freezer' && r.skipped === undefined);
  const runc = freezer;
  const aims = {
    resumeUnder1msThroughFreezer: freezer?.resumeMs === undefined ? null : freezer.resumeMs.p50 < 1,
    coldFromStemCellUnder50msRunc: runc?.coldFromStemCellMs === undefined ? null : runc.coldFromStemCellMs.p50 < 50,
    coldFromNothingUnder200msRunc: runc?.coldFromNothingMs === undefined ? null : runc.coldFromNothingMs.p50 < 200,
  };
  const ratios = {
    runcColdFromNothingVsProcess: floor?.coldFromNothingMs && runc?.coldFromNothingMs ? round(runc.coldFromNothingMs.p50 / floor.coldFromNothingMs.p50) : null,
    freezerResumeVsSigcont: floor?.resumeMs && freezer?.resumeMs ? round(freezer.resumeMs.p50 / floor.resumeMs.p50) : null,
  };
  const report = {
    machine: { cpus: cpus().length, node: process.version, iterations: args.iterations, starts: args.starts },
    results,
    aims,
    ratios,
  };
  const text = [
    render(results),
    '',
    `aims (p50): resume < 1 ms through the freezer: ${String(aims.resumeUnder1msThroughFreezer)}; runc cold start from a stem cell < 50 ms: ${String(aims.coldFromStemCellUnder50msRunc)}; from nothing < 200 ms: ${String(aims.coldFromNothingUnder200msRunc)}`,
    `ratios to the floor (p50): runc cold start from nothing / process = ${String(ratios.runcColdFromNothingVsProcess)}; freezer resume / SIGCONT = ${String(ratios.freezerResumeVsSigcont)}`,
  ].join('\n');
  if (!args.json) console.log(`${text}\n`);
  console.log(JSON.stringify(report, null, 2));
  if (args.write) await writeBenchSection('containers', text, report);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
