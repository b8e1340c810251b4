/**
 * The one place that runs host commands for the runc backend (`runc`, `ip`, `nft`), through execa.
 *
 * Every verb has its own timeout; every failure is a typed error: CommandFailedError (exit code and
 * stderr) or CommandTimedOutError; a raw execa error never leaves this module.
 *
 * `runc create` is special: the container inherits the stdout/stderr pipes of the `runc create`
 * process (runc's "pass-through" mode when `terminal` is false), so those pipes carry the
 * container's output for as long as it lives. `startDetached` therefore resolves when runc itself
 * exits, handing back the still-open streams, instead of waiting for them to end.
 */
import type { Readable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { CommandFailedError, CommandTimedOutError } from '../../../errors.js';

export interface CommandOptions {
  /** default 10 000 ms */
  timeoutMs?: number;
  /** text written to the command's stdin */
  input?: string;
  signal?: AbortSignal;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Runs `file args…` to completion; stdout and stderr are collected. */
export async function runCommand(file: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const label = describe(file, args);
  try {
    const result = await execa(file, args, {
      timeout: timeoutMs,
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
      ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
      reject: false,
      env: { LC_ALL: 'C' },
      extendEnv: true,
    });
    if (result.timedOut) throw new CommandTimedOutError(label, timeoutMs);
    if (result.failed) {
      throw new CommandFailedError(label, result.exitCode, String(result.stderr || result.stdout || result.message));
    }
    return { stdout: String(result.stdout), stderr: String(result.stderr) };
  } catch (err) {
    if (err instanceof CommandFailedError || err instanceof CommandTimedOutError) throw err;
    throw new CommandFailedError(label, undefined, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

export interface DetachedStart {
  /** the container's stdout and stderr, open until every process holding them exits */
  stdout: Readable;
  stderr: Readable;
}

/**
 * Runs a command that leaves processes behind holding its stdout/stderr (`runc create`): resolves
 * once the command itself exited with 0, with the streams still open; rejects (typed) when it failed
 * or did not exit within `timeoutMs`. What it printed to stderr before failing is in the error.
 */
export function startDetached(file: string, args: readonly string[], options: { timeoutMs?: number } = {}): Promise<DetachedStart> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const label = describe(file, args);
  // buffer: false: the streams are consumed by the caller (the container's output), not collected.
  const child: ResultPromise = execa(file, args, { stdin: 'ignore', buffer: false, reject: false, env: { LC_ALL: 'C' }, extendEnv: true });
  // reject: false: the result promise never rejects; its settling (the streams' end) is the caller's to watch
  void child.catch(() => undefined);
  return new Promise<DetachedStart>((resolve, reject) => {
    let stderrText = '';
    const collect = (chunk: Buffer): void => {
      if (stderrText.length < 8192) stderrText += chunk.toString('utf8');
    };
    child.stderr?.on('data', collect);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new CommandTimedOutError(label, timeoutMs));
    }, timeoutMs);
    child.once('error', (err: Error) => {
      clearTimeout(timer);
      reject(new CommandFailedError(label, undefined, err.message, { cause: err }));
    });
    child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      child.stderr?.off('data', collect);
      if (code === 0 && child.stdout !== null && child.stderr !== null) {
        resolve({ stdout: child.stdout, stderr: child.stderr });
        return;
      }
      // runc wrote its reason as JSON-ish log lines or plain text; both are worth showing as they are
      reject(new CommandFailedError(label, code ?? undefined, stderrText || (signal === null ? '' : `killed by ${signal}`)));
    });
  });
}

function describe(file: string, args: readonly string[]): string {
  const verb = args.find((a) => !a.startsWith('-') && !a.includes('/')) ?? '';
  return `${file} ${verb}`.trim();
}
