/**
 * Helpers for end-to-end runs of the BUILT CLI (`node bin/run.js`): one-shot commands with `--json`
 * parsed, long-running daemons whose first stdout line is their JSON report, and a look at the
 * process tree to prove that shutdown leaves no child behind.
 */
import { runcCgroupParent } from '../../src/agent/backends/runc.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'run.js');

/** Fails with the fix when dist/ is missing (`npm test` builds first; a bare `vitest` does not). */
export function requireBuild(): void {
  if (!existsSync(join(ROOT, 'dist', 'src', 'commands', 'up.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (or `npm test`, which builds first).');
  }
}

/** The environment of every CLI run: a private config dir, no colour, nothing inherited that would redirect the CLI. */
export function cliEnv(configDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, BRISK_CONFIG_DIR: configDir, NO_COLOR: '1', ...extra };
  for (const name of ['BRISK_APIHOST', 'BRISK_AUTH', 'BRISK_PROFILE', 'BRISK_CLUSTER_TOKEN', 'BRISK_DATA_DIR']) if (!(name in extra)) delete env[name];
  return env;
}

export interface Envelope<T = unknown> {
  status: number;
  result?: T;
  name?: string;
  code?: string;
  message?: string;
  exitCode?: number;
  hint?: string;
  data?: Record<string, unknown>;
}

export interface CliRun<T> {
  exitCode: number;
  stdout: string;
  stderr: string;
  json: Envelope<T>;
}

/** Runs `brisk <args> --json` to completion and parses its one envelope. */
export async function brisk<T = unknown>(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliRun<T>> {
  const run = await execa('node', [BIN, ...args, '--json'], { env, reject: false, timeout: 90_000, extendEnv: false });
  let json: Envelope<T>;
  try {
    json = JSON.parse(run.stdout) as Envelope<T>;
  } catch {
    throw new Error(`brisk ${args.join(' ')} printed no JSON envelope (exit ${run.exitCode}):\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  }
  return { exitCode: run.exitCode ?? -1, stdout: run.stdout, stderr: run.stderr, json };
}

export interface Daemon<T> {
  child: ChildProcess;
  pid: number;
  report: T;
  /** stderr so far, for failure messages */
  stderr(): string;
  /** sends the signal and resolves with the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a long-running command with --json and resolves with its first stdout line (its report envelope's result). */
export async function startDaemon<T>(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Daemon<T>> {
  const child = spawn('node', [BIN, ...args, '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    // bounded: only the tail matters for a failure message
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const report = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`brisk ${args.join(' ')} printed no report within ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline === -1) return;
      clearTimeout(timer);
      try {
        const envelope = JSON.parse(stdout.slice(0, newline)) as Envelope<T>;
        if (envelope.status !== 0) reject(new Error(`brisk ${args.join(' ')} failed: ${stdout}\nstderr:\n${stderr}`));
        else resolve(envelope.result as T);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`brisk ${args.join(' ')} exited with ${code} before reporting; stdout: ${stdout}\nstderr:\n${stderr}`));
    });
  });
  return {
    child,
    pid: child.pid!,
    report,
    stderr: () => stderr,
    async stop(signal = 'SIGINT') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** Every live descendant of `pid` (children, grandchildren, ...), from /proc. */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // the command name may hold spaces and parentheses: fields start after the last ')'
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // the process exited while we looked
    }
  }
  const found: number[] = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const [child, ppid] of parentOf) {
      if (ppid === parent && !found.includes(child)) {
        found.push(child);
        frontier.push(child);
      }
    }
  }
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // a zombie is not running anything any more
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return state.slice(state.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Pids of the runc containers of the agent with `agentDataDir` (their cgroup is under the agent's
 * cgroup parent): runc containers are not descendants of the agent, so `descendants` misses them.
 */
export function runcContainerPids(agentDataDir: string): number[] {
  const parent = `${runcCgroupParent(agentDataDir)}/`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(parent)) found.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return found;
}
